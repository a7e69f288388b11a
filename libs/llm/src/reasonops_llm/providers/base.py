"""What every HTTP provider shares: one request, its errors mapped, the key kept out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr

from reasonops_runtime.http_headers import retry_after

from ..errors import ClientError, ProviderTimeout, RateLimited, ServerError, Unreachable
from ..messages import Completion, CompletionRequest, Health


@dataclass(frozen=True)
class ProviderEndpoint:
    base_url: str
    api_key: SecretStr | None = None
    timeout: float = 30.0
    external: bool = True
    api_version: str | None = None


class HttpProvider:
    kind: ClassVar[str]

    def __init__(self, endpoint: ProviderEndpoint, model: str,
                 client: httpx.AsyncClient | None = None) -> None:
        self.endpoint = endpoint
        self.model = model
        self.client = client or httpx.AsyncClient()
        self.name = self.kind
        self.external = endpoint.external

    @property
    def key(self) -> str:
        return self.endpoint.api_key.get_secret_value() if self.endpoint.api_key else ""

    def url(self, path: str) -> str:
        return self.endpoint.base_url.rstrip("/") + path

    def _clean(self, text: str) -> str:
        """Never let a key through in an error message, even if a server echoes it."""
        key = self.key
        return text.replace(key, "[redacted]") if key else text

    async def _send(self, method: str, path: str, *, json: Any = None,
                    headers: dict[str, str] | None = None,
                    params: dict[str, str] | None = None) -> Any:
        try:
            response = await self.client.request(method, self.url(path), json=json,
                                                 headers=headers, params=params,
                                                 timeout=self.endpoint.timeout)
        except httpx.TimeoutException:
            raise ProviderTimeout(f"{self.kind}: no answer within {self.endpoint.timeout:g}s") \
                from None
        except httpx.TransportError as exc:
            raise Unreachable(f"{self.kind}: cannot connect to {self.endpoint.base_url} "
                              f"({exc.__class__.__name__})") from None
        status = response.status_code
        if status == 429:
            raise RateLimited(f"{self.kind}: HTTP 429 rate limited",
                              retry_after(response.headers.get("retry-after")))
        if status >= 500:
            raise ServerError(f"{self.kind}: HTTP {status}")
        if status >= 400:
            code = error_code(response)
            raise ClientError(self._clean(f"{self.kind}: HTTP {status}"
                                          + (f" ({code})" if code else "")))
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ServerError(f"{self.kind}: HTTP {status} body is not JSON") from None

    async def complete(self, request: CompletionRequest) -> Completion:
        raise NotImplementedError

    async def health(self) -> Health:
        raise NotImplementedError

    async def aclose(self) -> None:
        await self.client.aclose()


_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")


def error_code(response: httpx.Response) -> str:
    """The provider's error code (``invalid_request_error``, ``NOT_FOUND``), never its
    message or body: servers echo what they were sent, keys and prompts included."""
    try:
        body = response.json()
    except ValueError:
        return ""
    for path in (("error", "type"), ("error", "code"), ("error", "status"), ("error_type",)):
        value = dig(body, *path)
        if isinstance(value, str) and _CODE.fullmatch(value):
            return value
    return ""


def dig(body: Any, *path: str | int) -> Any:
    """``body[path...]`` or None, for replies that may lack a part."""
    node = body
    for step in path:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return None
    return node
