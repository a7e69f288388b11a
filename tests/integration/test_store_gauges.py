"""The gauges the services read from their stores every five seconds, for as long as they
run. The tables only grow (every incident, clock and workflow instance ever), so each
count must find its rows through an index on what is still open: a scan would cost more
with every day the service has run, on the service's own event loop."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import MetaData, Table, insert, text
from sqlalchemy.dialects import sqlite

from reasonops_incidents.incident import store as incidents
from reasonops_incidents.metrics import open_incidents
from reasonops_orchestrator import store as orchestrator
from reasonops_orchestrator.metrics import workflow_instances
from reasonops_runtime import Store
from reasonops_runtime.metrics import CountGauge
from reasonops_slm import store as slm
from reasonops_slm.metrics import running_clocks

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def incident(n: int, state: str, priority: int = 1) -> dict[str, Any]:
    return {"incident_id": f"INC{n:07d}", "seq": n, "title": "t", "state": state,
            "fingerprint": f"fp{n}", "severity": "critical", "service": "checkout",
            "impact": 1, "urgency": 1, "priority": priority, "priority_reason": "r",
            "alert_count": 1, "labels": {}, "annotations": {}, "opened_at": T0,
            "updated_at": T0, "correlation_id": "c", "major": False, "escalation_level": 1,
            "firing_alerts": 1}


def instance(n: int, state: str) -> dict[str, Any]:
    return {"workflow_id": f"incident-response-{n}", "workflow": "incident-response",
            "version": 1, "key": str(n), "incident_ids": [], "correlation_id": "c",
            "state": state, "definition_digest": "d" * 64, "trigger": {}, "started_at": T0,
            "updated_at": T0}


def clock(n: int, state: str) -> dict[str, Any]:
    return {"clock_id": f"CLK-{n}", "incident_id": f"INC{n:07d}", "kind": "response",
            "policy": "P1", "priority": 1, "service": "checkout", "target_seconds": 900,
            "started_at": T0, "deadline": T0, "state": state}


Case = tuple[MetaData, Table, Callable[[CollectorRegistry], CountGauge], list[dict[str, Any]],
             dict[tuple[tuple[str, str], ...], float]]
CASES: dict[str, Case] = {
    "incidents": (incidents.metadata, incidents.incidents, open_incidents,
                  [incident(1, "new"), incident(2, "acknowledged", 2), incident(3, "on_hold"),
                   incident(4, "resolved"), incident(5, "closed")],
                  {(("priority", "P1"), ("service", "checkout"), ("state", "new")): 1.0,
                   (("priority", "P2"), ("service", "checkout"), ("state", "acknowledged")): 1.0,
                   (("priority", "P1"), ("service", "checkout"), ("state", "on_hold")): 1.0}),
    "orchestrator": (orchestrator.metadata, orchestrator.instances, workflow_instances,
                     [instance(1, "running"), instance(2, "queued"), instance(3, "compensating"),
                      instance(4, "completed"), instance(5, "failed")],
                     {(("state", s), ("workflow", "incident-response")): 1.0
                      for s in ("running", "queued", "compensating")}),
    "slm": (slm.metadata, slm.clocks, running_clocks,
            [clock(1, "running"), clock(2, "met"), clock(3, "breached")],
            {(("kind", "response"), ("priority", "P1"), ("service", "checkout")): 1.0}),
}


def samples(registry: CollectorRegistry) -> dict[tuple[tuple[str, str], ...], float]:
    return {tuple(sorted(s.labels.items())): s.value
            for family in registry.collect() for s in family.samples}


@pytest.mark.parametrize("name", CASES)
async def test_a_gauge_counts_what_is_open_through_an_index(name, database_url):
    metadata_, table_, factory, rows, expected = CASES[name]
    db = Store(database_url, metadata_)
    try:
        await db.create_all()
        async with db.transaction() as tx:
            await tx.session.execute(insert(table_), rows)
        registry = CollectorRegistry()
        gauge = factory(registry)
        await gauge.refresh(db)
        assert samples(registry) == expected
        if db.engine.dialect.name == "sqlite":
            sql = str(gauge.query().compile(dialect=sqlite.dialect(),
                                            compile_kwargs={"literal_binds": True}))
            async with db.read() as session:
                plan = [row[3] for row in await session.execute(
                    text(f"EXPLAIN QUERY PLAN {sql}"))]
            assert any(step.startswith(f"SEARCH {table_.name} USING INDEX")
                       for step in plan), plan
    finally:
        await db.close()
