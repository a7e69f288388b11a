"""Step I/O that cannot happen inside a transaction: commands, queries, notifications,
applying proposals, review records.

A step's effect is a row written with the step's start (``pending``). The runner
claims it, with others owed, in a transaction of its own (``claimed``), does the I/O
beside the others it runs, then records the result and the step's progress in one
more (``done``), shared with the other effects that finished meanwhile (at most
``RECORD_TOGETHER``; if that transaction fails, each is recorded alone). A crash
between the claim and the record leaves a ``claimed`` row: on start-up queries,
notifications (sent with the same idempotency key) and reviews run again; a command's
outcome is unknown, so its attempt fails (and the step's retry policy decides) rather
than risk doing it twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from reasonops_contracts import Reply
from reasonops_runtime import Service, tracing
from reasonops_runtime.client import send
from reasonops_runtime.policy import Policy
from reasonops_runtime.store import OutboxMessage

from . import effect_store, progress, store
from .apply import apply_proposals, notify, review
from .definitions import REQUEST_MODELS
from .domain import Outcome
from .notify import Notifier
from .shell import Shell, envelope
from .workset import Workset

AT_MOST_ONCE = ("command", "apply_proposal")
RECORD_ATTEMPTS = 5
RECORD_TOGETHER = 50


@dataclass(frozen=True, slots=True)
class Finished:
    """An effect whose I/O ended, waiting for its result to be recorded."""

    row: Any
    outcome: Outcome
    parent: str | None
    """The trace its record continues (the effect's span)."""
    recorded: asyncio.Future[None]
    """Resolved once recorded (or given up on): what the effect's task awaits."""


log = logging.getLogger(__name__)


class EffectRunner:
    """Runs the effects steps owe, up to ``capacity`` at once: found by a read, claimed in
    one statement a round, and topped up as each ends, so one slow webhook holds back no
    other."""

    def __init__(self, service: Service, shell: Shell, notifier: Notifier, policy: Policy, *,
                 lease: timedelta = timedelta(seconds=60), capacity: int = 50,
                 poll_seconds: float = 2.0, review_wait: float = 10.0) -> None:
        self.service = service
        self.shell = shell
        self.notifier = notifier
        self.policy = policy
        self.lease = lease
        self.capacity = capacity
        self.poll_seconds = poll_seconds
        self.review_wait = review_wait
        self.owner = service.settings.instance
        self._next_recovery = service.clock.now() + lease / 2
        self.running: dict[str, asyncio.Task[None]] = {}
        """Effects this process has claimed and is running, by id."""
        self._backlog = False
        """Whether the last claim found as many effects as it had room for (more wait)."""
        self._room = asyncio.Event()
        self._finished: list[Finished] = []
        self._recorder: asyncio.Task[None] | None = None
        shell.effects_owed = self._room.set  # effects this process owes: claimed at once

    async def recover(self) -> None:
        """Effects claimed by a process that died before recording their result: their
        lease ran out, as no live owner renews it. Not those a live replica is running."""
        async with self.service.transaction() as tx:
            ws = self.shell.workset(tx)
            abandoned = await effect_store.abandoned_effects(tx.session,
                                                             self.service.clock.now())
            for row in abandoned:
                log.warning("recovering an abandoned workflow effect", extra={
                    "effect": row.effect_id, "owner": row.claimed_by})
                if row.kind in AT_MOST_ONCE:
                    await effect_store.finish_effects(tx.session, [row.effect_id])
                    await self._record(ws, row, Outcome(False, error=(
                        "outcome unknown: the orchestrator stopped while it was in flight")))
                else:
                    await effect_store.release_effect(tx.session, row.effect_id)
            await ws.flush()

    async def run(self, stopping: asyncio.Event) -> None:
        """Claim and start effects until ``stopping``; then let those running finish."""
        renewing = asyncio.create_task(self._renew())
        try:
            while not stopping.is_set():
                self._room.clear()
                try:
                    await self.top_up()
                except Exception as exc:  # the database away: the next round tries again
                    log.warning("claiming workflow effects failed", extra={"error": repr(exc)})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._room.wait(), self.poll_seconds)
        finally:
            renewing.cancel()
            try:
                if self.running:
                    await asyncio.wait(list(self.running.values()))
                if self._recorder is not None:  # relaying what the last records emitted
                    await self._recorder
            finally:  # cancelled while draining: so are they (their claims are recovered)
                for task in [*self.running.values(), *filter(None, [self._recorder])]:
                    task.cancel()

    async def top_up(self) -> None:
        """Recover abandoned effects when due; claim pending ones while there is room."""
        if self._next_recovery <= self.service.clock.now():
            self._next_recovery = self.service.clock.now() + self.lease / 2
            await self.recover()
        room = self.capacity - len(self.running)
        if room <= 0:
            self._backlog = True
            return
        async with self.service.store.read() as session:
            owed = await effect_store.pending_ids(session, room)
        self._backlog = len(owed) == room
        if not owed:
            return
        async with self.service.store.transaction() as tx:
            now = self.service.clock.now()
            rows = await effect_store.claim(tx.session, owed, now, owner=self.owner,
                                            lease_until=now + self.lease)
            # What each effect needs of its instance, read once for all of them.
            found = await store.load(tx.session, {row.workflow_id for row in rows})
        for row in rows:
            task = asyncio.create_task(self._traced(row, found.get(row.workflow_id)))
            self.running[row.effect_id] = task
            task.add_done_callback(functools.partial(self._ended, row.effect_id))

    def _ended(self, effect_id: str, _task: asyncio.Task[None]) -> None:
        self.running.pop(effect_id, None)
        if self._backlog:
            self._room.set()  # claim the next at once rather than at the next poll

    async def _renew(self) -> None:
        """Keep the claims of the effects running (a slow webhook outlives one lease)."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            if not self.running:
                continue
            try:
                async with self.service.store.transaction() as tx:
                    await effect_store.renew_claims(
                        tx.session, list(self.running), owner=self.owner,
                        lease_until=self.service.clock.now() + self.lease)
            except Exception as exc:  # the next try may succeed before the leases end
                log.warning("renewing effects' leases failed", extra={
                    "effects": len(self.running), "error": repr(exc)})

    async def _traced(self, row: Any, instance: Any) -> None:
        # The span covers the I/O and the record; what the record emits is published by
        # the recorder once recorded (its send spans follow the span's trace).
        try:
            with tracing.span(f"workflow {row.kind}", parent=row.payload.get("traceparent"),
                              attributes={tracing.SERVICE_ATTRIBUTE: self.service.name,
                                          "reasonops.workflow.id": row.workflow_id,
                                          "reasonops.workflow.step": row.step}):
                await self._run_claimed(row, instance)
        except Exception:  # recorded or not, its outbox rows are relayed by the sweep
            log.exception("workflow effect ended abnormally", extra={"effect": row.effect_id})

    async def _run_claimed(self, row: Any, instance: Any) -> None:
        try:
            outcome = await self.execute(row, instance)
        except Exception as exc:
            log.warning("workflow step effect failed", extra={"effect": row.effect_id,
                                                              "error": repr(exc)})
            outcome = Outcome(False, error=f"{type(exc).__name__}: {exc}"[:500])
        recorded: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._finished.append(Finished(row, outcome, tracing.current_traceparent(), recorded))
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.create_task(self._record_finished())
        await recorded

    async def _record_finished(self) -> None:
        """Record the effects that finished, those that finished meanwhile together."""
        while self._finished:
            group = self._finished[:RECORD_TOGETHER]
            del self._finished[:RECORD_TOGETHER]
            try:
                emitted = await self._record_together(group) if len(group) > 1 else None
                if emitted is None:
                    emitted = []
                    for f in group:
                        emitted += await self._record_alone(f.row, f.outcome, f.parent)
            finally:
                for f in group:
                    if not f.recorded.done():
                        f.recorded.set_result(None)
            if self.service.relay is not None and emitted:
                try:
                    await self.service.relay.publish(emitted)
                except Exception as exc:  # committed: the outbox sweep relays them
                    log.warning("relaying recorded effects failed", extra={
                        "error": repr(exc)})

    async def _record_together(self, group: list[Finished]) -> list[OutboxMessage] | None:
        """Record ``group`` in one transaction: what it emitted, or None (nothing
        committed) if any record failed."""
        try:
            async with self.service.store.transaction() as tx:
                ws = self.shell.workset(tx)
                await ws.prepare({f.row.workflow_id for f in group}, {})
                await effect_store.finish_effects(tx.session, [f.row.effect_id for f in group])
                for f in group:
                    with tracing.use(f.parent):
                        await self._record(ws, f.row, f.outcome)
                await ws.flush()
        except Exception as exc:
            log.warning("recording step results together failed; recording each alone",
                        extra={"effects": len(group), "error": repr(exc)})
            return None
        return tx.emitted

    async def _record_alone(self, row: Any, outcome: Outcome,
                            parent: str | None) -> list[OutboxMessage]:
        for attempt in range(RECORD_ATTEMPTS):
            try:
                async with self.service.store.transaction() as tx:
                    ws = self.shell.workset(tx)
                    await effect_store.finish_effects(tx.session, [row.effect_id])
                    with tracing.use(parent):
                        await self._record(ws, row, outcome)
                    await ws.flush()
                return tx.emitted
            except Exception as exc:  # e.g. a concurrent writer; the result is not lost yet
                log.warning("recording a step result failed; trying again",
                            extra={"effect": row.effect_id, "error": repr(exc)})
                await asyncio.sleep(0.1 * (attempt + 1))
        log.error("step result not recorded; the effect stays claimed until a restart",
                  extra={"effect": row.effect_id})
        return []

    async def _record(self, ws: Workset, row: Any, outcome: Outcome) -> None:
        """The step's progress after its effect (whose row the caller marks done)."""
        instance = await ws.fetch(row.workflow_id)
        if instance is None:
            return
        now = self.service.clock.now()
        if outcome.review is not None:
            await effect_store.add_review(ws.tx.session, instance.instance_id,
                                          instance.incident_id, outcome.review, now)
        for event in outcome.events:
            ws.tx.emit(envelope(instance, None, event, now))
        effects = (progress.succeeded(instance, row.step, row.attempt, outcome.output, now)
                   if outcome.ok else
                   progress.failed(instance, row.step, row.attempt, outcome.error, now))
        await self.shell.apply(ws, instance, effects, None)

    async def execute(self, row: Any, instance: Any) -> Outcome:
        """Do ``row``'s I/O for ``instance`` (as read when the effect was claimed)."""
        payload = dict(row.payload)
        if instance is None:
            return Outcome(False, error="instance gone")
        if row.kind in ("command", "query"):
            return await self._request(payload)
        if row.kind == "notify":
            return await notify(self, instance, row, payload)
        if row.kind == "apply_proposal":
            async with self.service.store.read() as session:
                found = await effect_store.proposals_of(session, str(payload.get("decision_id")))
            return await apply_proposals(self, instance, row.step, payload, found)
        return await review(self, instance, row.step, payload)

    async def request(self, model_name: str, args: dict[str, Any],
                      timeout: float = 5.0) -> Outcome:
        model = REQUEST_MODELS[model_name]
        message = model.model_validate(args)
        raw = await send(self.service.nc, message, timeout=timeout)  # signed as ourselves
        reply = Reply.model_validate_json(raw.data)
        if not reply.ok:
            err = reply.error
            return Outcome(False, error=f"{err.code}: {err.message}" if err else "error reply")
        return Outcome(True, output=reply.result or {})

    async def _request(self, payload: dict[str, Any]) -> Outcome:
        return await self.request(str(payload["command"]), dict(payload["args"]),
                                  float(payload.get("timeout") or 5.0))
