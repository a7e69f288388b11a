"""The pure engine: scheduling, branches, conditions, retries, timeouts, compensation."""

from datetime import UTC, datetime, timedelta

from reasonops_contracts.workflows import (
    WorkflowApprovalRequested,
    WorkflowCompensated,
    WorkflowCompleted,
    WorkflowFailed,
    WorkflowStarted,
    WorkflowStepRetried,
    WorkflowStepSkipped,
    WorkflowStepStarted,
)
from reasonops_orchestrator import engine, progress
from reasonops_orchestrator.engine import ArmTimer, AskAgent, Publish, RunEffect
from reasonops_orchestrator.validation import parse

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TRIGGER = {"incident_id": "INC0000001", "title": "Disk full", "priority": 1,
           "severity": "critical", "type": "itsm.incident.opened.v1"}


def definition(steps: str, extra: str = ""):
    return parse(f"name: demo\nversion: 1\ntrigger: {{event: IncidentOpened}}\n{extra}"
                 f"steps:\n{steps}", "demo.yaml")


def started(steps: str, extra: str = ""):
    inst = engine.new_instance(definition(steps, extra), key="INC0000001", trigger=TRIGGER,
                               correlation_id="c1", at=T0)
    return inst, engine.start(inst, T0)


def published(effects, model):
    return [e.event for e in effects if isinstance(e, Publish) and isinstance(e.event, model)]


def states(inst):
    return {k: v.state for k, v in inst.steps.items()}


def test_independent_branches_start_together_and_joins_wait():
    inst, effects = started("""
  - {id: triage, kind: agent, agent: triage}
  - {id: rca, kind: agent, agent: rca}
  - {id: after, kind: delay, for: 1s, depends_on: [triage, rca]}
""")
    assert [e.step for e in published(effects, WorkflowStepStarted)] == ["triage", "rca"]
    asks = [e for e in effects if isinstance(e, AskAgent)]
    assert [(a.agent, a.request_id) for a in asks] == [
        ("triage", "demo-INC0000001:triage:1"), ("rca", "demo-INC0000001:rca:1")]
    decision = {"request_id": "demo-INC0000001:triage:1", "decision_id": "d1",
                "output": {"confidence": 0.9}}
    effects = progress.event_seen(inst, "itsm.agent.decision.recorded.v1", decision, T0)
    assert states(inst) == {"triage": "completed", "rca": "waiting", "after": "pending"}
    assert inst.steps["triage"].output["confidence"] == 0.9
    # The same answer again, or an answer to another request, changes nothing.
    assert progress.event_seen(inst, "itsm.agent.decision.recorded.v1", decision, T0) == []
    progress.event_seen(inst, "itsm.agent.decision.recorded.v1",
                        {"request_id": "demo-INC0000001:rca:1", "output": {}}, T0)
    assert states(inst)["after"] == "waiting"
    effects = progress.timer_fired(inst, "after", "delay", 1, T0 + timedelta(seconds=1))
    assert published(effects, WorkflowCompleted)[0].outcome == "completed"
    assert inst.state == "completed"


def test_false_condition_skips_the_step_and_its_dependents_unless_they_opt_in():
    inst, effects = started("""
  - {id: a, kind: delay, for: 1s}
  - {id: b, kind: delay, for: 1s, depends_on: [a], when: "trigger.priority > 2"}
  - {id: c, kind: delay, for: 1s, depends_on: [b]}
  - {id: d, kind: delay, for: 1s, depends_on: [b], run_if_skipped: true}
""")
    effects = progress.timer_fired(inst, "a", "delay", 1, T0)
    assert [s.step for s in published(effects, WorkflowStepSkipped)] == ["b", "c"]
    assert states(inst) == {"a": "completed", "b": "skipped", "c": "skipped", "d": "waiting"}


def test_failed_attempts_retry_with_backoff_then_succeed():
    inst, effects = started("""
  - {id: cmd, kind: command, command: AcknowledgeIncident,
     args: {incident_id: "${trigger.incident_id}"}, retry: {attempts: 3, backoff: 2s}}
""")
    [run] = [e for e in effects if isinstance(e, RunEffect)]
    assert run.payload["args"] == {"incident_id": "INC0000001"}
    effects = progress.failed(inst, "cmd", 1, "boom", T0)
    [retry] = published(effects, WorkflowStepRetried)
    assert retry.retry_at == T0 + timedelta(seconds=2)
    effects = progress.failed(inst, "cmd", 1, "boom again", T0)
    assert effects == []  # a stale result for the same attempt
    effects = progress.timer_fired(inst, "cmd", "retry", 2, T0 + timedelta(seconds=2))
    assert [e.attempt for e in effects if isinstance(e, RunEffect)] == [2]
    effects = progress.failed(inst, "cmd", 2, "boom", T0 + timedelta(seconds=2))
    [retry] = published(effects, WorkflowStepRetried)
    assert retry.retry_at == T0 + timedelta(seconds=6)  # backoff doubles
    progress.timer_fired(inst, "cmd", "retry", 3, retry.retry_at)
    progress.succeeded(inst, "cmd", 3, {"ok": True}, retry.retry_at)
    assert inst.state == "completed"
    assert inst.steps["cmd"].attempt == 3


def test_timeout_fails_the_step_and_runs_its_compensation():
    inst, effects = started("""
  - {id: wait, kind: wait_event, event: IncidentResolved, timeout: 1h, compensate: undo}
  - {id: other, kind: delay, for: 1d}
  - {id: undo, kind: notify, group: ops, text: "gave up on ${trigger.incident_id}"}
""")
    assert ArmTimer("wait", "timeout", 1, T0 + timedelta(hours=1)) in effects
    assert states(inst)["undo"] == "pending"  # compensation steps wait for a failure
    effects = progress.timer_fired(inst, "wait", "timeout", 1, T0 + timedelta(hours=1))
    assert inst.state == "compensating"
    assert states(inst) == {"wait": "failed", "other": "cancelled", "undo": "waiting"}
    [notify] = [e for e in effects if isinstance(e, RunEffect)]
    assert notify.payload["text"] == "gave up on INC0000001"
    effects = progress.succeeded(inst, "undo", 1, {}, T0 + timedelta(hours=1))
    assert published(effects, WorkflowCompensated)[0].compensations == {"undo": "completed"}
    [failed] = published(effects, WorkflowFailed)
    assert (failed.step, failed.error) == ("wait", "timed out after 3600s")
    assert inst.state == "failed"


def test_approval_timeout_takes_the_default():
    inst, effects = started("  - {id: ok, kind: approval, timeout: 1h, default: approve,"
                            " title: 'Contain ${trigger.incident_id}?'}\n")
    [asked] = published(effects, WorkflowApprovalRequested)
    assert (asked.summary, asked.expires_at) == ("Contain INC0000001?", T0 + timedelta(hours=1))
    progress.timer_fired(inst, "ok", "timeout", 1, T0 + timedelta(hours=1))
    assert inst.steps["ok"].output == {"approved": True, "actor": "system:timeout",
                                       "note": "no decision in time"}
    assert inst.state == "completed"


def test_notify_repeats_until_the_event():
    inst, effects = started("""
  - {id: page, kind: notify, group: stakeholders, every: 30m, until: {event: IncidentResolved}}
""")
    assert [e.payload["round"] for e in effects if isinstance(e, RunEffect)] == [1]
    effects = progress.succeeded(inst, "page", 1, {"delivered": ["hook"]}, T0)
    assert effects == [ArmTimer("page", "repeat", 1, T0 + timedelta(minutes=30))]
    effects = progress.timer_fired(inst, "page", "repeat", 1, T0 + timedelta(minutes=30))
    assert [e.payload["round"] for e in effects if isinstance(e, RunEffect)] == [2]
    resolved = {"incident_id": "INC0000001"}
    progress.event_seen(inst, "itsm.incident.resolved.v1", resolved, T0 + timedelta(hours=1))
    assert inst.state == "completed"
    assert inst.steps["page"].output["until_seen"]


def test_finish_on_completes_with_the_open_steps_named():
    inst, _ = started("""
  - {id: ack, kind: wait_event, event: IncidentAcknowledged}
  - {id: res, kind: wait_event, event: IncidentResolved}
""", extra="finish_on: {event: IncidentClosed}\n")
    progress.event_seen(inst, "itsm.incident.resolved.v1", {"incident_id": "INC0000001"}, T0)
    progress.event_seen(inst, "itsm.incident.resolved.v1", {"incident_id": "INC0000002"}, T0)
    assert inst.state == "running"
    effects = progress.event_seen(inst, "itsm.incident.closed.v1",
                                  {"incident_id": "INC0000001"}, T0)
    assert published(effects, WorkflowCompleted)[0].outcome == "closed; not completed: ack"
    assert states(inst) == {"ack": "cancelled", "res": "completed"}


def builtin(name: str):
    from reasonops_orchestrator import catalog
    return next(d for d in catalog.load(None).newest() if d.name == name)


def test_major_incident_starts_its_parallel_branch_at_once():
    inst = engine.new_instance(builtin("major-incident"), key="INC0000001", trigger=TRIGGER,
                               correlation_id="c1", at=T0)
    effects = engine.start(inst, T0)
    assert [e.step for e in published(effects, WorkflowStepStarted)] == [
        "triage", "rca", "stakeholders", "resolved"]
    [notify] = [e for e in effects if isinstance(e, RunEffect)]
    assert (notify.payload["group"], notify.payload["title"], notify.payload["text"]) == (
        "stakeholders", "Major incident INC0000001", "Disk full")
    assert states(inst)["review"] == "pending"


def test_problem_asks_rca_about_its_first_incident_and_security_triggers_on_category():
    problem = {"problem_id": "PRB0000001", "incident_ids": ["INC0000007", "INC0000009"],
               "type": "itsm.incident.problem.opened.v1"}
    inst = engine.new_instance(builtin("problem"), key="PRB0000001", trigger=problem,
                               correlation_id="c1", at=T0)
    [ask] = [e for e in engine.start(inst, T0) if isinstance(e, AskAgent)]
    assert ask.args == {"incident_id": "INC0000007"}
    assert inst.incident_ids == ["INC0000007", "INC0000009"]
    assert inst.incident_id is None
    [trigger] = builtin("security-incident").trigger
    decision = {"agent": "triage", "incident_id": "INC0000001"}
    assert trigger.accepts({**decision, "output": {"category": "security"}})
    assert not trigger.accepts({**decision, "output": {"category": "database"}})


def triaged_incident_response():
    inst = engine.new_instance(builtin("incident-response"), key="INC0000001", trigger=TRIGGER,
                               correlation_id="c1", at=T0)
    engine.start(inst, T0)
    decision = {"request_id": "WF-INC0000001:triage:1", "decision_id": "d1",
                "output": {"category": "database"}}
    progress.event_seen(inst, "itsm.agent.decision.recorded.v1", decision, T0)
    return inst


def test_an_incident_resolved_without_acknowledgement_completes_its_instance():
    inst = triaged_incident_response()
    about = {"incident_id": "INC0000001"}
    effects = progress.event_seen(inst, "itsm.incident.resolved.v1", about, T0)
    assert states(inst) == {"triage": "completed", "acknowledged": "cancelled",
                            "resolved": "completed"}
    [skipped] = published(effects, WorkflowStepSkipped)
    assert (skipped.step, skipped.reason) == (
        "acknowledged", "cancelled: itsm.incident.resolved.v1")
    assert (inst.state, inst.outcome) == ("completed", "completed")
    assert any(isinstance(e, engine.Finished) for e in effects)
    # A close afterwards finds nothing running.
    assert progress.event_seen(inst, "itsm.incident.closed.v1", about, T0) == []


def test_a_reopened_incident_runs_its_completed_instance_again():
    inst = triaged_incident_response()
    about = {"incident_id": "INC0000001"}
    progress.event_seen(inst, "itsm.incident.acknowledged.v1", about, T0)
    progress.event_seen(inst, "itsm.incident.resolved.v1", about, T0)
    assert inst.state == "completed"
    effects = progress.restarted(inst, "itsm.incident.reopened.v1",
                                 {**about, "reason": "back"}, T0)
    [again] = published(effects, WorkflowStarted)
    assert again.trigger == "itsm.incident.reopened.v1"
    assert [(e.step, e.attempt) for e in published(effects, WorkflowStepStarted)] == [
        ("acknowledged", 2), ("resolved", 2)]
    assert (inst.state, states(inst)["triage"]) == ("running", "completed")
    progress.event_seen(inst, "itsm.incident.resolved.v1", about, T0)
    assert (inst.state, states(inst)["acknowledged"]) == ("completed", "cancelled")
    # Only a completed instance restarts.
    assert progress.restarted(inst, "itsm.incident.reopened.v1", about, T0) != []
    assert progress.restarted(inst, "itsm.incident.reopened.v1", about, T0) == []


def test_a_wait_timeout_fails_skips_or_completes_as_declared():
    for outcome, state, output in (("fail", "failed", {}), ("skip", "skipped", {"timed_out": True}),
                                   ("complete", "completed",
                                    {"timed_out": True, "after_seconds": 60.0})):
        inst, _ = started(f"""
  - {{id: ack, kind: wait_event, event: IncidentAcknowledged, timeout: 1m, on_timeout: {outcome}}}
  - {{id: after, kind: delay, for: 1s, depends_on: [ack], run_if_skipped: true}}
""")
        effects = progress.timer_fired(inst, "ack", "timeout", 1, T0 + timedelta(minutes=1))
        assert states(inst)["ack"] == state, outcome
        assert inst.steps["ack"].output == output or outcome == "fail"
        if outcome != "fail":
            assert states(inst)["after"] == "waiting"
            assert progress.timer_fired(inst, "ack", "timeout", 1, T0) == []  # fired once
        else:
            assert published(effects, WorkflowFailed)


def test_an_approval_with_a_quorum_waits_for_that_many_people_and_one_no_decides():
    inst, _ = started("  - {id: cab, kind: approval, quorum: 2, title: CAB}\n"
                      "  - {id: go, kind: delay, for: 1s, depends_on: [cab],"
                      " when: 'steps.cab.output.approved'}\n")
    effects = progress.decided(inst, "cab", approved=True, actor="user:ana", note=None, at=T0)
    assert [type(e) for e in effects] == [Publish]
    assert inst.steps["cab"].state == "waiting"
    assert inst.steps["cab"].output == {"approvals": ["user:ana"]}
    progress.decided(inst, "cab", approved=True, actor="user:bo", note="ok", at=T0)
    assert inst.steps["cab"].output == {"approved": True, "actor": "user:bo", "note": "ok",
                                        "approvals": ["user:ana", "user:bo"]}
    assert inst.steps["go"].state == "waiting"  # its delay runs

    inst, _ = started("  - {id: cab, kind: approval, quorum: 3, title: CAB}\n")
    progress.decided(inst, "cab", approved=True, actor="user:ana", note=None, at=T0)
    progress.decided(inst, "cab", approved=False, actor="user:cy", note="no back-out plan",
                     at=T0)
    assert inst.steps["cab"].output == {"approved": False, "actor": "user:cy",
                                        "note": "no back-out plan", "approvals": ["user:ana"]}
    assert inst.state == "completed"
