"""The calls of the front desk: reports, incidents, problems and silences."""

from __future__ import annotations

from typing import Any

from reasonops_contracts.agents import AgentDecisionRecorded
from reasonops_contracts.api import (
    Dashboard,
    IncidentPage,
    MonthlySummary,
    SlmMetrics,
    Trail,
)
from reasonops_contracts.finance import IncidentCostView
from reasonops_contracts.incidents import (
    IncidentCounts,
    IncidentView,
    ProblemList,
    ProblemView,
    SilenceList,
    SilenceView,
)
from reasonops_contracts.reviews import PostIncidentReviewView
from reasonops_contracts.slm import (
    SlaClockList,
    SlaPolicyList,
    SlaReport,
    SlaStatus,
    SupplierContractList,
)
from reasonops_contracts.workflows import (
    WorkflowView,
)

from .base import Call, call, json_body, quoted

TRANSITIONS = ("acknowledge", "resolve", "close", "reopen", "hold", "resume", "declare-major")


# -- Reports --------------------------------------------------------------------------------

def dashboard() -> Call[Dashboard]:
    return call("GET", "/api/dashboard", Dashboard)


def slm_metrics(period_days: int | None, month: str | None,
                service: str | None) -> Call[SlmMetrics]:
    return call("GET", "/api/sla/metrics", SlmMetrics, period_days=period_days, month=month,
                service=service)


def monthly_summary(month: str | None) -> Call[MonthlySummary]:
    return call("GET", "/api/reports/monthly", MonthlySummary, month=month)


def sla_report(month: str | None, period_days: int | None,
               service: str | None) -> Call[SlaReport]:
    return call("GET", "/api/sla/report", SlaReport, month=month, period_days=period_days,
                service=service)


def supplier_contracts() -> Call[SupplierContractList]:
    return call("GET", "/api/sla/contracts", SupplierContractList)


def sla_clocks(attention: str, at_risk_percent: int, service: str | None,
               limit: int) -> Call[SlaClockList]:
    return call("GET", "/api/sla/clocks", SlaClockList, attention=attention,
                at_risk_percent=at_risk_percent, service=service, limit=limit)


def sla_policies(service: str | None) -> Call[SlaPolicyList]:
    return call("GET", "/api/sla/policies", SlaPolicyList, service=service)


# -- Incidents ------------------------------------------------------------------------------

def incidents(filters: dict[str, Any], limit: int, cursor: str | None) -> Call[IncidentPage]:
    return call("GET", "/api/incidents", IncidentPage, **filters, limit=limit, cursor=cursor)


def create_incident(**fields: Any) -> Call[IncidentView]:
    return call("POST", "/api/incidents", IncidentView, body=json_body(**fields))


def incident(incident_id: str) -> Call[IncidentView]:
    return call("GET", f"/api/incidents/{quoted(incident_id)}", IncidentView)


def incident_counts(**filters: Any) -> Call[IncidentCounts]:
    return call("GET", "/api/incidents/counts", IncidentCounts, **filters)


def transition(incident_id: str, verb: str, note: str | None) -> Call[IncidentView]:
    if verb not in TRANSITIONS:
        raise ValueError(f"verb: one of {', '.join(TRANSITIONS)}")
    return call("POST", f"/api/incidents/{quoted(incident_id)}/{verb}", IncidentView,
                body=json_body(note=note))


def assign(incident_id: str, group: str, note: str | None) -> Call[IncidentView]:
    return call("POST", f"/api/incidents/{quoted(incident_id)}/assign", IncidentView,
                body=json_body(assignment_group=group, note=note))


def change_priority(incident_id: str, impact: int, urgency: int,
                    reason: str) -> Call[IncidentView]:
    return call("POST", f"/api/incidents/{quoted(incident_id)}/priority", IncidentView,
                body={"impact": impact, "urgency": urgency, "note": reason})


def comment(incident_id: str, note: str) -> Call[IncidentView]:
    return call("POST", f"/api/incidents/{quoted(incident_id)}/comments", IncidentView,
                body={"note": note})


def incident_sla(incident_id: str) -> Call[SlaStatus]:
    return call("GET", f"/api/incidents/{quoted(incident_id)}/sla", SlaStatus)


def incident_briefing(incident_id: str) -> Call[AgentDecisionRecorded]:
    return call("GET", f"/api/incidents/{quoted(incident_id)}/briefing",
                AgentDecisionRecorded)


def incident_cost(incident_id: str) -> Call[IncidentCostView]:
    return call("GET", f"/api/incidents/{quoted(incident_id)}/cost", IncidentCostView)


def incident_review(incident_id: str) -> Call[PostIncidentReviewView]:
    return call("GET", f"/api/incidents/{quoted(incident_id)}/review", PostIncidentReviewView)


def incident_audit(incident_id: str) -> Call[Trail]:
    return call("GET", f"/api/incidents/{quoted(incident_id)}/audit", Trail)


def incident_workflow(incident_id: str) -> Call[WorkflowView]:
    return call("GET", f"/api/incidents/{quoted(incident_id)}/workflow", WorkflowView)


# -- Problems and silences -------------------------------------------------------------------

def problems(states: list[str] | None, limit: int) -> Call[ProblemList]:
    return call("GET", "/api/problems", ProblemList, state=states, limit=limit)


def problem(problem_id: str) -> Call[ProblemView]:
    return call("GET", f"/api/problems/{quoted(problem_id)}", ProblemView)


def update_problem(problem_id: str, **fields: Any) -> Call[ProblemView]:
    return call("PATCH", f"/api/problems/{quoted(problem_id)}", ProblemView,
                body=json_body(**fields))


def silences(include_expired: bool) -> Call[SilenceList]:
    return call("GET", "/api/silences", SilenceList, include_expired=include_expired)


def create_silence(**fields: Any) -> Call[SilenceView]:
    return call("POST", "/api/silences", SilenceView, body=json_body(**fields))


def silence(silence_id: str) -> Call[SilenceView]:
    return call("GET", f"/api/silences/{quoted(silence_id)}", SilenceView)


def expire_silence(silence_id: str) -> Call[SilenceView]:
    return call("DELETE", f"/api/silences/{quoted(silence_id)}", SilenceView)
