"""Keys, refusals and rate limits: pure rules."""

from datetime import UTC, datetime, timedelta

from reasonops_ingest.integrations import Integration, Refusal, check_key, hash_key, new_key
from reasonops_ingest.ratelimit import RateLimiter, retry_after_header

NOW = datetime(2026, 11, 20, tzinfo=UTC)


def integration(**changes) -> Integration:
    return Integration(name="prom", key_hash=hash_key("k"), key_prefix="k", created_at=NOW,
                       **changes)


def test_keys_are_32_hex_and_hashed():
    key = new_key()
    assert len(key) == 32
    assert int(key, 16) >= 0
    assert hash_key(key) != key
    assert len(hash_key(key)) == 64


def test_refusals_and_their_status():
    assert check_key(None, hash_key("x"), "event", NOW) is Refusal.UNKNOWN
    assert check_key(integration(revoked_at=NOW), hash_key("k"), "event", NOW) is Refusal.REVOKED
    assert check_key(integration(formats=("pagerduty",)), hash_key("k"), "grafana", NOW) is (
        Refusal.FORMAT)
    assert [r.status for r in (Refusal.MISSING, Refusal.UNKNOWN, Refusal.REVOKED,
                               Refusal.EXPIRED, Refusal.FORMAT)] == [401, 401, 403, 403, 403]
    ok = integration()
    assert check_key(ok, hash_key("k"), "event", NOW) is ok


def test_previous_key_works_until_its_grace_ends():
    rotated = integration(previous_key_hash=hash_key("old"),
                          previous_key_valid_until=NOW + timedelta(seconds=60))
    assert check_key(rotated, hash_key("old"), "event", NOW) is rotated
    assert check_key(rotated, hash_key("old"), "event", NOW + timedelta(seconds=61)) is (
        Refusal.EXPIRED)


def test_token_bucket_counts_events_and_says_when_to_retry():
    now = [0.0]
    limiter = RateLimiter(lambda: now[0])
    assert limiter.take("a", 10, rate=10, burst=10) == 0.0
    wait = limiter.take("a", 5, rate=10, burst=10)
    assert wait == 0.5
    assert retry_after_header(wait) == "1"
    assert limiter.take("b", 5, rate=10, burst=10) == 0.0  # buckets are per integration
    now[0] = 0.5
    assert limiter.take("a", 5, rate=10, burst=10) == 0.0
    assert limiter.take("a", 1000, rate=None, burst=None) == 0.0  # unlimited


def test_a_batch_larger_than_the_bucket_passes_when_full_and_is_paid_back():
    now = [0.0]
    limiter = RateLimiter(lambda: now[0])
    assert limiter.take("a", 100, rate=10, burst=20) == 0.0
    assert limiter.take("a", 1, rate=10, burst=20) > 8.0
