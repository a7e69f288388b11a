import asyncio

import httpx
import pytest

from reasonops_runtime import Service, ServiceSettings

pytestmark = pytest.mark.nats


async def test_health_readiness_and_metrics_are_served(start_service, nats_url):
    service = await start_service(lambda s: Service("probe", s), ServiceSettings)
    base = f"http://127.0.0.1:{service.port}"
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"{base}/healthz")).json()["status"] == "ok"
        ready = await client.get(f"{base}/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"broker": True, "store": True, "consumers": True}
        metrics = (await client.get(f"{base}/metrics")).text
        assert 'reasonops_service_ready{service="probe"} 1.0' in metrics
    info = await service.js.stream_info("AUDIT")
    assert {s.name for s in info.config.sources} >= {"INGEST", "INCIDENTS", "FINANCE"}


async def test_readiness_fails_when_the_broker_is_gone(start_service, tmp_path):
    from reasonops_cli.natsd import EmbeddedNats
    from reasonops_runtime.ports import free_port

    server = EmbeddedNats(tmp_path / "own-js", port=free_port(), monitor_port=None)
    server.start()
    settings = ServiceSettings(service_name="probe", nats_url=server.url,
                               data_dir=tmp_path / "data", http_port=free_port())
    service = Service("probe", settings)
    await service.start()
    try:
        server.kill()
        async with httpx.AsyncClient() as client:
            import asyncio

            for _ in range(50):
                ready = await client.get(f"http://127.0.0.1:{settings.port()}/readyz")
                if ready.status_code == 503:
                    break
                await asyncio.sleep(0.1)
        assert ready.status_code == 503
        assert ready.json()["checks"]["broker"] is False
    finally:
        await service.stop()


async def test_events_left_in_the_outbox_by_a_crash_are_published_at_start(nats_url, tmp_path):
    from datetime import UTC, datetime

    from reasonops_contracts import Envelope
    from reasonops_contracts.incidents import IncidentClosed
    from reasonops_runtime.broker import connect
    from reasonops_runtime.ports import free_port
    from reasonops_runtime.store import Store

    settings = ServiceSettings(service_name="probe", nats_url=nats_url,
                               data_dir=tmp_path, http_port=free_port())
    left = Store(settings.db_url())
    await left.create_all()
    envelope = Envelope.wrap(IncidentClosed(incident_id="INC0000001", actor="a",
                                            closed_at=datetime.now(UTC)), source="probe")
    async with left.transaction() as tx:  # committed, never relayed: the process died
        tx.emit(envelope)
    await left.close()

    service = Service("probe", settings)
    await service.start()
    nc = await connect(nats_url)
    try:
        js = nc.jetstream()
        for _ in range(30):  # well inside the sweep's 5 s grace period
            if (await js.stream_info("INCIDENTS")).state.messages:
                break
            await asyncio.sleep(0.1)
        stored = await js.get_msg("INCIDENTS", 1)
        assert Envelope.from_bytes(stored.data).id == envelope.id
    finally:
        await nc.close()
        await service.stop()


async def test_shutdown_hooks_run_after_the_drain_and_a_failing_one_stops_nothing(
        nats_url, tmp_path):
    from reasonops_runtime.ports import free_port

    settings = ServiceSettings(service_name="probe", nats_url=nats_url,
                               data_dir=tmp_path / "data", http_port=free_port())
    service = Service("probe", settings)
    closed: list[str] = []

    async def broken() -> None:
        raise RuntimeError("client already gone")

    async def close_client() -> None:
        closed.append("client")

    service.shutdown_hooks.extend([broken, close_client])
    await service.start()
    await service.stop()
    assert closed == ["client"]
    assert service.stopping.is_set()


async def test_a_service_whose_port_is_taken_fails_before_it_touches_the_broker(tmp_path):
    from reasonops_runtime.ports import PortUnavailable, free_port, listen

    nowhere = f"nats://127.0.0.1:{free_port()}"  # nothing listens: a connect would retry
    with listen("127.0.0.1", 0) as held:
        port = held.getsockname()[1]
        service = Service("probe", ServiceSettings(service_name="probe", nats_url=nowhere,
                                                   data_dir=tmp_path, http_port=port))
        with pytest.raises(PortUnavailable, match=f"cannot listen on 127.0.0.1:{port}"):
            await asyncio.wait_for(service.start(), 5)
        await service.stop()
    assert service.broker is None
    assert not (tmp_path / "probe.db").exists()


async def test_port_zero_serves_on_the_port_the_system_chose(start_service):
    service = await start_service(lambda s: Service("probe", s), ServiceSettings)
    assert service.settings.http_port == 0
    assert service.port > 0
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"http://127.0.0.1:{service.port}/healthz")).status_code == 200
