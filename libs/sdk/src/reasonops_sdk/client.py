"""``ReasonOpsClient`` (sync) and ``AsyncReasonOpsClient``: the same calls (``calls``),
one blocking, one awaitable. Names users of the product this replaces already call
(``get_dashboard``, ``compute_slm_metrics``, ``export_monthly_summary``,
``get_agent_decisions``, ``check_agent_health``, ``list_llm_providers``) work as they
did."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
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
from .backoffice import BackOffice
from .calls import Call
from .desk import ServiceDesk
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


class ReasonOpsClient(BackOffice, ServiceDesk):
    """The REST API, blocking. ``url`` and ``token`` default to ``REASONOPS_URL`` (else
    http://127.0.0.1:8080) and ``REASONOPS_TOKEN``."""

    def __init__(self, url: str | None = None, token: str | None = None, *,
                 timeout: float = 10.0, retries: int = 3, max_wait: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.settings = Settings.of(url, token, timeout, retries, max_wait)
        self._http = httpx.Client(base_url=self.settings.url, timeout=timeout,
                                  headers=self.settings.headers(), transport=transport)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None
                 ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def send(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = self._http.request(**request_of(call))
            except httpx.TransportError as exc:
                wait = wait_before_retry(self.settings, call, attempt, None)
                if wait is None:
                    raise unreachable(self.settings, exc) from None
            else:
                wait = wait_before_retry(self.settings, call, attempt, response)
                if wait is None:
                    return parse(call, response)
            time.sleep(wait)
            attempt += 1

    # -- reports ------------------------------------------------------------------------
    def get_dashboard(self) -> Dashboard:
        return self.send(calls.dashboard())

    def compute_slm_metrics(self, period_days: int | None = 30, *, month: str | None = None,
                            service: str | None = None) -> SlmMetrics:
        return self.send(calls.slm_metrics(period_days, month, service))

    def export_monthly_summary(self, out_file: str | Path | None = None, *,
                               month: str | None = None) -> MonthlySummary:
        summary = self.send(calls.monthly_summary(month))
        write_summary(summary, out_file)
        return summary

    def sla_report(self, month: str | None = None, *, period_days: int | None = None,
                   service: str | None = None) -> SlaReport:
        return self.send(calls.sla_report(month, period_days, service))

    def supplier_contracts(self) -> SupplierContractList:
        return self.send(calls.supplier_contracts())

    def sla_clocks(self, attention: str = "at_risk", *, at_risk_percent: int = 75,
                   service: str | None = None, limit: int = 100) -> SlaClockList:
        """Clocks that need someone now: ``at_risk``, ``breached`` or every ``running``."""
        return self.send(calls.sla_clocks(attention, at_risk_percent, service, limit))

    def sla_policies(self, service: str | None = None) -> SlaPolicyList:
        """The SLA definitions in force, and the OLAs."""
        return self.send(calls.sla_policies(service))

    # -- incidents ------------------------------------------------------------------------
    def list_incidents(self, *, limit: int = 100, cursor: str | None = None,
                       **filters: Any) -> IncidentPage:
        """Filters: state, priority, service, assignment_group, text, major, problem_id,
        opened_from, opened_to, sort, order."""
        return self.send(calls.incidents(filters_of(**filters), limit, cursor))

    def iter_incidents(self, **filters: Any) -> Iterator[IncidentView]:
        cursor: str | None = None
        while True:
            page = self.list_incidents(limit=PAGE, cursor=cursor, **filters)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def create_incident(self, title: str, **fields: Any) -> IncidentView:
        """Open an incident by hand. Fields: service, resource, impact, urgency (1..3),
        description, caller, category, assignment_group, attachments (links)."""
        return self.send(calls.create_incident(title=title, **fields))

    def get_incident(self, incident_id: str) -> IncidentView:
        return self.send(calls.incident(incident_id))

    def incident_counts(self, **filters: Any) -> IncidentCounts:
        return self.send(calls.incident_counts(**filters_of(**filters)))

    def acknowledge(self, incident_id: str, note: str | None = None) -> IncidentView:
        return self.send(calls.transition(incident_id, "acknowledge", note))

    def resolve(self, incident_id: str, note: str | None = None) -> IncidentView:
        return self.send(calls.transition(incident_id, "resolve", note))

    def close_incident(self, incident_id: str, note: str | None = None) -> IncidentView:
        return self.send(calls.transition(incident_id, "close", note))

    def reopen(self, incident_id: str, note: str | None = None) -> IncidentView:
        return self.send(calls.transition(incident_id, "reopen", note))

    def hold(self, incident_id: str, note: str | None = None) -> IncidentView:
        return self.send(calls.transition(incident_id, "hold", note))

    def resume(self, incident_id: str, note: str | None = None) -> IncidentView:
        return self.send(calls.transition(incident_id, "resume", note))

    def declare_major(self, incident_id: str, note: str | None = None) -> IncidentView:
        return self.send(calls.transition(incident_id, "declare-major", note))

    def assign(self, incident_id: str, group: str, note: str | None = None) -> IncidentView:
        return self.send(calls.assign(incident_id, group, note))

    def change_priority(self, incident_id: str, impact: int, urgency: int,
                        reason: str) -> IncidentView:
        return self.send(calls.change_priority(incident_id, impact, urgency, reason))

    def comment(self, incident_id: str, note: str) -> IncidentView:
        return self.send(calls.comment(incident_id, note))

    def incident_sla(self, incident_id: str) -> SlaStatus:
        return self.send(calls.incident_sla(incident_id))

    def incident_briefing(self, incident_id: str) -> AgentDecisionRecorded:
        """The agents' views combined (an ApiError 404 before two have spoken)."""
        return self.send(calls.incident_briefing(incident_id))

    def incident_audit(self, incident_id: str) -> Trail:
        return self.send(calls.incident_audit(incident_id))

    def incident_workflow(self, incident_id: str) -> WorkflowView:
        return self.send(calls.incident_workflow(incident_id))

    # -- problems and silences -----------------------------------------------------------------
    def list_problems(self, states: list[str] | None = None, limit: int = 100) -> ProblemList:
        return self.send(calls.problems(states, limit))

    def get_problem(self, problem_id: str) -> ProblemView:
        return self.send(calls.problem(problem_id))

    def update_problem(self, problem_id: str, state: str, *, workaround: str | None = None,
                       note: str | None = None) -> ProblemView:
        return self.send(calls.update_problem(problem_id, state=state, workaround=workaround,
                                              note=note))

    def list_silences(self, include_expired: bool = False) -> SilenceList:
        return self.send(calls.silences(include_expired))

    def create_silence(self, matchers: list[str], reason: str, **fields: Any) -> SilenceView:
        """Fields: kind (silence, maintenance), starts_at, ends_at, schedule, until."""
        return self.send(calls.create_silence(matchers=matchers, reason=reason, **fields))

    def get_silence(self, silence_id: str) -> SilenceView:
        return self.send(calls.silence(silence_id))

    def expire_silence(self, silence_id: str) -> SilenceView:
        return self.send(calls.expire_silence(silence_id))

    # -- workflows -------------------------------------------------------------------------------
    # -- agents ----------------------------------------------------------------------------------
    def get_agent_decisions(self, limit: int = 50, event_type: str | None = None,
                            agent_name: str | None = None,
                            incident_id: str | None = None, *,
                            inputs: bool = False) -> DecisionList:
        """Newest last; ``inputs``: with what each decision was asked."""
        return self.send(calls.decisions(limit, event_type, agent_name, incident_id,
                                         inputs))

    list_decisions = get_agent_decisions

    def run_agents(self, event_type: str, event_data: dict[str, Any]) -> AgentRunResult:
        """The triage agent's decision on the event described (nothing is applied)."""
        return self.send(calls.run_agents(event_type, event_data))

    run_agent = run_agents

    def configure_llm_provider(self, provider: str, model: str | None = None,
                               temperature: float = 0.0, api_key: str | None = None, *,
                               agent: str | None = None) -> AgentConfiguration:
        """Every agent (or ``agent``) decides with ``provider:model`` from its next
        decision on. ``api_key`` is refused: keys are the agents' own secrets."""
        if api_key is not None:
            raise ValueError("api_key: give the agents their keys in their environment or "
                             "a key file; the API does not take them")
        return self.send(calls.configure_llm(provider, model, temperature, agent))

    configure_llm = configure_llm_provider

    def check_agent_health(self) -> dict[str, ProviderHealth]:
        return self.send(calls.agents_health())

    agents_health = check_agent_health

    def list_llm_providers(self) -> Providers:
        return self.send(calls.providers())

    list_providers = list_llm_providers

    # -- the live stream -------------------------------------------------------------------------
    def events(self, types: Iterable[str] | None = None, *,
               last_event_id: str | None = None) -> Iterator[StreamEvent]:
        """Every event the token may see, as it happens (after ``last_event_id`` if
        given); reconnects after a dropped connection without losing one."""
        last = last_event_id
        while True:
            try:
                with self._http.stream("GET", sse.PATH, params=sse.params(types),
                                       headers=sse.headers(last),
                                       timeout=httpx.Timeout(self.settings.timeout,
                                                             read=None)) as response:
                    if response.status_code >= 400:
                        response.read()
                        parse(calls.me(), response)
                    parser = sse.Parser()
                    for line in response.iter_lines():
                        event = parser.feed(line)
                        if event is not None:
                            last = event.id or last
                            yield event
            except httpx.TransportError:
                time.sleep(1.0)

