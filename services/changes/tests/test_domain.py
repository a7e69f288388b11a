"""The rules of a change: risk with its reason, collisions with other changes and
freezes, the lifecycle and the window; the change file's refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reasonops_changes.config import ChangeFileError, load, parse
from reasonops_changes.domain import Change, ChangeRefused, assess, collisions, step
from reasonops_contracts.catalog import CatalogService, ServiceCatalog

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "config" / "changes.yaml"
T0 = datetime(2026, 12, 7, 9, tzinfo=UTC)
CATALOG = ServiceCatalog(services=(CatalogService(name="checkout", owner="payments", tier=1),
                                   CatalogService(name="search", owner="discovery", tier=3)))


def change(change_id: str = "CHG0000001", services: tuple[str, ...] = ("search",),
           start: datetime = T0, hours: float = 1, state: str = "approved",
           type_: str = "normal") -> Change:
    return Change(change_id=change_id, type=type_, state=state, title=f"change {change_id}",
                  services=list(services), risk="low", risk_reason="", impact=3,
                  planned_start=start, planned_end=start + timedelta(hours=hours),
                  requested_by="user:ana", requested_at=T0)


@pytest.mark.parametrize(("type_", "impact", "services", "backout", "risk", "why"), [
    ("normal", 3, ["search"], "undo", "low", "impact 3"),
    ("normal", 3, ["checkout"], "undo", "medium", "impact 3; tier-1 service checkout"),
    ("normal", 2, ["search"], None, "high", "impact 2; no back-out plan"),
    ("emergency", 1, ["search"], "undo", "high", "impact 1; an emergency"),
    ("standard", 1, ["checkout"], None, "low", "a pre-approved template"),
])
def test_risk_is_assessed_with_its_reason(type_, impact, services, backout, risk, why):
    assert assess(type_, impact, services, CATALOG, backout) == (risk, why)


def test_a_window_on_a_shared_service_conflicts_and_a_freeze_refuses():
    file = load(EXAMPLE)
    booked = change("CHG0000001", ("checkout",), T0, hours=2)
    with pytest.raises(ChangeRefused, match=r"conflict: CHG0000001 .* changes checkout from "
                                             r"2026-12-07 09:00 UTC to 2026-12-07 11:00 UTC"):
        collisions(change("CHG0000002", ("checkout", "search"), T0 + timedelta(hours=1)),
                   [booked], file.spec.freezes)
    # Back to back, another service, or a change no longer open: no conflict.
    collisions(change("CHG0000002", ("checkout",), T0 + timedelta(hours=2)), [booked], [])
    collisions(change("CHG0000002", ("search",), T0), [booked], [])
    collisions(change("CHG0000002", ("checkout",), T0),
               [change("CHG0000001", ("checkout",), T0, state="cancelled")], [])
    frozen = datetime(2026, 12, 28, 10, tzinfo=UTC)
    with pytest.raises(ChangeRefused, match="freeze: year-end covers checkout"):
        collisions(change("CHG0000003", ("checkout",), frozen), [], file.spec.freezes)
    collisions(change("CHG0000003", ("search",), frozen), [], file.spec.freezes)
    collisions(change("CHG0000003", ("checkout",), frozen, type_="emergency"), [],
               file.spec.freezes)


def test_the_lifecycle_and_the_window():
    approved = change()
    with pytest.raises(ChangeRefused, match="may start within its window"):
        step(approved, "start", T0 - timedelta(minutes=1))
    step(approved, "start", T0)
    with pytest.raises(ChangeRefused, match="cannot complete CHG0000001: it is approved"):
        step(approved, "complete", T0)
    step(change(type_="emergency"), "start", T0 + timedelta(days=3))
    with pytest.raises(ChangeRefused, match=r"cannot approve .* it is rejected"):
        step(change(state="rejected"), "approve", T0)


@pytest.mark.parametrize(("text", "where"), [
    ("templates:\n  x: {title: t, services: [a], duration: soon, implementation_plan: p,"
     " backout_plan: b}\n", "c.yaml:2: templates.x.duration"),
    ("freezes:\n  - {name: f, start: 2026-12-21T00:00:00, end: 2027-01-04T00:00:00Z}\n",
     "c.yaml:2: freezes[0].start: Value error, give the time zone"),
    ("freezes:\n  - name: f\n    start: 2027-01-04T00:00:00Z\n    end: 2026-12-21T00:00:00Z\n",
     "c.yaml:4: freezes[0].end: must be after start"),
    ("link_windw: 2h\n", "c.yaml:1: link_windw: Extra inputs"),
])
def test_a_wrong_change_file_is_refused_with_its_line(text, where):
    with pytest.raises(ChangeFileError) as refused:
        parse(text, "c.yaml")
    assert str(refused.value).startswith(where)
