"""Agent figures: the rules provider, the privacy guard, a model behind HTTP (a fake
OpenAI-compatible server on loopback), and the triage service end to end on NATS."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from prometheus_client import CollectorRegistry

from reasonops_agent_triage.app import PROMPTS, TriageSettings, build_service
from reasonops_agent_triage.domain import triage
from reasonops_agent_triage.evaluate import load_cases
from reasonops_agent_triage.handlers import prompt_input
from reasonops_cli.credentials import ensure_identities
from reasonops_cli.natsd import EmbeddedNats
from reasonops_contracts import Envelope, subjects
from reasonops_contracts.agents import TriageOutput, TriageRequested
from reasonops_llm import LlmMetrics, LlmSettings, PrivacyGuard, PromptTemplate, build_router
from reasonops_llm.fakes import FakeLlmServer
from reasonops_runtime.ports import free_port

CASES = Path(__file__).resolve().parents[1] / "data" / "triage-eval.jsonl"
ANSWER = {"category": "database", "assignment_group": "database-administration",
          "suggested_impact": 2, "suggested_urgency": 2, "suggested_priority": 3,
          "confidence": 0.8, "reasons": ["bench"], "summary": "bench"}


def requests(n: int) -> list[TriageRequested]:
    cases = load_cases(CASES)
    return [cases[i % len(cases)].request(i + 1) for i in range(n)]


def fresh(n: int) -> list[TriageRequested]:
    """``requests`` with every title, description and instance new: what the rules have
    seen before (label names, the sets' own words) comes back, the texts do not."""
    batch = []
    for i, r in enumerate(requests(n)):
        note = f"{r.annotations.get('description', '')} (node-{i}, value {i * 7 % 1000})"
        batch.append(r.model_copy(update={
            "title": f"{r.title} on node-{i}",
            "labels": {**r.labels, "instance": f"node-{i}.prod:9100"},
            "annotations": {**r.annotations, "description": note}}))
    return batch


def rules_rate(n: int, *, new_texts: bool = False) -> float:
    batch = fresh(n) if new_texts else requests(n)
    started = time.perf_counter()
    for request in batch:
        triage(request)
    return n / (time.perf_counter() - started)


def guard_rate(n: int) -> tuple[float, int]:
    template = PromptTemplate.latest(PROMPTS, "triage")
    prompts = [template.render(prompt_input(r)) for r in requests(200)]
    guard = PrivacyGuard()
    started = time.perf_counter()
    for i in range(n):
        guard.redact_all([prompts[i % len(prompts)].system, prompts[i % len(prompts)].user])
    size = statistics.fmean(len(p.system) + len(p.user) for p in prompts)
    return n / (time.perf_counter() - started), int(size)


async def http_model(n: int, concurrency: int) -> tuple[float, float, float]:
    server = await FakeLlmServer(ANSWER).start()
    try:
        router = build_router("bench", "openai:bench-model", LlmSettings(
            openai_url=server.url, openai_api_key="sk-bench-0123456789abcdefghij",
            concurrency=concurrency), LlmMetrics(CollectorRegistry()))
        template = PromptTemplate.latest(PROMPTS, "triage")
        batch = requests(n)
        latencies: list[float] = []
        limit = asyncio.Semaphore(concurrency)

        async def one(request: TriageRequested) -> None:
            async with limit:
                answer = await router.decide(template.render(prompt_input(request)),
                                             TriageOutput, lambda: triage(request))
                assert answer.provider == "openai"
                latencies.append(answer.latency_ms)

        started = time.perf_counter()
        await asyncio.gather(*(one(r) for r in batch))
        rate = n / (time.perf_counter() - started)
        ordered = sorted(latencies)
        return rate, ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.95)]
    finally:
        await server.stop()


async def service_rate(n: int, data_dir: Path) -> float:
    """Requests published on NATS -> recorded decisions relayed to JetStream (rules)."""
    server = EmbeddedNats(data_dir / "js", port=free_port(), monitor_port=None,
                          log_file=data_dir / "nats.log")
    server.start()
    # The service answers only signed requests: it needs the registry `reasonops up`
    # writes (the requests here are events; the broker runs without authentication).
    ensure_identities(data_dir / "svc", ["agent-triage"])
    service = build_service(TriageSettings(nats_url=server.url, data_dir=data_dir / "svc",
                                           http_port=free_port()))
    try:
        await service.start()
        js = service.js
        started = time.perf_counter()
        for r in requests(n):
            env = Envelope.wrap(r, source="orchestrator", subject=r.incident_id)
            await js.publish_async(subjects.AGENT_TRIAGE_REQUESTED, env.to_bytes(),
                                   headers=env.headers())
        await js.publish_async_completed()
        while True:
            info = await js.stream_info("AGENTS", subjects_filter=subjects.AGENT_DECISION)
            if (info.state.subjects or {}).get(subjects.AGENT_DECISION, 0) >= n:
                break
            await asyncio.sleep(0.05)
        return n / (time.perf_counter() - started)
    finally:
        await service.stop()
        server.stop()


async def run_agents_bench(n: int = 2000) -> None:
    print("\nagents")
    print(f"  rules triage (in process)        {rules_rate(n * 5):>10,.0f} decisions/s")
    print(f"  rules triage, every text new     {rules_rate(n * 5, new_texts=True):>10,.0f} "
          "decisions/s")
    rate, size = guard_rate(n * 2)
    print(f"  privacy guard ({size}-char prompt)  {rate:>10,.0f} prompts/s")
    rate, p50, p95 = await http_model(n // 4, 4)
    print(f"  model over HTTP (fake, 4 in flight) {rate:>7,.0f} decisions/s, "
          f"p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    with tempfile.TemporaryDirectory(prefix="reasonops-agents-bench-") as tmp:
        rate = await service_rate(n, Path(tmp))
    print(f"  agent-triage service, rules, NATS  {rate:>8,.0f} decisions/s "
          f"({n} requests -> recorded, relayed decisions)")


if __name__ == "__main__":
    asyncio.run(run_agents_bench())
