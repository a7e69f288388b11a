"""What the gateway serves on its port: the REST API (``/api``, its pages at ``/docs``),
the MCP server at ``/mcp`` (streamable HTTP) and the web console at every other path;
the MCP tools and the console call that same API in-process with the caller's own
token, so an assistant or a browser has exactly its person's rights."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx
from fastapi import FastAPI
from fastmcp.server.dependencies import get_http_headers
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from reasonops_mcp import build_server
from reasonops_sdk import AsyncReasonOpsClient

from .api.context import Gateway
from .api.errors import Problem, document
from .console import Sso, build_console

MCP_PATH = "/mcp"
API_PATHS = ("/api", "/docs", "/openapi.json")


class Faces:
    """One ASGI app: ``/mcp`` to the MCP server (after the token is checked), the API's
    paths to the REST API, the rest to the console. ``start``/``stop`` run the MCP
    server's session manager."""

    def __init__(self, api: FastAPI, gateway: Gateway, sso: Sso | None = None) -> None:
        self.api = api
        self.gateway = gateway
        server = build_server(self._client_of_caller)
        self.mcp: Any = server.http_app(path=MCP_PATH)
        self.console = build_console(api, gateway, sso)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def _client_of_caller(self) -> AsyncReasonOpsClient:
        """A client of the API, in-process, bearing the MCP request's own token."""
        header = get_http_headers(include={"authorization"}).get("authorization", "")
        token = header.partition(" ")[2].strip() or None
        return AsyncReasonOpsClient("http://gateway", token, retries=0,
                                    transport=httpx.ASGITransport(app=self.api))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == MCP_PATH or path.startswith(MCP_PATH + "/")):
            request = Request(scope)
            header = request.headers.get("authorization", "")
            scheme, _, bearer = header.partition(" ")
            try:
                await self.gateway.authenticate(bearer.strip() if scheme.lower() == "bearer"
                                                else None)
            except Problem as problem:
                await document(request, problem)(scope, receive, send)
                return
            await self.mcp(scope, receive, send)
            return
        if scope["type"] != "http" or any(path == p or path.startswith(p + "/")
                                          for p in API_PATHS):
            await self.api(scope, receive, send)
            return
        await self.console(scope, receive, send)

    async def start(self) -> None:
        """Run the MCP server's lifespan (its session manager) in a task of its own."""
        ready = asyncio.Event()

        async def run() -> None:
            async with self.mcp.router.lifespan_context(self.mcp):
                ready.set()
                await self._stop.wait()

        self._task = asyncio.create_task(run())
        waiter = asyncio.create_task(ready.wait())
        await asyncio.wait({self._task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if self._task.done():
            waiter.cancel()
            await self._task  # raises why it could not start

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, 2.0)
