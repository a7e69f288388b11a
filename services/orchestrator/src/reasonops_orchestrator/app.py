"""Composition root of the orchestrator."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field, field_validator

from reasonops_runtime import Clock, Service, ServiceSettings, policy_file
from reasonops_runtime.policy import Policy

from . import catalog as catalog_files
from .commands import register_commands
from .handlers import Orchestrator
from .metrics import WorkflowMetrics, workflow_instances
from .notify import Notifier
from .queries import register_queries
from .runner import EffectRunner
from .shell import Shell
from .tables import metadata


class OrchestratorSettings(ServiceSettings):
    service_name: str = "orchestrator"
    workflows_dir: Path | None = Field(
        default=None, description="REASONOPS_WORKFLOWS_DIR: extra workflow definitions "
        "(*.yaml) next to the built-in ones; a bad file stops the service")
    policy: Path | None = Field(default=None, description="REASONOPS_POLICY: role policy file")
    notifications: Path | None = Field(
        default=None, description="REASONOPS_NOTIFICATIONS: notification groups and targets")
    effect_poll_seconds: float = Field(
        default=2.0, gt=0, description="REASONOPS_EFFECT_POLL_SECONDS: how often the "
        "effect runner looks for effects owed while it has room for more and was not woken "
        "(effects this process owes wake it at once; this finds another replica's)")
    effect_concurrency: int = Field(
        default=50, ge=1, description="REASONOPS_EFFECT_CONCURRENCY: steps' effects "
        "(commands, queries, notifications, reviews) a replica runs at once")
    effect_lease_seconds: float = Field(
        default=60.0, ge=1, description="REASONOPS_EFFECT_LEASE_SECONDS: how long a claim "
        "on a step's effect (a webhook, a command) holds unless its replica renews it; "
        "a replica that died is recovered from this long after")
    review_wait_seconds: float = Field(
        default=10.0, ge=0, le=30, description="REASONOPS_REVIEW_WAIT_SECONDS: how long a "
        "post-incident review waits for SLM and finance to have handled the incident's "
        "resolution (they follow its events in their own time) before it is recorded with "
        "what they answered and a note of which was behind")
    trigger_max_age_seconds: float = Field(
        default=86400, gt=0, description="REASONOPS_TRIGGER_MAX_AGE_SECONDS: events older "
        "than this start no workflow (a first start reads the streams from the beginning)")

    @field_validator("workflows_dir", "policy", "notifications", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


def build_service(settings: OrchestratorSettings | None = None, *, clock: Clock | None = None,
                  notifier: Notifier | None = None, policy: Policy | None = None) -> Service:
    """The orchestrator; ``ConfigError`` if a workflow definition is wrong."""
    settings = settings or OrchestratorSettings()
    catalog = catalog_files.load(settings.workflows_dir)
    service = Service("orchestrator", settings, metadata=(metadata,), clock=clock)
    policy = policy or (policy_file.configured(settings.policy))
    notifier = notifier or Notifier.load(settings.notifications)
    metrics = WorkflowMetrics(service.registry)
    shell = Shell(service.clock, metrics.observe)
    orchestrator = Orchestrator(catalog, service.clock, shell, trigger_max_age=timedelta(
        seconds=settings.trigger_max_age_seconds))
    orchestrator.register(service)
    runner = EffectRunner(service, shell, notifier, policy,
                          lease=timedelta(seconds=settings.effect_lease_seconds),
                          capacity=settings.effect_concurrency,
                          poll_seconds=settings.effect_poll_seconds,
                          review_wait=settings.review_wait_seconds)
    service.shutdown_hooks.append(notifier.aclose)

    async def on_start() -> None:
        await orchestrator.resume(service)
        await runner.recover()

    service.startup_hooks.append(on_start)
    service.run_while_serving(runner.run)
    register_commands(service, shell, policy)
    register_queries(service, catalog, policy)
    gauge = workflow_instances(service.registry)
    service.refresh_every(5.0, lambda: gauge.refresh(service.store))
    return service
