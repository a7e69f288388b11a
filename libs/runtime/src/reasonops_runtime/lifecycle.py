"""Running a service as a process: serve until signalled, drain, and when it cannot
start, say why in one log record and exit 1 at once (``reasonops up`` reads it)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, NoReturn

from . import tracing
from .cpu import yield_cpu
from .logs import configure_logging
from .ports import PortUnavailable

if TYPE_CHECKING:  # the supervisor reads CANNOT_START without a service's imports
    from .service import Service

log = logging.getLogger(__name__)

CANNOT_START = "cannot start"
"""The message of the log record a service writes when it cannot start; its ``reason``
field says why (``reasonops up`` shows it)."""


class StartFailed(RuntimeError):
    """The service could not start; the reason was logged (see ``CANNOT_START``)."""


async def serve(service: Service) -> None:
    """Run until SIGTERM or SIGINT, then drain."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # A signal during start-up (say, while the broker is unreachable) stops us too.
    starting = asyncio.create_task(service.start())
    signalled = asyncio.create_task(stop.wait())
    await asyncio.wait({starting, signalled}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        log.info("stopped during start-up")
        await service.stop()
        return
    try:
        starting.result()
    except Exception as exc:
        signalled.cancel()
        # One line that says why, for a person and for ``reasonops up``; the traceback
        # only when the reason is not one the kit names itself.
        log.error(CANNOT_START, extra={"reason": str(exc) or type(exc).__name__},
                  exc_info=not isinstance(exc, PortUnavailable))
        await service.stop()
        raise StartFailed(str(exc)) from exc
    # Everything alive now (modules, settings, connections) lives as long as the
    # process: keep it out of the collector, whose full passes over it would pause
    # the event loop for tens of milliseconds under load.
    gc.freeze()
    await signalled
    await service.stop()


def run(service: Service, *, json_logs: bool = True) -> NoReturn:
    """The process's entry point: logs (JSON lines unless told otherwise), uvloop when
    available, serve until signalled, then ``leave``. A service that cannot start exits
    with status 1 at once."""
    configure_logging(service.name, service.settings.log_level, json_lines=json_logs)
    yield_cpu(service.settings.nice())  # before any thread starts: they inherit it
    traced = tracing.configure_from_env(service.name)
    try:
        _run_loop(serve(service))
    except StartFailed:
        raise SystemExit(1) from None
    finally:
        if traced:
            tracing.shutdown()
    leave(0)


def leave(status: int) -> NoReturn:
    """End the process now that the service has stopped: flush the logs and stdio, and
    skip the interpreter's teardown.

    By then the service has drained, flushed its outbox and closed its store and
    connections; all that teardown would still do is free every module and object one
    by one. That costs 30-200 ms of CPU a service, and at a lowered priority on a busy
    machine it stretched into seconds: a stack stopping under load had services killed
    at the end of their grace period, with nothing left to do."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(status)


def refuse_start(name: str, reason: str, *, json_logs: bool = True) -> NoReturn:
    """For a service that cannot even be built (say, a configuration file with an error):
    the same ``cannot start`` record as a failed start, then exit with status 1."""
    configure_logging(name, "INFO", json_lines=json_logs)
    log.error(CANNOT_START, extra={"reason": reason})
    raise SystemExit(1)


def _run_loop(main: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows
        asyncio.run(main)
    else:
        uvloop.run(main)
