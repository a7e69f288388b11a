from datetime import UTC, datetime, timedelta

import pytest

from reasonops_runtime.clock import FrozenClock, SystemClock
from reasonops_runtime.settings import ServiceSettings


def test_nats_url_and_database_url_are_read_from_the_usual_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("NATS_URL", "nats://broker:4222")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://db/incidents")
    monkeypatch.setenv("REASONOPS_BATCH_SIZE", "50")
    settings = ServiceSettings(service_name="incidents")
    assert settings.nats_url == "nats://broker:4222"
    assert settings.db_url() == "postgresql+asyncpg://db/incidents"
    assert settings.batch_size == 50
    assert settings.port() == 8082


def test_default_database_is_a_sqlite_file_per_service(tmp_path):
    settings = ServiceSettings(service_name="slm", data_dir=tmp_path)
    assert settings.db_url() == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'slm.db'}"


def test_frozen_clock_moves_only_when_told():
    clock = FrozenClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    assert clock.now() == clock.now()
    clock.advance(90)
    assert clock.now() == datetime(2026, 11, 2, 9, 1, 30, tzinfo=UTC)
    clock.advance(timedelta(days=1))
    assert clock.now().day == 3
    with pytest.raises(ValueError, match="timezone"):
        FrozenClock(datetime(2026, 11, 2))


def test_system_clock_is_aware_utc():
    assert SystemClock().now().tzinfo is UTC


def test_the_image_healthcheck_finds_the_service_port():
    from reasonops_runtime.healthcheck import service_port

    assert service_port(["/app/.venv/bin/python", "reasonops", "run", "slm"], {}) == 8083
    assert service_port(["reasonops", "run", "slm"], {"REASONOPS_HTTP_PORT": "9000"}) == 9000
    assert service_port(["reasonops", "--help"], {}) == 8080


def test_logs_never_show_the_nats_password():
    from reasonops_runtime.settings import redact_url

    assert redact_url("nats://reasonops:s3cret@nats:4222") == "nats://reasonops:***@nats:4222"
    assert redact_url("nats://a:b@n1:4222,nats://a:b@n2:4222") == (
        "nats://a:***@n1:4222,nats://a:***@n2:4222")
    assert redact_url("nats://127.0.0.1:4222") == "nats://127.0.0.1:4222"
    assert redact_url("nats://token@nats:4222") == "nats://token@nats:4222"
