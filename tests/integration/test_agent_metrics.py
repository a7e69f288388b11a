"""Every agent service exports the LLM metrics dashboards rely on, from start-up."""

from functools import partial

import httpx
import pytest

from reasonops_agent_capacity.app import CapacitySettings
from reasonops_agent_capacity.app import build_service as build_capacity
from reasonops_agent_rca.app import RcaSettings
from reasonops_agent_rca.app import build_service as build_rca
from reasonops_agent_security.app import SecuritySettings
from reasonops_agent_security.app import build_service as build_security
from reasonops_agent_triage.app import TriageSettings
from reasonops_agent_triage.app import build_service as build_triage
from reasonops_llm import LlmSettings

pytestmark = pytest.mark.nats

NAMES = ("reasonops_llm_calls_total", "reasonops_llm_call_seconds_bucket",
         "reasonops_llm_tokens_total", "reasonops_llm_fallbacks_total",
         "reasonops_agent_decisions_total")


@pytest.mark.parametrize(("agent", "build", "settings"), [
    ("triage", build_triage, TriageSettings), ("rca", build_rca, RcaSettings),
    ("security", build_security, SecuritySettings),
    ("capacity", build_capacity, CapacitySettings),
])
async def test_llm_metric_names_on_every_agent(agent, build, settings, start_service):
    llm = LlmSettings(openai_url="http://127.0.0.1:9")
    service = await start_service(partial(build, llm=llm), settings,
                                  chain="openai:gpt-4o-mini -> rules")
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"http://127.0.0.1:{service.port}/metrics")).text
    for name in NAMES:
        assert f'{name}{{agent="{agent}"' in text, name
    assert f'reasonops_llm_calls_total{{agent="{agent}",model="gpt-4o-mini",outcome="ok",' \
           f'provider="openai"}} 0.0' in text
