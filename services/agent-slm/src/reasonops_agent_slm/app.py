"""Composition root of the service-level agent."""

from __future__ import annotations

from pathlib import Path

import httpx
from pydantic import AliasChoices, Field

from reasonops_contracts import durables
from reasonops_llm import LlmSettings, PromptTemplate
from reasonops_llm.agent import AgentKit, AgentSettings
from reasonops_llm.queue import metadata as queue_metadata
from reasonops_runtime import Clock, Service

from . import store
from .handlers import SlmAgent

PROMPTS = Path(__file__).parent / "prompts"


class SlmAgentSettings(AgentSettings):
    service_name: str = "agent-slm"
    chain: str = Field(default="", validation_alias=AliasChoices("REASONOPS_SLM_CHAIN"))
    scan_seconds: float = Field(default=60.0, gt=0, validation_alias=AliasChoices(
        "REASONOPS_SLM_SCAN_SECONDS", "scan_seconds"),
        description="How often every running clock is forecast")
    scan_limit: int = Field(default=2000, ge=1, description="Clocks forecast per scan, "
                            "nearest deadline first")
    overflow_groups: dict[str, str] = Field(
        default_factory=dict, validation_alias=AliasChoices(
            "REASONOPS_SLM_OVERFLOW_GROUPS", "overflow_groups"),
        description='Group -> the group to hand work to when its queue makes it late, '
                    'JSON: {"network-operations": "network-oncall"}')


def build_service(settings: SlmAgentSettings | None = None, *, clock: Clock | None = None,
                  llm: LlmSettings | None = None, client: httpx.AsyncClient | None = None
                  ) -> Service:
    settings = settings or SlmAgentSettings()
    service = Service("agent-slm", settings, metadata=(store.metadata, queue_metadata),
                      clock=clock)
    template = PromptTemplate.latest(PROMPTS, "slm")
    kit = AgentKit(service, "slm", settings, llm=llm, prompt_version=template.version,
                   client=client)
    agent = SlmAgent(kit.router, template, service.clock, service.transaction,
                     scan_limit=settings.scan_limit, overflow=settings.overflow_groups)
    agent.queue = kit.serve(agent.decide)
    service.consume(durables.AGENT_SLM_CLOCKS, agent.clocks(), background=True)
    service.consume(durables.AGENT_SLM_INCIDENTS, agent.incidents(), background=True)

    async def scan() -> None:
        await agent.scan()
    service.refresh_every(settings.scan_seconds, scan)
    return service
