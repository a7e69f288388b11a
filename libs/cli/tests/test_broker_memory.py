"""The embedded nats-server's soft memory limit: given as Go's GOMEMLIMIT, checked first."""

import subprocess
import sys
from pathlib import Path

import pytest

from reasonops_cli.natsd import MEMORY_LIMIT, EmbeddedNats, memory_limit
from reasonops_runtime.ports import free_port


@pytest.mark.parametrize(("text", "value"), [
    ("280MiB", "280MiB"), ("1GiB", "1GiB"), ("1048576", "1048576"), (" 64KiB ", "64KiB"),
    ("off", None), ("OFF", None)])
def test_a_size_is_read_as_go_reads_it(text, value):
    assert memory_limit(text) == value


@pytest.mark.parametrize("text", ["lots", "280MB", "-5MiB", "1.5GiB", "MiB"])
def test_what_go_cannot_read_is_refused_saying_what_is_expected(text):
    with pytest.raises(ValueError, match="not a size: expected a number of bytes"):
        memory_limit(text)


def test_a_limit_of_nothing_is_refused():
    with pytest.raises(ValueError, match="say 'off'"):
        memory_limit("0MiB")


def _environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def _server_env(tmp_path: Path, memory: str | None) -> dict[str, str]:
    server = EmbeddedNats(tmp_path / "js", port=free_port(), monitor_port=None, memory=memory)
    server.start()
    try:
        assert server.process is not None
        return _environment(server.process.pid)
    finally:
        server.stop()


def test_the_server_runs_under_the_limit(tmp_path, monkeypatch):
    monkeypatch.delenv("GOMEMLIMIT", raising=False)
    assert _server_env(tmp_path, MEMORY_LIMIT)["GOMEMLIMIT"] == "280MiB"
    assert "GOMEMLIMIT" not in _server_env(tmp_path, None)


def test_an_exported_gomemlimit_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("GOMEMLIMIT", "1GiB")
    assert _server_env(tmp_path, MEMORY_LIMIT)["GOMEMLIMIT"] == "1GiB"


def test_up_refuses_a_bad_limit_before_starting_anything(tmp_path):
    data = tmp_path / "data"
    result = subprocess.run([sys.executable, "-m", "reasonops_cli", "up", "--data-dir",
                             str(data), "--broker-memory", "lots"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "--broker-memory: 'lots' is not a size" in result.stderr
    assert not data.exists()
