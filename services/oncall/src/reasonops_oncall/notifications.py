"""Notifications due: each paged person's contacts, by the rules of their urgency, each a
durable timer (``NOTIFY_TIMER``). Those due together are handled together: their pagings
read in one statement, sent at once, on record in one transaction. A notification the
provider could not take yet (429, 5xx, no answer, a send that failed unexpectedly) is
tried again after its ``Retry-After``, up to ``ATTEMPTS``; each try is on record
(``NotificationSent``). The provider is called inside that transaction: a crash between
its answer and the commit (milliseconds), or a commit that fails, sends the notifications
of that transaction again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from reasonops_runtime import Clock, Timer, Transaction

from . import events, store
from .channels import Channels, Sent
from .current import CurrentRoster
from .events import Chain
from .metrics import OnCallMetrics
from .notice import About, message_for
from .people import Person

NOTIFY_TIMER = "oncall.notify"
ATTEMPTS = 5

log = logging.getLogger(__name__)


class Notifications:
    def __init__(self, *, roster: CurrentRoster, channels: Channels, clock: Clock,
                 metrics: OnCallMetrics, link: Callable[[str, str], str]) -> None:
        self.roster = roster
        self.channels = channels
        self.clock = clock
        self.metrics = metrics
        self.link = link
        """(incident, person) -> the URL of a signed link for them."""

    async def due(self, tx: Transaction, timers: list[Timer]) -> None:
        """Notifications due together: their pagings read at once, sent at once (a slow
        provider holds back the others by its own answer's time only), on record at once."""
        rows = await store.get_pagings(tx.session, {str(t.payload["incident_id"]) for t in timers})
        people = self.roster.file_roster().people
        due = []
        for timer in timers:
            p = timer.payload
            row = rows.get(str(p["incident_id"]))
            if (row is None and not p.get("major")) or (row is not None
                                                        and row.state != "paging"):
                continue  # acknowledged, resolved or closed meanwhile
            due.append((timer, row if row is not None else About(p), people.get(str(p["user"]))))
        sent = await asyncio.gather(*(self._send(t.payload, about, person)
                                      for t, about, person in due))
        now = self.clock.now()
        for (timer, _, _), answer in zip(due, sent, strict=True):
            p = timer.payload
            attempt, outcome, detail = int(p["attempt"]), answer.outcome, answer.detail
            if outcome == "retrying":
                if attempt >= ATTEMPTS:
                    outcome, detail = "failed", f"{detail}; gave up after {attempt} attempts"
                else:
                    await tx.schedule(timer.timer_id, NOTIFY_TIMER,
                                      now + timedelta(seconds=answer.retry_after or 30),
                                      {**p, "attempt": attempt + 1},
                                      correlation_id=timer.correlation_id,
                                      causation_id=timer.causation_id)
            tx.after_commit(self.metrics.notifications.labels(p["channel"], outcome).inc)
            tx.emit(Chain.of_timer(timer).wrap(events.notified(
                str(p["incident_id"]), str(p["user"]), str(p["channel"]), int(p["level"]),
                attempt, outcome, detail, now), str(p["incident_id"])))

    async def _send(self, p: dict[str, Any], about: Any, person: Person | None) -> Sent:
        """One notification through its channel. A send that fails unexpectedly is tried
        again later, and rolls back none of the others."""
        user, channel = str(p["user"]), str(p["channel"])
        address = str(p["address"]) if p.get("address") else (
            person.address(channel) if person else None)
        if address is None:
            return Sent("failed", f"{user} has no {channel} contact now")
        link = self.link(about.incident_id, user) if person else ""
        try:
            sent = await self.channels.send(channel, address, message_for(about, link))
        except Exception as exc:  # its class only: a provider's error may carry an address
            failure = f"the send failed ({exc.__class__.__name__})"
            log.warning("a notification could not be sent; trying again", extra={
                "incident_id": about.incident_id, "channel": channel, "error": failure})
            return Sent("retrying", failure)
        return sent
