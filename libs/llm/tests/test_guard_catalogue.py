"""The privacy guard's catalogue: every kind it catches (the table in
docs/guides/agents.md), each with plain and disguised samples, sent to all six provider
kinds; and inputs built to make a regular expression take quadratic time."""

import re
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from reasonops_llm import ChainEntry, LlmMetrics, PrivacyGuard, Route, Router, provider_for
from reasonops_llm.guard import MAX_TEXT_CHARS
from reasonops_llm.prompts import PromptTemplate

from .conftest import KINDS, RULES, Verdict, settings_for

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "guides" / "agents.md"

FULL_WIDTH = {c: c + 0xFEE0 for c in range(ord("!"), ord("~") + 1)}
"""ASCII to its full-width form (U+FF01...), which NFKC folds back."""

# (kind the guard reports, the text an alert carries, the secret that must not leave)
SAMPLES: list[tuple[str, str, str]] = [
    ("openai_key", "OPENAI_API_KEY=sk-proj-4fGh7JkL9mNq2RsT5vWx8YzA1bCd",
     "sk-proj-4fGh7JkL9mNq2RsT5vWx8YzA1bCd"),
    ("anthropic_key", "claude key sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2",
     "sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2"),
    ("aws_access_key", "aws AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    ("nkey_seed", "seed SUAFUW5ER3NQIKEDREDSPTLL43FBK5QOHOPNBTHYOI3GNZFMC65BYJPOTM",
     "SUAFUW5ER3NQIKEDREDSPTLL43FBK5QOHOPNBTHYOI3GNZFMC65BYJPOTM"),
    ("password", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("github_token", "token ghp_1a2B3c4D5e6F7g8H9i0JkLmNoPqRsTuVwXyZ",
     "ghp_1a2B3c4D5e6F7g8H9i0JkLmNoPqRsTuVwXyZ"),
    ("gitlab_token", "CI used glpat-x9Yz8Wv7Ut6Sr5Qp4On3Mm", "glpat-x9Yz8Wv7Ut6Sr5Qp4On3Mm"),
    ("slack_token", "bot xoxb-2401-8832-Hq4TnZ7wPvRk", "xoxb-2401-8832-Hq4TnZ7wPvRk"),
    ("slack_webhook", "hook https://hooks.slack.com/services/T0001/B0002/XyZ123abc456",
     "T0001/B0002/XyZ123abc456"),
    ("google_api_key", "maps AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
     "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"),
    ("stripe_key", "billing sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("npm_token", "npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
     "npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
    ("sendgrid_key", "mail SG.ngeVfQFYQlKU0ufo8x5d1A.TwL2iGABf9DHoTf09kqeF8tAmbihYzrnopKc1s5cr",
     "SG.ngeVfQFYQlKU0ufo8x5d1A.TwL2iGABf9DHoTf09kqeF8tAmbihYzrnopKc1s5cr"),
    ("azure_storage_key", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey="
     "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
     "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq"),
    ("jwt", "session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW",
     "dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW"),
    ("private_key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq9kQ\n"
     "-----END RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEA7bq9kQ"),
    ("private_key", "log cut: -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA",
     "b3BlbnNzaC1rZXktdjEAAAA"),
    ("bearer_token", "Authorization: Bearer QmFzZTY0VG9rZW5WYWx1ZUhlcmUx",
     "QmFzZTY0VG9rZW5WYWx1ZUhlcmUx"),
    ("bearer_token", "curl -H 'Authorization: Basic YWRtaW46c3VwZXJzZWNyZXQxMjM='",
     "YWRtaW46c3VwZXJzZWNyZXQxMjM"),
    ("url_password", "db url postgres://app:Tr0ub4dor&3@db-1:5432/orders", "Tr0ub4dor&3"),
    ("password", "PGPASSWORD=hunter2-Summer! psql -h db-1", "hunter2-Summer!"),
    ("password", "config:\n  db_password: Kx7-mellon-Q\n  user: app", "Kx7-mellon-Q"),
    ("password", '{"smtp_password": "n0t-a-g00d-1dea", "port": 587}', "n0t-a-g00d-1dea"),
    ("password", 'label password="S3cretQuoted" on the pod', "S3cretQuoted"),
    ("password", "<config><password>Corr3ctHorse</password></config>", "Corr3ctHorse"),
    ("password", "<db:adminPassword>Sw0rdf1sh</db:adminPassword>", "Sw0rdf1sh"),
    ("password", "the root password is Mellon2026 until Friday", "Mellon2026"),
    ("password", "X-Api-Key: 7hGf-k2P-lm9Q", "7hGf-k2P-lm9Q"),
    ("password", "started with --client-secret=oD8v-y7Tq", "oD8v-y7Tq"),
    ("password", "pass\u200bword=ZeroW1dth hidden with a zero-width space", "ZeroW1dth"),
    ("password", f"{'password=Wide2026'.translate(FULL_WIDTH)} in full-width letters",
     "Wide2026"),
    ("email", "reported by jane.doe@example.com.", "jane.doe@example.com"),
    ("email", "cc ja\u200bne.ro\u200be@example.org", "jane.roe@example.org"),
    ("payment_card", "card 4111 1111 1111 1111 declined", "4111 1111 1111 1111"),
    ("payment_card", "card 5555-5555-5555-4444 declined", "5555-5555-5555-4444"),
    ("payment_card", "amex 378282246310005 charged", "378282246310005"),
    ("iban", "refund to DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00"),
    ("iban", "refund to GB82WEST12345698765432", "GB82WEST12345698765432"),
    ("phone", "on call +44 20 7946 0958", "7946 0958"),
    ("phone", "call +1 (415) 555-0132 now", "555-0132"),
    ("phone", "desk (415) 555-0177", "555-0177"),
    ("phone", "desk 415-555-0198", "415-555-0198"),
    ("ipv4", "from 203.0.113.45", "203.0.113.45"),
    ("ipv6", "from 2001:0db8:85a3:0000:0000:8a2e:0370:7334",
     "2001:0db8:85a3:0000:0000:8a2e:0370:7334"),
    ("ipv6", "from 2001:db8::8a2e:370:7334", "2001:db8::8a2e:370:7334"),
    ("ipv6", "link-local fe80::1ff:fe23:4567:890a", "fe80::1ff:fe23:4567:890a"),
    ("hostname", "primary db-1.payments.corp is down", "db-1.payments.corp"),
    ("hostname", "calls api.orders.svc.cluster.local", "api.orders.svc.cluster.local"),
    ("hostname", "vault at vault.acme-intra.net (a configured domain)", "vault.acme-intra.net"),
    ("high_entropy", "blob Zq8xV3mB7nK2pL9wR4tY6uJ1hG5fD0sA", "Zq8xV3mB7nK2pL9wR4tY6uJ1hG5fD0sA"),
    ("high_entropy", "digest 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
     "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
    ("customer_id", "customer CUST-004217 (a configured pattern)", "CUST-004217"),
]

# Values in request data: a secret-named key's value goes whatever it looks like.
DATA_SAMPLES: list[tuple[str, dict, str]] = [
    ("password", {"labels": {"password": "S3cret"}}, "S3cret"),
    ("password", {"labels": {"db_password": "plain-words"}}, "plain-words"),
    ("password", {"env": {"PGPASSWORD": "tiger"}}, "tiger"),
    ("password", {"vault": {"pin": 4921}}, "4921"),
    ("password", {"headers": {"X-Auth-Token": "abc-def-ghi"}}, "abc-def-ghi"),
]

# Ordinary operations text that must reach the model unchanged.
KEPT = ["INC0000042", "checkout-7d9f8b6c5-x2x4z", "2026-11-20T14:02:11Z", "HTTP 503",
        "version 1.2.3", "service: checkout", "latency 1234 ms", "port 5432", "std::vector",
        "14:02:11", "author: Jane", "db-1", "PostgresReplicationLag", "10 GiB free of 500",
        # Keys that name where a secret is kept, not the secret:
        "secretName: reasonops-identity-ingest", "password_file: /run/secrets/db"]


def guard() -> PrivacyGuard:
    return PrivacyGuard({"customer_id": r"CUST-\d{6}"}, internal_domains=["acme-intra.net"])


def disguises(secret: str) -> set[str]:
    """The secret and the forms it was sent in (zero-width or full-width spellings)."""
    return {secret, secret.translate(FULL_WIDTH), "\u200b".join(secret[:2]) + secret[2:]}


@pytest.mark.parametrize(("kind", "text", "secret"), SAMPLES,
                         ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(SAMPLES)])
def test_each_sample_is_caught_as_its_kind(kind, text, secret):
    result = guard().redact(text)
    assert secret not in result.text
    assert result.kinds[kind] >= 1, result


@pytest.mark.parametrize(("kind", "data", "secret"), DATA_SAMPLES)
def test_a_secret_named_keys_value_is_redacted_before_json_encoding(kind, data, secret):
    template = PromptTemplate(version="t.v1", system="s", user="Alert: $input", hash="h")
    safe, kinds = guard().redact_prompt(template.render(data))
    assert secret not in safe.user
    assert kinds[kind] == 1


def test_ordinary_operations_text_survives():
    text = " | ".join(KEPT)
    assert guard().redact(text).text == text


def test_the_catalogue_holds_over_forty_samples_and_every_documented_kind():
    table = GUIDE.read_text().partition("| kind | what | example |")[2].partition("\n\n")[0]
    rows = re.findall(r"^\| `([a-z0-9_]+)` \|", table, flags=re.M)
    assert len(SAMPLES) + len(DATA_SAMPLES) >= 40
    assert rows, "the agents guide's table of what the privacy guard catches is missing"
    assert set(rows) == {kind for kind, _, _ in SAMPLES}


async def test_no_sample_reaches_any_of_the_six_external_providers(fake):
    template = PromptTemplate(version="t.v1", system="Classify.", user="Alert:\n$input", hash="h")
    data = {**{f"annotation{i:02}": text for i, (_, text, _) in enumerate(SAMPLES)},
            **{f"labels{i:02}": d for i, (_, d, _) in enumerate(DATA_SAMPLES)}}
    prompt = template.render(data)
    for kind in KINDS:
        server = await fake()
        settings = settings_for(server.url, external="ollama",
                                redact_patterns='{"customer_id": "CUST-\\\\d{6}"}',
                                internal_domains="acme-intra.net")
        route = Route(provider=provider_for(ChainEntry(kind, "fake-model"), settings))
        router = Router("test", [route], metrics=LlmMetrics(CollectorRegistry()),
                        guard=PrivacyGuard.configured(settings))
        answer = await router.decide(prompt, Verdict, lambda: RULES)
        assert answer.provider == kind
        seen = server.seen_text()
        assert "reported by" in seen
        for _, _, secret in [*SAMPLES, *DATA_SAMPLES]:
            for form in disguises(secret):
                assert form not in seen, f"{secret!r} reached {kind}"


def test_configuration_adds_external_providers_and_never_removes_one():
    settings = settings_for("http://127.0.0.1:9", external="ollama")
    assert all(settings.is_external(k) for k in KINDS)
    assert not settings_for("http://127.0.0.1:9").is_external("ollama")
    with pytest.raises(ValueError, match="unknown provider kind"):
        settings_for("http://127.0.0.1:9", external="opneai")


ADVERSARIAL = {
    "dotted": "a." * 32768, "letters": "a" * 65536, "ats": "a@" * 32768,
    "dashes": "1-" * 32768, "colons": "a:" * 32768, "keys": "password" * 8192,
    "schemes": "a:/" * 21845, "spaced digits": "1 " * 32768, "labels": "ab." * 21845,
    "tags": "<a>" * 21845, "equals": "token=" * 10922,
}


def _seconds(text: str) -> float:
    started = time.perf_counter()
    guard().redact(text)
    return time.perf_counter() - started


def test_inputs_built_for_quadratic_matching_take_linear_time():
    """Each 64 KiB input costs about what ordinary text of the same size costs (a
    quadratic pattern costs thousands of times more); no absolute time is asserted."""
    ordinary = ("checkout answers 503 on pod checkout-7d9f8b6c5-x2x4z since 14:02; " * 1000
                )[:65536]
    baseline = min(_seconds(ordinary) for _ in range(3))
    for name, text in ADVERSARIAL.items():
        assert len(text) <= MAX_TEXT_CHARS
        took = min(_seconds(text) for _ in range(2))
        assert took < 20 * baseline + 0.05, f"{name}: {took:.3f}s vs {baseline:.3f}s"


def test_text_beyond_the_cap_is_cut_and_says_so():
    result = guard().redact("x " * MAX_TEXT_CHARS)
    assert len(result.text) < MAX_TEXT_CHARS + 100
    assert result.text.endswith(f"[{MAX_TEXT_CHARS} characters cut by the privacy guard]")
