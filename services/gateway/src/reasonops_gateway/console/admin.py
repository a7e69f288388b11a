"""Administration: integrations and their keys (a key is shown once, when it is issued),
heartbeats, silences and maintenance windows, API tokens, and who may do what. Each
part shows what the person may read; the rest says so."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reasonops_contracts.api import Me
from reasonops_sdk import AsyncReasonOpsClient
from reasonops_sdk.errors import ApiError

from .frame import Console, Shown

SILENCE_HOURS = 2


def routes(console: Console) -> list[Route]:
    async def admin_page(request: Request) -> Response:
        return await console.show(request, admin)

    def form_route(path: str, act: Callable[..., Awaitable[dict[str, Any] | None]],
                   done: str) -> Route:
        async def post(request: Request) -> Response:
            async def run(client: AsyncReasonOpsClient, form: FormData
                          ) -> dict[str, Any] | None:
                return await act(client, form, **request.path_params)
            return await console.perform(request, run, back="/admin", done=done,
                                         again=admin)
        return Route(path, post, methods=["POST"])

    return [Route("/admin", admin_page),
            form_route("/admin/integrations", create_integration, "integration created"),
            form_route("/admin/integrations/{name}/rotate", rotate_integration,
                       "key rotated"),
            form_route("/admin/integrations/{name}/revoke", revoke_integration,
                       "integration revoked"),
            form_route("/admin/silences", create_silence, "silence created"),
            form_route("/admin/silences/{silence_id}/expire", expire_silence,
                       "silence expired"),
            form_route("/admin/tokens", create_token, "token created"),
            form_route("/admin/tokens/{token_id}/revoke", revoke_token, "token revoked")]


async def _readable(read: Any) -> Any:
    """What a part shows: the API's answer, or None when the person may not read it."""
    try:
        return await read
    except ApiError as exc:
        if exc.status == 403:
            return None
        raise


async def admin(request: Request, client: AsyncReasonOpsClient, me: Me) -> Shown:
    return Shown("admin.html", {
        "integrations": await _readable(client.list_integrations(include_revoked=True)),
        "heartbeats": await _readable(client.list_heartbeats()),
        "silences": await _readable(client.list_silences(include_expired=False)),
        "tokens": await _readable(client.list_tokens()),
        "policy": await _readable(client.get_policy()),
        "may": me.can, "issued_key": None, "issued_token": None})


def _text(form: FormData, name: str) -> str:
    return str(form.get(name) or "").strip()


async def create_integration(client: AsyncReasonOpsClient, form: FormData
                             ) -> dict[str, Any]:
    fields = {k: v for k in ("default_service", "default_team") if (v := _text(form, k))}
    issued = await client.create_integration(_text(form, "name"), **fields)
    return {"issued_key": issued}


async def rotate_integration(client: AsyncReasonOpsClient, form: FormData, name: str
                             ) -> dict[str, Any]:
    return {"issued_key": await client.rotate_integration(name)}


async def revoke_integration(client: AsyncReasonOpsClient, form: FormData, name: str
                             ) -> None:
    await client.revoke_integration(name)


async def create_silence(client: AsyncReasonOpsClient, form: FormData) -> None:
    matchers = [m.strip() for m in _text(form, "matchers").splitlines() if m.strip()]
    try:
        hours = float(_text(form, "hours") or SILENCE_HOURS)
    except ValueError:
        hours = -1.0  # the API names the field
    ends = datetime.now(UTC) + timedelta(hours=hours) if hours > 0 else datetime.now(UTC)
    await client.create_silence(matchers, _text(form, "reason"),
                                kind=_text(form, "kind") or "silence", ends_at=ends)


async def expire_silence(client: AsyncReasonOpsClient, form: FormData, silence_id: str
                         ) -> None:
    await client.expire_silence(silence_id)


async def create_token(client: AsyncReasonOpsClient, form: FormData) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if principal := _text(form, "principal"):
        fields["principal"] = principal
    roles = [r.strip() for r in _text(form, "roles").split(",") if r.strip()]
    if roles:
        fields["roles"] = roles
    days = _text(form, "expires_in_days")
    if days:
        fields["expires_in_days"] = int(days) if days.isdigit() else -1
    return {"issued_token": await client.create_token(_text(form, "name"), **fields)}


async def revoke_token(client: AsyncReasonOpsClient, form: FormData, token_id: str) -> None:
    await client.revoke_token(token_id)
