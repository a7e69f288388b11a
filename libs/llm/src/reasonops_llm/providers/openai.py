"""OpenAI-compatible ``POST /v1/chat/completions`` (OpenAI, vLLM, llama.cpp server,
LM Studio) and Azure OpenAI (deployment in the path, ``api-version`` query, ``api-key``)."""

from __future__ import annotations

from typing import Any

from ..errors import InvalidOutput
from ..messages import Completion, CompletionRequest, Health
from .base import HttpProvider, dig


def chat_body(request: CompletionRequest, model: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messages": [{"role": "system", "content": request.system},
                     *({"role": m.role, "content": m.content} for m in request.messages)],
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "response_format": {"type": "json_schema", "json_schema": {
            "name": request.schema_name, "schema": request.schema, "strict": False}},
    }
    if model is not None:
        body["model"] = model
    return body


def chat_completion(body: Any, kind: str, model: str) -> Completion:
    content = dig(body, "choices", 0, "message", "content")
    if not isinstance(content, str):
        refusal = dig(body, "choices", 0, "message", "refusal")
        raise InvalidOutput(f"{kind}: reply has no choices[0].message.content"
                            + (f" (refusal: {refusal})" if refusal else ""))
    return Completion(text=content, model=str(dig(body, "model") or model),
                      tokens_in=int(dig(body, "usage", "prompt_tokens") or 0),
                      tokens_out=int(dig(body, "usage", "completion_tokens") or 0))


class OpenAIProvider(HttpProvider):
    kind = "openai"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"} if self.key else {}

    async def complete(self, request: CompletionRequest) -> Completion:
        body = await self._send("POST", "/v1/chat/completions",
                                json=chat_body(request, self.model), headers=self._headers())
        return chat_completion(body, self.kind, self.model)

    async def health(self) -> Health:
        body = await self._send("GET", "/v1/models", headers=self._headers())
        models = tuple(str(m.get("id")) for m in (dig(body, "data") or []) if isinstance(m, dict))
        if models and self.model not in models:
            return Health(False, f"model {self.model} not served; has {', '.join(models[:5])}",
                          models)
        return Health(True, "ok", models)


class AzureOpenAIProvider(HttpProvider):
    """``model`` is the deployment name."""

    kind = "azure"

    def _path(self) -> str:
        return f"/openai/deployments/{self.model}/chat/completions"

    def _params(self) -> dict[str, str]:
        return {"api-version": self.endpoint.api_version or "2024-10-21"}

    async def complete(self, request: CompletionRequest) -> Completion:
        body = await self._send("POST", self._path(), json=chat_body(request, None),
                                headers={"api-key": self.key}, params=self._params())
        return chat_completion(body, self.kind, self.model)

    async def health(self) -> Health:
        await self._send("GET", "/openai/models", headers={"api-key": self.key},
                         params=self._params())
        return Health(True, "ok")
