"""Every provider client against a fake server speaking its real HTTP API."""

import pytest
from prometheus_client import CollectorRegistry

from reasonops_llm.breaker import CircuitBreaker
from reasonops_runtime.ports import free_port

from .conftest import API_KEY, KINDS, PROMPT, RULES, Recorder, Verdict, make_router

pytestmark = pytest.mark.parametrize("kind", KINDS)


async def test_valid_reply_is_the_answer(kind, fake):
    server = await fake()
    router = make_router(kind, server.url)
    answer = await router.decide(PROMPT, Verdict, lambda: RULES)
    assert answer.provider == kind
    assert answer.output.category == "database"
    assert (answer.tokens_in, answer.tokens_out) == (120, 40)
    assert [a.outcome for a in answer.attempts] == ["ok"]
    assert not answer.fallback
    [seen] = server.requests
    assert "Replication lag on db-1" in seen.body.decode()


async def test_request_uses_the_providers_wire_format(kind, fake):
    server = await fake()
    await make_router(kind, server.url).decide(PROMPT, Verdict, lambda: RULES)
    [seen] = server.requests
    body = seen.json()
    if kind == "openai":
        assert seen.path == "/v1/chat/completions"
        assert seen.headers["authorization"] == f"Bearer {API_KEY}"
        assert body["response_format"]["type"] == "json_schema"
        assert body["response_format"]["json_schema"]["schema"]["properties"]["category"]
        assert body["messages"][0] == {"role": "system", "content": "Classify."}
    elif kind == "azure":
        assert seen.path.startswith("/openai/deployments/fake-model/chat/completions?")
        assert "api-version=2024-10-21" in seen.path
        assert seen.headers["api-key"] == API_KEY
        assert "model" not in body
    elif kind == "ollama":
        assert seen.path == "/api/chat"
        assert body["stream"] is False
        assert body["format"]["required"] == ["category", "confidence", "summary"]
    elif kind == "anthropic":
        assert seen.path == "/v1/messages"
        assert seen.headers["x-api-key"] == API_KEY
        assert seen.headers["anthropic-version"] == "2023-06-01"
        assert body["tool_choice"] == {"type": "tool", "name": "Verdict"}
        assert body["tools"][0]["input_schema"]["properties"]["confidence"]["maximum"] == 1
        assert body["system"] == "Classify."
    elif kind == "gemini":
        assert seen.path == "/v1beta/models/fake-model:generateContent"
        assert seen.headers["x-goog-api-key"] == API_KEY
        config = body["generationConfig"]
        assert config["responseMimeType"] == "application/json"
        assert config["responseSchema"]["properties"]["category"]["enum"] == [
            "network", "database", "application"]
        assert config["responseSchema"]["type"] == "OBJECT"
    else:
        assert seen.path == "/generate"
        assert body["parameters"]["grammar"]["type"] == "json"
        assert body["inputs"].endswith("Assistant:")


async def test_malformed_json_is_retried_once_with_the_error(kind, fake):
    server = await fake(script=["malformed"])
    answer = await make_router(kind, server.url).decide(PROMPT, Verdict, lambda: RULES)
    assert answer.provider == kind
    assert len(server.requests) == 2
    assert "not valid JSON" in server.requests[1].body.decode()


async def test_malformed_twice_falls_back_to_rules(kind, fake):
    server = await fake(default="malformed")
    answer = await make_router(kind, server.url).decide(PROMPT, Verdict, lambda: RULES)
    assert answer.provider == "rules"
    assert answer.fallback
    first = answer.attempts[0]
    assert (first.provider, first.outcome) == (kind, "invalid_output")
    assert "not valid JSON" in first.detail
    assert len(server.requests) == 2


async def test_schema_violation_falls_back_and_says_which_field(kind, fake):
    server = await fake(default="schema")
    answer = await make_router(kind, server.url).decide(PROMPT, Verdict, lambda: RULES)
    assert answer.provider == "rules"
    assert answer.attempts[0].outcome == "invalid_output"
    assert "category" in answer.attempts[0].detail
    assert "does not match the schema" in server.requests[1].body.decode()


async def test_429_waits_as_retry_after_says_then_succeeds(kind, fake):
    server = await fake(script=["429"], retry_after="3")
    sleep = Recorder()
    answer = await make_router(kind, server.url, sleep=sleep).decide(PROMPT, Verdict,
                                                                     lambda: RULES)
    assert answer.provider == kind
    assert sleep.sleeps == [3.0]
    assert len(server.requests) == 2


async def test_retry_after_beyond_the_cap_moves_on(kind, fake):
    server = await fake(default="429", retry_after="120")
    answer = await make_router(kind, server.url, max_retry_after_seconds=30).decide(
        PROMPT, Verdict, lambda: RULES)
    assert answer.provider == "rules"
    assert answer.attempts[0].outcome == "rate_limited"
    assert len(server.requests) == 1


async def test_500_is_retried_with_backoff_then_falls_back(kind, fake):
    server = await fake(default="500")
    sleep = Recorder()
    answer = await make_router(kind, server.url, sleep=sleep).decide(PROMPT, Verdict,
                                                                     lambda: RULES)
    assert answer.provider == "rules"
    assert answer.attempts[0].outcome == "error"
    assert "HTTP 500" in answer.attempts[0].detail
    assert len(server.requests) == 3
    assert sleep.sleeps == [0.01, 0.02]


async def test_timeout_falls_back(kind, fake):
    server = await fake(default="timeout", delay=1.0)
    answer = await make_router(kind, server.url, timeout_seconds=0.2).decide(
        PROMPT, Verdict, lambda: RULES)
    assert answer.provider == "rules"
    assert answer.attempts[0].outcome == "timeout"


async def test_connection_refused_falls_back(kind):
    url = f"http://127.0.0.1:{free_port()}"
    answer = await make_router(kind, url).decide(PROMPT, Verdict, lambda: RULES)
    assert answer.provider == "rules"
    assert answer.attempts[0].outcome == "error"
    assert "cannot connect" in answer.attempts[0].detail


async def test_open_circuit_skips_the_provider(kind, fake):
    server = await fake(default="500")
    breaker = CircuitBreaker(failures=3, cooldown=60)
    registry = CollectorRegistry()
    router = make_router(kind, server.url, breaker=breaker, registry=registry, retries=0)
    for _ in range(3):
        await router.decide(PROMPT, Verdict, lambda: RULES)
    assert breaker.state == "open"
    answer = await router.decide(PROMPT, Verdict, lambda: RULES)
    assert answer.attempts[0].outcome == "circuit_open"
    assert len(server.requests) == 3
    labels = {"agent": "test", "provider": kind, "model": "fake-model", "outcome": "circuit_open"}
    assert registry.get_sample_value("reasonops_llm_calls_total", labels) == 1
    assert registry.get_sample_value("reasonops_llm_fallbacks_total",
                                     {"agent": "test", "from_provider": kind}) == 4


async def test_health_check_speaks_the_api(kind, fake):
    server = await fake(models=("fake-model",))
    [(_route, health)] = await make_router(kind, server.url).health()
    assert health.healthy, health.detail
    assert server.requests


async def test_health_of_an_absent_provider_is_unhealthy(kind):
    url = f"http://127.0.0.1:{free_port()}"
    [(_, health)] = await make_router(kind, url).health()
    assert not health.healthy
    assert "cannot connect" in health.detail


async def test_a_rejected_key_is_never_echoed(kind, fake):
    server = await fake(default="401")
    answer = await make_router(kind, server.url).decide(PROMPT, Verdict, lambda: RULES)
    first = answer.attempts[0]
    assert (first.outcome, answer.provider) == ("error", "rules")
    assert "HTTP 401" in first.detail
    assert API_KEY not in first.detail
    assert "(authentication_error)" in first.detail  # the code, never the message
    assert "Replication lag" not in first.detail  # nor the prompt the server echoed
    assert len(server.requests) == 1  # a 4xx is not retried
