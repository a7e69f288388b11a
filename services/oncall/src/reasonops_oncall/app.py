"""Composition root of the on-call service."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from reasonops_runtime import Clock, Service, ServiceSettings, policy_file
from reasonops_runtime.catalog_file import load_catalog
from reasonops_runtime.enforcement import Enforcer

from .commands import OverrideCommands
from .config import RosterFile
from .current import CurrentRoster
from .queries import OnCallQueries
from .store import metadata


class OnCallSettings(ServiceSettings):
    service_name: str = "oncall"
    oncall: Path | None = Field(
        default=None, description="REASONOPS_ONCALL: YAML file of users (time zones, "
        "contacts), teams, schedules (rotations in layers, restrictions, overrides) and "
        "which schedule answers for a service; reloaded when the file changes")
    service_catalog: Path | None = Field(
        default=None, description="REASONOPS_SERVICE_CATALOG: a service's owning team, "
        "whose schedule answers for it unless the on-call file names one")

    @field_validator("oncall", "service_catalog", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


def build_service(settings: OnCallSettings | None = None, *,
                  clock: Clock | None = None) -> Service:
    """A wrong on-call or catalog file stops the service here, saying what is wrong."""
    settings = settings or OnCallSettings()
    service = Service("oncall", settings, metadata=(metadata,), clock=clock)
    roster = CurrentRoster(service, RosterFile.open(settings.oncall, service.clock.now()))
    enforcer = Enforcer(policy_file.configured(settings.policy), "oncall")
    OnCallQueries(service, roster, enforcer, load_catalog(settings.service_catalog)).register()
    OverrideCommands(service, roster, enforcer).register()
    return service
