"""The I/O of one push: read the incident, and bring its ServiceNow record up to date.

A field is written when ReasonOps' value for it changed, unless ServiceNow holds that
value already (it came from there): changes made in ServiceNow to fields ReasonOps did
not change stay, and nothing applied from ServiceNow is written back (no ping-pong). A
record is created at once on a first attempt; an attempt after an unfinished one first
asks ServiceNow for the incident's record (``correlation_id``) and takes it over. The
first work note a process writes to a record, or any after an unfinished attempt, is
looked for in the record's journal first (its ``[ReasonOps INC... #from-to]`` mark).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from nats.aio.client import Client

from reasonops_contracts import ReplyError
from reasonops_contracts.incidents import GetIncident, IncidentView
from reasonops_runtime.client import request

from .mapping import CORRELATION_DISPLAY, NOTE_MARK, FieldMapping, Problem
from .store import Claim, Link
from .table import INCIDENT, RECORD_FIELDS, TableClient, TableError, Unavailable

PRINCIPAL = "service:servicenow"
"""The sync's own principal: timeline entries it made (from ServiceNow) stay out of the
work notes it writes."""


@dataclass
class Pushed:
    """What one push did to the record, recorded on a fresh read of the link."""

    view: IncidentView
    fields: dict[str, str]
    problems: list[Problem]
    notes_upto: int
    sys_id: str | None = None
    number: str | None = None
    created: bool = False
    adopted: bool = False
    written: dict[str, str] = field(default_factory=dict)
    note: bool = False
    record: dict[str, Any] = field(default_factory=dict)
    before: int = -1
    error: TableError | None = None


class RecordWriter:
    def __init__(self, *, table: TableClient, mapping: FieldMapping,
                 nc: Callable[[], Client], concurrency: int) -> None:
        self.table = table
        self.mapping = mapping
        self.nc = nc
        self.gate = asyncio.Semaphore(concurrency)
        """Records written at once, by this replica."""
        self.verified: set[str] = set()
        """Records whose journal this process checked for the sync's last work note."""

    async def push(self, claim: Claim, known: Link | None) -> Pushed | None:
        """The I/O of one push: read the incident (every push of a batch at once: the
        incident service answers them together), write its record (``concurrency`` at
        once). ``known``: its link when claimed (None: none yet)."""
        incident_id = claim.incident_id
        try:
            view = await request(self.nc(), GetIncident(incident_id=incident_id),
                                 IncidentView)
        except ReplyError as exc:
            if exc.detail.code == "not_found":
                return None
            raise Unavailable(f"the incident service did not answer: {exc}", 5.0) from None
        link = known
        if link is None:
            if not claim.force and not self.mapping.chooses(view):
                return None
            link = Link(incident_id)
        fields, problems = self.mapping.outbound(view)
        notes, upto = self._notes(view, link)
        pushed = Pushed(view, fields, problems, upto)
        uncertain = claim.attempts > 1  # an earlier claim may have reached ServiceNow
        async with self.gate:
            try:
                if link.sys_id is None:
                    await self._create(pushed, notes, uncertain=uncertain)
                else:
                    await self._update(pushed, link, notes, uncertain=uncertain)
            except TableError as exc:
                pushed.error = exc
        return pushed

    def _notes(self, view: IncidentView, link: Link) -> tuple[str, int]:
        """The timeline entries not yet in ServiceNow as one work note (those the sync
        itself made, from ServiceNow's changes, stay out), and how far they reach."""
        upto = len(view.timeline)
        if not self.mapping.spec.work_notes or upto <= link.notes_pushed:
            return "", max(upto, link.notes_pushed)
        lines = [f"{e.at.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z {e.actor} {e.kind}: {e.detail}"
                 for e in view.timeline[link.notes_pushed:] if e.actor != PRINCIPAL]
        if not lines:
            return "", upto
        head = f"{NOTE_MARK}{view.incident_id} #{link.notes_pushed + 1}-{upto}]"
        return "\n".join([head, *lines])[:8000], upto

    async def _create(self, pushed: Pushed, notes: str, *, uncertain: bool) -> None:
        incident_id = pushed.view.incident_id
        found: list[dict[str, Any]] = []
        if uncertain:
            found, _ = await self.table.query(
                INCIDENT, f"correlation_id={incident_id}^correlation_display="
                          f"{CORRELATION_DISPLAY}",
                [*RECORD_FIELDS, *self.mapping.tracked()], limit=1)
        if found:  # made by an attempt that did not live to record it
            record = found[0]
            sys_id = str(record["sys_id"])
            if notes and await self._note_there(sys_id, notes):
                notes = ""
            changed = {k: v for k, v in pushed.fields.items() if str(record.get(k, "")) != v}
            if changed or notes:
                record = await self._write(sys_id, changed, notes)
            pushed.adopted = True
        else:
            try:
                record = await self.table.create(INCIDENT, {
                    **pushed.fields, "correlation_id": incident_id,
                    "correlation_display": CORRELATION_DISPLAY,
                    **({"work_notes": notes} if notes else {})})
            except Unavailable:
                raise  # the next claim looks for the record first (an attempt counted)
            pushed.created = True
        pushed.sys_id, pushed.number = str(record["sys_id"]), str(record.get("number", ""))
        pushed.record = record
        self.verified.add(pushed.sys_id)

    async def _update(self, pushed: Pushed, link: Link, notes: str, *, uncertain: bool
                      ) -> None:
        assert link.sys_id is not None
        changed = {k: v for k, v in pushed.fields.items()
                   if link.pushed.get(k) != v and link.remote.get(k) != v}
        if notes and (uncertain or link.sys_id not in self.verified):
            if await self._note_there(link.sys_id, notes):
                notes = ""
            self.verified.add(link.sys_id)
        pushed.sys_id, pushed.number, pushed.before = link.sys_id, link.number, link.mod_count
        if not changed and not notes:
            return
        pushed.record = await self._write(link.sys_id, changed, notes)
        pushed.written, pushed.note = changed, bool(notes)

    async def _write(self, sys_id: str, changed: dict[str, str], notes: str
                     ) -> dict[str, Any]:
        try:
            return await self.table.update(INCIDENT, sys_id, {
                **changed, **({"work_notes": notes} if notes else {})}, idempotent=not notes)
        except Unavailable:
            self.verified.discard(sys_id)  # the note may have landed: look first
            raise

    async def _note_there(self, sys_id: str, notes: str) -> bool:
        """Whether the record's journal holds this note already (by its mark)."""
        head = notes.split("\n", 1)[0]
        return any(str(n.get("value", "")).startswith(head)
                   for n in await self.table.journal(sys_id))
