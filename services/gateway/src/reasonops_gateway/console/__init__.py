"""The web console served by the gateway at ``/``: server-rendered pages over the REST
API with the browser's own token (ADR 37). ``build_console`` puts the frame and the
pages together."""

from __future__ import annotations

from starlette.types import ASGIApp

from ..api.context import Gateway
from . import (
    admin,
    agents,
    changes,
    finance,
    incidents,
    levels,
    oncall,
    paged,
    problems,
    security,
    sso,
    workflows,
)
from .frame import Console, Sso

PAGES = (sso.routes, paged.routes, incidents.routes, problems.routes, changes.routes,
         oncall.routes,
         levels.routes, finance.routes,
         workflows.routes, security.routes, agents.routes, admin.routes)


def build_console(api: ASGIApp, gateway: Gateway, sso_: Sso | None = None) -> Console:
    return Console(api, gateway, sso_, pages=PAGES)


__all__ = ["Console", "Sso", "build_console"]
