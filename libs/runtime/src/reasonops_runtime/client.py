"""Client side of commands and queries, for the CLI, the orchestrator and tests."""

from __future__ import annotations

from typing import TypeVar

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from pydantic import BaseModel

from reasonops_contracts import Command, ErrorDetail, Query, Reply, ReplyError

from . import claims, tracing

V = TypeVar("V", bound=BaseModel)


class Unanswered(ReplyError):
    """Nobody answered: no service listens on the subject, or none replied in time (an
    operational failure worth retrying, not an answer)."""


def claimed_principal(message: Command | Query) -> str | None:
    """The principal a message names in its principal field (``actor``; a bare name is a
    user), or None for the sender's own."""
    actor = str(getattr(message, message.PRINCIPAL_FIELD, "") or "").strip()
    if not actor:
        return None
    return actor if ":" in actor else f"user:{actor}"


async def send(nc: Client, message: Command | Query, *, timeout: float = 5.0) -> Msg:
    """Send ``message`` to its subject, signed by the connection's identity (see
    ``claims``) as the principal its ``actor`` (or ``author``) names, else as the
    identity itself; with tracing on, carrying the active span's ``traceparent``.
    Returns the raw reply."""
    body = message.model_dump_json().encode()
    headers = tracing.inject({})
    subject = message.destination() if isinstance(message, Command) else message.SUBJECT
    signer = claims.signer_of(nc)
    if signer is not None:
        headers.update(signer.headers(subject, body, claimed_principal(message)))
    try:
        return await nc.request(subject, body, timeout=timeout, headers=headers or None)
    except nats.errors.NoRespondersError:
        raise Unanswered(ErrorDetail(code="internal", message=(
            f"no service answers {subject}; is ReasonOps running?"))) from None
    except (TimeoutError, nats.errors.TimeoutError):
        raise Unanswered(ErrorDetail(code="internal", message=(
            f"no reply on {subject} within {timeout}s"))) from None


async def request(nc: Client, message: Command | Query, result: type[V],
                  *, timeout: float = 5.0) -> V:
    """Send ``message`` (see ``send``); return the typed result or raise ``ReplyError``."""
    raw = await send(nc, message, timeout=timeout)
    reply = Reply.model_validate_json(raw.data)
    if not reply.ok or reply.result is None:
        raise ReplyError(reply.error or ErrorDetail(code="internal", message="empty reply"))
    return result.model_validate(reply.result)
