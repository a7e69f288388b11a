import pytest
from prometheus_client import CollectorRegistry

from reasonops_llm import (
    ChainEntry,
    GuardBlocked,
    LlmMetrics,
    PrivacyGuard,
    Route,
    Router,
    provider_for,
)
from reasonops_llm.guard import looks_random
from reasonops_llm.prompts import RenderedPrompt

from .conftest import RULES, Verdict, settings_for

# Secrets an alert might carry, each in a form the guard must recognise.
SEEDED = {
    "openai_key": "sk-proj-4fGh7JkL9mNq2RsT5vWx8YzA1bCd",
    "anthropic_key": "sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2",
    "aws_access_key": "AKIAIOSFODNN7EXAMPLE",
    "github_token": "ghp_1a2B3c4D5e6F7g8H9i0JkLmNoPqRsTuVwXyZ",
    "slack_token": "xoxb-2401-8832-Hq4TnZ7wPvRk",
    "google_api_key": "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    "url_password": "Tr0ub4dor&3",
    "password": "hunter2-Summer!",
    "email": "jane.doe@example.com",
    "bearer_token": "QmFzZTY0VG9rZW5WYWx1ZUhlcmUx",
    "high_entropy": "Zq8xV3mB7nK2pL9wR4tY6uJ1hG5fD0sA",
    "hex_secret": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "ipv4": "203.0.113.45",
    "customer_id": "CUST-004217",
}

LEAKY = f"""checkout failing after deploy.
OPENAI_API_KEY={SEEDED['openai_key']} and claude {SEEDED['anthropic_key']}
aws {SEEDED['aws_access_key']} github {SEEDED['github_token']} slack {SEEDED['slack_token']}
maps {SEEDED['google_api_key']} session {SEEDED['jwt']}
db url postgres://app:{SEEDED['url_password']}@db-1:5432/orders
password={SEEDED['password']} reported by {SEEDED['email']}
Authorization: Bearer {SEEDED['bearer_token']} blob {SEEDED['high_entropy']}
digest {SEEDED['hex_secret']} from {SEEDED['ipv4']} customer {SEEDED['customer_id']}
"""


def guard() -> PrivacyGuard:
    return PrivacyGuard({"customer_id": r"CUST-\d{6}"})


def test_every_seeded_secret_is_redacted_and_counted():
    result = guard().redact(LEAKY)
    for name, secret in SEEDED.items():
        assert secret not in result.text, name
    for kind in ("openai_key", "anthropic_key", "aws_access_key", "github_token", "jwt",
                 "url_password", "password", "email", "ipv4", "customer_id"):
        assert result.kinds[kind] >= 1, kind
    assert "checkout failing after deploy" in result.text
    assert "postgres://app:[url_password-1]@db-1:5432/orders" in result.text


def test_same_value_keeps_the_same_placeholder():
    result = guard().redact("from 10.0.0.1 then 10.0.0.2 then 10.0.0.1 again")
    assert result.text == "from [ipv4-1] then [ipv4-2] then [ipv4-1] again"


def test_ordinary_words_and_ids_survive():
    text = "INC0000042 PostgresReplicationLag on db-1 pod checkout-7d9f8b6c5-x2x4z"
    assert guard().redact(text).text == text


def test_entropy_detector():
    assert looks_random("Zq8xV3mB7nK2pL9wR4tY6uJ1hG5fD0sA")
    assert not looks_random("KubePersistentVolumeFillingUp")
    assert not looks_random("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa11")


def test_a_bad_configured_pattern_blocks_every_call():
    broken = PrivacyGuard({"customer_id": "CUST-(\\d"})
    with pytest.raises(GuardBlocked, match="does not compile"):
        broken.redact("anything")


async def test_no_seeded_secret_reaches_any_external_provider(fake):
    """Every provider kind, marked external, is asked with a prompt full of secrets."""
    servers = {kind: await fake() for kind in
               ("openai", "azure", "ollama", "anthropic", "gemini", "huggingface")}
    prompt = RenderedPrompt(system="Classify.", user=LEAKY, version="t.v1", hash="h")
    for kind, server in servers.items():
        settings = settings_for(server.url, external="openai,azure,ollama,anthropic,gemini,"
                                "huggingface", redact_patterns='{"customer_id": "CUST-\\\\d{6}"}')
        route = Route(provider=provider_for(ChainEntry(kind, "fake-model"), settings))
        router = Router("test", [route], metrics=LlmMetrics(CollectorRegistry()),
                        guard=PrivacyGuard(settings.patterns()))
        answer = await router.decide(prompt, Verdict, lambda: RULES)
        assert answer.provider == kind
        assert "email" in answer.redacted
        assert "openai_key" in answer.redacted
        seen = server.seen_text()
        assert "checkout failing after deploy" in seen
        for name, secret in SEEDED.items():
            assert secret not in seen, f"{name} reached {kind}"


async def test_guard_failure_means_no_call_and_the_next_provider_answers(fake):
    server = await fake()
    settings = settings_for(server.url)
    route = Route(provider=provider_for(ChainEntry("openai", "fake-model"), settings))
    router = Router("test", [route], metrics=LlmMetrics(CollectorRegistry()),
                    guard=PrivacyGuard({"bad": "(unclosed"}))
    answer = await router.decide(RenderedPrompt("s", "u", "v", "h"), Verdict, lambda: RULES)
    assert answer.provider == "rules"
    assert answer.attempts[0].outcome == "guard_blocked"
    assert server.requests == []


async def test_local_provider_is_not_redacted(fake):
    server = await fake()
    settings = settings_for(server.url)  # ollama is local by default
    route = Route(provider=provider_for(ChainEntry("ollama", "fake-model"), settings))
    router = Router("test", [route], metrics=LlmMetrics(CollectorRegistry()))
    answer = await router.decide(RenderedPrompt("s", "mail jane.doe@example.com", "v", "h"),
                                 Verdict, lambda: RULES)
    assert answer.redacted == ()
    assert "jane.doe@example.com" in server.seen_text()
