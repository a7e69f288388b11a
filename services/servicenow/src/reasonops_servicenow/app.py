"""Composition root of the ServiceNow sync."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field, field_validator

from reasonops_contracts import durables
from reasonops_runtime import Clock, Service, ServiceSettings, policy_file
from reasonops_runtime.enforcement import Enforcer

from . import mapping
from .commands import SyncCommands
from .failures import Failures
from .handlers import POLL_TIMER, PULL_TIMER, Sync, idle_router
from .inbound import Inbound
from .metrics import SyncMetrics
from .outbound import Outbound
from .queries import SyncQueries
from .store import metadata
from .table import Credentials, TableClient


class SyncSettings(ServiceSettings):
    service_name: str = "servicenow"
    servicenow_url: str | None = Field(default=None, description=(
        "REASONOPS_SERVICENOW_URL: the instance (https://<name>.service-now.com); "
        "without it the service answers status and syncs nothing"))
    servicenow_mapping: Path | None = Field(default=None, description=(
        "REASONOPS_SERVICENOW_MAPPING: YAML file of which incidents are synced and how "
        "their fields map (default: P1-P2, the usual incident fields)"))
    servicenow_user: str | None = Field(default=None, description=(
        "REASONOPS_SERVICENOW_USER: basic authentication, with the password"))
    servicenow_password: str | None = Field(default=None, repr=False, description=(
        "REASONOPS_SERVICENOW_PASSWORD (or _FILE); never logged"))
    servicenow_password_file: Path | None = None
    servicenow_client_id: str | None = Field(default=None, description=(
        "REASONOPS_SERVICENOW_CLIENT_ID: OAuth client credentials, with the secret "
        "(instead of basic authentication)"))
    servicenow_client_secret: str | None = Field(default=None, repr=False, description=(
        "REASONOPS_SERVICENOW_CLIENT_SECRET (or _FILE); never logged"))
    servicenow_client_secret_file: Path | None = None
    servicenow_poll_seconds: float = Field(default=30.0, gt=0, description=(
        "REASONOPS_SERVICENOW_POLL_SECONDS: how often changed records are read back"))
    servicenow_push_delay_seconds: float = Field(default=0.5, ge=0, description=(
        "REASONOPS_SERVICENOW_PUSH_DELAY_SECONDS: changes to one incident within this "
        "time go out as one update"))
    servicenow_requests_per_second: float = Field(default=100.0, gt=0, description=(
        "REASONOPS_SERVICENOW_REQUESTS_PER_SECOND: at most this many requests leave"))
    servicenow_concurrency: int = Field(default=4, ge=1, le=32, description=(
        "REASONOPS_SERVICENOW_CONCURRENCY: records written at once (ServiceNow serves "
        "an integration's REST calls from a small pool per node)"))
    servicenow_lease_seconds: float = Field(default=60.0, gt=0, description=(
        "REASONOPS_SERVICENOW_LEASE_SECONDS: how long a push is held by the replica "
        "doing it; one that died is taken over after this"))
    servicenow_dispatch_seconds: float = Field(default=0.1, gt=0, description=(
        "REASONOPS_SERVICENOW_DISPATCH_SECONDS: how often due pushes are looked for"))

    @field_validator("servicenow_url", "servicenow_mapping", "servicenow_user",
                     "servicenow_password", "servicenow_password_file",
                     "servicenow_client_id", "servicenow_client_secret",
                     "servicenow_client_secret_file", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    def credentials(self) -> Credentials:
        return Credentials(
            user=self.servicenow_user,
            password=_secret(self.servicenow_password, self.servicenow_password_file),
            client_id=self.servicenow_client_id,
            client_secret=_secret(self.servicenow_client_secret,
                                  self.servicenow_client_secret_file))


def _secret(value: str | None, file: Path | None) -> str | None:
    """From the file's first line when one is named, else as given."""
    return (file.read_text().strip() or None) if file is not None else value


def build_service(settings: SyncSettings | None = None, *,
                  clock: Clock | None = None) -> Service:
    """A wrong mapping file stops the service here, saying what is wrong."""
    settings = settings or SyncSettings()
    service = Service("servicenow", settings, metadata=(metadata,), clock=clock)
    enforcer = Enforcer(policy_file.configured(settings.policy), "servicenow")
    fields = mapping.load(settings.servicenow_mapping)
    credentials = settings.credentials()
    metrics = SyncMetrics(service.registry)
    sync = None
    if settings.servicenow_url:
        table = TableClient(settings.servicenow_url, credentials,
                            per_second=settings.servicenow_requests_per_second,
                            counted=lambda method: metrics.requests.labels(method).inc())
        failures = Failures(metrics)
        inbound = Inbound(table=table, mapping=fields, clock=service.clock,
                          nc=lambda: service.nc, metrics=metrics, failures=failures)
        outbound = Outbound(
            table=table, mapping=fields, clock=service.clock, nc=lambda: service.nc,
            metrics=metrics, failures=failures, inbound=inbound,
            transaction=service.transaction, read=service.store.read,
            owner=settings.instance,
            push_delay=timedelta(seconds=settings.servicenow_push_delay_seconds),
            concurrency=settings.servicenow_concurrency,
            lease=timedelta(seconds=settings.servicenow_lease_seconds))
        sync = Sync(outbound=outbound, inbound=inbound, failures=failures,
                    clock=service.clock,
                    poll_every=timedelta(seconds=settings.servicenow_poll_seconds))
        service.consume(durables.SERVICENOW_INCIDENTS, sync.router(), background=True)
        service.on_timer(PULL_TIMER, sync.pull_due)
        service.on_timer(POLL_TIMER, sync.poll_due)
        service.refresh_every(settings.servicenow_dispatch_seconds, outbound.run_once)

        async def start_polling() -> None:
            async with service.transaction() as tx:
                await sync.ensure_polling(tx)

        service.startup_hooks.append(start_polling)
        service.shutdown_hooks.append(outbound.drain)
        service.shutdown_hooks.append(table.aclose)
    else:
        service.consume(durables.SERVICENOW_INCIDENTS, idle_router(), background=True)
    SyncCommands(service, sync, enforcer).register()
    SyncQueries(service, fields if sync else None, enforcer, settings.servicenow_url,
                credentials.kind).register()
    return service
