"""``AsyncReasonOpsClient``: the REST API awaitable, for asyncio programs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from reasonops_contracts.agents import AgentDecisionRecorded
from reasonops_contracts.api import (
    AgentConfiguration,
    AgentRunResult,
    Dashboard,
    DecisionList,
    IncidentPage,
    MonthlySummary,
    ProviderHealth,
    Providers,
    SlmMetrics,
    Trail,
)
from reasonops_contracts.incidents import (
    IncidentCounts,
    IncidentView,
    ProblemList,
    ProblemView,
    SilenceList,
    SilenceView,
)
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

from . import calls
from . import events as sse
from .backoffice import AsyncBackOffice
from .calls import Call
from .desk import AsyncServiceDesk
from .events import StreamEvent
from .transport import (
    PAGE,
    Settings,
    filters_of,
    parse,
    request_of,
    unreachable,
    wait_before_retry,
    write_summary,
)

T = TypeVar("T")


class AsyncReasonOpsClient(AsyncBackOffice, AsyncServiceDesk):
    """The REST API, awaitable: every call of ``ReasonOpsClient`` as a coroutine."""

    def __init__(self, url: str | None = None, token: str | None = None, *,
                 timeout: float = 10.0, retries: int = 3, max_wait: float = 30.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = Settings.of(url, token, timeout, retries, max_wait)
        self._http = httpx.AsyncClient(base_url=self.settings.url, timeout=timeout,
                                       headers=self.settings.headers(), transport=transport)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None
                        ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = await self._http.request(**request_of(call))
            except httpx.TransportError as exc:
                wait = wait_before_retry(self.settings, call, attempt, None)
                if wait is None:
                    raise unreachable(self.settings, exc) from None
            else:
                wait = wait_before_retry(self.settings, call, attempt, response)
                if wait is None:
                    return parse(call, response)
            await asyncio.sleep(wait)
            attempt += 1

    async def get_dashboard(self) -> Dashboard:
        return await self.send(calls.dashboard())

    async def compute_slm_metrics(self, period_days: int | None = 30, *,
                                  month: str | None = None,
                                  service: str | None = None) -> SlmMetrics:
        return await self.send(calls.slm_metrics(period_days, month, service))

    async def export_monthly_summary(self, out_file: str | Path | None = None, *,
                                     month: str | None = None) -> MonthlySummary:
        summary = await self.send(calls.monthly_summary(month))
        write_summary(summary, out_file)
        return summary

    async def sla_report(self, month: str | None = None, *, period_days: int | None = None,
                         service: str | None = None) -> SlaReport:
        return await self.send(calls.sla_report(month, period_days, service))

    async def list_incidents(self, *, limit: int = 100, cursor: str | None = None,
                             **filters: Any) -> IncidentPage:
        return await self.send(calls.incidents(filters_of(**filters), limit, cursor))

    async def iter_incidents(self, **filters: Any) -> AsyncIterator[IncidentView]:
        cursor: str | None = None
        while True:
            page = await self.list_incidents(limit=PAGE, cursor=cursor, **filters)
            for item in page.items:
                yield item
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def create_incident(self, title: str, **fields: Any) -> IncidentView:
        """Open an incident by hand. Fields: service, resource, impact, urgency (1..3),
        description, caller, category, assignment_group, attachments (links)."""
        return await self.send(calls.create_incident(title=title, **fields))

    async def get_incident(self, incident_id: str) -> IncidentView:
        return await self.send(calls.incident(incident_id))

    async def transition(self, incident_id: str, verb: str, note: str | None = None
                         ) -> IncidentView:
        """``verb``: acknowledge, resolve, close, reopen, hold, resume, declare-major."""
        return await self.send(calls.transition(incident_id, verb, note))

    async def assign(self, incident_id: str, group: str, note: str | None = None
                     ) -> IncidentView:
        return await self.send(calls.assign(incident_id, group, note))

    async def change_priority(self, incident_id: str, impact: int, urgency: int,
                        reason: str) -> IncidentView:
        return await self.send(calls.change_priority(incident_id, impact, urgency, reason))

    async def comment(self, incident_id: str, note: str) -> IncidentView:
        return await self.send(calls.comment(incident_id, note))

    async def incident_sla(self, incident_id: str) -> SlaStatus:
        return await self.send(calls.incident_sla(incident_id))

    async def incident_briefing(self, incident_id: str) -> AgentDecisionRecorded:
        """The agents' views combined (an ApiError 404 before two have spoken)."""
        return await self.send(calls.incident_briefing(incident_id))

    async def incident_audit(self, incident_id: str) -> Trail:
        return await self.send(calls.incident_audit(incident_id))

    async def list_problems(self, states: list[str] | None = None, limit: int = 100
                            ) -> ProblemList:
        return await self.send(calls.problems(states, limit))

    async def create_silence(self, matchers: list[str], reason: str,
                             **fields: Any) -> SilenceView:
        return await self.send(calls.create_silence(matchers=matchers, reason=reason,
                                                    **fields))

    async def expire_silence(self, silence_id: str) -> SilenceView:
        return await self.send(calls.expire_silence(silence_id))

    async def get_agent_decisions(self, limit: int = 50, event_type: str | None = None,
                                  agent_name: str | None = None,
                                  incident_id: str | None = None, *,
                                  inputs: bool = False) -> DecisionList:
        """Newest last; ``inputs``: with what each decision was asked."""
        return await self.send(calls.decisions(limit, event_type, agent_name, incident_id,
                                               inputs))

    list_decisions = get_agent_decisions

    async def run_agents(self, event_type: str, event_data: dict[str, Any]
                         ) -> AgentRunResult:
        return await self.send(calls.run_agents(event_type, event_data))

    run_agent = run_agents

    async def check_agent_health(self) -> dict[str, ProviderHealth]:
        return await self.send(calls.agents_health())

    agents_health = check_agent_health

    async def list_llm_providers(self) -> Providers:
        return await self.send(calls.providers())

    list_providers = list_llm_providers

    async def incident_counts(self, **filters: Any) -> IncidentCounts:
        return await self.send(calls.incident_counts(**filters_of(**filters)))

    async def acknowledge(self, incident_id: str, note: str | None = None) -> IncidentView:
        return await self.transition(incident_id, "acknowledge", note)

    async def resolve(self, incident_id: str, note: str | None = None) -> IncidentView:
        return await self.transition(incident_id, "resolve", note)

    async def close_incident(self, incident_id: str, note: str | None = None
                             ) -> IncidentView:
        return await self.transition(incident_id, "close", note)

    async def reopen(self, incident_id: str, note: str | None = None) -> IncidentView:
        return await self.transition(incident_id, "reopen", note)

    async def hold(self, incident_id: str, note: str | None = None) -> IncidentView:
        return await self.transition(incident_id, "hold", note)

    async def resume(self, incident_id: str, note: str | None = None) -> IncidentView:
        return await self.transition(incident_id, "resume", note)

    async def declare_major(self, incident_id: str, note: str | None = None) -> IncidentView:
        return await self.transition(incident_id, "declare-major", note)

    async def incident_workflow(self, incident_id: str) -> WorkflowView:
        return await self.send(calls.incident_workflow(incident_id))

    async def get_problem(self, problem_id: str) -> ProblemView:
        return await self.send(calls.problem(problem_id))

    async def update_problem(self, problem_id: str, state: str, *,
                             workaround: str | None = None,
                             note: str | None = None) -> ProblemView:
        return await self.send(calls.update_problem(problem_id, state=state,
                                                    workaround=workaround, note=note))

    async def list_silences(self, include_expired: bool = False) -> SilenceList:
        return await self.send(calls.silences(include_expired))

    async def get_silence(self, silence_id: str) -> SilenceView:
        return await self.send(calls.silence(silence_id))

    async def supplier_contracts(self) -> SupplierContractList:
        return await self.send(calls.supplier_contracts())

    async def sla_clocks(self, attention: str = "at_risk", *, at_risk_percent: int = 75,
                   service: str | None = None, limit: int = 100) -> SlaClockList:
        """Clocks that need someone now: ``at_risk``, ``breached`` or every ``running``."""
        return await self.send(calls.sla_clocks(attention, at_risk_percent, service, limit))

    async def sla_policies(self, service: str | None = None) -> SlaPolicyList:
        """The SLA definitions in force, and the OLAs."""
        return await self.send(calls.sla_policies(service))

    async def configure_llm_provider(self, provider: str, model: str | None = None,
                                     temperature: float = 0.0, api_key: str | None = None,
                                     *, agent: str | None = None) -> AgentConfiguration:
        if api_key is not None:
            raise ValueError("api_key: give the agents their keys in their environment or "
                             "a key file; the API does not take them")
        return await self.send(calls.configure_llm(provider, model, temperature, agent))

    configure_llm = configure_llm_provider

    async def events(self, types: Iterable[str] | None = None, *,
                     last_event_id: str | None = None) -> AsyncIterator[StreamEvent]:
        """Every event the token may see, as it happens; reconnects by itself."""
        last = last_event_id
        while True:
            try:
                async with self._http.stream("GET", sse.PATH, params=sse.params(types),
                                             headers=sse.headers(last),
                                             timeout=httpx.Timeout(self.settings.timeout,
                                                                   read=None)) as response:
                    if response.status_code >= 400:
                        await response.aread()
                        parse(calls.me(), response)
                    parser = sse.Parser()
                    async for line in response.aiter_lines():
                        event = parser.feed(line)
                        if event is not None:
                            last = event.id or last
                            yield event
            except httpx.TransportError:
                await asyncio.sleep(1.0)
