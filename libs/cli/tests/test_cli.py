import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from reasonops_cli.main import app
from reasonops_cli.output import duration, table

runner = CliRunner()


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "reasonops_cli", *args], capture_output=True,
                          text=True, timeout=60, env=env)


def test_table_aligns_columns():
    text = table(["A", "LONGER"], [["x", 1], ["yyyy", None]])
    lines = text.splitlines()
    assert lines[0] == "A     LONGER"
    assert lines[1] == "----  ------"
    assert lines[3] == "yyyy"


@pytest.mark.parametrize(("seconds", "text"), [
    (5, "5s"), (65, "1m05s"), (3600 * 4, "4h00m00s"), (86400 * 3 + 60, "3d00h01m"),
    (-90, "-1m30s")])
def test_duration_is_compact(seconds, text):
    assert duration(seconds) == text


def test_contracts_export_writes_every_schema(tmp_path):
    result = runner.invoke(app, ["contracts", "export", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    written = json.loads(result.output)["schemas"]
    assert "itsm.incident.opened.v1.json" in written
    assert (tmp_path / "Envelope.json").exists()


def test_invalid_arguments_are_named_without_a_traceback():
    result = run_cli("finance", "summary", "--month", "2026-13")
    assert result.returncode == 2
    assert "month" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_broker_is_explained(tmp_path):
    env = {"NATS_URL": "nats://127.0.0.1:1", "PATH": "/usr/bin:/bin"}
    result = run_cli("incidents", "list", env=env)
    assert result.returncode == 1
    assert "cannot reach NATS" in result.stderr
    assert "make up" in result.stderr
    assert "Traceback" not in result.stderr


def test_publish_refuses_a_file_that_is_not_an_alertmanager_body(tmp_path):
    body = tmp_path / "x.json"
    body.write_text('{"hello": 1}')
    result = run_cli("publish", str(body), "--format", "alertmanager")
    assert result.returncode == 1
    assert "no 'alerts' list" in result.stderr


def test_publish_refuses_bad_labels():
    result = run_cli("publish", "--name", "DiskFull", "--label", "novalue")
    assert result.returncode == 1
    assert "key=value" in result.stderr


def test_a_service_waiting_for_the_broker_stops_on_sigterm(tmp_path):
    import os
    import signal
    import time

    env = dict(os.environ, REASONOPS_NATS_URL="nats://127.0.0.1:1",
               REASONOPS_DATA_DIR=str(tmp_path), REASONOPS_HTTP_PORT="1")
    proc = subprocess.Popen([sys.executable, "-m", "reasonops_cli", "run", "finance", "--json"],
                            env=env, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    seen = []  # signal once it is waiting for the broker, however slowly it got there
    deadline = time.monotonic() + 60
    while "NATS connection problem" not in seen and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        if line.startswith("{"):
            seen.append(json.loads(line)["message"])
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    messages = seen + [json.loads(ln)["message"] for ln in err.splitlines() if ln.startswith("{")]
    assert "connecting to NATS" in messages
    assert "NATS connection problem" in messages
    assert "stopped during start-up" in messages


def test_the_command_starts_without_a_service_s_imports():
    """Tests and scripts call the CLI hundreds of times: starting it must not import the
    store (SQLAlchemy, Alembic) or the services' broker (FastStream), which only ``up``,
    ``run`` and ``migrate`` need, and then only when they run."""
    probe = ("import sys, reasonops_cli.main; "
             "print(sorted({m.split('.')[0] for m in sys.modules} & "
             "{'sqlalchemy', 'alembic', 'faststream', 'aiosqlite', 'asyncpg', 'fastapi'}))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_service_kit_names_what_it_exports():
    import reasonops_runtime

    for name in reasonops_runtime.__all__:
        assert getattr(reasonops_runtime, name) is not None
    assert sorted(reasonops_runtime.__all__) == sorted(reasonops_runtime._HOMES)
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        reasonops_runtime.Nothing  # noqa: B018
