"""Step I/O that cannot happen inside a transaction: commands, queries, notifications,
applying proposals, review records.

A step's effect is a row written with the step's start (``pending``). The runner
claims it, with others owed, in a transaction of its own (``claimed``), does the I/O
beside the others it runs, then records the result and the step's progress in one
more (``done``). A crash between the claim and the record leaves a ``claimed`` row: on
start-up queries, notifications (sent with the same idempotency key) and reviews run
again; a command's outcome is unknown, so its attempt fails (and the step's retry
policy decides) rather than risk doing it twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from datetime import timedelta
from typing import Any

from reasonops_contracts import Event, Reply
from reasonops_runtime import Service, tracing
from reasonops_runtime.client import send
from reasonops_runtime.policy import Policy
from reasonops_runtime.store import OutboxMessage

from . import effect_store, progress, store
from .apply import apply_proposals, review
from .definitions import REQUEST_MODELS
from .domain import Outcome
from .events import about
from .notify import Notification, Notifier
from .shell import Shell, envelope
from .workset import Workset

AT_MOST_ONCE = ("command", "apply_proposal")
RECORD_ATTEMPTS = 5

log = logging.getLogger(__name__)


class EffectRunner:
    """Runs the effects steps owe, up to ``capacity`` at once: found by a read, claimed in
    one statement a round, and topped up as each ends, so one slow webhook holds back no
    other."""

    def __init__(self, service: Service, shell: Shell, notifier: Notifier,
                 policy: Policy, *, lease: timedelta = timedelta(seconds=60),
                 capacity: int = 50, poll_seconds: float = 2.0) -> None:
        self.service = service
        self.shell = shell
        self.notifier = notifier
        self.policy = policy
        self.lease = lease
        self.capacity = capacity
        self.poll_seconds = poll_seconds
        self.owner = service.settings.instance
        self._next_recovery = service.clock.now() + lease / 2
        self.running: dict[str, asyncio.Task[None]] = {}
        """Effects this process has claimed and is running, by id."""
        self._backlog = False
        """Whether the last claim found as many effects as it had room for (more wait)."""
        self._room = asyncio.Event()
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
            finally:  # cancelled while draining: so are they (their claims are recovered)
                for task in list(self.running.values()):
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
        for row in rows:
            task = asyncio.create_task(self._traced(row))
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

    async def _traced(self, row: Any) -> None:
        # Like a timer: the span covers the I/O and the record; what the record emits is
        # published after the span ends (its send spans are children of a finished span).
        try:
            emitted = await self._spanned(row)
            if self.service.relay is not None and emitted:
                await self.service.relay.publish(emitted)
        except Exception:  # recorded or not, its outbox rows are relayed by the sweep
            log.exception("workflow effect ended abnormally", extra={"effect": row.effect_id})

    async def _spanned(self, row: Any) -> list[OutboxMessage]:
        with tracing.span(f"workflow {row.kind}", parent=row.payload.get("traceparent"),
                          attributes={tracing.SERVICE_ATTRIBUTE: self.service.name,
                                      "reasonops.workflow.id": row.workflow_id,
                                      "reasonops.workflow.step": row.step}):
            return await self._run_claimed(row)

    async def _run_claimed(self, row: Any) -> list[OutboxMessage]:
        try:
            outcome = await self.execute(row)
        except Exception as exc:
            log.warning("workflow step effect failed", extra={"effect": row.effect_id,
                                                              "error": repr(exc)})
            outcome = Outcome(False, error=f"{type(exc).__name__}: {exc}"[:500])
        for attempt in range(RECORD_ATTEMPTS):
            try:
                async with self.service.store.transaction() as tx:
                    ws = self.shell.workset(tx)
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
        await effect_store.finish_effect(ws.tx.session, row.effect_id)
        instance = await ws.fetch(row.workflow_id)
        if instance is None:
            return
        now = self.service.clock.now()
        for event in outcome.events:
            ws.tx.emit(envelope(instance, None, event, now))
        effects = (progress.succeeded(instance, row.step, row.attempt, outcome.output, now)
                   if outcome.ok else
                   progress.failed(instance, row.step, row.attempt, outcome.error, now))
        await self.shell.apply(ws, instance, effects, None)

    async def execute(self, row: Any) -> Outcome:
        payload = dict(row.payload)
        async with self.service.store.read() as session:
            instance = await store.get(session, row.workflow_id)
        if instance is None:
            return Outcome(False, error="instance gone")
        if row.kind in ("command", "query"):
            return await self._request(payload)
        if row.kind == "notify":
            return await self._notify(instance, row, payload)
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
            detail = reply.error
            return Outcome(False, error=f"{detail.code}: {detail.message}" if detail
                           else "error reply")
        return Outcome(True, output=reply.result or {})

    async def _request(self, payload: dict[str, Any]) -> Outcome:
        return await self.request(str(payload["command"]), dict(payload["args"]),
                                  float(payload.get("timeout") or 5.0))

    async def _notify(self, instance: Any, row: Any, payload: dict[str, Any]) -> Outcome:
        from reasonops_contracts.workflows import WorkflowNotificationDelivered
        key = f"{row.workflow_id}:{row.step}:{row.attempt}:{payload.get('round', 1)}"
        notification = Notification(key=key, title=str(payload.get("title", "")),
                                    text=str(payload.get("text", "")),
                                    severity=str(payload.get("severity", "info")),
                                    incident_id=instance.incident_id)
        group = str(payload["group"])
        if group not in self.notifier.groups():
            # Nobody to tell is a configuration fact, not a failure of the workflow.
            log.warning("notification group has no targets", extra={"group": group})
            return Outcome(True, output={"group": group, "delivered": [],
                                         "skipped": "no targets configured for the group"})
        deliveries = await self.notifier.send(group, notification)
        events: list[Event] = [WorkflowNotificationDelivered(
            **about(instance), step=row.step, key=key, group=d.group, target=d.target,
            ok=d.ok, attempts=d.attempts, status=d.status, error=d.error, delivered_at=d.at)
            for d in deliveries]
        delivered = [d.target for d in deliveries if d.ok]
        if deliveries and not delivered:
            return Outcome(False, error=f"no target of {group} accepted the notification",
                           events=events)
        return Outcome(True, output={"group": group, "delivered": delivered,
                                     "failed": [d.target for d in deliveries if not d.ok]},
                       events=events)
