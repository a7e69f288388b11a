"""The causal chain of an incident, read from the AUDIT stream.

One pass over the stream with an ephemeral pull consumer (no acks, batches of ``batch``).
A message is parsed only when a cheap byte check says it may belong to the chain:

- it names the incident (``"INC0000001"`` in its bytes) and its envelope subject,
  ``data.incident_id`` or ``data.incident_ids`` is the incident: the incident's own events,
  SLA clocks, penalties, ledger entries, agent requests, decisions and proposals,
  workflow events and policy denials;
- it is a monitoring event (``itsm.ingest.event.accepted``) that opened or reopened the
  incident (the incident event's causation or correlation id), or that carries the
  incident's fingerprint while the incident is open. Alerts arrive before the incident
  that they open, so the last ``lookback`` accepted events are kept (as bytes) until the
  incident's opening tells which of them belong;
- its envelope ``causation_id`` is a message of the chain (a consequence that does not
  name the incident itself).

AUDIT keeps each source stream's order but interleaves the sources as the server copies
them, so a consequence can be stored before its cause (a ledger entry before its penalty
after the SLM source lagged). The last ``lookback`` messages that matched nothing are
therefore kept by causation id until their cause shows up.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from nats.aio.client import Client
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from reasonops_contracts import Envelope, subjects
from reasonops_contracts.incidents import IncidentClosed, IncidentOpened, IncidentReopened
from reasonops_contracts.ingest import EventAccepted
from reasonops_contracts.streams import AUDIT
from reasonops_runtime.reading import read_stream

from .summaries import actor, summary

DEFAULT_BATCH = 500
DEFAULT_LOOKBACK = 10_000
_CAUSATION_KEY = b'"causation_id":"'


@dataclass(frozen=True)
class TrailEntry:
    """One message of the chain, in the order it happened."""

    at: datetime
    type: str
    """The envelope type, e.g. ``itsm.incident.opened.v1``."""
    subject: str
    """The entity the message is about (alert, incident, workflow, clock, entry id)."""
    actor: str
    """Who did it: a user, ``agent:<name>`` or the service that published it."""
    summary: str
    id: str
    causation_id: str | None = None
    correlation_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    """The service that published the message."""
    sequence: int = 0
    """Its position in the AUDIT stream."""

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "type": self.type, "subject": self.subject,
                "actor": self.actor, "summary": self.summary, "id": self.id,
                "causation_id": self.causation_id, "correlation_id": self.correlation_id,
                "source": self.source, "sequence": self.sequence, "data": self.data}


class AuditUnavailable(RuntimeError):
    """The AUDIT stream does not exist (ReasonOps never started on this server)."""


async def collect_trail(nc: Client, incident_id: str, *, timeout: float = 5.0,
                        batch: int = DEFAULT_BATCH, since: datetime | None = None,
                        lookback: int = DEFAULT_LOOKBACK) -> list[TrailEntry]:
    """Every message in the AUDIT stream that belongs to ``incident_id``'s chain, in order.

    ``timeout`` bounds each wait on the broker, not the whole read; ``since`` starts the
    read at that time instead of the stream's beginning. Empty when nothing names the
    incident.
    """
    chain = _Chain(incident_id, lookback)
    await _read_audit(nc, chain.offer, timeout=timeout, batch=batch, since=since)
    return chain.entries()


class _Chain:
    """Decides, message by message, whether it belongs to one incident's chain."""

    def __init__(self, incident_id: str, lookback: int) -> None:
        self.incident_id = incident_id
        self.token = f'"{incident_id}"'.encode()
        self.found: dict[str, tuple[int, Envelope]] = {}
        self.fingerprints: set[str] = set()
        self.correlations: set[str] = set()
        self.causes: set[str] = set()
        self.tokens: list[bytes] = []
        self.open = False
        self.recent: deque[tuple[int, bytes]] = deque(maxlen=lookback)
        self.orphans = _Orphans(lookback)
        # Ids whose consequences belong to the chain too. Not alerts: what an alert causes
        # is about the incident it opened or joined, which names itself.
        self.causes_of_chain: set[str] = set()

    def offer(self, seq: int, subject: str, raw: bytes) -> None:
        if self.token in raw:
            env = _parse(raw)
            if env is not None and self._names_incident(env):
                self._take(seq, env)
                return
        if subject == subjects.INGEST_EVENT_ACCEPTED:
            self._offer_alert(seq, raw)
            return
        cause = _causation(raw)
        if cause is None:
            return
        if cause in self.causes_of_chain:
            env = _parse(raw)
            if env is not None:
                self._take(seq, env)
        else:
            self.orphans.keep(cause, seq, raw)

    def entries(self) -> list[TrailEntry]:
        ordered = sorted(self.found.values(), key=lambda found: (found[1].time, found[0]))
        return [_entry(seq, env) for seq, env in ordered]

    def _names_incident(self, env: Envelope) -> bool:
        data = env.data
        return (env.subject == self.incident_id or data.get("incident_id") == self.incident_id
                or self.incident_id in (data.get("incident_ids") or ()))

    def _take(self, seq: int, env: Envelope) -> None:
        if env.id in self.found:
            return
        self.found[env.id] = (seq, env)
        if env.type != EventAccepted.TYPE:
            self.causes_of_chain.add(env.id)
            for orphan_seq, raw in self.orphans.caused_by(env.id):
                if (orphan := _parse(raw)) is not None:
                    self._take(orphan_seq, orphan)
        if not (env.type.startswith(f"{subjects.INCIDENT_PREFIX}.")
                and env.subject == self.incident_id):
            return
        self._learn(env.correlation_id, self.correlations)
        if env.causation_id:
            self._learn(env.causation_id, self.causes)
        if env.type == IncidentOpened.TYPE and isinstance(env.data.get("fingerprint"), str):
            self._learn(env.data["fingerprint"], self.fingerprints)
        if env.type in (IncidentOpened.TYPE, IncidentReopened.TYPE):
            self.open = True
            self._look_back()
        elif env.type == IncidentClosed.TYPE:
            self.open = False

    def _learn(self, value: str, into: set[str]) -> None:
        if value not in into:
            into.add(value)
            self.tokens.append(f'"{value}"'.encode())

    def _offer_alert(self, seq: int, raw: bytes) -> None:
        if not self.open:
            self.recent.append((seq, raw))
        elif self._mentions(raw):
            env = _parse(raw)
            if env is not None and self._alert_belongs(env):
                self._take(seq, env)

    def _look_back(self) -> None:
        """The incident just opened: which of the alerts before it led to it."""
        for seq, raw in self.recent:
            if self._mentions(raw):
                env = _parse(raw)
                if env is not None and self._alert_belongs(env):
                    self._take(seq, env)
        self.recent.clear()

    def _mentions(self, raw: bytes) -> bool:
        return any(token in raw for token in self.tokens)

    def _alert_belongs(self, env: Envelope) -> bool:
        return (env.id in self.causes or env.correlation_id in self.correlations
                or env.data.get("fingerprint") in self.fingerprints)


class _Orphans:
    """The last ``size`` unmatched messages, by the id of the message that caused them."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.order: deque[tuple[str, int]] = deque()
        self.by_cause: dict[str, deque[tuple[int, bytes]]] = {}

    def keep(self, cause: str, seq: int, raw: bytes) -> None:
        self.order.append((cause, seq))
        self.by_cause.setdefault(cause, deque()).append((seq, raw))
        if len(self.order) > self.size:
            oldest, oldest_seq = self.order.popleft()
            kept = self.by_cause.get(oldest)
            if kept and kept[0][0] == oldest_seq:  # not already taken with its cause
                kept.popleft()
                if not kept:
                    del self.by_cause[oldest]

    def caused_by(self, cause: str) -> list[tuple[int, bytes]]:
        # Left in ``order``: eviction finds them gone and skips them.
        return list(self.by_cause.pop(cause, ()))


async def _read_audit(nc: Client, offer: Callable[[int, str, bytes], None], *,
                      timeout: float, batch: int, since: datetime | None) -> None:
    """Feed ``offer(seq, subject, data)`` every message in AUDIT up to its current end."""
    try:
        await read_stream(nc, AUDIT.name, offer, timeout=timeout, batch=batch, since=since)
    except NotFoundError:
        raise AuditUnavailable(f"no {AUDIT.name} stream on this server; has ReasonOps been "
                               "started?") from None


def _parse(raw: bytes) -> Envelope | None:
    try:
        return Envelope.from_bytes(raw)
    except ValidationError:  # not one of our envelopes: not part of any chain
        return None


def _causation(raw: bytes) -> str | None:
    """The envelope's causation id without parsing: the first key of that name is the
    envelope's own (its attributes come before ``data``)."""
    start = raw.find(_CAUSATION_KEY)
    if start < 0:
        return None
    start += len(_CAUSATION_KEY)
    end = raw.find(b'"', start)
    return raw[start:end].decode(errors="replace") if end > start else None


def _entry(seq: int, env: Envelope) -> TrailEntry:
    return TrailEntry(at=env.time, type=env.type, subject=env.subject or "",
                      actor=actor(env.type, env.source, env.data),
                      summary=summary(env.type, env.data), id=env.id,
                      causation_id=env.causation_id, correlation_id=env.correlation_id,
                      data=env.data, source=env.source, sequence=seq)
