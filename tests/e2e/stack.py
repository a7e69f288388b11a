"""Driving ``reasonops up`` and the CLI as a user would, for the end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from reasonops_runtime.ports import free_port_range

ROOT = Path(__file__).resolve().parents[2]


def without_test_identity(env: dict[str, str]) -> dict[str, str]:
    """``env`` less the test suite's identity (see conftest): ``reasonops up`` makes its
    own, and the CLI finds the operator's in the stack's data directory."""
    return {k: v for k, v in env.items()
            if k not in ("REASONOPS_IDENTITIES", "REASONOPS_IDENTITY", "REASONOPS_IDENTITY_KEY")}


class Stack:
    """``reasonops up`` in a subprocess on free ports and a temporary data dir."""

    def __init__(self, data_dir: Path, **env: str) -> None:
        self.data_dir = data_dir
        self.port_base = free_port_range(14)
        self.gateway_port = self.port_base + 13
        self.nats_port = free_port_range(2)
        self.env = without_test_identity(dict(os.environ, **env))
        self.env.pop("NATS_URL", None)
        self.process: subprocess.Popen[str] | None = None
        self.output: list[str] = []
        self.described: dict[str, Any] = {}

    @property
    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self.nats_port}"

    def url(self, offset: int = 0) -> str:
        return f"http://127.0.0.1:{self.port_base + offset}"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def api_token(self) -> str:
        """The local operator's API token, issued by the gateway on its first start."""
        return (self.data_dir / "credentials" / "api-token").read_text().strip()

    def start(self, timeout: float = 120) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "reasonops_cli", "up", "--data-dir", str(self.data_dir),
             "--port-base", str(self.port_base), "--nats-port", str(self.nats_port),
             "--nats-monitor-port", str(self.nats_port + 1),
             "--gateway-port", str(self.gateway_port), "--json"],
            env=self.env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, bufsize=1)
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                raise RuntimeError("reasonops up exited:\n" + "".join(self.output))
            self.output.append(line)
            if line.startswith("{"):
                self.described = json.loads(line)
                return
        raise TimeoutError("reasonops up not ready:\n" + "".join(self.output))

    def pids(self) -> list[int]:
        """nats-server's and every service's process id, as ``up --json`` reported them."""
        return [self.described["nats"]["pid"],
                *(s["pid"] for s in self.described["services"])]

    def stop(self, sig: int = signal.SIGINT, timeout: float = 10) -> float:
        """Signal ``up``; return how long it took to exit."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(sig)
        self.process.communicate(timeout=timeout)
        return time.monotonic() - started

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """Run ``reasonops ARGS`` against this stack, as a user in its directory would."""
        return subprocess.run([sys.executable, "-m", "reasonops_cli", *args],
                              env=dict(self.env, NATS_URL=self.nats_url,
                                       REASONOPS_DATA_DIR=str(self.data_dir), **env), cwd=ROOT,
                              capture_output=True, text=True, timeout=60)

    def cli(self, *args: str, check: bool = True) -> Any:
        """Run ``reasonops ARGS --json``; return the parsed JSON."""
        result = self.run(*args, "--json")
        if check and result.returncode != 0:
            raise AssertionError(f"reasonops {' '.join(args)} failed: {result.stderr}")
        return json.loads(result.stdout) if result.returncode == 0 else result

    @property
    def ingest_key(self) -> str:
        """The key of the integration ``up`` created on first start."""
        return Path(self.described["ingest_key_file"]).read_text().strip()

    def post(self, path: str, payload_file: str) -> httpx.Response:
        body = (ROOT / "examples" / "payloads" / payload_file).read_bytes()
        return httpx.post(f"{self.url()}{path}", content=body, timeout=10, headers={
            "content-type": "application/json", "authorization": f"Bearer {self.ingest_key}"})


def wait_until(probe: Any, timeout: float = 30, interval: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
            if last:
                return last
        except AssertionError as exc:
            last = exc
        time.sleep(interval)
    raise AssertionError(f"not reached within {timeout}s; last: {last!r}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except OSError:
        return False
