from datetime import UTC, datetime, timedelta

import pytest

from reasonops_orchestrator.domain import (
    INCIDENT_RESPONSE,
    AgentRequested,
    RunState,
    Signal,
    StepCompleted,
    StepReset,
    StepState,
    Workflow,
    WorkflowFinished,
    advance,
    start,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def started() -> tuple[Workflow, list]:
    return start(INCIDENT_RESPONSE, incident_id="INC0000001", correlation_id="C1", at=T0,
                 new_request_id=lambda: "REQ1")


def states(workflow: Workflow) -> dict[str, StepState]:
    return {step.name: step.state for step in workflow.steps}


def test_definition_lists_triage_then_lifecycle_steps():
    assert [s.name for s in INCIDENT_RESPONSE.steps] == ["triage", "acknowledged", "resolved"]
    assert INCIDENT_RESPONSE.instance_id("INC0000001") == "WF-INC0000001"
    with pytest.raises(KeyError):
        INCIDENT_RESPONSE.step("nope")


def test_start_asks_the_triage_agent_and_waits():
    workflow, effects = started()
    assert workflow.workflow_id == "WF-INC0000001"
    assert workflow.state is RunState.RUNNING
    assert effects == [AgentRequested("triage", "triage", "REQ1")]
    assert states(workflow) == {"triage": StepState.WAITING, "acknowledged": StepState.PENDING,
                                "resolved": StepState.PENDING}
    assert workflow.step("triage").request_id == "REQ1"
    assert workflow.step("triage").started_at == T0


def test_decision_completes_triage_with_its_result():
    workflow, _ = started()
    at = T0 + timedelta(seconds=2)
    effects = advance(workflow, Signal.TRIAGE_DECIDED, at=at, result={"category": "network"},
                      request_id="REQ1")
    assert effects == [StepCompleted("triage", {"category": "network"})]
    step = workflow.step("triage")
    assert (step.state, step.completed_at, step.result) == (StepState.COMPLETED, at,
                                                            {"category": "network"})


def test_answer_to_another_request_is_ignored():
    workflow, _ = started()
    assert advance(workflow, Signal.TRIAGE_DECIDED, at=T0, request_id="STALE") == []
    assert workflow.step("triage").state is StepState.WAITING


def test_repeated_signal_changes_nothing():
    workflow, _ = started()
    advance(workflow, Signal.INCIDENT_ACKNOWLEDGED, at=T0, result={"actor": "ann"})
    assert advance(workflow, Signal.INCIDENT_ACKNOWLEDGED, at=T0, result={"actor": "bob"}) == []
    assert workflow.step("acknowledged").result == {"actor": "ann"}


def test_reopen_resets_lifecycle_steps_but_keeps_triage():
    workflow, _ = started()
    advance(workflow, Signal.TRIAGE_DECIDED, at=T0, request_id="REQ1")
    advance(workflow, Signal.INCIDENT_ACKNOWLEDGED, at=T0)
    advance(workflow, Signal.INCIDENT_RESOLVED, at=T0)
    effects = advance(workflow, Signal.INCIDENT_REOPENED, at=T0)
    assert effects == [StepReset("acknowledged"), StepReset("resolved")]
    assert states(workflow) == {"triage": StepState.COMPLETED,
                                "acknowledged": StepState.PENDING,
                                "resolved": StepState.PENDING}


def test_close_completes_the_workflow():
    workflow, _ = started()
    advance(workflow, Signal.TRIAGE_DECIDED, at=T0, request_id="REQ1")
    advance(workflow, Signal.INCIDENT_ACKNOWLEDGED, at=T0)
    advance(workflow, Signal.INCIDENT_RESOLVED, at=T0)
    closed_at = T0 + timedelta(hours=1)
    assert advance(workflow, Signal.INCIDENT_CLOSED, at=closed_at) == [WorkflowFinished("closed")]
    assert (workflow.state, workflow.completed_at, workflow.outcome) == (
        RunState.COMPLETED, closed_at, "closed")


def test_close_names_the_steps_never_done():
    workflow, _ = started()
    advance(workflow, Signal.INCIDENT_RESOLVED, at=T0)
    advance(workflow, Signal.INCIDENT_CLOSED, at=T0)
    assert workflow.outcome == "closed; not completed: triage, acknowledged"


def test_finished_workflow_ignores_everything():
    workflow, _ = started()
    advance(workflow, Signal.INCIDENT_CLOSED, at=T0)
    assert advance(workflow, Signal.TRIAGE_DECIDED, at=T0, request_id="REQ1") == []
    assert advance(workflow, Signal.INCIDENT_CLOSED, at=T0) == []
    assert workflow.step("triage").state is StepState.WAITING
