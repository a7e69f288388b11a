"""A console form as it reaches the API: checked to come from the console's own page
(its CSRF field), its commands keyed by its nonce (a repeat is applied once), and the
API's refusal placed next to the form's own input."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypeVar

from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, Response

from reasonops_sdk import AsyncReasonOpsClient
from reasonops_sdk.calls import Call

from . import session

T = TypeVar("T")


REPEATED = frozenset({"idempotency_in_progress", "already_applied"})
"""The API's answer to a form sent again: the first is applied, or being applied."""


class FormClient(AsyncReasonOpsClient):
    """The API as one form post: its n-th command's ``Idempotency-Key`` is the form's
    nonce and n (the same on a repeat of the post)."""

    def __init__(self, nonce: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._nonce = nonce
        self._sent = 0

    async def send(self, call: Call[T]) -> T:
        if call.key is not None:
            self._sent += 1
            call = replace(call, key=f"console-{self._nonce}-{self._sent}")
        return await super().send(call)


def forged(form: FormData, token: str) -> Response | None:
    """403 for a post whose CSRF field is not this session's (a page of another site);
    None for one of the console's own forms."""
    if form.get("csrf") == session.csrf_of(token):
        return None
    return HTMLResponse("Forbidden: this form did not come from the console", status_code=403)


def form_field(api_field: str | None) -> str | None:
    """The form input an API error names (``body.assignment_group`` -> ``group``), so
    the page shows the error next to it."""
    if not api_field:
        return None
    name = api_field.rsplit(".", 1)[-1]
    return FORM_NAMES.get(name, name)


FORM_NAMES = {"assignment_group": "group"}
"""API field -> the console's input, where they differ."""
