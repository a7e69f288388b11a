"""Composition root of the root-cause agent."""

from __future__ import annotations

from pathlib import Path

import httpx
from pydantic import AliasChoices, Field

from reasonops_contracts import durables
from reasonops_llm import LlmSettings, PromptTemplate
from reasonops_llm.agent import AgentKit, AgentSettings
from reasonops_llm.embeddings import build_embedder
from reasonops_llm.queue import metadata as queue_metadata
from reasonops_runtime import Clock, Service
from reasonops_runtime.catalog_file import load_catalog

from . import store
from .handlers import RcaAgent

PROMPTS = Path(__file__).parent / "prompts"


class RcaSettings(AgentSettings):
    service_name: str = "agent-rca"
    chain: str = Field(default="", validation_alias=AliasChoices("REASONOPS_RCA_CHAIN"))
    embeddings: str = Field(
        default="", validation_alias=AliasChoices("REASONOPS_RCA_EMBEDDINGS", "embeddings"),
        description="e.g. 'ollama:nomic-embed-text'; empty: lexical similarity")
    service_catalog: Path | None = Field(
        default=None, validation_alias=AliasChoices("REASONOPS_SERVICE_CATALOG",
                                                    "service_catalog"))


def build_service(settings: RcaSettings | None = None, *, clock: Clock | None = None,
                  llm: LlmSettings | None = None, client: httpx.AsyncClient | None = None
                  ) -> Service:
    settings = settings or RcaSettings()
    service = Service("agent-rca", settings, metadata=(store.metadata, queue_metadata),
                      clock=clock)
    template = PromptTemplate.latest(PROMPTS, "rca")
    kit = AgentKit(service, "rca", settings, llm=llm, prompt_version=template.version,
                   client=client)
    agent = RcaAgent(service.store, kit.router, template, service.clock,
                     load_catalog(settings.service_catalog),
                     build_embedder(settings.embeddings, kit.llm),
                     PromptTemplate.latest(PROMPTS, "briefing"))
    agent.queue = kit.serve(agent.decide)
    service.consume(durables.AGENT_RCA_ALERTS, agent.ingest(), background=True)
    service.consume(durables.AGENT_RCA_INCIDENTS, agent.incidents(), background=True)
    # Requests and every agent's decisions: off the way to a triage decision (ADR 49).
    service.consume(durables.AGENT_RCA_REQUESTS, agent.agents(), background=True)
    service.consume(durables.AGENT_RCA_CHANGES, agent.changes(), background=True)
    return service
