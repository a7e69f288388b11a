"""The orchestrator's unit of work: what one transaction has read of the workflow
tables and what it changes, written back as sets when it ends.

A batch of events is decided in memory. ``prepare`` reads, in a statement per table,
every instance and wait the batch can touch; the shell records its effects here rather
than issuing a statement for each; ``flush`` writes new and changed instances with their
steps, waits, timers, owed effects and kept events in a few set-based statements. A
read that cannot be foreseen (the oldest queued instance, a count for
``max_concurrent``) flushes first, so the database answers with this work in it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from reasonops_runtime import Transaction
from reasonops_runtime.store import NewTimer

from . import effect_store, store
from .definition_store import DefinitionBook
from .domain import ACTIVE, Instance
from .store import WILDCARD

WaitKey = tuple[str, str]
"""(instance id, step); the instance's ``finish_on`` wait has step ""."""


class Workset:
    def __init__(self, tx: Transaction, wait_fields: dict[str, set[str]] | None = None, *,
                 owed: Callable[[], None] | None = None,
                 definitions: DefinitionBook | None = None) -> None:
        self.tx = tx
        self.definitions = definitions or DefinitionBook()
        self.wait_fields = wait_fields or {}
        self._owed = owed
        self.instances: dict[str, Instance] = {}
        self._absent: set[str] = set()
        self._new: dict[str, Instance] = {}
        self._changed: dict[str, Instance] = {}
        # waits: the rows known (read or written here), by key and by what they wait on
        self._waits: dict[WaitKey, tuple[str, str]] = {}
        self._waiting: dict[tuple[str, str], set[WaitKey]] = {}
        self._steps_waiting: dict[str, set[str]] = {}
        self._wait_writes: dict[WaitKey, tuple[str, str] | None] = {}
        self._ended: set[str] = set()
        self._timers: dict[str, tuple[str, NewTimer | None]] = {}
        """Timer id -> (its instance, the timer armed, or None: disarmed)."""
        self._effects: dict[str, dict[str, Any]] = {}
        # awaited events kept for instances that start later
        self._kept: dict[tuple[str, str], list[dict[str, Any]]] = {}
        """(event type, value) -> the awaited events kept in this unit of work."""
        self._kept_all: list[dict[str, Any]] = []
        self._unwritten: list[dict[str, Any]] = []
        self._keep_since: datetime | None = None
        self._recent: dict[str, list[Any]] = {}
        self._recent_since: dict[str, datetime] = {}
        """Value -> since when its kept events were read."""
        self._written: dict[str, dict[str, tuple[Any, ...]]] = {}
        """Instance id -> each step as the database has it (read or written here): only
        the steps that differ are written back."""
        self._active: dict[str, int] = {}
        self._baseline: dict[str, bool] = {}
        """Instance id -> active in the database when counted (or when first read here)."""

    # -- instances ---------------------------------------------------------------------

    async def prepare(self, ids: Iterable[str], waited: dict[str, set[str]]) -> None:
        """Read what a batch can touch: the waits on ``waited`` (event type -> the values
        its events carry) and the instances of ``ids`` and of those waits, locked."""
        wanted = set(ids)
        if waited:
            values = set().union(*waited.values())
            for row in await store.waits_on(self.tx.session, waited, values):
                key = (row.workflow_id, row.step)
                if key not in self._waits and key not in self._wait_writes:
                    self._index(key, (row.event_type, row.value))
                wanted.add(row.workflow_id)
        await self._load(wanted)

    async def _load(self, ids: set[str]) -> None:
        missing = ids - self.instances.keys() - self._absent
        if missing:
            found = await store.load(self.tx.session, missing, lock=True)
            self.instances.update(found)
            for instance_id, instance in found.items():
                self._remember_steps(instance_id, instance)
            self._baseline.update({i: f.state in ACTIVE for i, f in found.items()})
            self._absent |= missing - found.keys()

    async def fetch(self, instance_id: str) -> Instance | None:
        """The instance, as this unit of work has it (read and locked on first use)."""
        await self._load({instance_id})
        return self.instances.get(instance_id)

    def known(self, instance_id: str) -> Instance | None:
        """An instance already read or started here (``prepare`` read every candidate)."""
        return self.instances.get(instance_id)

    def add(self, instance: Instance) -> None:
        self.instances[instance.instance_id] = instance
        self._absent.discard(instance.instance_id)
        self._new[instance.instance_id] = instance

    def changed(self, instance: Instance) -> None:
        if instance.instance_id not in self._new:
            self._changed[instance.instance_id] = instance

    async def active(self, workflow: str) -> int:
        """Running (or compensating) instances of ``workflow``: counted in the database
        once (this unit of work written first), then from what changed here since."""
        if workflow not in self._active:
            await self.flush()
            self._active[workflow] = await store.count_active(self.tx.session, workflow)
            for i in self.instances.values():
                if i.workflow == workflow:
                    self._baseline[i.instance_id] = i.state in ACTIVE
        return self._active[workflow] + sum(
            (i.state in ACTIVE) - self._baseline.get(i.instance_id, False)
            for i in self.instances.values() if i.workflow == workflow)

    def _remember_steps(self, instance_id: str, instance: Instance) -> None:
        self._written[instance_id] = {run.id: store.step_signature(run)
                                      for run in instance.steps.values()}

    # -- waits -------------------------------------------------------------------------

    def _index(self, key: WaitKey, on: tuple[str, str]) -> None:
        self._unindex(key)
        self._waits[key] = on
        self._waiting.setdefault(on, set()).add(key)
        self._steps_waiting.setdefault(key[0], set()).add(key[1])

    def _unindex(self, key: WaitKey) -> None:
        on = self._waits.pop(key, None)
        if on is not None:
            self._waiting[on].discard(key)
            self._steps_waiting[key[0]].discard(key[1])

    def waiting(self, event_type: str, values: set[str]) -> set[str]:
        """Instances waiting on ``event_type`` with one of ``values`` (or any value);
        ``prepare`` read the waits for every event of the batch."""
        found: set[str] = set()
        for value in (*values, WILDCARD):
            found |= {w for w, _ in self._waiting.get((event_type, value), ())}
        return found

    def wait(self, instance_id: str, step: str, event_type: str, value: str) -> None:
        self._index((instance_id, step), (event_type, value))
        self._wait_writes[(instance_id, step)] = (event_type, value)

    def stop_waiting(self, instance_id: str, step: str) -> None:
        self._unindex((instance_id, step))
        self._wait_writes[(instance_id, step)] = None

    def end_waits(self, instance_id: str) -> None:
        """The instance finished: none of its waits stays (read here or not)."""
        for step in list(self._steps_waiting.get(instance_id, ())):
            self._unindex((instance_id, step))
        for key in [k for k in self._wait_writes if k[0] == instance_id]:
            del self._wait_writes[key]
        self._ended.add(instance_id)

    # -- timers and effects --------------------------------------------------------------

    def arm(self, instance_id: str, timer: NewTimer) -> None:
        self._timers[timer.timer_id] = (instance_id, timer)

    def disarm(self, instance_id: str, timer_id: str) -> None:
        self._timers[timer_id] = (instance_id, None)

    def owe(self, effect: dict[str, Any]) -> None:
        """An I/O effect for the runner (the first one recorded under an id counts)."""
        self._effects.setdefault(effect["effect_id"], effect)

    # -- awaited events kept for a while -------------------------------------------------

    def keep(self, message_id: str, event_type: str, payload: dict[str, Any], at: datetime,
             keep_since: datetime) -> None:
        """Keep an awaited event under each value a wait on its type is keyed by."""
        values = {WILDCARD if f == WILDCARD else str(payload.get(f))
                  for f in self.wait_fields.get(event_type, {WILDCARD})
                  if f == WILDCARD or isinstance(payload.get(f), str | int | float)}
        for value in values:
            stored = value[:256]
            row = {"message_id": message_id, "value": stored, "event_type": event_type,
                   "payload": payload, "seen_at": at}
            self._kept.setdefault((event_type, stored), []).append(row)
            self._kept_all.append(row)
            self._unwritten.append(row)
        self._keep_since = keep_since

    async def preload_recent(self, values: Iterable[str], since: datetime) -> None:
        """Read the kept events under ``values`` (the keys of this batch's triggers), or
        read them again from an earlier ``since``."""
        missing = {v for v in values if v not in self._recent_since
                   or since < self._recent_since[v]}
        if missing:
            for value in missing:
                self._recent[value], self._recent_since[value] = [], since
            for row in await store.recent_with(self.tx.session, missing, since):
                self._recent[row.value].append(row)

    async def recent(self, event_type: str, field: str, value: str,
                     since: datetime) -> list[tuple[str, datetime, dict[str, Any]]]:
        """(message id, when, payload) of the kept events of ``event_type`` a wait keyed
        by ``field`` = ``value`` may want: stored before this unit of work or kept in it."""
        if field in self.wait_fields.get(event_type, ()):
            key = WILDCARD if field == WILDCARD else value
            await self.preload_recent([key], since)
            rows: list[Any] = [r for r in self._recent[key] if r.event_type == event_type
                               and r.seen_at >= since]
            mine = self._kept.get((event_type, key), [])
        else:  # keyed in a way no definition declares: look at every event of the type
            rows = await store.recent_of(self.tx.session, event_type, since)
            mine = [r for r in self._kept_all if r["event_type"] == event_type]
        found: dict[str, tuple[str, datetime, dict[str, Any]]] = {}
        for row in rows:
            found.setdefault(row.message_id, (row.message_id, row.seen_at, dict(row.payload)))
        for kept in mine:
            found.setdefault(kept["message_id"],
                             (kept["message_id"], kept["seen_at"], kept["payload"]))
        return list(found.values())

    # -- writing back --------------------------------------------------------------------

    async def flush(self) -> None:
        session = self.tx.session
        fresh = set(self._new)  # first written now: no wait or timer of theirs to remove
        await self.definitions.store(self.tx, (i.definition for i in self._new.values()))
        await store.insert_instances(session, list(self._new.values()))
        for instance_id, instance in self._new.items():
            self._remember_steps(instance_id, instance)
        self._new.clear()
        await store.update_instances(session, [
            (i, [run for run in i.steps.values() if self._written.get(i.instance_id, {}).get(
                run.id) != store.step_signature(run)]) for i in self._changed.values()])
        for instance_id, instance in self._changed.items():
            self._remember_steps(instance_id, instance)
        self._changed.clear()
        if self._ended or self._wait_writes:
            await store.write_waits(session, self._ended - fresh, self._wait_writes, fresh)
            self._ended, self._wait_writes = set(), {}
        if self._timers:
            await self.tx.cancel_many(timer_id for timer_id, (owner, _) in self._timers.items()
                                      if owner not in fresh)
            await self.tx.schedule_new([t for _, t in self._timers.values() if t is not None])
            self._timers = {}
        if self._effects and self._owed is not None:
            self.tx.after_commit(self._owed)
        await effect_store.add_effects(session, list(self._effects.values()))
        self._effects.clear()
        if self._unwritten and self._keep_since is not None:
            await store.keep_recent(session, self._unwritten, self._keep_since)
            self._unwritten = []
