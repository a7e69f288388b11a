"""`reasonops up` and `reasonops run` that cannot start say why at once and leave nothing."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reasonops_runtime.ports import free_port, free_port_range, listen
from tests.e2e.stack import ROOT, without_test_identity

pytestmark = pytest.mark.e2e

START_TIMEOUT = 5  # the acceptance bound: a taken port is reported within seconds


def reasonops(*args: str, data_dir: Path, timeout: float = START_TIMEOUT,
              **env: str) -> subprocess.CompletedProcess[str]:
    environment = without_test_identity(dict(os.environ, REASONOPS_DATA_DIR=str(data_dir),
                                             **env))
    environment.pop("NATS_URL", None)
    return subprocess.run([sys.executable, "-m", "reasonops_cli", *args], cwd=ROOT,
                          env=environment, capture_output=True, text=True, timeout=timeout)


def up(data_dir: Path, port_base: int, nats_port: int, *more: str, timeout: float = START_TIMEOUT,
       **env: str) -> subprocess.CompletedProcess[str]:
    return reasonops("up", "--data-dir", str(data_dir), "--port-base", str(port_base),
                     "--gateway-port", str(port_base + 13),
                     "--nats-port", str(nats_port), "--nats-monitor-port", str(nats_port + 1),
                     *more, data_dir=data_dir, timeout=timeout, **env)


def processes_of(data_dir: Path) -> list[int]:
    """Processes whose command line or environment names ``data_dir``."""
    mark = str(data_dir.resolve()).encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if mark in (proc / "cmdline").read_bytes() or mark in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_up_stops_at_once_naming_a_service_whose_port_is_taken(tmp_path):
    port_base, nats_port = free_port_range(14), free_port_range(2)
    slm = port_base + 2  # ingest, incidents, slm, ...
    with listen("127.0.0.1", slm):
        result = up(tmp_path / "data", port_base, nats_port)
    assert result.returncode == 1
    assert f"slm: cannot listen on 127.0.0.1:{slm}: address already in use" in result.stderr
    assert "--port-base" in result.stderr  # ... and how to choose others
    assert not (tmp_path / "data" / "jetstream").exists()  # nothing was started
    assert not processes_of(tmp_path / "data")


def test_up_names_the_embedded_nats_servers_taken_port(tmp_path):
    port_base, nats_port = free_port_range(14), free_port_range(2)
    with listen("127.0.0.1", nats_port):
        result = up(tmp_path / "data", port_base, nats_port)
    assert result.returncode == 1
    assert (f"nats-server (client): cannot listen on 127.0.0.1:{nats_port}: "
            "address already in use") in result.stderr
    assert not processes_of(tmp_path / "data")


def test_run_exits_at_once_when_its_port_is_taken(tmp_path):
    with listen("127.0.0.1", 0) as held:
        port = held.getsockname()[1]
        result = reasonops("run", "slm", "--json", data_dir=tmp_path,
                           REASONOPS_HTTP_PORT=str(port),
                           REASONOPS_NATS_URL=f"nats://127.0.0.1:{free_port()}")
    assert result.returncode == 1
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    (refusal,) = [r for r in records if r["message"] == "cannot start"]
    assert refusal["reason"] == f"cannot listen on 127.0.0.1:{port}: address already in use"
    assert refusal["level"] == "error"
    assert "exception" not in refusal  # a reason the kit names needs no traceback


def test_up_stops_everything_when_a_service_cannot_start(tmp_path):
    broken = tmp_path / "sla-policies.yaml"
    broken.write_text("policies: [unclosed\n")
    port_base, nats_port = free_port_range(14), free_port_range(2)
    result = up(tmp_path / "data", port_base, nats_port, "--service", "ingest",
                "--service", "slm", timeout=60, REASONOPS_SLA_POLICIES=str(broken))
    assert result.returncode == 1
    (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith("error: slm: ")]
    assert str(broken) in line  # the reason names the file at fault
    assert "slm.log" in line
    assert not processes_of(tmp_path / "data")
