"""Client side of commands and queries, for the CLI, the orchestrator and tests."""

from __future__ import annotations

from typing import TypeVar

import nats.errors
from nats.aio.client import Client
from pydantic import BaseModel

from reasonops_contracts import Command, ErrorDetail, Query, Reply, ReplyError

from . import tracing

V = TypeVar("V", bound=BaseModel)


async def request(nc: Client, message: Command | Query, result: type[V],
                  *, timeout: float = 5.0) -> V:
    """Send ``message`` to its subject; return the typed result or raise ``ReplyError``.

    With tracing on, the request carries the active span's ``traceparent``.
    """
    try:
        raw = await nc.request(message.SUBJECT, message.model_dump_json().encode(),
                               timeout=timeout, headers=tracing.inject({}) or None)
    except nats.errors.NoRespondersError:
        raise ReplyError(ErrorDetail(code="internal", message=(
            f"no service answers {message.SUBJECT}; is ReasonOps running?"))) from None
    except (TimeoutError, nats.errors.TimeoutError):
        raise ReplyError(ErrorDetail(code="internal", message=(
            f"no reply on {message.SUBJECT} within {timeout}s"))) from None
    reply = Reply.model_validate_json(raw.data)
    if not reply.ok or reply.result is None:
        raise ReplyError(reply.error or ErrorDetail(code="internal", message="empty reply"))
    return result.model_validate(reply.result)
