"""Incident and agent events in; workflow progress and agent requests out."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from reasonops_contracts import Envelope, Event, new_id
from reasonops_contracts.agents import AgentDecisionRecorded, TriageRequested
from reasonops_contracts.incidents import (
    IncidentAcknowledged,
    IncidentClosed,
    IncidentOpened,
    IncidentReopened,
    IncidentResolved,
)
from reasonops_contracts.workflows import (
    GetWorkflow,
    WorkflowCompleted,
    WorkflowStarted,
    WorkflowStepCompleted,
    WorkflowView,
)
from reasonops_runtime import Clock, EventRouter, NotFound, Service, Transaction

from . import store
from .domain import (
    INCIDENT_RESPONSE,
    AgentRequested,
    Effect,
    Signal,
    StepCompleted,
    Workflow,
    WorkflowDef,
    WorkflowFinished,
    advance,
    start,
)
from .views import workflow_view

SOURCE = "orchestrator"
INCIDENTS_CONSUMER = "orchestrator"
AGENTS_CONSUMER = "orchestrator-agents"

log = logging.getLogger(__name__)


class WorkflowMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.started = Counter("reasonops_workflows_started_total", "Workflow instances started",
                               ["workflow"], registry=registry)
        self.steps = Counter("reasonops_workflow_steps_completed_total",
                             "Workflow steps completed", ["workflow", "step"], registry=registry)
        self.completed = Counter("reasonops_workflows_completed_total",
                                 "Workflow instances completed", ["workflow"], registry=registry)


def _lifecycle_result(actor: str, note: str | None) -> dict[str, Any]:
    return {"actor": actor, "note": note}


def _decision_result(decision: AgentDecisionRecorded) -> dict[str, Any]:
    return {**decision.output.model_dump(mode="json"), "decision_id": decision.decision_id,
            "provider": decision.provider, "model": decision.model,
            "prompt_version": decision.prompt_version, "latency_ms": decision.latency_ms,
            "fallback": decision.fallback}


def _triage_request(opened: IncidentOpened, workflow: Workflow,
                    effect: AgentRequested) -> TriageRequested:
    if effect.agent != "triage":
        raise ValueError(f"no request contract for agent {effect.agent!r}")
    return TriageRequested(
        request_id=effect.request_id, workflow_id=workflow.workflow_id,
        incident_id=opened.incident_id, title=opened.title, service=opened.service,
        resource=opened.resource, severity=opened.severity, priority=opened.priority,
        labels=opened.labels, annotations=opened.annotations)


class Orchestrator:
    """Runs ``definition`` for every incident: one instance per incident, persisted per step."""

    def __init__(self, clock: Clock, metrics: WorkflowMetrics,
                 definition: WorkflowDef = INCIDENT_RESPONSE) -> None:
        self.clock = clock
        self.metrics = metrics
        self.definition = definition

    def incident_router(self) -> EventRouter:
        router = EventRouter()
        router.on_many(IncidentOpened)(self.on_opened)
        router.on(IncidentAcknowledged)(self.on_acknowledged)
        router.on(IncidentResolved)(self.on_resolved)
        router.on(IncidentReopened)(self.on_reopened)
        router.on(IncidentClosed)(self.on_closed)
        return router

    def agent_router(self) -> EventRouter:
        router = EventRouter()
        router.on_many(AgentDecisionRecorded)(self.on_decisions)
        return router

    async def on_opened(self, tx: Transaction,
                        batch: list[tuple[Envelope, IncidentOpened]]) -> None:
        """Start an instance for every newly opened incident in a run, written together."""
        ids = {self.definition.instance_id(e.incident_id) for _, e in batch}
        known = set(await store.load_workflows(tx.session, ids))
        started = []
        for envelope, event in batch:
            workflow_id = self.definition.instance_id(event.incident_id)
            if workflow_id in known:
                log.debug("workflow already started", extra={"workflow_id": workflow_id})
                continue
            known.add(workflow_id)
            workflow, effects = start(self.definition, incident_id=event.incident_id,
                                      correlation_id=envelope.correlation_id,
                                      at=self.clock.now(), new_request_id=new_id)
            started.append(workflow)
            self._emit(tx, envelope, workflow, WorkflowStarted(
                workflow_id=workflow.workflow_id, workflow=workflow.workflow,
                version=workflow.version, incident_id=workflow.incident_id,
                started_at=workflow.started_at))
            self.metrics.started.labels(workflow.workflow).inc()
            for effect in effects:
                if isinstance(effect, AgentRequested):
                    request = _triage_request(event, workflow, effect)
                    tx.emit(envelope.caused(request, source=SOURCE, subject=event.incident_id),
                            request.SUBJECT)
        await store.insert_workflows(tx.session, started)

    async def on_acknowledged(self, tx: Transaction, envelope: Envelope,
                              event: IncidentAcknowledged) -> None:
        await self._advance(tx, envelope, self.definition.instance_id(event.incident_id),
                            Signal.INCIDENT_ACKNOWLEDGED, at=event.acknowledged_at,
                            result=_lifecycle_result(event.actor, event.note))

    async def on_resolved(self, tx: Transaction, envelope: Envelope,
                          event: IncidentResolved) -> None:
        await self._advance(tx, envelope, self.definition.instance_id(event.incident_id),
                            Signal.INCIDENT_RESOLVED, at=event.resolved_at,
                            result=_lifecycle_result(event.actor, event.note))

    async def on_reopened(self, tx: Transaction, envelope: Envelope,
                          event: IncidentReopened) -> None:
        await self._advance(tx, envelope, self.definition.instance_id(event.incident_id),
                            Signal.INCIDENT_REOPENED, at=event.reopened_at)

    async def on_closed(self, tx: Transaction, envelope: Envelope,
                        event: IncidentClosed) -> None:
        await self._advance(tx, envelope, self.definition.instance_id(event.incident_id),
                            Signal.INCIDENT_CLOSED, at=event.closed_at)

    async def on_decisions(self, tx: Transaction,
                           batch: list[tuple[Envelope, AgentDecisionRecorded]]) -> None:
        """Record a run of agent decisions on their workflows: two reads, two writes."""
        loaded = await store.load_workflows(tx.session, {d.workflow_id for _, d in batch})
        changed: dict[str, Workflow] = {}
        for envelope, decision in batch:
            if decision.agent != "triage":  # other agents' decisions drive no step yet
                continue
            workflow = loaded.get(decision.workflow_id)
            if self._apply(tx, envelope, workflow, decision.workflow_id,
                           Signal.TRIAGE_DECIDED, at=decision.decided_at,
                           result=_decision_result(decision), request_id=decision.request_id):
                assert workflow is not None
                changed[workflow.workflow_id] = workflow
        await store.update_workflows(tx.session, list(changed.values()))

    async def _advance(self, tx: Transaction, envelope: Envelope, workflow_id: str,
                       signal: Signal, *, at: datetime, result: dict[str, Any] | None = None
                       ) -> None:
        workflow = await store.get_workflow(tx.session, workflow_id)
        if self._apply(tx, envelope, workflow, workflow_id, signal, at=at, result=result):
            assert workflow is not None
            await store.update_workflows(tx.session, [workflow])

    def _apply(self, tx: Transaction, envelope: Envelope, workflow: Workflow | None,
               workflow_id: str, signal: Signal, *, at: datetime,
               result: dict[str, Any] | None = None, request_id: str | None = None) -> bool:
        """Advance ``workflow`` by ``signal`` and publish what that did; False if nothing."""
        if workflow is None:
            log.warning("event for an unknown workflow ignored",
                        extra={"workflow_id": workflow_id, "signal": signal.value})
            return False
        effects = advance(workflow, signal, at=at, result=result, request_id=request_id)
        if not effects:
            log.debug("event changes nothing", extra={"workflow_id": workflow_id,
                                                      "signal": signal.value})
            return False
        for effect in effects:
            self._publish(tx, envelope, workflow, effect, at)
        return True

    def _publish(self, tx: Transaction, envelope: Envelope, workflow: Workflow,
                 effect: Effect, at: datetime) -> None:
        if isinstance(effect, StepCompleted):
            self._emit(tx, envelope, workflow, WorkflowStepCompleted(
                workflow_id=workflow.workflow_id, workflow=workflow.workflow, step=effect.step,
                incident_id=workflow.incident_id, completed_at=at, result=effect.result))
            self.metrics.steps.labels(workflow.workflow, effect.step).inc()
        elif isinstance(effect, WorkflowFinished):
            self._emit(tx, envelope, workflow, WorkflowCompleted(
                workflow_id=workflow.workflow_id, workflow=workflow.workflow,
                incident_id=workflow.incident_id, completed_at=at, outcome=effect.outcome))
            self.metrics.completed.labels(workflow.workflow).inc()
        else:  # a reset step has no event of its own; the step shows pending again
            log.debug("workflow effect", extra={"workflow_id": workflow.workflow_id,
                                                "effect": repr(effect)})

    @staticmethod
    def _emit(tx: Transaction, cause: Envelope, workflow: Workflow, event: Event) -> None:
        tx.emit(cause.caused(event, source=SOURCE, subject=workflow.workflow_id), event.SUBJECT)


def register_queries(service: Service, definition: WorkflowDef = INCIDENT_RESPONSE) -> None:
    async def get(query: GetWorkflow) -> WorkflowView:
        async with service.store.read() as session:
            workflow = await store.find_for_incident(session, query.incident_id, definition.name)
        if workflow is None:
            raise NotFound(f"no {definition.name} workflow for {query.incident_id}",
                           "incident_id")
        return workflow_view(workflow)

    service.respond(GetWorkflow, get)
