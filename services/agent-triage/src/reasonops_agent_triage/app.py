"""Composition root of the triage agent."""

from __future__ import annotations

from pathlib import Path

import httpx
from pydantic import AliasChoices, Field

from reasonops_contracts.agents import RunTriage
from reasonops_llm import LlmSettings, PromptTemplate
from reasonops_llm.agent import AgentKit, AgentSettings
from reasonops_llm.queue import metadata
from reasonops_runtime import Clock, Service, policy_file
from reasonops_runtime.enforcement import Enforcer

from .classify import shipped_vocabulary
from .handlers import CONSUMER, TriageAgent
from .queries import TriageQueries

PROMPTS = Path(__file__).parent / "prompts"


class TriageSettings(AgentSettings):
    service_name: str = "agent-triage"
    chain: str = Field(default="", validation_alias=AliasChoices("REASONOPS_TRIAGE_CHAIN"),
                       description="e.g. 'ollama:llama3.1 -> openai:gpt-4o-mini -> rules'")


def build_service(settings: TriageSettings | None = None, *, clock: Clock | None = None,
                  llm: LlmSettings | None = None, client: httpx.AsyncClient | None = None
                  ) -> Service:
    settings = settings or TriageSettings()
    service = Service("agent-triage", settings, metadata=(metadata,), clock=clock)
    template = PromptTemplate.latest(PROMPTS, "triage")
    kit = AgentKit(service, "triage", settings, llm=llm, prompt_version=template.version,
                   client=client)
    agent = TriageAgent(kit.router, template, service.clock, kit.repeats)
    agent.queue = kit.serve(agent.decide, inline=True)
    service.consume(CONSUMER, agent.consumer())
    queries = TriageQueries(agent, Enforcer(policy_file.configured(settings.policy),
                                            "agent-triage"), service.clock)
    service.respond(RunTriage, queries.run)

    async def read_vocabulary() -> None:
        shipped_vocabulary()  # at start, rather than in the first decision (~150 ms)

    service.startup_hooks.append(read_vocabulary)
    return service
