"""The dedup_key state machine and PagerDuty's identity of a request."""

import json

from reasonops_ingest import pagerduty
from reasonops_ingest.pagerduty import KeyState, step


def test_first_trigger_opens_generation_one():
    s = step("trigger", None, "r1")
    assert (s.state, s.publish, s.changed) == (KeyState(1, "triggered", "r1"), "firing", True)


def test_trigger_while_open_repeats_the_same_generation_even_when_acknowledged():
    acked = KeyState(1, "acknowledged", "r2")
    s = step("trigger", acked, "r3")
    assert (s.state, s.publish) == (KeyState(1, "acknowledged", "r3"), "firing")


def test_acknowledge_publishes_nothing_and_resolve_resolves():
    open_ = KeyState(2, "triggered", "r1")
    ack = step("acknowledge", open_, "r2")
    assert (ack.state, ack.publish) == (KeyState(2, "acknowledged", "r2"), None)
    resolved = step("resolve", ack.state, "r3")
    assert (resolved.state, resolved.publish) == (KeyState(2, "resolved", "r3"), "resolved")


def test_trigger_after_resolve_starts_the_next_generation():
    s = step("trigger", KeyState(2, "resolved", "r3"), "r4")
    assert (s.state, s.publish) == (KeyState(3, "triggered", "r4"), "firing")
    assert pagerduty.fingerprint("i", "k", 2) != pagerduty.fingerprint("i", "k", 3)


def test_acknowledge_or_resolve_with_nothing_open_changes_nothing():
    for state in (None, KeyState(1, "resolved", "r1")):
        for action in ("acknowledge", "resolve"):
            s = step(action, state, "r9")
            assert (s.state, s.publish, s.changed) == (state, None, False)


def test_a_retried_request_repeats_its_effect_without_a_second_transition():
    after = step("trigger", KeyState(1, "resolved", "r1"), "r2").state
    retry = step("trigger", after, "r2")
    assert (retry.state, retry.publish, retry.changed) == (after, "firing", False)


def test_request_id_ignores_the_routing_key_and_follows_the_content():
    body = {"event_action": "trigger", "payload": {"summary": "s", "source": "h",
                                                   "severity": "info"}}
    a = pagerduty.parse_event(json.dumps({**body, "routing_key": "a" * 32}).encode())
    b = pagerduty.parse_event(json.dumps({**body, "routing_key": "b" * 32}).encode())
    assert pagerduty.request_id("zabbix", a) == pagerduty.request_id("zabbix", b)
    assert pagerduty.request_id("zabbix", a) != pagerduty.request_id("nagios", a)
