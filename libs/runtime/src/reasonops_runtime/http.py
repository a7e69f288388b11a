"""Each service's HTTP port: /healthz, /readyz, /metrics, plus the service's own routes."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable, Iterator, Sequence

import uvicorn
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import tracing
from .ports import listen

ReadinessCheck = Callable[[], Awaitable[dict[str, bool]]]


def build_http_app(service: str, registry: CollectorRegistry, readiness: ReadinessCheck,
                   routes: Sequence[BaseRoute] = (), fallback: ASGIApp | None = None
                   ) -> Starlette:
    """The probes and ``/metrics``, then ``routes``; what matches none goes to
    ``fallback`` (an app that answers every other path itself), else 404."""
    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok", "service": service})

    async def readyz(_: Request) -> Response:
        checks = await readiness()
        ready = all(checks.values())
        return JSONResponse({"ready": ready, "service": service, "checks": checks},
                            status_code=200 if ready else 503)

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app = Starlette(routes=[
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        *routes,
    ], middleware=[Middleware(TracingMiddleware, service=service)])
    if fallback is not None:
        app.router.default = fallback
    return app


class TracingMiddleware:
    """A SERVER span per API request, child of the caller's ``traceparent``; the probes and
    ``/metrics`` are not traced. Does nothing when tracing is off."""

    UNTRACED = frozenset({"/healthz", "/readyz", "/metrics"})

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.UNTRACED or not tracing.enabled():
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        status: list[int] = []

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        method = scope["method"]
        with tracing.tracer().start_as_current_span(
                f"{method} {scope['path']}", kind=SpanKind.SERVER,
                context=tracing.parent_context(headers.get(tracing.TRACEPARENT)),
                attributes={"http.request.method": method, "url.path": scope["path"],
                            "http.route": scope["path"], "url.scheme": scope.get("scheme", "http"),
                            tracing.SERVICE_ATTRIBUTE: self.service}) as span:
            await self.app(scope, receive, send_status)
            if status:
                span.set_attribute("http.response.status_code", status[0])
                if status[0] >= 500:
                    span.set_status(StatusCode.ERROR)


class _QuietServer(uvicorn.Server):
    """The service owns SIGTERM/SIGINT; uvicorn must not install its own handlers."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HttpServer:
    """uvicorn inside the service's own event loop (no signal handlers of its own), on a
    socket taken by ``bind`` before anything else of the service starts."""

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        # No proxy-headers middleware: no service reads the client address, and it is
        # one more ASGI layer on every request of the hot ingest path.
        config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False,
                                proxy_headers=False, lifespan="off", loop="none",
                                timeout_graceful_shutdown=3)
        self.server = _QuietServer(config)
        self.host = host
        self.port = port
        self._socket: socket.socket | None = None
        self._task: asyncio.Task[None] | None = None

    def bind(self) -> int:
        """Take the port now; return it (the real one when asked for 0). Raises
        ``PortUnavailable`` naming the address and the reason."""
        self._listening()
        return self.port

    def _listening(self) -> socket.socket:
        if self._socket is None:
            self._socket = listen(self.host, self.port)
            self.port = int(self._socket.getsockname()[1])
        return self._socket

    async def start(self) -> None:
        self._task = asyncio.create_task(self.server.serve(sockets=[self._listening()]))
        while not self.server.started:
            if self._task.done():
                await self._task
                raise RuntimeError("HTTP server stopped during start-up")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await self._task
        if self._socket is not None:
            self._socket.close()
