from decimal import Decimal

import pytest
from prometheus_client import CollectorRegistry

from reasonops_llm import (
    ChainError,
    LlmMetrics,
    build_router,
    configured_chain,
    parse_chain,
    write_chain,
)
from reasonops_llm.prompts import PromptTemplate

from .conftest import GOOD, PROMPT, RULES, Verdict, settings_for


async def test_chain_falls_through_in_order_and_records_why(fake):
    broken = await fake(default="500")
    good = await fake()
    settings = settings_for(broken.url, openai_url=good.url, retries=0,
                            prices='{"openai:gpt-4o-mini": {"in": "0.15", "out": "0.60"}}')
    registry = CollectorRegistry()
    router = build_router("triage", "ollama:llama3.1 -> openai:gpt-4o-mini -> rules",
                          settings, LlmMetrics(registry))
    answer = await router.decide(PROMPT, Verdict, lambda: RULES)
    assert answer.provider == "openai"
    assert answer.fallback
    assert [(a.provider, a.outcome) for a in answer.attempts] == [("ollama", "error"),
                                                                  ("openai", "ok")]
    assert "HTTP 500" in answer.attempts[0].detail
    assert answer.cost == Decimal("0.000042")  # 120 in x 0.15 + 40 out x 0.60 per million
    assert registry.get_sample_value("reasonops_llm_fallbacks_total",
                                     {"agent": "triage", "from_provider": "ollama"}) == 1
    assert registry.get_sample_value("reasonops_llm_tokens_total", {
        "agent": "triage", "provider": "openai", "direction": "in"}) == 120
    assert answer.output.category == GOOD["category"]


async def test_everything_down_means_rules_answers():
    settings = settings_for("http://127.0.0.1:9", retries=0)
    router = build_router("triage", "openai:gpt-4o-mini -> anthropic:claude", settings,
                          LlmMetrics(CollectorRegistry()))
    answer = await router.decide(PROMPT, Verdict, lambda: RULES)
    assert answer.output == RULES
    assert [a.provider for a in answer.attempts] == ["openai", "anthropic", "rules"]


def test_chain_parsing():
    chain = parse_chain("ollama:llama3.1 -> openai:gpt-4o-mini -> rules")
    assert [str(e) for e in chain] == ["ollama:llama3.1", "openai:gpt-4o-mini", "rules"]
    assert [str(e) for e in parse_chain("openai:gpt-4o")] == ["openai:gpt-4o", "rules"]
    assert [str(e) for e in parse_chain("")] == ["rules"]


@pytest.mark.parametrize(("text", "problem"), [
    ("gpt:4 -> rules", "unknown provider 'gpt'"),
    ("openai -> rules", "openai needs a model"),
    ("rules -> openai:x", "rules must be the last"),
    ("openai:x -> -> rules", "step 2 is empty"),
])
def test_bad_chains_say_what_is_wrong(text, problem):
    with pytest.raises(ChainError, match=problem):
        parse_chain(text)


def test_configure_writes_the_chain_an_agent_then_uses(tmp_path):
    path = tmp_path / "agents.yaml"
    write_chain(path, "triage", "openai:gpt-4o-mini -> rules")
    write_chain(path, "rca", "ollama:llama3.1")
    assert configured_chain("triage", explicit="", path=path, default="") == \
        "openai:gpt-4o-mini -> rules"
    assert configured_chain("triage", explicit="ollama:x", path=path, default="") == "ollama:x"
    assert configured_chain("capacity", explicit="", path=path, default="") == "rules"
    with pytest.raises(ChainError):
        write_chain(path, "triage", "nope:x")


def test_key_from_a_secret_file(tmp_path):
    secret = tmp_path / "key"
    secret.write_text("sk-from-file-abcdefghijklmnop\n")
    settings = settings_for("http://x", openai_api_key=None, openai_api_key_file=secret)
    assert settings.api_key("openai").get_secret_value() == "sk-from-file-abcdefghijklmnop"
    assert "sk-from-file" not in repr(settings)


def test_prompt_templates_are_versioned_files(tmp_path):
    (tmp_path / "triage.v1.txt").write_text("sys one\n=== user ===\nin: $input")
    (tmp_path / "triage.v2.txt").write_text("sys two\n=== user ===\nin: $input")
    template = PromptTemplate.latest(tmp_path, "triage")
    rendered = template.render({"title": "Disk full"})
    assert (rendered.version, rendered.system) == ("triage.v2", "sys two")
    assert '"title": "Disk full"' in rendered.user
    assert len(rendered.hash) == 16
    assert PromptTemplate.load(tmp_path / "triage.v1.txt").hash != rendered.hash


def test_breaker_opens_half_opens_and_closes():
    from reasonops_llm import CircuitBreaker

    now = [0.0]
    breaker = CircuitBreaker(failures=2, cooldown=10, now=lambda: now[0])
    breaker.failed()
    assert breaker.allow()
    breaker.failed()
    assert (breaker.state, breaker.allow()) == ("open", False)
    now[0] = 10
    assert breaker.state == "half_open"
    assert breaker.allow()
    assert not breaker.allow()
    breaker.failed()
    assert breaker.state == "open"
    now[0] = 20
    assert breaker.allow()
    breaker.succeeded()
    assert (breaker.state, breaker.allow()) == ("closed", True)


def test_bad_json_settings_are_named():
    from pydantic import ValidationError

    from reasonops_llm import LlmSettings
    with pytest.raises(ValidationError, match="prices"):
        LlmSettings(prices="{not json")
    with pytest.raises(ValidationError, match="must be a JSON object"):
        LlmSettings(redact_patterns="[1]")
