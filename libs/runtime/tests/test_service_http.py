import httpx
import pytest

from reasonops_runtime import Service, ServiceSettings

pytestmark = pytest.mark.nats


async def test_health_readiness_and_metrics_are_served(start_service, nats_url):
    service = await start_service(lambda s: Service("probe", s), ServiceSettings)
    base = f"http://127.0.0.1:{service.settings.port()}"
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
    from reasonops_cli.natsd import EmbeddedNats, free_port

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
