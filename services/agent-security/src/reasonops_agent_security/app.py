"""Composition root of the security agent."""

from __future__ import annotations

from pathlib import Path

import httpx
from pydantic import AliasChoices, Field

from reasonops_contracts.streams import INGEST
from reasonops_llm import LlmSettings, PromptTemplate
from reasonops_llm.agent import AgentKit, AgentSettings
from reasonops_llm.queue import metadata as queue_metadata
from reasonops_runtime import Clock, Service
from reasonops_runtime.jetstream import caught_up

from .domain import Thresholds
from .handlers import CONSUMER, REQUESTS_CONSUMER, SecurityAgent
from .store import metadata

PROMPTS = Path(__file__).parent / "prompts"


class SecuritySettings(AgentSettings):
    service_name: str = "agent-security"
    chain: str = Field(default="", validation_alias=AliasChoices("REASONOPS_SECURITY_CHAIN"))
    window_seconds: int = Field(default=300, ge=10)
    brute_force_failures: int = Field(default=100, ge=2)
    stuffing_accounts: int = Field(default=20, ge=2)
    stuffing_tries_per_account: float = Field(default=5.0, gt=0)
    cooldown_seconds: int = Field(default=1800, ge=0)
    privilege_after_failures: int = Field(default=10, ge=1)
    long_window_seconds: int = Field(default=3600, ge=60)
    slow_brute_force_failures: int = Field(default=120, ge=2)
    spraying_accounts: int = Field(default=40, ge=2)
    recovered_share: float = Field(default=0.5, ge=0, le=1)
    distributed_failures: int = Field(default=50, ge=2)
    distributed_sources: int = Field(default=5, ge=2)


EVENTS_BATCH_SIZE = 500
CATCH_UP_SECONDS = 15.0
"""How long a review waits for the events ingest had accepted when it was asked to be
stored (the events durable is a background one, and an attack comes in thousands)."""


def build_service(settings: SecuritySettings | None = None, *, clock: Clock | None = None,
                  llm: LlmSettings | None = None, client: httpx.AsyncClient | None = None
                  ) -> Service:
    settings = settings or SecuritySettings()
    service = Service("agent-security", settings, metadata=(metadata, queue_metadata),
                      clock=clock)
    template = PromptTemplate.latest(PROMPTS, "security")
    kit = AgentKit(service, "security", settings, llm=llm, prompt_version=template.version,
                   client=client)
    limits = Thresholds(**{name: getattr(settings, name)
                           for name in Thresholds.__dataclass_fields__})
    agent = SecurityAgent(kit.router, template, service.clock, limits, service.store,
                          caught_up=lambda: caught_up(service.js, INGEST.name, CONSUMER,
                                                      patience=CATCH_UP_SECONDS))
    agent.queue = kit.serve(agent.decide)
    # The detectors window over many raw alerts: 500 a fetch, unless REASONOPS_BATCH_SIZE
    # says otherwise.
    own = None if "batch_size" in settings.model_fields_set else EVENTS_BATCH_SIZE
    service.consume(CONSUMER, agent.events(), batch_size=own, background=True)
    service.consume(REQUESTS_CONSUMER, agent.requests())
    return service
