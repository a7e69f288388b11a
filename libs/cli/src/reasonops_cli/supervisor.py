"""The embedded nats-server and every service as its own process, started, watched,
restarted and stopped together (what ``reasonops up`` runs)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import typer

from reasonops_runtime.broker import connect
from reasonops_runtime.broker_auth import BrokerAuth
from reasonops_runtime.lifecycle import CANNOT_START
from reasonops_runtime.ports import unavailable

from .credentials import (
    OPERATOR,
    credentials_dir,
    ensure_identities,
    registry_file,
    seed_file,
    server_config_file,
    server_pid_file,
)
from .natsd import MEMORY_LIMIT, EmbeddedNats, die_with_parent
from .output import table
from .streams import declare_all

STOP_GRACE_SECONDS = 8.0
MAX_RESTARTS = 5


@dataclass
class Child:
    name: str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    log: IO[bytes] | None = field(default=None, repr=False)
    log_offset: int = 0
    """Where this run of the child began writing in its log file."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Supervisor:
    def __init__(self, *, data_dir: Path, nats_url: str | None, nats_port: int,
                 nats_monitor_port: int, ports: dict[str, int], host: str = "127.0.0.1",
                 auth: bool | None = None, broker_memory: str | None = MEMORY_LIMIT) -> None:
        self.data_dir = data_dir.resolve()
        self.logs = self.data_dir / "logs"
        self.external_nats = nats_url
        self.auth = nats_url is None if auth is None else auth
        """Services connect with their keys: by default on the embedded server (whose
        configuration this writes); on an external one only when told (say, another
        supervisor's server with this data directory's keys)."""
        self.nats = None if nats_url else EmbeddedNats(
            self.data_dir / "jetstream", port=nats_port, monitor_port=nats_monitor_port,
            host=host, log_file=self.logs / "nats-server.log",
            pid_file=server_pid_file(self.data_dir), memory=broker_memory)
        self.host = host
        self.children = [Child(name, port, self.logs / f"{name}.log")
                         for name, port in ports.items()]
        self.stop_requested = False

    @property
    def nats_url(self) -> str:
        return self.external_nats or (self.nats.url if self.nats else "")

    @property
    def operator_auth(self) -> BrokerAuth:
        """The local operator's credentials (the CLI finds them in the data directory)."""
        return BrokerAuth(seed_file(self.data_dir, OPERATOR) if self.auth else None)

    @property
    def ingest_key_file(self) -> Path:
        """Ingest creates the ``default`` integration on first start and keeps its key here."""
        return self.data_dir / "ingest-default.key"

    @property
    def api_token_file(self) -> Path:
        """The gateway issues the local operator an API token on first start, kept here."""
        return credentials_dir(self.data_dir) / "api-token"

    def start(self, ready_timeout: float = 90.0) -> None:
        """Check every port, start NATS and every service, wait until each is ready.
        Raises ``RuntimeError`` naming the service and the reason as soon as one fails."""
        self.check_ports()
        self.logs.mkdir(parents=True, exist_ok=True)
        # Identities always: every request is signed, with or without broker auth.
        ensure_identities(self.data_dir)
        if self.nats is not None:
            if self.auth:
                self.nats.config = server_config_file(self.data_dir)
            self.nats.start()
            # Streams are declared by the operator: no service's identity may manage them.
            try:
                _run_to_end(_declare_streams(self.nats_url, self.operator_auth))
            except Exception as exc:
                raise RuntimeError(f"nats-server: cannot declare the streams: {exc!r}"
                                   ) from None
        for child in self.children:
            self._spawn(child)
        self._wait_ready(ready_timeout)

    def check_ports(self) -> None:
        """Refuse to start anything while a port this stack needs is taken."""
        wanted = [(c.name, c.port) for c in self.children]
        if self.nats is not None:
            wanted[:0] = [(f"nats-server ({role})", port)
                          for role, port in self.nats.ports().items()]
        busy = [f"  {name}: {problem}" for name, port in wanted
                if (problem := unavailable(self.host, port)) is not None]
        if busy:
            raise RuntimeError(
                "ports this stack needs are in use; nothing was started:\n" + "\n".join(busy)
                + "\nStop what holds them (another ReasonOps?), or choose other ports with "
                "--port-base, --nats-port and --nats-monitor-port.")

    def _spawn(self, child: Child) -> None:
        env = dict(os.environ, REASONOPS_NATS_URL=self.nats_url,
                   REASONOPS_DATA_DIR=str(self.data_dir), REASONOPS_HTTP_PORT=str(child.port),
                   REASONOPS_HTTP_HOST=self.host)
        env.setdefault("REASONOPS_DEFAULT_INTEGRATION_KEY_FILE", str(self.ingest_key_file))
        env.setdefault("REASONOPS_BOOTSTRAP_TOKEN_FILE", str(self.api_token_file))
        env.pop("NATS_URL", None)
        env.pop("REASONOPS_IDENTITY", None)  # each child signs as itself
        env["REASONOPS_IDENTITY_KEY"] = str(seed_file(self.data_dir, child.name))
        env["REASONOPS_IDENTITIES"] = str(registry_file(self.data_dir))
        if self.auth:
            env["REASONOPS_NATS_CREDS"] = str(seed_file(self.data_dir, child.name))
        child.log = open(child.log_path, "ab")  # noqa: SIM115 - lives as long as the child
        child.log_offset = child.log.tell()
        child.process = subprocess.Popen(
            [sys.executable, "-m", "reasonops_cli", "run", child.name, "--json"], env=env,
            stdout=child.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches only us; we stop children in order
            preexec_fn=die_with_parent)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = list(self.children)
        while pending:
            if self.stop_requested:
                raise KeyboardInterrupt
            for child in list(pending):
                if not child.alive():
                    raise RuntimeError(f"{child.name}: {_why_it_stopped(child)} "
                                       f"(log: {child.log_path})")
                if _ready(child.url):
                    pending.remove(child)
            if time.monotonic() > deadline:
                names = ", ".join(c.name for c in pending)
                raise RuntimeError(f"not ready after {timeout:.0f}s: {names}")
            time.sleep(0.1)

    def watch(self) -> None:
        """Restart a service that dies, up to MAX_RESTARTS times; return on a stop signal."""
        while not self.stop_requested:
            time.sleep(0.2)
            for child in self.children:
                if self.stop_requested or child.alive():
                    continue
                code = child.process.returncode if child.process else None
                if child.restarts >= MAX_RESTARTS:
                    typer.secho(f"{child.name} exited ({code}) too often; not restarting",
                                err=True, fg=typer.colors.RED)
                    continue
                child.restarts += 1
                typer.secho(f"{child.name} exited ({code}); restarting "
                            f"({child.restarts}/{MAX_RESTARTS}), log: {child.log_path}",
                            err=True, fg=typer.colors.YELLOW)
                self._spawn(child)

    def stop(self) -> None:
        """SIGTERM every service, SIGKILL what is left after the grace period, then NATS."""
        for child in self.children:
            if child.alive() and child.process is not None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in self.children:
            if child.process is None:
                continue
            try:
                child.process.wait(max(0.05, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
                typer.secho(f"{child.name} had not stopped {STOP_GRACE_SECONDS:g}s after "
                            f"SIGTERM; killed (log: {child.log_path})",
                            err=True, fg=typer.colors.YELLOW)
            if child.log is not None:
                child.log.close()
        if self.nats is not None:
            self.nats.stop(timeout=1.5)

    def describe(self) -> dict[str, object]:
        """What is running where, for ``reasonops up --json``."""
        nats: dict[str, object] = {"url": self.nats_url, "embedded": self.nats is not None}
        if self.nats is not None and self.nats.process is not None:
            nats |= {"pid": self.nats.process.pid,
                     "monitor": f"http://{self.host}:{self.nats.monitor_port}"}
        if self.auth:
            nats["operator_credentials"] = str(seed_file(self.data_dir, OPERATOR))
        return {
            "data_dir": str(self.data_dir), "logs": str(self.logs), "nats": nats,
            "ingest_key_file": str(self.ingest_key_file),
            "api_token_file": str(self.api_token_file),
            "services": [{"name": c.name, "pid": c.process.pid if c.process else None,
                          "url": c.url, "metrics": f"{c.url}/metrics"} for c in self.children],
        }

    def summary(self) -> str:
        rows: list[list[object]] = []
        if self.nats is not None and self.nats.process is not None:
            rows.append(["nats-server", self.nats.process.pid, self.nats.url,
                         f"http://{self.host}:{self.nats.monitor_port}"])
        else:
            rows.append(["nats-server", "-", self.nats_url, "(external)"])
        for child in self.children:
            pid = child.process.pid if child.process else "-"
            rows.append([child.name, pid, child.url, f"{child.url}/metrics"])
        return table(["SERVICE", "PID", "URL", "METRICS / MONITOR"], rows)


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=0.5) as response:
            return bool(response.status == 200)
    except Exception:
        return False


def _run_to_end(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run ``coroutine`` to its end from synchronous code, also when the caller runs in an
    event loop itself (the benchmarks start supervisors from one)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coroutine)
        return
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coroutine).result()


async def _declare_streams(url: str, auth: BrokerAuth) -> None:
    nc = await connect(url, "reasonops-up", auth=auth)
    try:
        await declare_all(nc)
    finally:
        await nc.close()


def _why_it_stopped(child: Child) -> str:
    """The reason a child gave in its ``cannot start`` log record; else its last line."""
    try:
        with open(child.log_path, "rb") as log:
            log.seek(child.log_offset)
            lines = log.read().decode(errors="replace").splitlines()
    except OSError:
        return "exited during start-up (no log)"
    for line in reversed(lines):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("message") == CANNOT_START:
            return str(record.get("reason", CANNOT_START))
    last = next((line.strip() for line in reversed(lines) if line.strip()), "")
    code = child.process.returncode if child.process else None
    return f"exited ({code}) during start-up" + (f": {last}" if last else "")
