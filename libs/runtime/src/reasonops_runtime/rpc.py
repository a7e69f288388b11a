"""Commands and queries over NATS request-reply, answered with a typed ``Reply``.

FastStream serves each subject in the service's queue group and traces every request
(ADR 0001). Its typed handlers are not used: the sender's claim covers the raw body, so
it is checked first, and only then is the body validated by the contract model here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from faststream.nats import NatsBroker
from faststream.nats.message import NatsMessage
from pydantic import BaseModel, ValidationError

from reasonops_contracts import Command, Query, Reply, ReplyError

from .errors import DomainError, IllegalTransition, NotFound
from .metrics import KitMetrics

log = logging.getLogger(__name__)

# The domain errors live in errors.py (a client needs them without the broker); the
# services have always imported them from here.
__all__ = ["Authenticate", "DomainError", "IllegalTransition", "NotFound", "Responder",
           "add_responder", "answer", "validation_reply"]

M = TypeVar("M", bound=Command | Query)
Responder = Callable[[Any], Awaitable[BaseModel]]
Authenticate = Callable[[str, Any], Awaitable[str]]
"""The principal a raw request (``NatsMessage``) to a subject was sent as, or
``Forbidden``."""


def validation_reply(exc: ValidationError) -> Reply:
    """One error reply naming every offending field."""
    problems = [f"{'.'.join(str(p) for p in e['loc']) or '(body)'}: {e['msg']}"
                for e in exc.errors()]
    first = exc.errors()[0]["loc"] if exc.errors() else ()
    return Reply.failure("invalid_request", "; ".join(problems),
                         ".".join(str(p) for p in first) or None)


async def answer(model: type[BaseModel], fn: Responder, body: bytes,
                 principal: str | None = None) -> Reply:
    """Validate ``body`` as ``model`` and run ``fn``; a request's principal field
    (``actor``, or ``author`` for a silence) is set to ``principal``, the one its claim
    proved (see ``claims``)."""
    try:
        request = model.model_validate_json(body or b"{}")
    except ValidationError as exc:
        return validation_reply(exc)
    field = getattr(model, "PRINCIPAL_FIELD", "actor")
    if principal is not None and field in type(request).model_fields:
        request = request.model_copy(update={field: principal})
    try:
        return Reply.success(await fn(request))
    except DomainError as exc:
        return Reply.failure(exc.code, str(exc), exc.field)  # type: ignore[arg-type]
    except ReplyError as exc:
        return Reply(ok=False, error=exc.detail)
    except Exception:
        log.exception("request handler crashed", extra={"model": model.__name__})
        return Reply.failure("internal", "internal error; see the service log")


def add_responder(broker: NatsBroker, service: str, metrics: KitMetrics,
                  model: type[Command] | type[Query], fn: Responder,
                  authenticate: Authenticate, subject: str | None = None) -> None:
    """Answer ``model.SUBJECT`` (or ``subject``, where that is a pattern) for
    authenticated senders only; replicas share the work through the service's queue
    group."""
    subject = subject or model.SUBJECT

    # ``msg`` is FastStream's ``NatsMessage`` (``_the_message``), annotated ``Any``: at
    # setup FastStream refuses a parameter annotated with its message class.
    async def handle(msg: Any) -> bytes:  # the raw msg.body is what counts
        started = time.perf_counter()
        try:
            principal = await authenticate(subject, msg)
        except DomainError as exc:
            reply = Reply.failure(exc.code, str(exc), exc.field)  # type: ignore[arg-type]
        else:
            reply = await answer(model, fn, msg.body, principal)
        metrics.requests.labels(service, subject, "ok" if reply.ok else
                                reply.error.code if reply.error else "error").inc()
        metrics.request_seconds.labels(service, subject).observe(time.perf_counter() - started)
        return reply.model_dump_json(exclude_none=True).encode()

    handle.__name__ = f"answer_{model.__name__}"
    broker.subscriber(subject, queue=service, decoder=_the_message)(handle)


async def _the_message(msg: NatsMessage) -> NatsMessage:
    """FastStream's decoder for a responder: the message itself, as the handler's one
    argument. Taking it from FastStream's context instead (a ``NatsMessage`` parameter
    next to the body) cost a thread hop per request: the context is a dependency its
    injector resolves in a worker thread. The body is not decoded here either: ``answer``
    validates the raw bytes once the claim over them is checked."""
    return msg
