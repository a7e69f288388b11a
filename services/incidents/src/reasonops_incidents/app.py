"""Composition root of the incident service."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from reasonops_contracts.catalog import ServiceCatalog
from reasonops_contracts.ingest import EventAccepted
from reasonops_contracts.streams import AGENTS, ONCALL, SLM
from reasonops_runtime import Clock, Service, ServiceSettings, catalog_file, policy_file
from reasonops_runtime.enforcement import Enforcer

from .access import Access
from .incident.commands import register_commands
from .incident.escalation import ESCALATION_TIMER, Escalations
from .incident.handlers import (
    AGENT_SUBJECTS,
    AGENTS_CONSUMER,
    INTAKE_CONSUMER,
    ONCALL_CONSUMER,
    ONCALL_SUBJECTS,
    SLM_CONSUMER,
    SLM_SUBJECTS,
    AlertIntake,
    Chronicle,
)
from .incident.queries import register_queries
from .incident.rules import RuleFile
from .metrics import IncidentMetrics, open_incidents
from .problem.commands import register_problems
from .problem.handlers import Problems
from .silence.commands import register_silences
from .silence.store import SilenceBook
from .store import metadata


class IncidentSettings(ServiceSettings):
    service_name: str = "incidents"
    # Correlation loads and writes per batch (records, groups, incidents, timeline): the
    # per-statement cost is fixed, so larger batches carry storms faster (make bench,
    # correlation: 0.47-0.52x the reference hop at 256, 0.67-0.68x at 1000). A quiet
    # stream still gets small batches, so latency does not suffer.
    batch_size: int = Field(default=1000, ge=1, le=5000)
    correlation_rules: Path | None = Field(
        default=None, description="REASONOPS_CORRELATION_RULES: YAML correlation rules, "
        "escalation policies and problem settings; reloaded when the file changes")
    service_catalog: Path | None = Field(
        default=None, description="REASONOPS_SERVICE_CATALOG: YAML service catalog (owner, "
        "tier, depends_on)")

    @field_validator("correlation_rules", "service_catalog", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


def load_catalog(path: Path | None) -> ServiceCatalog | None:
    """The catalog, or None without one (the catalog file's errors name file, line and
    field: ``catalog_file``)."""
    return None if path is None else catalog_file.load_catalog(path)


def build_service(settings: IncidentSettings | None = None, *,
                  clock: Clock | None = None) -> Service:
    """Load the rules, the catalog and the role policy (a bad file stops the service here,
    naming file, line, field and reason), then wire the consumers, commands, queries and the
    escalation timer."""
    settings = settings or IncidentSettings()
    service = Service("incidents", settings, metadata=(metadata,), clock=clock)
    rules = RuleFile(settings.correlation_rules, service.clock.now)
    catalog = load_catalog(settings.service_catalog)
    metrics = IncidentMetrics(service.registry)
    silences = SilenceBook(service.clock.now)
    escalations = Escalations(service.clock, rules, silences, metrics)
    service.consume(INTAKE_CONSUMER, AlertIntake(
        service.clock, metrics, rules=rules, catalog=catalog, silences=silences,
        escalations=escalations, problems=Problems()), subjects=(EventAccepted.SUBJECT,))
    access = Access(Enforcer(policy_file.configured(settings.policy), "incidents"), catalog,
                    service.clock)
    chronicle = Chronicle(service.clock, rules, escalations, access)
    service.consume(AGENTS_CONSUMER, chronicle, subjects=AGENT_SUBJECTS, stream=AGENTS)
    service.consume(SLM_CONSUMER, chronicle, subjects=SLM_SUBJECTS, stream=SLM, background=True)
    service.consume(ONCALL_CONSUMER, chronicle, subjects=ONCALL_SUBJECTS, stream=ONCALL,
                    background=True)
    service.on_timer(ESCALATION_TIMER, escalations.on_timer, together=True)
    register_commands(service, metrics, rules, escalations, access)
    register_queries(service, rules, access)
    register_problems(service, access)
    register_silences(service, silences, access)
    gauge = open_incidents(service.registry)
    service.refresh_every(5.0, lambda: gauge.refresh(service.store))
    return service
