"""PagerDuty requests against ingest's store: the dedup_key state, then what to publish."""

from __future__ import annotations

from datetime import datetime

from reasonops_contracts.ingest import ChangeAccepted
from reasonops_runtime.store import Session

from . import pagerduty, store
from .domain import Sender
from .publishing import Outgoing, accepted


async def apply_pagerduty(session: Session, event: pagerduty.PagerDutyEvent, *,
                          raw: bytes, sender: Sender, now: datetime
                          ) -> tuple[str, list[Outgoing]]:
    """Move the event's dedup_key on and return it with the alert to publish (if any).

    The acceptance id is the request's own identity, so a sender's retry is stored
    once by JetStream, and repeats its first effect here rather than a second one.
    """
    integration = sender.integration or ""
    request = pagerduty.request_id(integration, event)
    dedup_key = event.dedup_key or request
    row = await store.pagerduty_alert(session, integration, dedup_key)
    state = (pagerduty.KeyState(row.generation, row.status, row.last_request)
             if row is not None else None)
    step = pagerduty.step(event.event_action, state, request)
    if step.changed and step.state is not None:
        await store.save_pagerduty_alert(
            session, exists=row is not None, integration=integration, dedup_key=dedup_key,
            generation=step.state.generation, status=step.state.status, request=request,
            now=now)
    if step.publish is None or step.state is None:
        return dedup_key, []
    alert = pagerduty.to_event(event, dedup_key=dedup_key, generation=step.state.generation,
                               status=step.publish, received_at=now, sender=sender,
                               raw=raw.decode("utf-8", "replace"))
    return dedup_key, [accepted(alert, request)]


def apply_change(change: pagerduty.PagerDutyChange, *, sender: Sender, now: datetime
                 ) -> Outgoing:
    change_id = pagerduty.request_id(sender.integration or "", change)
    event: ChangeAccepted = pagerduty.to_change(change, change_id=change_id, received_at=now,
                                                sender=sender)
    return accepted(event, change_id, subject=change_id)
