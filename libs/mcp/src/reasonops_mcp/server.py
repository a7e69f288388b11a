"""The MCP server: tools and resources over the SDK.

``client`` is called for each tool call and gives an ``AsyncReasonOpsClient`` acting as
the caller (on the gateway: the bearer token of the MCP request; over stdio: the
``REASONOPS_TOKEN`` of the process). Input schemas come from the parameters' types,
which are the contracts' own (states, priorities, ids); output schemas from the
contracts' views. A refusal by the API is a tool error carrying its problem, never an
effect.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastmcp import FastMCP
from fastmcp.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from reasonops_contracts.agents import AgentDecisionRecorded
from reasonops_contracts.api import AgentRunResult, Dashboard, IncidentPage, Trail
from reasonops_contracts.finance import FinanceSummary, IncidentCostView
from reasonops_contracts.incidents import (
    INCIDENT_ID_PATTERN,
    IncidentState,
    IncidentView,
    SilenceView,
)
from reasonops_contracts.reviews import PostIncidentReviewView
from reasonops_contracts.slm import Attention, SlaClockList, SlaStatus
from reasonops_contracts.workflows import WorkflowView
from reasonops_sdk import ApiError, AsyncReasonOpsClient, ReasonOpsError

ClientFactory = Callable[[], AsyncReasonOpsClient]
INSTRUCTIONS = """\
ReasonOps runs IT incidents from alert to ledger. Find incidents with search_incidents,
read one with show_incident (its timeline says what happened and who did it), then act:
acknowledge when someone is on it, comment as you learn, assign to the right group,
resolve with a note when service is restored. Every action is taken as the person whose
token this is and is refused when their role does not allow it.
"""

IncidentId = Annotated[str, Field(pattern=INCIDENT_ID_PATTERN, description="INC0000001")]
Note = Annotated[str, Field(min_length=1, max_length=4096, description="For the timeline")]
READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
CHANGE = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
DESTRUCTIVE = ToolAnnotations(read_only_hint=False, destructive_hint=True,
                              open_world_hint=False)


@asynccontextmanager
async def _api(client: ClientFactory) -> AsyncIterator[AsyncReasonOpsClient]:
    """A client for one tool call; the API's refusals become tool errors."""
    api = client()
    try:
        yield api
    except ApiError as exc:
        raise ToolError(f"{exc.status} {exc.problem.title}: {exc.problem.detail}") from None
    except ReasonOpsError as exc:
        raise ToolError(str(exc)) from None
    finally:
        await api.aclose()


def build_server(client: ClientFactory, *, name: str = "ReasonOps") -> FastMCP:
    """The MCP server whose every tool acts through ``client()``."""
    mcp = FastMCP(name, instructions=INSTRUCTIONS)

    def api() -> AbstractAsyncContextManager[AsyncReasonOpsClient]:
        return _api(client)

    @mcp.tool(annotations=READ)
    async def search_incidents(
        text: Annotated[str | None, Field(description="In title, service, resource or "
                                          "number")] = None,
        state: Annotated[list[IncidentState] | None, Field(description="Default: any")]
        = None,
        service: str | None = None,
        priority: Annotated[list[int] | None, Field(description="1 (critical) .. 5")] = None,
        limit: Annotated[int, Field(ge=1, le=100)] = 20,
    ) -> IncidentPage:
        """Find incidents, newest first: their number, title, state, priority, service
        and assignment. The total says how many match."""
        async with api() as reasonops:
            page = await reasonops.list_incidents(text=text, state=state, service=service,
                                                  priority=priority, limit=limit)
        return page

    @mcp.tool(annotations=READ)
    async def show_incident(incident_id: IncidentId) -> IncidentView:
        """One incident with its timeline (alerts joining, state changes, agent decisions
        and their reasons, SLA events), resources, probable cause and problem."""
        async with api() as reasonops:
            return await reasonops.get_incident(incident_id)

    @mcp.tool(annotations=CHANGE)
    async def acknowledge_incident(incident_id: IncidentId,
                                   note: Note | None = None) -> IncidentView:
        """Acknowledge: someone is on it. Stops the response clock and escalation."""
        async with api() as reasonops:
            return await reasonops.transition(incident_id, "acknowledge", note)

    @mcp.tool(annotations=CHANGE)
    async def comment_incident(incident_id: IncidentId, note: Note) -> IncidentView:
        """Add a comment to the incident's timeline."""
        async with api() as reasonops:
            return await reasonops.comment(incident_id, note)

    @mcp.tool(annotations=CHANGE)
    async def assign_incident(
        incident_id: IncidentId,
        assignment_group: Annotated[str, Field(min_length=1, max_length=128)],
        note: Note | None = None,
    ) -> IncidentView:
        """Assign to a group; a person's assignment outranks every automatic one."""
        async with api() as reasonops:
            return await reasonops.assign(incident_id, assignment_group, note)

    @mcp.tool(annotations=DESTRUCTIVE)
    async def resolve_incident(incident_id: IncidentId, note: Note) -> IncidentView:
        """Resolve: service is restored. Stops the resolution clock; say what fixed it."""
        async with api() as reasonops:
            return await reasonops.transition(incident_id, "resolve", note)

    @mcp.tool(annotations=READ)
    async def sla_status(incident_id: IncidentId) -> SlaStatus:
        """The incident's SLA clocks (response, resolution; OLA, UC): deadline, time left,
        percent consumed, paused or breached, and penalties assessed."""
        async with api() as reasonops:
            return await reasonops.incident_sla(incident_id)

    @mcp.tool(annotations=READ)
    async def sla_clocks_needing_attention(
            attention: Annotated[Attention, Field(description=(
                "at_risk: running with 75% or more of the target used; breached: past "
                "the target and not yet stopped; running: every running clock"))] = "at_risk",
            service: str | None = None) -> SlaClockList:
        """The SLA clocks that need someone now, across incidents: which incident, which
        target, how much time is left (or how long overdue), the closest to the deadline
        first."""
        async with api() as reasonops:
            return await reasonops.sla_clocks(attention, service=service)

    @mcp.tool(annotations=READ)
    async def incident_briefing(incident_id: IncidentId) -> AgentDecisionRecorded:
        """What the agents say about the incident together: one summary, concerns, next
        steps and each agent's view (triage, root cause, service level, security) with
        its evidence and decision. An error until two agents have decided about it."""
        async with api() as reasonops:
            return await reasonops.incident_briefing(incident_id)

    @mcp.tool(annotations=READ)
    async def incident_cost(incident_id: IncidentId) -> IncidentCostView:
        """What the incident costs, booked or not: downtime at its service's tier rate and
        the responders' effort, to its resolution (or to now while it is open), how that
        was reckoned, and the ledger entry once it closed."""
        async with api() as reasonops:
            return await reasonops.incident_cost(incident_id)

    @mcp.tool(annotations=READ)
    async def incident_review(incident_id: IncidentId) -> PostIncidentReviewView:
        """The post-incident review of a major incident, recorded when it resolved: its
        timeline, each agent's decision, how its SLA clocks ended and what it cost. An
        error before then, or for an incident that was never major."""
        async with api() as reasonops:
            return await reasonops.incident_review(incident_id)

    @mcp.tool(annotations=READ)
    async def audit_trail(incident_id: IncidentId) -> Trail:
        """Every message in the incident's causal chain, from the first alert to the
        ledger, in order, each with who did it."""
        async with api() as reasonops:
            return await reasonops.incident_audit(incident_id)

    @mcp.tool(annotations=READ)
    async def run_agent(
        description: Annotated[str, Field(min_length=1, max_length=1024, description=(
            "What happened, as an alert or a caller would say it"))],
        severity: Literal["info", "warning", "error", "critical"] = "warning",
        service: str | None = None,
        incident_id: Annotated[str | None, Field(max_length=32)] = None,
    ) -> AgentRunResult:
        """Ask the triage agent what it makes of an event: category, assignment group,
        priority, its reasons and the provider that decided. Nothing is applied."""
        async with api() as reasonops:
            return await reasonops.run_agents("incident", {
                "description": description, "severity": severity, "service": service,
                "incident_id": incident_id})

    @mcp.tool(annotations=CHANGE)
    async def approve_workflow_step(
        workflow_id: Annotated[str, Field(min_length=1, max_length=128)],
        step: Annotated[str, Field(min_length=1, max_length=64)],
        note: Note | None = None,
    ) -> WorkflowView:
        """Grant a workflow step that waits for approval (say, blocking an attacker's
        address the security agent proposed)."""
        async with api() as reasonops:
            return await reasonops.approve_step(workflow_id, step, note)

    @mcp.tool(annotations=DESTRUCTIVE)
    async def reject_workflow_step(
        workflow_id: Annotated[str, Field(min_length=1, max_length=128)],
        step: Annotated[str, Field(min_length=1, max_length=64)],
        note: Note | None = None,
    ) -> WorkflowView:
        """Refuse a workflow step that waits for approval."""
        async with api() as reasonops:
            return await reasonops.reject_step(workflow_id, step, note)

    @mcp.tool(annotations=CHANGE)
    async def silence_alerts(
        matchers: Annotated[list[str], Field(min_length=1, description=(
            'Label matchers, e.g. ["service=checkout", "alertname=~Disk.*"]'))],
        reason: Annotated[str, Field(min_length=1, max_length=1024)],
        minutes: Annotated[int, Field(ge=1, le=60 * 24 * 14)] = 60,
    ) -> SilenceView:
        """Silence matching alerts for a while: recorded, but no incident, no page."""
        now = datetime.now(UTC)
        async with api() as reasonops:
            return await reasonops.create_silence(
                matchers, reason, ends_at=(now + timedelta(minutes=minutes)).isoformat())

    @mcp.tool(annotations=READ)
    async def finance_summary(
        month: Annotated[str | None, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
                                           description="YYYY-MM; default: this month")]
        = None,
    ) -> FinanceSummary:
        """A month's supplier penalties and incident costs, by supplier and service, and
        budget against actual."""
        async with api() as reasonops:
            return await reasonops.finance_summary(month)

    @mcp.resource("reasonops://incidents/{incident_id}", mime_type="application/json")
    async def incident(incident_id: str) -> str:
        """An incident with its timeline."""
        async with api() as reasonops:
            return (await reasonops.get_incident(incident_id)).model_dump_json()

    @mcp.resource("reasonops://reports/dashboard", mime_type="application/json")
    async def dashboard() -> str:
        """The integrated view: services and availability, open incidents, breaches,
        penalties, budget, agent health."""
        async with api() as reasonops:
            found: Dashboard = await reasonops.get_dashboard()
        return found.model_dump_json()

    @mcp.resource("reasonops://reports/monthly/{month}", mime_type="application/json")
    async def monthly(month: str) -> str:
        """A month's service levels and what they cost."""
        async with api() as reasonops:
            return (await reasonops.export_monthly_summary(month=month)).model_dump_json()

    return mcp
