"""The SDK's two clients offer the same calls; retries wait as the gateway says; the
event stream parser reads Server-Sent Events as browsers do."""

import inspect
from dataclasses import replace

import httpx

from reasonops_sdk import AsyncReasonOpsClient, ReasonOpsClient, calls
from reasonops_sdk.events import Parser
from reasonops_sdk.transport import Settings, wait_before_retry

SETTINGS = Settings(url="http://gateway", token="t", timeout=1, retries=3, max_wait=30)


def public(cls) -> set[str]:
    return {n for n, _ in inspect.getmembers(cls, inspect.isfunction) if not n.startswith("_")}


def test_the_async_client_has_every_call_of_the_sync_one():
    assert public(ReasonOpsClient) - public(AsyncReasonOpsClient) == {"close"}
    for name in public(ReasonOpsClient) - {"close", "send"}:
        method = getattr(AsyncReasonOpsClient, name)
        assert inspect.iscoroutinefunction(method) or inspect.isasyncgenfunction(method), name


def test_429_and_503_are_retried_after_retry_after_and_nothing_else_is():
    get, post = calls.me(), calls.comment("INC0000001", "x")

    def answered(status: int, **headers: str) -> httpx.Response:
        return httpx.Response(status, headers=headers)

    assert wait_before_retry(SETTINGS, get, 0, answered(429, **{"Retry-After": "7"})) == 7
    assert wait_before_retry(SETTINGS, post, 0, answered(503, **{"Retry-After": "2"})) == 2
    assert wait_before_retry(SETTINGS, get, 0, answered(429, **{"Retry-After": "600"})) == 30
    assert wait_before_retry(SETTINGS, get, 3, answered(429)) is None  # out of retries
    assert wait_before_retry(SETTINGS, get, 0, answered(500)) is None
    assert wait_before_retry(SETTINGS, get, 0, answered(404)) is None
    # No answer at all: a read is repeated, and so is a command with its key (applied once
    # however often it arrives); one without a key is not (it may have happened).
    assert wait_before_retry(SETTINGS, get, 1, None) == 1.0
    assert wait_before_retry(SETTINGS, post, 0, None) == 0.5
    assert wait_before_retry(SETTINGS, replace(post, key=None), 0, None) is None


def test_every_command_has_a_key_of_its_own_and_a_read_none():
    from reasonops_sdk.transport import request_of

    one, two = calls.comment("INC0000001", "x"), calls.comment("INC0000001", "x")
    assert one.key is not None
    assert one.key != two.key
    assert request_of(one)["headers"] == {"Idempotency-Key": one.key}
    assert calls.me().key is None
    assert "headers" not in request_of(calls.me())


def test_the_stream_parser_skips_comments_and_completes_an_event_on_a_blank_line():
    envelope = ('{"id": "01", "type": "itsm.incident.opened.v1", "source": "incidents", '
                '"time": "2026-12-04T09:00:00Z", "correlation_id": "01", "data": {}}')
    parser = Parser()
    lines = [": heartbeat", "id: 42", "event: itsm.incident.opened.v1", f"data: {envelope}",
             ""]
    found = [e for e in map(parser.feed, lines) if e is not None]
    assert [(e.id, e.type, e.envelope.type) for e in found] == [
        ("42", "itsm.incident.opened.v1", "itsm.incident.opened.v1")]
    assert parser.feed("") is None  # a blank line with nothing before it is no event


def test_a_body_carries_datetimes_and_decimals_as_json_does():
    from datetime import UTC, datetime

    from reasonops_sdk.transport import request_of

    ends = datetime(2026, 12, 5, 11, 0, tzinfo=UTC)
    sent = request_of(calls.create_silence(matchers=["service=checkout"], reason="upgrade",
                                           ends_at=ends, starts_at=None))
    assert sent["json"] == {"matchers": ["service=checkout"], "reason": "upgrade",
                            "ends_at": "2026-12-05T11:00:00Z"}
