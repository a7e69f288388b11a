"""A record not kept in step: counted, logged, kept on its link and published once with
the field and the incident (the same failure again is not published again)."""

from __future__ import annotations

import logging
from datetime import datetime

from reasonops_contracts.servicenow import Direction
from reasonops_runtime import Transaction

from . import events
from .metrics import SyncMetrics
from .store import Link

log = logging.getLogger(__name__)


class Failures:
    def __init__(self, metrics: SyncMetrics) -> None:
        self.metrics = metrics

    def record(self, tx: Transaction, link: Link | None, direction: Direction,
               field_: str | None, problem: str, at: datetime) -> None:
        if link is not None and (link.failed_field, link.failure) == (field_, problem[:1024]):
            link.failed_at = at
            return
        self.metrics.failures.labels(direction).inc()
        log.warning("ServiceNow sync failed", extra={
            "incident_id": link.incident_id if link else None, "direction": direction,
            "field": field_, "problem": problem})
        if link is not None:
            link.fail(field_, problem, at)
        tx.emit(events.failed(link, direction, field_, problem, at))
