"""Composition root of the capacity agent."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx
from pydantic import AliasChoices, Field

from reasonops_contracts import durables
from reasonops_llm import LlmSettings, PromptTemplate
from reasonops_llm.agent import AgentKit, AgentSettings
from reasonops_llm.queue import metadata as queue_metadata
from reasonops_runtime import Clock, Service

from . import store
from .domain import DEFAULT_TARGETS
from .handlers import CapacityAgent

PROMPTS = Path(__file__).parent / "prompts"


class CapacitySettings(AgentSettings):
    service_name: str = "agent-capacity"
    chain: str = Field(default="", validation_alias=AliasChoices("REASONOPS_CAPACITY_CHAIN"))
    resolution_targets: str = Field(
        default=json.dumps(DEFAULT_TARGETS),
        description='Hours to resolve by severity, JSON: {"critical": 4, "warning": 24}')
    lookback_hours: float = Field(default=24.0, gt=0)
    min_points: int = Field(default=3, ge=2)


def build_service(settings: CapacitySettings | None = None, *, clock: Clock | None = None,
                  llm: LlmSettings | None = None, client: httpx.AsyncClient | None = None
                  ) -> Service:
    settings = settings or CapacitySettings()
    service = Service("agent-capacity", settings, metadata=(store.metadata, queue_metadata),
                      clock=clock)
    template = PromptTemplate.latest(PROMPTS, "capacity")
    kit = AgentKit(service, "capacity", settings, llm=llm, prompt_version=template.version,
                   client=client)

    async def incident_for(fingerprint: str) -> str | None:
        async with service.store.read() as session:
            return await store.incident_for(session, fingerprint)

    targets = {k: float(v) for k, v in json.loads(settings.resolution_targets).items()}
    agent = CapacityAgent(kit.router, template, service.clock, targets=targets,
                          lookback=timedelta(hours=settings.lookback_hours),
                          min_points=settings.min_points, incident_for=incident_for)
    agent.queue = kit.serve(agent.decide)
    service.consume(durables.AGENT_CAPACITY_ALERTS, agent.alerts(), background=True)
    service.consume(durables.AGENT_CAPACITY_INCIDENTS, agent.incidents(), background=True)
    service.consume(durables.AGENT_CAPACITY_REQUESTS, agent.requests())
    return service
