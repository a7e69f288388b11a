"""Settings every service shares; each service subclasses to add its own."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .broker_auth import BrokerAuth

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"

# The HTTP port each service listens on by default (health, readiness, metrics, APIs).
DEFAULT_PORTS: dict[str, int] = {
    "ingest": 8081,
    "incidents": 8082,
    "slm": 8083,
    "finance": 8084,
    "orchestrator": 8085,
    "agent-triage": 8086,
    "agent-rca": 8087,
    "agent-security": 8088,
    "agent-capacity": 8089,
    "oncall": 8090,
    "servicenow": 8091,
    "changes": 8092,
    "agent-slm": 8093,
    "gateway": 8080,
}

# How much of the CPU each service yields to the others when they share a host (a nice
# value, 0-19; ``ServiceSettings.cpu_nice``). An alert storm saturates a small host: the
# edge (alerts in, incidents out, people reading them) keeps its full share; the path to a
# triage decision and a page comes next; bookkeeping and the agents' evidence take what
# is left and catch up once the storm passes (ADR 54).
EDGE, RESPONSE, BACKGROUND = 0, 5, 19
DEFAULT_CPU_NICE: dict[str, int] = {
    "ingest": EDGE, "incidents": EDGE, "gateway": EDGE,
    "orchestrator": RESPONSE, "agent-triage": RESPONSE, "oncall": RESPONSE,
    "slm": BACKGROUND, "finance": BACKGROUND, "agent-rca": BACKGROUND,
    "agent-security": BACKGROUND, "agent-capacity": BACKGROUND, "agent-slm": BACKGROUND,
    "servicenow": BACKGROUND, "changes": BACKGROUND,
}


class ServiceSettings(BaseSettings):
    """``REASONOPS_*`` environment variables (``NATS_URL`` and ``DATABASE_URL`` also work)."""

    model_config = SettingsConfigDict(env_prefix="REASONOPS_", extra="ignore")

    service_name: str = "service"
    nats_url: str = Field(
        default=DEFAULT_NATS_URL,
        validation_alias=AliasChoices("REASONOPS_NATS_URL", "NATS_URL"),
    )
    nats_creds: Path | None = Field(
        default=None, description="REASONOPS_NATS_CREDS: this service's NATS identity, an "
        "nkey seed file (what `make up` writes) or a .creds file")
    nats_tls_ca: Path | None = Field(default=None, description="CA that signed the server")
    nats_tls_cert: Path | None = Field(default=None, description="client certificate, when "
                                       "the server verifies clients")
    nats_tls_key: Path | None = None
    identity: str | None = Field(
        default=None, description="REASONOPS_IDENTITY: the registry name this service signs "
        "as; default: the service's own name")
    identity_key: Path | None = Field(
        default=None, description="REASONOPS_IDENTITY_KEY: the nkey seed this service signs "
        "its requests with; default: the seed in nats_creds")
    identities: Path | None = Field(
        default=None, description="REASONOPS_IDENTITIES: the identity registry (public keys "
        "and who may speak for whom); default: identities.json in data_dir")
    data_dir: Path = Field(default=Path(".reasonops"))
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("REASONOPS_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy async URL; default a SQLite file per service in data_dir. "
        "`{service}` in it is the service's name (agent-rca: agent_rca), so one URL gives "
        "every service a database of its own, created on first start",
    )
    migrate_on_start: bool = Field(
        default=True, description="REASONOPS_MIGRATE_ON_START: bring the database's schema "
        "to this release's on start; false where a separate `reasonops migrate` step "
        "(a Kubernetes Job) does it, and a service then refuses to start on an old schema")
    sqlite_synchronous: Literal["NORMAL", "FULL", "EXTRA"] = Field(
        default="NORMAL", description="REASONOPS_SQLITE_SYNCHRONOUS: NORMAL survives a "
        "crashed process; FULL also a power loss, at the cost of a sync per commit")
    inbox_retention_days: int | None = Field(
        default=None, ge=1, description="REASONOPS_INBOX_RETENTION_DAYS: how long handled "
        "message ids are remembered; default and minimum: the longest a consumed message "
        "can be redelivered or replayed")
    http_host: str = "127.0.0.1"
    http_port: int | None = Field(default=None, ge=0, le=65535,
                                  description="Default from DEFAULT_PORTS; 0: any free port")
    batch_size: int = Field(default=256, ge=1, le=5000)
    fetch_timeout: float = Field(
        default=2.0, gt=0, le=60, description="REASONOPS_FETCH_TIMEOUT: how long an idle "
        "consumer's pull request waits on the broker before it asks again. A message is "
        "delivered the moment it arrives whatever the value; a shorter wait only makes an "
        "idle stack ask more often (at 0.5 s it took 11% of a core doing nothing, at 2 s "
        "6-7%), and a longer one is how long a consumer may wait after its connection to "
        "the broker comes back")
    background_batch_seconds: float = Field(
        default=0.2, ge=0, le=3600, description="REASONOPS_BACKGROUND_BATCH_SECONDS: while "
        "messages keep coming, a background consumer (bookkeeping and the agents' "
        "evidence, off the path from an alert to its incident and triage) starts at most "
        "one batch in this time, so a steady trickle costs a few large batches rather "
        "than many small ones; a message that finds it idle is handled at once. 0: no wait")
    max_deliver: int = Field(
        default=5, ge=1, description="REASONOPS_MAX_DELIVER: failures a message may cause "
        "before it is dead-lettered (failures of the database or broker do not count)")
    ack_wait_seconds: float = Field(default=30.0, gt=0)
    deferred_retry_max_seconds: float = Field(
        default=30.0, gt=0, description="REASONOPS_DEFERRED_RETRY_MAX_SECONDS: the longest "
        "wait between tries of a message the database or broker keeps failing (doubling "
        "from 2 s); such a message is retried until they are back, never dead-lettered")
    outbox_poll_seconds: float = Field(default=0.5, gt=0)
    timer_poll_seconds: float = Field(default=0.25, gt=0)
    drain_timeout_seconds: float = Field(default=8.0, gt=0)
    stream_replicas: int = Field(default=1, ge=1, le=5,
                                 description="JetStream replicas of the streams this service "
                                             "declares (3 on a 3-node cluster)")
    policy: Path | None = Field(
        default=None, description="REASONOPS_POLICY: YAML role policy (who may run which "
        "command where); default: the built-in policy (see Policy.default)")
    audit_retention_days: int = Field(
        default=365, ge=1, le=36500,
        description="How long the AUDIT stream keeps every domain event; set the same on "
                    "every service (each one declares the streams at start)")
    cpu_nice: int | None = Field(
        default=None, ge=0, le=19, description="REASONOPS_CPU_NICE: this service's CPU "
        "priority beside the other services of its host, as a nice value (0: full share, "
        "19: what the others leave); applied by the service process (``reasonops run``, "
        "``reasonops up``) to itself and, on Linux with autogroup scheduling, to its "
        "session. Default from DEFAULT_CPU_NICE (the edge 0, the response path 5, the "
        "rest 19)")
    log_level: str = "INFO"
    instance: str = Field(default_factory=lambda: f"{os.uname().nodename}-{os.getpid()}")

    @field_validator("policy", mode="before")
    @classmethod
    def _blank_policy_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    def broker_auth(self) -> BrokerAuth:
        return BrokerAuth(self.nats_creds, self.nats_tls_ca, self.nats_tls_cert,
                          self.nats_tls_key)

    def identity_key_file(self) -> Path | None:
        return self.identity_key or self.nats_creds

    def identities_file(self) -> Path:
        return self.identities or self.data_dir / "identities.json"

    def nats_url_for_logs(self) -> str:
        """``nats_url`` without a password (Kubernetes puts one in it)."""
        return redact_url(self.nats_url)

    def port(self) -> int:
        """The HTTP port to listen on; 0 lets the system choose (``Service.port`` tells)."""
        if self.http_port is not None:
            return self.http_port
        return DEFAULT_PORTS.get(self.service_name, 8080)

    def nice(self) -> int:
        """The CPU priority to run at (``cpu_nice``, else this service's default)."""
        if self.cpu_nice is not None:
            return self.cpu_nice
        return DEFAULT_CPU_NICE.get(self.service_name, EDGE)

    def db_url(self) -> str:
        if self.database_url:
            return self.database_url.replace(SERVICE_PLACEHOLDER,
                                             self.service_name.replace("-", "_"))
        return f"sqlite+aiosqlite:///{self.data_dir.resolve() / (self.service_name + '.db')}"


SERVICE_PLACEHOLDER = "{service}"
"""In ``database_url``: this service's name, so services that share one URL do not share
a database (each one's inbox, outbox and timers are its own)."""


def nats_url_from_env() -> str:
    """The broker URL the way every service reads it: ``REASONOPS_NATS_URL``, else
    ``NATS_URL``, else the default (the CLI too, so one environment means one broker)."""
    return (os.environ.get("REASONOPS_NATS_URL") or os.environ.get("NATS_URL")
            or DEFAULT_NATS_URL)


def redact_url(url: str) -> str:
    """``scheme://user:***@host`` for every server of a (comma-separated) NATS URL."""
    parts = []
    for server in url.split(","):
        scheme, sep, rest = server.partition("://")
        credentials, at, host = rest.rpartition("@")
        if sep and at and ":" in credentials:
            server = f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"
        parts.append(server)
    return ",".join(parts)
