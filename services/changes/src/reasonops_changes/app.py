"""Composition root of the change service."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from reasonops_contracts import durables
from reasonops_runtime import Clock, Service, ServiceSettings, policy_file
from reasonops_runtime.catalog_file import load_catalog
from reasonops_runtime.enforcement import Enforcer

from . import config
from .commands import ChangeCommands
from .handlers import IncidentLinks
from .metrics import ChangeCounters
from .queries import ChangeQueries
from .store import metadata


class ChangeSettings(ServiceSettings):
    service_name: str = "changes"
    changes: Path | None = Field(default=None, description=(
        "REASONOPS_CHANGES: YAML file of pre-approved templates (standard changes), freeze "
        "windows and how long after a change incidents are linked to it"))
    service_catalog: Path | None = Field(default=None, description=(
        "REASONOPS_SERVICE_CATALOG: the services a change may name, their owners and "
        "tiers (risk)"))

    @field_validator("changes", "service_catalog", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


def build_service(settings: ChangeSettings | None = None, *,
                  clock: Clock | None = None) -> Service:
    """A wrong change or catalog file stops the service here, saying what is wrong."""
    settings = settings or ChangeSettings()
    service = Service("changes", settings, metadata=(metadata,), clock=clock)
    changes = config.load(settings.changes)
    catalog = load_catalog(settings.service_catalog)
    enforcer = Enforcer(policy_file.configured(settings.policy), "changes")
    counters = ChangeCounters(service.registry)
    ChangeCommands(service, changes, catalog, enforcer, counters).register()
    ChangeQueries(service, changes, catalog, enforcer).register()
    service.consume(durables.CHANGES_INCIDENTS,
                    IncidentLinks(changes, service.clock, counters).router(), background=True)
    return service
