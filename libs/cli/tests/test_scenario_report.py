"""The timeline report, from hand-built trail entries: every entry type reads sensibly."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from reasonops_cli.scenario_observe import from_timeline
from reasonops_cli.scenario_report import (
    ClockOutcome,
    CostLine,
    Report,
    describe,
    key_steps,
    kind,
    render,
    timeline,
)
from reasonops_cli.scenario_script import Expect
from reasonops_client.trail import TrailEntry
from reasonops_contracts.incidents import IncidentView

START = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


def entry(seconds: float, type_: str, actor: str = "incidents", text: str = "",
          **data: object) -> TrailEntry:
    return TrailEntry(START + timedelta(seconds=seconds), type_, "INC0000001", actor, text,
                      f"id-{type_}-{seconds}", data={"incident_id": "INC0000001", **data})


@pytest.mark.parametrize(("made", "line"), [
    (entry(0, "itsm.ingest.event.accepted.v1", name="CheckoutHTTP503", status="firing"),
     "alert accepted: CheckoutHTTP503 (firing)"),
    (entry(0, "itsm.ingest.change.accepted.v1", summary="rollback v4 -> v3"),
     "change recorded: rollback v4 -> v3"),
    (entry(0, "itsm.incident.opened.v1", priority=1, title="web 503"),
     "incident opened, P1: web 503"),
    (entry(0, "itsm.incident.major_declared.v1", reason="opened at P1"),
     "major incident declared: opened at P1"),
    (entry(0, "itsm.incident.assigned.v1", assignment_group="payments"), "assigned to payments"),
    (entry(0, "itsm.incident.acknowledged.v1"), "incident acknowledged"),
    (entry(0, "itsm.agent.decision.recorded.v1", agent="triage", summary="application, P1"),
     "triage decided: application, P1"),
    (entry(0, "itsm.agent.proposal.recorded.v1", agent="security", action="block_source",
           target="198.51.100.23"),
     "security proposed block_source on 198.51.100.23 (needs approval)"),
    (entry(0, "itsm.workflow.instance.started.v1", workflow="major-incident"),
     "workflow major-incident started"),
    (entry(0, "itsm.workflow.step.completed.v1", workflow="major-incident", step="rca",
           result={"cause": "deploy"}),
     'major-incident step rca completed: {"cause": "deploy"}'),
    (entry(0, "itsm.workflow.approval.requested.v1", workflow="security-incident",
           step="approve", summary="Block 198.51.100.23?"),
     "security-incident step approve awaits approval: Block 198.51.100.23?"),
    (entry(0, "itsm.workflow.approval.decided.v1", workflow="security-incident",
           step="approve", approved=True, actor="user:carol"),
     "security-incident step approve approved by user:carol"),
    (entry(0, "itsm.workflow.proposal.applied.v1", action="block_source",
           target="198.51.100.23", how="notified containment", approved_by="user:carol"),
     "proposal applied: block_source on 198.51.100.23 (notified containment), approved by "
     "user:carol"),
    (entry(0, "itsm.workflow.notification.delivered.v1", group="stakeholders",
           target="slack", ok=False, error="HTTP 500"),
     "notification to stakeholders (slack): NOT delivered (HTTP 500)"),
    (entry(0, "itsm.workflow.step.failed.v1", workflow="w", step="s", error="boom"),
     "w step s FAILED: boom"),
    (entry(0, "itsm.slm.sla.breached.v1", kind="resolution"), "SLA resolution clock BREACHED"),
    (entry(0, "itsm.slm.penalty.assessed.v1", amount="500.00", currency="EUR",
           supplier="Acme Hosting"), "penalty 500.00 EUR from Acme Hosting"),
    (entry(0, "itsm.finance.entry.posted.v1", kind="incident_cost", amount="16.11",
           currency="EUR"), "ledger: incident cost 16.11 EUR"),
    (entry(0, "itsm.policy.access.denied.v1", action="workflow.approve", reason="no role"),
     "refused: workflow.approve (no role)"),
])
def test_each_entry_type_has_its_line(made, line):
    assert describe(made) == line


def test_unknown_types_and_broken_data_fall_back_to_the_summary():
    assert describe(entry(0, "itsm.something.new.v3", text="a new thing")) == "a new thing"
    assert describe(entry(0, "itsm.something.new.v3")) == "something.new"
    # priority missing: the renderer still says what it can
    assert describe(entry(0, "itsm.incident.opened.v1", title="t")) == "incident opened, P?: t"


def test_kind_drops_prefix_and_version():
    assert kind("itsm.incident.opened.v1") == "incident.opened"
    assert kind("scenario.sent") == "scenario.sent"


def test_timeline_orders_by_time_and_folds_repeats():
    entries = [entry(2, "itsm.incident.acknowledged.v1", "user:alice"),
               *[entry(0.5 + i / 1000, "itsm.ingest.event.accepted.v1", "ingest",
                       name="LoginFailed", status="firing") for i in range(300)],
               entry(0.1, "scenario.sent", "scenario", "sent 300 failed logins")]
    lines = timeline(entries, START)
    assert [(ln.offset, ln.what, ln.count) for ln in lines] == [
        (0.1, "sent 300 failed logins", 1),
        (0.5, "alert accepted: LoginFailed (firing)", 300),
        (2.0, "incident acknowledged", 1)]
    assert lines[2].actor == "user:alice"


def test_key_steps_first_match_or_not_observed():
    entries = [entry(3, "itsm.agent.decision.recorded.v1", "agent:rca", agent="rca",
                     summary="deploy"),
               entry(1, "itsm.agent.decision.recorded.v1", "agent:triage", agent="triage",
                     summary="application")]
    found = key_steps([Expect(step="triage", type="agent.decision", text="triage"),
                       Expect(step="any decision", type="agent"),
                       Expect(step="approved", type="workflow", text="approved")],
                      entries, START)
    assert [(k.step, k.observed, k.offset, k.incident) for k in found] == [
        ("triage", True, 1.0, "INC0000001"), ("any decision", True, 1.0, "INC0000001"),
        ("approved", False, None, None)]


def report(**changes: object) -> Report:
    base = dict(
        scenario="production-outage", title="Web 503s", started_at=START,
        incidents=[{"incident_id": "INC0000001", "priority": 1, "major": True,
                    "state": "closed", "title": "web 503"}],
        timeline=timeline([entry(0.4, "itsm.incident.opened.v1", priority=1, title="web 503")],
                          START),
        key_steps=key_steps([Expect(step="opened", type="incident.opened"),
                             Expect(step="approved", type="workflow")],
                            [entry(0.4, "itsm.incident.opened.v1")], START),
        sla=[ClockOutcome("INC0000001", "resolution", "sla", "breached", 3, 8)],
        cost=[CostLine("INC0000001", "penalty", Decimal("500.00"), "EUR", "Acme Hosting"),
              CostLine("INC0000001", "incident_cost", Decimal("16.11"), "EUR")],
        notes=["not observed within 20s: approval"])
    base.update(changes)
    return Report(**base)  # type: ignore[arg-type]


def test_text_report_ends_with_sla_and_cost():
    text = render(report())
    assert "INC0000001  P1 major  closed  web 503" in text
    assert "+    0.4s  INC0000001  incidents" in text
    assert "[x] opened: +0.4s (INC0000001)" in text
    assert "[ ] approved: not observed" in text
    assert "INC0000001  resolution sla                      BREACHED  target 3s, took 8s" in text
    assert "penalty        500.00 EUR  (Acme Hosting)" in text
    assert text.index("SLA outcome") < text.index("Cost outcome")
    assert "total: 516.11 EUR" in text
    assert text.endswith("Note: not observed within 20s: approval")


def test_empty_outcomes_say_so_and_json_carries_everything():
    text = render(report(sla=[], cost=[], notes=[]))
    assert "  no SLA clocks" in text
    assert text.endswith("  nothing booked")
    data = report().to_json()
    assert data["totals"] == {"EUR": "516.11"}
    assert data["cost"][0] == {"incident": "INC0000001", "kind": "penalty", "amount": "500.00",
                               "currency": "EUR", "party": "Acme Hosting"}
    assert data["key_steps"][1] == {"step": "approved", "observed": False, "offset": None,
                                    "incident": None}
    assert data["started_at"] == "2026-11-30T14:00:00+00:00"


def test_long_descriptions_are_cut_in_text_only():
    long = entry(1, "itsm.incident.opened.v1", priority=1, title="x" * 300)
    made = report(timeline=timeline([long], START))
    line = next(ln for ln in render(made).splitlines() if "incident opened" in ln)
    assert line.endswith("...")
    assert len(line) < 200
    assert made.to_json()["timeline"][0]["what"].endswith("x" * 100)


def test_a_started_step_says_what_kind_it_is():
    made = entry(0, "itsm.workflow.step.started.v1", workflow="major-incident",
                 step="resolved", kind="wait_event")
    assert describe(made) == "major-incident step resolved (wait_event) started"


@pytest.mark.parametrize(("what", "detail", "data", "line"), [
    ("opened", "opened by rule default (first alert); P1: critical", {},
     "incident opened, P1: web 503"),
    ("major_declared", "major incident declared: opened at P1", {},
     "major incident declared: opened at P1"),
    ("state_changed", "new -> acknowledged: on it", {}, "incident acknowledged"),
    ("state_changed", "acknowledged -> resolved: alert resolved", {}, "incident resolved"),
    ("sla", "resolution target breached (deadline ...)", {"event": "breached"},
     "SLA resolution clock BREACHED"),
    ("assigned", "assigned to payments: catalog", {"group": "payments"},
     "assigned to payments"),
    ("agent_decision", "Triage (rules): application, P1", {}, "triage decided: Triage (rules): "
     "application, P1"),
    ("flapping", "alert X is flapping", {}, "alert X is flapping"),
])
def test_without_the_audit_trail_the_incident_timeline_reads_the_same(what, detail, data,
                                                                      line):
    view = IncidentView.model_construct(priority=1, title="web 503")
    actor = "agent:triage" if what == "agent_decision" else "incidents"
    made = from_timeline("INC0000001", 0, START, actor, what, detail, data, view)
    assert describe(made) == line
