"""The unit of work handed to handlers: one transaction, with the events it emits (the
outbox), the messages it handled (the inbox) and the durable timers it arms."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opentelemetry.trace import Span
from sqlalchemy import Table, bindparam, delete, insert
from sqlalchemy.dialects import postgresql, sqlite

from reasonops_contracts import Envelope
from reasonops_contracts.registry import EVENTS

from . import tracing
from .clock import Clock
from .session import Session
from .tables import IN_CHUNK, inbox_table, outbox_table, timers_table

_INSERTS: dict[str, Any] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def conflict_insert(session: Session, table: Table) -> Any:
    """An insert into ``table`` that can say what to do with a row whose key is taken
    (``on_conflict_do_nothing``, ``on_conflict_do_update``), for the two databases a
    store runs on."""
    return _INSERTS[session.dialect.name](table)


# The unit of work's own statements, built once: SQLAlchemy finds a statement object it
# has seen in its compiled cache without building and hashing it again (about 30 µs of
# 40 for a one-row statement on SQLite), and every batch of every service runs these.
_CLAIMS: dict[str, Any] = {}
_ARM = insert(timers_table)
_DISARM = delete(timers_table).where(timers_table.c.timer_id == bindparam("b_timer_id"))
_DISARM_MANY = delete(timers_table).where(
    timers_table.c.timer_id.in_(bindparam("b_timer_ids", expanding=True)))
_OUTBOX = insert(outbox_table)


def _claim(session: Session) -> Any:
    """The inbox's claim for the session's database: the ids inserted are the new ones."""
    name = session.dialect.name
    statement = _CLAIMS.get(name)
    if statement is None:
        statement = _CLAIMS[name] = (conflict_insert(session, inbox_table)
                                     .on_conflict_do_nothing()
                                     .returning(inbox_table.c.message_id))
    return statement


@dataclass(frozen=True)
class OutboxMessage:
    message_id: str
    subject: str
    payload: bytes
    trace_context: str | None = None


@dataclass(frozen=True)
class NewTimer:
    """A timer armed in bulk with ``Transaction.schedule_new``."""

    timer_id: str
    kind: str
    due_at: datetime
    payload: dict[str, Any]
    correlation_id: str | None = None
    causation_id: str | None = None


def subject_of(envelope: Envelope) -> str:
    """The subject ``envelope``'s event is published on, from the contracts."""
    model = EVENTS.get(envelope.type)
    if model is None:
        raise KeyError(f"{envelope.type}: not an event of the contracts; give its subject")
    if model.SUBJECT.endswith((">", "*")):
        raise ValueError(f"{envelope.type} is published on subjects matching "
                         f"{model.SUBJECT}; give the subject")
    return model.SUBJECT


class Transaction:
    """The unit of work handed to handlers."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock
        self.emitted: list[OutboxMessage] = []
        self.trace_parents: dict[str, str] = {}
        """Message id -> the ``traceparent`` its effects continue (set by the consumer)."""
        # Asked once per unit of work, not per effect: with OTEL unset it costs an
        # environment lookup, and a batch asks for each of its messages.
        self._tracing = tracing.enabled()
        self.earliest_armed: datetime | None = None
        """The earliest ``due_at`` of the timers this transaction arms (the store tells
        its timer wheel once it commits)."""
        self._committed: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once this transaction has committed (never if it rolls
        back): to wake a worker for rows only visible from then on, or to count what it
        did once (a timer's group may roll back and fire again)."""
        self._committed.append(callback)

    def _armed(self, due_at: datetime) -> None:
        if self.earliest_armed is None or due_at < self.earliest_armed:
            self.earliest_armed = due_at

    def emit(self, envelope: Envelope, subject: str | None = None, *,
             caused_by: str | None = None) -> None:
        """Publish ``envelope`` if, and only if, this transaction commits: on its event's
        subject (the contracts' registry), or on ``subject`` where the event's is a
        pattern (a dead letter's, a raw alert's). Its ``time`` is the service clock's now.

        ``caused_by`` names the message (inbox key) this event is an effect of when the
        envelope's ``causation_id`` does not (e.g. events made from a raw payload), so
        the event continues that message's trace.
        """
        subject = subject or subject_of(envelope)
        now = self.clock.now()
        if envelope.time != now:  # stamped by the service's clock (a test's, a simulation's)
            envelope = envelope.model_copy(update={"time": now})
        parent = self.trace_of(caused_by or envelope.causation_id)
        if parent is not None:
            self.trace_parents[envelope.id] = parent  # an event caused by this one follows
        self.emitted.append(OutboxMessage(envelope.id, subject, envelope.to_bytes(), parent))

    def trace_of(self, causation_id: str | None) -> str | None:
        """The trace an effect of ``causation_id`` belongs to: the active span (a domain
        span, a command, a timer), else the span of the message that caused it."""
        active = tracing.current_traceparent() if self._tracing else None
        if active is not None:
            return active
        return self.trace_parents.get(causation_id) if causation_id else None

    def span(self, name: str, *, cause: Envelope | None = None,
             attributes: dict[str, Any] | None = None) -> AbstractContextManager[Span]:
        """A domain span (e.g. a correlation decision) under the span of the message
        ``cause``; a no-op when tracing is off."""
        parent = self.trace_parents.get(cause.id) if cause is not None else None
        return tracing.span(name, parent=parent, attributes=attributes)

    async def claim(self, consumer: str, message_ids: Sequence[str]) -> set[str]:
        """Record ``message_ids`` as handled by ``consumer``; return those not handled
        before. One statement: the rows inserted are the fresh ones (ids in one order, so
        two replicas claiming overlapping batches wait for each other rather than
        deadlock; the second finds them taken)."""
        unique = sorted(set(message_ids))
        if not unique:
            return set()
        now = datetime.now(UTC)
        inserted = await self.session.execute(
            _claim(self.session),
            [{"consumer": consumer, "message_id": m, "processed_at": now} for m in unique])
        return set(inserted.scalars())

    async def schedule(self, timer_id: str, kind: str, due_at: datetime, payload: dict[str, Any],
                       *, correlation_id: str | None = None,
                       causation_id: str | None = None) -> None:
        """Arm (or re-arm) a durable timer; it fires once, at or after ``due_at``, even
        across restarts."""
        await self.cancel(timer_id)
        await self.session.execute(_ARM, {
            "timer_id": timer_id, "kind": kind, "due_at": due_at, "payload": payload,
            "correlation_id": correlation_id, "causation_id": causation_id,
            "trace_context": self.trace_of(causation_id)})
        self._armed(due_at)

    async def schedule_new(self, timers: Sequence[NewTimer]) -> None:
        """Arm many timers whose ids are new by construction, in one statement."""
        if timers:
            await self.session.execute(_ARM, [
                {"timer_id": t.timer_id, "kind": t.kind, "due_at": t.due_at,
                 "payload": t.payload, "correlation_id": t.correlation_id,
                 "causation_id": t.causation_id, "trace_context": self.trace_of(t.causation_id)}
                for t in timers])
            self._armed(min(t.due_at for t in timers))

    async def rearm(self, timers: Sequence[NewTimer]) -> None:
        """Arm (or re-arm) many timers in two statements: ``schedule`` for each, at once."""
        if timers:
            await self.cancel_many(t.timer_id for t in timers)
            await self.schedule_new(timers)

    async def cancel(self, timer_id: str) -> bool:
        result = await self.session.execute(_DISARM, {"b_timer_id": timer_id})
        return bool(getattr(result, "rowcount", 0))

    async def cancel_under(self, prefix: str) -> None:
        """Cancel every armed timer whose id starts with ``prefix``."""
        await self.session.execute(delete(timers_table).where(
            timers_table.c.timer_id.startswith(prefix, autoescape=True)))

    async def cancel_many(self, timer_ids: Iterable[str]) -> None:
        """Cancel every timer of ``timer_ids`` that is armed, in statements of IN_CHUNK."""
        ids = list(dict.fromkeys(timer_ids))
        for start in range(0, len(ids), IN_CHUNK):
            await self.session.execute(_DISARM_MANY,
                                       {"b_timer_ids": ids[start:start + IN_CHUNK]})

    async def _flush_outbox(self) -> None:
        if self.emitted:
            now = datetime.now(UTC)
            await self.session.execute(
                _OUTBOX,
                [{"message_id": m.message_id, "subject": m.subject, "payload": m.payload,
                  "created_at": now, "trace_context": m.trace_context} for m in self.emitted],
            )
