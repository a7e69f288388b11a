"""Notifications against real webhook receivers on loopback."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reasonops_orchestrator.notify import (
    ConfigError,
    Notification,
    Notifier,
    Target,
    parse_targets,
    retry_after,
)
from reasonops_runtime.clock import FrozenClock
from reasonops_runtime.http import HttpServer
from reasonops_runtime.ports import free_port

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "config" / "notifications.yaml"
NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
NOTE = Notification(key="WF-INC0000001:notify:1", title="P1 checkout down",
                    text="Checkout returns 503 for 40% of requests.", severity="critical",
                    incident_id="INC0000001", fields={"service": "checkout", "priority": "P1"})


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: Any


class Receiver:
    """A webhook endpoint: answers each request with the next scripted behaviour
    (``200``, ``400``, ``500``, ``503``, ``429:<retry-after>``, ``slow``), then 200."""

    def __init__(self, *script: str) -> None:
        self.script = list(script)
        self.seen: list[Seen] = []
        self.port = free_port()
        self.server = HttpServer(Starlette(routes=[Route("/{path:path}", self._hook,
                                                         methods=["POST"])]),
                                 "127.0.0.1", self.port)

    def url(self, path: str = "hook") -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    async def _hook(self, request: Request) -> Response:
        self.seen.append(Seen(request.url.path, dict(request.headers),
                              json.loads(await request.body())))
        behaviour = self.script.pop(0) if self.script else "200"
        if behaviour == "slow":
            await asyncio.sleep(0.6)  # past the client's 0.2 s timeout
            behaviour = "200"
        status, _, after = behaviour.partition(":")
        return Response(status_code=int(status),
                        headers={"retry-after": after} if after else None)


@pytest.fixture
async def receiver() -> AsyncIterator[Any]:
    started: list[Receiver] = []

    async def start(*script: str) -> Receiver:
        r = Receiver(*script)
        await r.server.start()
        started.append(r)
        return r

    yield start
    for r in started:
        await r.server.stop()


class Waits(list[float]):
    """A sleep that records how long the notifier asked to wait, without waiting."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def notifier(groups: dict[str, list[dict[str, Any]]], waits: Waits | None = None,
             env: dict[str, str] | None = None) -> Notifier:
    targets = {g: tuple(Target.model_validate(t) for t in ts) for g, ts in groups.items()}
    return Notifier(targets, clock=FrozenClock(NOW), sleep=Waits() if waits is None else waits,
                    env=env or {})


async def test_json_payload_with_idempotency_key_and_secret_header(receiver) -> None:
    r = await receiver()
    n = notifier({"stakeholders": [{"name": "status", "url": r.url(), "headers": {
        "Authorization": "Bearer ${STATUS_TOKEN}"}}]}, env={"STATUS_TOKEN": "s3cr3t"})
    [delivery] = await n.send("stakeholders", NOTE)
    await n.aclose()

    assert (delivery.ok, delivery.attempts, delivery.status, delivery.error) == (
        True, 1, 200, "")
    assert (delivery.target, delivery.group, delivery.at) == ("status", "stakeholders", NOW)
    [seen] = r.seen
    assert seen.headers["idempotency-key"] == NOTE.key
    assert seen.headers["authorization"] == "Bearer s3cr3t"
    assert seen.body == {"key": NOTE.key, "title": "P1 checkout down", "text": NOTE.text,
                         "severity": "critical", "incident_id": "INC0000001",
                         "fields": {"service": "checkout", "priority": "P1"},
                         "sent_at": NOW.isoformat()}


async def test_slack_payload_is_an_incoming_webhook_message(receiver) -> None:
    r = await receiver()
    n = notifier({"on-call": [{"name": "slack", "url": r.url(), "format": "slack"}]})
    [delivery] = await n.send("on-call", NOTE)
    await n.aclose()

    assert delivery.ok
    body = r.seen[0].body
    assert body["text"].startswith(":red_circle: P1 checkout down")
    assert [b["type"] for b in body["blocks"]] == ["header", "section", "section", "context"]
    assert body["blocks"][0]["text"] == {"type": "plain_text", "text": "P1 checkout down"}
    assert body["blocks"][2]["fields"][0] == {"type": "mrkdwn", "text": "*service*\ncheckout"}
    assert "INC0000001" in body["blocks"][3]["elements"][0]["text"]


async def test_slack_text_from_a_sender_cannot_mention_or_disguise_a_link(receiver) -> None:
    r = await receiver()
    n = notifier({"on-call": [{"name": "slack", "url": r.url(), "format": "slack"}]})
    hostile = Notification(key="k", title="<!channel> disk full", severity="warning",
                           text="see <https://evil.example/login|the runbook> & <@U024BE7LH>",
                           incident_id="INC0000002", fields={"<!here>": "<!subteam^S1>"})
    [delivery] = await n.send("on-call", hostile)
    await n.aclose()

    assert delivery.ok
    body = r.seen[0].body
    texts = [body["text"], body["blocks"][1]["text"]["text"],
             body["blocks"][2]["fields"][0]["text"], body["blocks"][3]["elements"][0]["text"]]
    assert not [t for t in texts if "<" in t or ">" in t]
    assert body["blocks"][1]["text"]["text"] == (
        "see &lt;https://evil.example/login|the runbook&gt; &amp; &lt;@U024BE7LH&gt;")
    assert body["text"] == ":large_orange_circle: &lt;!channel&gt; disk full: " + texts[1]
    assert body["blocks"][0]["text"]["text"] == "<!channel> disk full"  # plain_text: inert


async def test_5xx_is_retried_with_exponential_backoff(receiver) -> None:
    r = await receiver("503", "500")
    waits = Waits()
    n = notifier({"g": [{"name": "t", "url": r.url(), "backoff_seconds": 0.5}]}, waits)
    [delivery] = await n.send("g", NOTE)
    await n.aclose()

    assert delivery.ok
    assert delivery.outcomes == ("HTTP 503", "HTTP 500", "HTTP 200")
    assert delivery.attempts == 3
    assert waits == [0.5, 1.0]
    assert {s.headers["idempotency-key"] for s in r.seen} == {NOTE.key}  # one key: one message


async def test_429_waits_as_long_as_retry_after_says_up_to_the_cap(receiver) -> None:
    r = await receiver("429:7", "429:3600")
    waits = Waits()
    n = notifier({"g": [{"name": "t", "url": r.url(), "max_backoff_seconds": 30}]}, waits)
    [delivery] = await n.send("g", NOTE)
    await n.aclose()

    assert delivery.ok
    assert waits == [7.0, 30.0]
    assert retry_after("Mon, 30 Nov 2026 09:31:00 GMT", NOW) == 60.0
    assert retry_after("soon", NOW) is None


async def test_other_4xx_is_final(receiver) -> None:
    r = await receiver("400")
    waits = Waits()
    n = notifier({"g": [{"name": "t", "url": r.url()}]}, waits)
    [delivery] = await n.send("g", NOTE)
    await n.aclose()

    assert (delivery.ok, delivery.attempts, delivery.status, delivery.error) == (
        False, 1, 400, "HTTP 400")
    assert len(r.seen) == 1
    assert waits == []


async def test_connection_errors_and_timeouts_are_retried_until_max_attempts(receiver) -> None:
    slow = await receiver("slow", "slow")
    waits = Waits()
    n = notifier({"g": [
        {"name": "down", "url": f"http://127.0.0.1:{free_port()}/hook", "max_attempts": 3},
        {"name": "slow", "url": slow.url(), "max_attempts": 2, "timeout_seconds": 0.2}]}, waits)
    down, timed_out = await n.send("g", NOTE)
    await n.aclose()

    assert (down.ok, down.attempts, down.status) == (False, 3, None)
    assert down.outcomes == ("ConnectError",) * 3
    assert (timed_out.ok, timed_out.outcomes) == (False, ("ReadTimeout", "ReadTimeout"))
    assert sorted(waits) == [0.5, 0.5, 1.0]


async def test_every_target_of_the_group_gets_it_and_empty_groups_send_nothing(
        receiver, caplog) -> None:
    a, b = await receiver(), await receiver()
    n = notifier({"stakeholders": [{"name": "a", "url": a.url()}, {"name": "b", "url": b.url(),
                                                                  "format": "slack"}],
                  "containment": []})
    caplog.set_level(logging.INFO, logger="reasonops_orchestrator.notify")
    deliveries = await n.send("stakeholders", NOTE)
    assert [d.target for d in deliveries] == ["a", "b"]
    assert (len(a.seen), len(b.seen)) == (1, 1)
    assert await n.send("containment", NOTE) == []
    assert await n.send("nobody", NOTE) == []
    assert "group has no targets" in caplog.text
    assert n.groups() == ["containment", "stakeholders"]
    await n.aclose()


def test_a_group_without_targets_is_reported_once_not_per_notification(caplog) -> None:
    n = notifier({"stakeholders": []})
    caplog.set_level(logging.WARNING, logger="reasonops_orchestrator.notify")
    for _ in range(3):
        n.untargeted("stakeholders")
        n.untargeted("suppliers")
    said = [r.getMessage() for r in caplog.records if "has no targets" in r.getMessage()]
    assert len(said) == 2
    assert sorted(getattr(r, "group", "") for r in caplog.records) == ["stakeholders",
                                                                      "suppliers"]


async def test_a_missing_secret_fails_the_delivery_and_no_secret_is_logged(
        receiver, caplog) -> None:
    r = await receiver("500")
    caplog.set_level(logging.DEBUG)
    n = notifier({"g": [{"name": "slack", "url": "${SLACK_WEBHOOK_URL}", "format": "slack"},
                        {"name": "json", "url": r.url("T0KEN/secret-path"),
                         "headers": {"X-Token": "${TOKEN}"}, "max_attempts": 1}]},
                 env={"TOKEN": "hunter2"})
    missing, failed = await n.send("g", NOTE)
    await n.aclose()

    assert (missing.ok, missing.attempts) == (False, 0)
    assert missing.error == "environment variable SLACK_WEBHOOK_URL is not set"
    wrong = notifier({"g": [{"name": "slack", "url": "${SLACK_WEBHOOK_URL}"}]},
                     env={"SLACK_WEBHOOK_URL": "hooks.slack.com/services/T0"})
    [not_a_url] = await wrong.send("g", NOTE)
    await wrong.aclose()
    assert (not_a_url.ok, not_a_url.attempts) == (False, 0)
    assert not_a_url.error == "url of target slack is not an http(s) URL"
    assert (failed.ok, failed.error) == (False, "HTTP 500")
    assert "hunter2" not in caplog.text
    assert "secret-path" not in caplog.text
    assert "secret-path" not in repr(failed)


def test_example_file_loads_with_the_workflow_groups() -> None:
    n = Notifier.load(EXAMPLE)
    assert n.groups() == ["containment", "on-call", "stakeholders", "supplier-managers"]
    assert Notifier.load(None).groups() == []


@pytest.mark.parametrize(("text", "key", "problem"), [
    ("groups: {g: [{name: t, url: ftp://x}]}", "groups.g.0.url", "http(s) URL"),
    ("groups: {g: [{name: t, url: 'http://x', format: teams}]}", "groups.g.0.format", "json"),
    ("groups: {g: [{name: t, url: 'http://x', retries: 3}]}", "groups.g.0.retries",
     "Extra inputs"),
    ("groups: {g: [{name: t, url: 'http://x', max_attempts: 0}]}", "groups.g.0.max_attempts",
     "greater than or equal to 1"),
    ("groups: {g: [{url: 'http://x'}]}", "groups.g.0.name", "Field required"),
    ("groups: {g: [{name: t, url: 'http://a'}, {name: t, url: 'http://b'}]}", "groups.g",
     "repeat"),
    ("groups: {On Call: []}", "groups.On Call", "lower-case"),
    ("targets: []", "targets", "Extra inputs"),
])
def test_config_errors_name_the_key(tmp_path, text, key, problem) -> None:
    path = tmp_path / "notifications.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        Notifier.load(path)
    assert caught.value.key == key
    assert problem in caught.value.problem
    assert str(path) in str(caught.value)


def test_unreadable_files_are_config_errors(tmp_path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        Notifier.load(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("groups: [unclosed")
    with pytest.raises(ConfigError, match="invalid YAML at line"):
        Notifier.load(bad)
    assert parse_targets(None, file="empty.yaml") == {}
