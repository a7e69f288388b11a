"""Hostile input at every endpoint: always a 4xx with a JSON error naming the problem,
never a 5xx, never a published event, and the service stays up.

Hypothesis generates the requests in a child process; async workers send them over real
HTTP to the real Starlette app in the ingest service, which publishes to a real
nats-server. A failing request is reported with its path, headers and body.
"""

import asyncio
import functools
import json
import multiprocessing
from pathlib import Path
from queue import Empty

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from reasonops_contracts.ingest import ChangeAccepted, EventAccepted
from reasonops_contracts.streams import INGEST
from reasonops_ingest.app import IngestSettings, build_service
from tests.support import create_integration, key_headers

pytestmark = [pytest.mark.nats, pytest.mark.slow]

EXAMPLES = 10_000
PER_EXAMPLE = 10  # requests per Hypothesis example: the engine's own cost is per example
WORKERS = 8
LIMIT = 64 * 1024
PAYLOADS = Path(__file__).resolve().parents[2] / "examples" / "payloads"
SAMPLES = {
    "/v1/alertmanager": "alertmanager-firing.json",
    "/v1/grafana": "grafana-alerting.json",
    "/v1/events": "event.json",
    "/v1/cloudevents": "cloudevent-structured.json",
    "/v2/enqueue": "pagerduty-trigger.json",
    "/v2/change/enqueue": "pagerduty-trigger.json",
}
# Removing any of these makes the sample invalid for its endpoint.
REQUIRED = {
    "/v1/alertmanager": ["alerts"], "/v1/grafana": ["alerts"], "/v1/events": ["name"],
    "/v1/cloudevents": ["id", "source", "specversion", "type"],
    "/v2/enqueue": ["routing_key", "event_action"], "/v2/change/enqueue": ["payload"],
}
ENDPOINTS = [*SAMPLES, "/v1/heartbeats/nightly"]
CONTENT_TYPES = ["application/json", "text/plain", "application/x-www-form-urlencoded",
                 "application/cloudevents+json", "application/cloudevents-batch+json",
                 "multipart/form-data; boundary=x", "application/xml", "", "application/json; "
                 "charset=latin-1"]

TOKEN = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)


@functools.cache
def sample_of(path: str) -> bytes:
    return (PAYLOADS / SAMPLES.get(path, "event.json")).read_bytes()


def _deep(depth: int, kind: str) -> bytes:
    if kind == "list":
        return b"[" * depth + b"]" * depth
    return b'{"alerts":' * depth + b"1" + b"}" * depth


@st.composite
def bodies(draw, path: str) -> bytes:
    sample = sample_of(path)
    kind = draw(st.sampled_from(["bytes", "truncated", "deep", "huge", "utf8", "shape",
                                 "missing", "wrong_type", "trailing"]))
    if kind == "bytes":
        return draw(st.binary(max_size=256))
    if kind == "truncated":
        return sample[:draw(st.integers(0, max(0, len(sample) - 2)))]
    if kind == "deep":
        return _deep(draw(st.integers(50, 20_000)), draw(st.sampled_from(["list", "dict"])))
    if kind == "huge":
        size = draw(st.sampled_from([2_000, 20_000, LIMIT + 1, 4 * LIMIT]))
        return json.dumps({"alerts": "x" * size, "name": 7, "payload": "x" * size,
                           "specversion": 2}).encode()
    if kind == "utf8":
        junk = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"]))
        return sample.replace(b'"', b'"' + junk, 2)
    if kind == "trailing":
        return sample + draw(st.sampled_from([b"}", b"]", b",", b"x", b"{}"]))
    doc = json.loads(sample)
    required = REQUIRED.get(path, ["name"])
    if kind == "missing":
        for field in draw(st.lists(st.sampled_from(required), min_size=1, unique=True)):
            doc.pop(field, None)
        return json.dumps(doc).encode()
    if kind == "wrong_type":
        doc[draw(st.sampled_from(required))] = draw(
            st.one_of(st.integers(), st.lists(st.integers(), max_size=2), st.booleans()))
        return json.dumps(doc).encode()
    value = draw(json_values)  # any JSON without the fields that could make it valid
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if k not in {*required, "alerts", "name"}}
    return json.dumps(value).encode()


@st.composite
def requests(draw, key: str):
    path = draw(st.sampled_from(ENDPOINTS))
    headers = key_headers(key, draw(st.sampled_from(CONTENT_TYPES)))
    auth = draw(st.sampled_from(["key"] * 8 + ["none", "wrong"]))
    if auth == "none":
        headers.pop("authorization")
    elif auth == "wrong":
        headers["authorization"] = f"Bearer {draw(TOKEN)}"
    if path.startswith("/v1/heartbeats"):
        interval = draw(st.sampled_from(["", "0", "-5", "soon", "1e3", "99999999999", "3.5",
                                               "²", "٣"]))
        path = f"{path}?interval={interval}"
    if path.startswith("/v1/cloudevents") and draw(st.booleans()):
        headers |= {"ce-specversion": draw(st.sampled_from(["1.0", "0.3", ""])),
                    "ce-type": draw(TOKEN)}
    return path, headers, draw(bodies(path))


def check(response: httpx.Response) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    body = response.json()
    if "errors" in body:  # PagerDuty's shape
        assert body["status"] == "invalid event"
        assert body["errors"]
        assert all(body["errors"])
    elif "problems" in body:
        assert body["error"]
        assert all(p["field"] and p["message"] for p in body["problems"])
    else:
        assert body["error"]
        assert body["detail"]


@pytest.fixture
async def ingest(start_service):
    return await start_service(build_service, IngestSettings, max_body_bytes=LIMIT)


def generate(key: str, out: "multiprocessing.Queue[object]") -> None:
    """In a child process (its own core): Hypothesis draws the requests, the parent sends."""
    @settings(max_examples=EXAMPLES // PER_EXAMPLE, deadline=None, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(st.lists(requests(key), min_size=PER_EXAMPLE, max_size=PER_EXAMPLE))
    def some(drawn):
        out.put(drawn)

    try:
        some()
    finally:
        out.put(None)


async def test_hostile_bodies_get_a_4xx_naming_the_problem_and_publish_nothing(nc, ingest):
    key = await create_integration(nc, "fuzz")
    base = f"http://127.0.0.1:{ingest.port}"
    context = multiprocessing.get_context("fork")  # the child only draws; it never uses the loop
    drawn: multiprocessing.Queue[object] = context.Queue(maxsize=64)
    child = context.Process(target=generate, args=(key, drawn), daemon=True)
    child.start()
    queue: asyncio.Queue = asyncio.Queue(maxsize=256)
    failures: list[tuple[object, str]] = []
    sent = 0

    async def feed() -> None:
        try:
            while True:
                try:
                    batch = await asyncio.to_thread(drawn.get, True, 2)
                except Empty:
                    assert child.is_alive(), f"the generator died ({child.exitcode})"
                    continue
                if batch is None:
                    return
                for request in batch:
                    await queue.put(request)
        finally:
            for _ in range(WORKERS):
                await queue.put(None)

    async def send(http: httpx.AsyncClient) -> None:
        nonlocal sent
        while (request := await queue.get()) is not None:
            path, headers, body = request
            sent += 1
            try:
                check(await http.post(path, content=body, headers=headers))
            except Exception as exc:  # a wrong answer, or none at all
                failures.append(((path, headers, body[:200]), repr(exc)[:300]))

    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            await asyncio.wait_for(asyncio.gather(feed(), *(send(http) for _ in range(WORKERS))),
                                   300)
            assert failures[:5] == []
            assert sent >= EXAMPLES
            info = await nc.jetstream().stream_info(INGEST.name, subjects_filter=">")
            assert not (info.state.subjects or {}).get(EventAccepted.SUBJECT)
            assert not (info.state.subjects or {}).get(ChangeAccepted.SUBJECT)
            assert info.state.messages == 0
            assert (await http.get("/healthz")).status_code == 200
            ok = await http.post("/v1/alertmanager", headers=key_headers(key),
                                 content=(PAYLOADS / "alertmanager-firing.json").read_bytes())
            assert ok.status_code == 202
    finally:
        child.join(5)
        if child.is_alive():
            child.kill()
