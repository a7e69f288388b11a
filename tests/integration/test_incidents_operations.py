"""Operating incidents over NATS and the CLI: hold/resume, assignment precedence, comments,
major incidents, timeline entries from agents and SLM, queries, problems, silences, and
the rule file reloaded (or refused) while the service runs."""

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reasonops_contracts import Envelope, ReplyError
from reasonops_contracts.agents import AgentDecisionRecorded
from reasonops_contracts.incidents import (
    AssignIncident,
    CloseIncident,
    CommentIncident,
    CorrelationRulesView,
    CountIncidents,
    CreateSilence,
    DeclareMajorIncident,
    ExpireSilence,
    GetCorrelationRules,
    GetIncident,
    GetProblem,
    HoldIncident,
    IncidentAssigned,
    IncidentCounts,
    IncidentHeld,
    IncidentList,
    IncidentMajorDeclared,
    IncidentResumed,
    IncidentView,
    ListIncidents,
    ListProblems,
    ProblemList,
    ProblemUpdated,
    ProblemView,
    ResolveIncident,
    ResumeIncident,
    SilenceView,
    UpdateProblem,
)
from reasonops_contracts.slm import SlaStarted
from reasonops_incidents.app import IncidentSettings, build_service
from reasonops_runtime.client import request
from tests.support import accepted, publish_all, signed, stream_messages, wait_for

pytestmark = pytest.mark.nats

RULES = """
rules:
  - name: checkout
    match: ["service=checkout"]
    group_by: [service, alertname]
problems: {recurrence: 2, within: 1d}
"""
CATALOG = """
services:
  - name: checkout
    owner: payments
    tier: 2
  - name: search
    tier: 3
"""


async def _start(start_service, tmp_path: Path):
    (tmp_path / "rules.yaml").write_text(RULES)
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    return await start_service(build_service, IncidentSettings,
                               correlation_rules=tmp_path / "rules.yaml",
                               service_catalog=tmp_path / "catalog.yaml")


async def _incidents(nc, n):
    return (await wait_for(lambda: request(nc, ListIncidents(descending=False), IncidentList),
                           check=lambda r: len(r.items) == n)).items


def _decision(incident_id: str, group: str | None) -> Envelope:
    data = {"decision_id": "D1", "agent": "triage", "provider": "rules",
            "incident_id": incident_id, "summary": "database category, to dba",
            "decided_at": datetime.now(UTC).isoformat()}
    if group:
        data["output"] = {"assignment_group": group}
    return Envelope(id=f"dec-{incident_id}-{group}", type=AgentDecisionRecorded.TYPE,
                    source="agent-triage", time=datetime.now(UTC), correlation_id="c",
                    subject=incident_id, data=data)


async def test_hold_resume_assign_comment_and_major(nc, start_service, tmp_path):
    await _start(start_service, tmp_path)
    await publish_all(nc, [accepted("a", severity="warning"),
                           accepted("s", service="search", severity="warning")])
    checkout, search = await _incidents(nc, 2)
    assert (checkout.assignment_group, checkout.assignment_source) == ("payments", "catalog")
    assert search.assignment_group is None

    held = await request(nc, HoldIncident(incident_id=checkout.incident_id,
                                          note="awaiting_supplier", actor="ann"), IncidentView)
    assert held.state == "on_hold"
    resumed = await request(nc, ResumeIncident(incident_id=checkout.incident_id, actor="ann"),
                            IncidentView)
    assert resumed.state == "new"
    [h] = await stream_messages(nc, "INCIDENTS", IncidentHeld.SUBJECT)
    assert (h.data["reason"], h.data["previous_state"]) == ("awaiting_supplier", "new")
    [r] = await stream_messages(nc, "INCIDENTS", IncidentResumed.SUBJECT)
    assert r.data["state"] == "new"

    # triage ranks below the catalog by default: recorded, but no reassignment
    await publish_all(nc, [_decision(checkout.incident_id, "dba"),
                           _decision(search.incident_id, "discovery")])
    view = await wait_for(lambda: request(nc, GetIncident(incident_id=search.incident_id),
                                          IncidentView),
                          check=lambda v: v.assignment_group == "discovery")
    assert view.assignment_source == "triage"
    assert [e.actor for e in view.timeline if e.kind == "agent_decision"] == ["agent:triage"]
    view = await wait_for(lambda: request(nc, GetIncident(incident_id=checkout.incident_id),
                                          IncidentView),
                          check=lambda v: any(e.kind == "agent_decision" for e in v.timeline))
    assert view.assignment_group == "payments"

    view = await request(nc, AssignIncident(incident_id=checkout.incident_id,
                                            assignment_group="sre", note="needs infra",
                                            actor="ann"), IncidentView)
    assert (view.assignment_group, view.assignment_source) == ("sre", "user")
    assigned = await stream_messages(nc, "INCIDENTS", IncidentAssigned.SUBJECT)
    assert [(a.data["assignment_group"], a.data["previous_group"]) for a in assigned] == [
        ("payments", None), ("discovery", None), ("sre", "payments")]
    with pytest.raises(ReplyError) as err:
        await request(nc, AssignIncident(incident_id=checkout.incident_id,
                                         assignment_group="sre"), IncidentView)
    assert err.value.detail.field == "assignment_group"

    await request(nc, CommentIncident(incident_id=checkout.incident_id, note="rolling back",
                                      actor="ann"), IncidentView)
    view = await request(nc, DeclareMajorIncident(incident_id=checkout.incident_id,
                                                  note="customers cannot pay"), IncidentView)
    assert view.major is True
    [m] = await stream_messages(nc, "INCIDENTS", IncidentMajorDeclared.SUBJECT)
    assert m.data["reason"] == "customers cannot pay"

    sla = SlaStarted(clock_id="k1", incident_id=checkout.incident_id, policy="P3",
                     kind="response", priority=3, target_seconds=3600,
                     started_at=checkout.opened_at,
                     deadline=checkout.opened_at + timedelta(hours=1))
    await publish_all(nc, [Envelope.wrap(sla, source="slm")])
    view = await wait_for(lambda: request(nc, GetIncident(incident_id=checkout.incident_id),
                                          IncidentView),
                          check=lambda v: any(e.kind == "sla" for e in v.timeline))
    kinds = [e.kind for e in view.timeline]
    assert kinds == ["opened", "assigned", "state_changed", "state_changed", "agent_decision",
                     "assigned", "comment", "major_declared", "sla"]


async def test_queries_filter_sort_paginate_and_count(nc, start_service, tmp_path):
    await _start(start_service, tmp_path)
    await publish_all(nc, [accepted(f"s{i}", service="search",
                                    severity=("critical", "warning")[i % 2]) for i in range(5)]
                      + [accepted("c", severity="error")])
    await _incidents(nc, 6)

    page = await request(nc, ListIncidents(service="search", limit=2, offset=2,
                                           descending=False), IncidentList)
    assert [i.incident_id for i in page.items] == ["INC0000003", "INC0000004"]
    assert (page.total, page.offset) == (5, 2)
    by_priority = await request(nc, ListIncidents(sort="priority", descending=False),
                                IncidentList)
    assert [i.priority for i in by_priority.items] == [1, 1, 1, 2, 3, 3]
    p1 = await request(nc, ListIncidents(priorities=[1], major=True), IncidentList)
    assert p1.total == 3
    assert (await request(nc, ListIncidents(assignment_group="payments"),
                          IncidentList)).total == 1
    assert (await request(nc, ListIncidents(text="INC0000006"), IncidentList)).total == 1
    assert (await request(nc, ListIncidents(
        opened_from=datetime.now(UTC) + timedelta(hours=1)), IncidentList)).total == 0
    counts = await request(nc, CountIncidents(), IncidentCounts)
    assert counts.total == 6
    assert counts.by_state["new"] == 6
    assert counts.by_priority == {"P1": 3, "P2": 1, "P3": 2, "P4": 0, "P5": 0}
    assert counts.open_by_priority == counts.by_priority


async def test_problem_lifecycle(nc, start_service, tmp_path):
    await _start(start_service, tmp_path)
    await publish_all(nc, [accepted("a")])
    await _incidents(nc, 1)
    for command in (ResolveIncident, CloseIncident):
        await request(nc, command(incident_id="INC0000001"), IncidentView)
    await publish_all(nc, [accepted("a")])
    await _incidents(nc, 2)
    found = await wait_for(lambda: request(nc, ListProblems(), ProblemList),
                           check=lambda r: r.items)
    [problem] = found.items
    assert (problem.problem_id, problem.state, problem.incident_ids) == (
        "PRB0000001", "new", ["INC0000001", "INC0000002"])

    with pytest.raises(ReplyError) as err:
        await request(nc, UpdateProblem(problem_id="PRB0000001", state="known_error"),
                      ProblemView)
    assert (err.value.detail.code, err.value.detail.field) == ("invalid_request", "workaround")
    await request(nc, UpdateProblem(problem_id="PRB0000001", state="investigating"),
                  ProblemView)
    view = await request(nc, UpdateProblem(problem_id="PRB0000001", state="known_error",
                                           workaround="restart the pool", actor="ann"),
                         ProblemView)
    assert (view.state, view.workaround) == ("known_error", "restart the pool")
    await request(nc, UpdateProblem(problem_id="PRB0000001", state="resolved"), ProblemView)
    with pytest.raises(ReplyError) as err:
        await request(nc, UpdateProblem(problem_id="PRB0000001", state="known_error"),
                      ProblemView)
    assert err.value.detail.code == "illegal_transition"
    view = await request(nc, GetProblem(problem_id="PRB0000001"), ProblemView)
    assert [h.detail.split(" (")[0] for h in view.history][1:] == [
        "new -> investigating", "investigating -> known_error", "known_error -> resolved"]
    updates = await stream_messages(nc, "INCIDENTS", ProblemUpdated.SUBJECT)
    assert [u.data["state"] for u in updates] == ["investigating", "known_error", "resolved"]


async def test_silence_commands_check_their_input(nc, start_service, tmp_path):
    await _start(start_service, tmp_path)
    soon = datetime.now(UTC) + timedelta(hours=1)
    with pytest.raises(ReplyError) as err:
        await request(nc, CreateSilence(matchers=["service=~("], ends_at=soon, author="a",
                                        reason="r"), SilenceView)
    assert (err.value.detail.field, "bad regular expression" in err.value.detail.message) == (
        "matchers.0", True)
    with pytest.raises(ReplyError) as err:
        await request(nc, CreateSilence(matchers=["service=x"], author="a", reason="r"),
                      SilenceView)
    assert err.value.detail.field == "ends_at"
    bad = b'{"matchers": [], "author": "a"}'
    reply = await nc.request(CreateSilence.SUBJECT, bad, timeout=5,
                             headers=signed(CreateSilence.SUBJECT, bad))
    body = json.loads(reply.data)
    assert "matchers" in body["error"]["message"]
    assert "reason" in body["error"]["message"]

    made = await request(nc, CreateSilence(matchers=["service=search"], ends_at=soon,
                                           author="a", reason="r"), SilenceView)
    assert (made.silence_id, made.state) == ("SIL0000001", "active")
    await publish_all(nc, [accepted("s", service="search"), accepted("c")])
    await _incidents(nc, 1)
    expired = await request(nc, ExpireSilence(silence_id="SIL0000001"), SilenceView)
    assert expired.state == "expired"
    with pytest.raises(ReplyError) as err:
        await request(nc, ExpireSilence(silence_id="SIL0000001"), SilenceView)
    assert err.value.detail.code == "illegal_transition"
    await publish_all(nc, [accepted("s", service="search")])
    await _incidents(nc, 2)


async def test_rule_file_reloads_while_running_and_a_bad_one_is_refused(
        nc, start_service, tmp_path):
    service = await _start(start_service, tmp_path)
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.replace("name: checkout", "name: checkout-v2"))
    os.utime(path, (1, 1))
    await publish_all(nc, [accepted("a")])
    [incident] = await _incidents(nc, 1)
    assert incident.rule == "checkout-v2"
    path.write_text("rules:\n  - name: x\n    group_by: []\n")
    os.utime(path, (2, 2))
    await publish_all(nc, [accepted("b", service="search")])
    await _incidents(nc, 2)
    view = await request(nc, GetCorrelationRules(), CorrelationRulesView)
    assert [r.name for r in view.rules] == ["checkout-v2", "default"]
    assert view.error == (f"{path}:3: rules[0].group_by: List should have at least 1 item "
                          "after validation, not 0")
    assert service is not None


async def _cli(nats_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI in its own process (the service runs on this test's event loop)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "reasonops_cli", *args, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, "NATS_URL": nats_url})
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return subprocess.CompletedProcess(args, process.returncode or 0, out.decode(),
                                       err.decode())


async def test_cli_shows_the_timeline_and_manages_silences(nc, nats_url, start_service,
                                                           tmp_path):
    await _start(start_service, tmp_path)
    await publish_all(nc, [accepted("a")])
    await _incidents(nc, 1)
    shown = await _cli(nats_url, "incidents", "show", "INC0000001")
    assert shown.returncode == 0, shown.stderr
    assert "Timeline" in shown.stdout
    assert "opened by rule checkout" in shown.stdout
    made = await _cli(nats_url, "silences", "create", "service=search", "--duration", "2h",
                "--reason", "re-indexing", "--maintenance", "--json")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["kind"] == "maintenance"
    listed = await _cli(nats_url, "silences", "list")
    assert "SIL0000001" in listed.stdout
    assert "re-indexing" in listed.stdout
    bad = await _cli(nats_url, "incidents", "assign", "INC0000001", "payments")
    assert bad.returncode == 1
    assert "already assigned" in bad.stderr
    counts = await _cli(nats_url, "incidents", "counts", "--json")
    assert json.loads(counts.stdout)["by_state"]["new"] == 1
    assert (await _cli(nats_url, "problems", "list")).stdout.strip() == "No problems."
