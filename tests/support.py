"""Helpers for cross-service tests (no fixtures here; see conftest.py)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from reasonops_contracts import Envelope
from reasonops_contracts.ingest import CreateIntegration, EventAccepted, IntegrationKeyIssued


def accepted(fingerprint: str, status: str = "firing", severity: str = "critical",
             service: str = "checkout", **labels: str) -> Envelope:
    event = EventAccepted(fingerprint=fingerprint, status=status, name="HighErrorRate",
                          severity=severity, service=service, resource="pod-1",
                          summary="checkout 5xx", labels={"alertname": "HighErrorRate", **labels},
                          received_at=datetime.now(UTC), source_format="alertmanager")
    return Envelope.wrap(event, source="ingest")


def owner(event: Any) -> str:
    """A service that owns ``event``'s subject: a source its consumers accept."""
    from reasonops_contracts.ownership import owners

    return min(owners(event.SUBJECT))


async def publish_all(nc: Any, envelopes: Iterable[Envelope], *, with_msg_id: bool = True,
                      subject: str | None = None) -> None:
    js = nc.jetstream()
    for env in envelopes:
        headers = env.headers() if with_msg_id else {"ce-type": env.type}
        await js.publish(subject or _subject(env), env.to_bytes(), headers=headers)


def _subject(env: Envelope) -> str:
    from reasonops_contracts.registry import EVENTS

    return EVENTS[env.type].SUBJECT


async def wait_for(probe: Callable[[], Any], *, check: Callable[[Any], Any] = bool,
                   timeout: float = 15.0, interval: float = 0.05) -> Any:
    """Call ``probe`` (sync or async) until ``check(result)`` is truthy; return the result."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: Any = None
    while True:
        try:
            last = probe()
            if inspect.isawaitable(last):
                last = await last
            if check(last):
                return last
        except Exception as exc:  # not ready yet (e.g. no responders)
            last = exc
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last: {last!r}")
        await asyncio.sleep(interval)


async def stream_messages(nc: Any, stream: str, subject: str | None = None) -> list[Envelope]:
    """Every envelope currently in ``stream`` (optionally one subject), oldest first."""
    js = nc.jetstream()
    info = await js.stream_info(stream)
    found = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            msg = await js.get_msg(stream, seq)
        except Exception:
            continue
        if subject is None or msg.subject == subject:
            found.append(Envelope.from_bytes(msg.data))
    return found


async def post_to_ingest(base_url: str, path: str, body: Any, *, key_file: Path) -> Any:
    """POST a JSON body to ingest's HTTP API with the key ingest wrote to ``key_file``
    (its ``default_integration_key_file`` setting); returns the ``httpx.Response``."""
    key = key_file.read_text().strip()
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        return await client.post(path, json=body, headers=key_headers(key))


# -- ingest over HTTP: every webhook needs an integration key ------------------------------

async def create_integration(nc: Any, name: str = "test", **options: Any) -> str:
    """Register an ingest integration (ingest must be running); return its key."""
    from reasonops_runtime.client import request

    issued = await request(nc, CreateIntegration(name=name, **options), IntegrationKeyIssued)
    return issued.key


def key_headers(key: str, content_type: str = "application/json") -> dict[str, str]:
    return {"authorization": f"Bearer {key}", "content-type": content_type}


@asynccontextmanager
async def ingest_client(nc: Any, ingest: Any, *, name: str = "test",
                        **options: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for a running ingest service, sending a fresh integration's key."""
    key = await create_integration(nc, name, **options)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ingest.port}",
                                 headers={"authorization": f"Bearer {key}"},
                                 timeout=30) as client:
        yield client


async def post_alertmanager(client: httpx.AsyncClient, body: bytes,
                            path: str = "/v1/alertmanager") -> httpx.Response:
    """POST an Alertmanager (or other JSON) body with a client from ``ingest_client``."""
    return await client.post(path, content=body, headers={"content-type": "application/json"})


# -- signed requests (ADR 0030): what conftest's ``nc`` does, for other connections ---------

def signer_for_tests() -> Any:
    """The ``tests`` identity's signer (conftest's ``test_identity`` sets its variables)."""
    import os

    from reasonops_runtime.claims import Signer

    identity = os.environ["REASONOPS_IDENTITY"]
    return Signer.from_file(identity, Path(os.environ["REASONOPS_IDENTITY_KEY"]),
                            f"user:{identity}")


def signed(subject: str, body: bytes) -> dict[str, str]:
    """Claim headers for sending ``body`` to ``subject`` by hand (``nc.request``)."""
    return signer_for_tests().headers(subject, body)


async def issue_token(nc: Any, principal: str, **fields: Any) -> str:
    """An API token for ``principal`` (issued over NATS, as ``reasonops tokens create``)."""
    from reasonops_contracts.gateway import ApiTokenIssued, CreateApiToken
    from reasonops_runtime.client import request

    issued = await request(nc, CreateApiToken(actor=principal, name="tests", **fields),
                           ApiTokenIssued)
    return issued.token


async def cli(nats_url: str, *args: str) -> tuple[int, str, str]:
    """``reasonops ARGS`` against the test's broker in a child process (so the test's
    event loop keeps serving the services it started): exit code, stdout, stderr."""
    import os
    import sys

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "reasonops_cli", *args, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=dict(os.environ, NATS_URL=nats_url))
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()
