"""Listening ports: taken up front with an error that says which and why, and free ones
chosen for throwaway servers outside the kernel's ephemeral range.

The kernel hands ports of its ephemeral range (``ip_local_port_range``, 32768-60999 on
Linux) to outgoing connections, such as every service's connection to NATS. A port
found free there can be taken by such a connection before the server that was meant to
listen on it binds; a port outside that range can only be taken by another listener.
"""

from __future__ import annotations

import errno
import os
import random
import socket
from pathlib import Path

EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LINUX_EPHEMERAL_RANGE = (32768, 60999)
LOWEST_CHOSEN_PORT = 10_000
"""Ports below this are left to well-known and registered services a machine may run."""

_handed_out: set[int] = set()
"""Ports ``free_port`` returned in this process: not returned twice, even if not yet bound."""

share: tuple[int, int] = (0, 1)
"""(index, count): this process chooses ports only from its share of the range, one of
``count`` equal slices, so processes choosing at the same time (parallel test workers)
never choose the same port."""


class PortUnavailable(RuntimeError):
    """A server cannot listen on ``host:port``; ``reason`` is the system's word for why."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(f"cannot listen on {host}:{port}: {reason}")
        self.host = host
        self.port = port
        self.reason = reason


def listen(host: str, port: int, *, backlog: int = 2048) -> socket.socket:
    """A TCP socket bound and listening on ``host:port`` (0: any free port), as uvicorn and
    nats-server bind (``SO_REUSEADDR``, so a port in TIME_WAIT is free)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise PortUnavailable(host, port, f"unknown host ({exc.strerror})") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise PortUnavailable(host, port, _reason(exc)) from None
    sock.setblocking(False)
    return sock


def unavailable(host: str, port: int) -> PortUnavailable | None:
    """Why nothing could listen on ``host:port`` now; None if it could."""
    try:
        listen(host, port, backlog=1).close()
    except PortUnavailable as exc:
        return exc
    return None


def ephemeral_range() -> tuple[int, int]:
    """The kernel's range for outgoing connections' local ports."""
    try:
        low, high = (int(n) for n in EPHEMERAL_RANGE_FILE.read_text().split())
    except (OSError, ValueError):
        return LINUX_EPHEMERAL_RANGE
    return low, high


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on, outside the ephemeral range (see the module's docstring),
    and not returned before by this process."""
    return free_port_range(1, host)


def free_port_range(count: int, host: str = "127.0.0.1") -> int:
    """The first of ``count`` consecutive free ports, outside the ephemeral range."""
    low, high = ephemeral_range()
    ranges = [(LOWEST_CHOSEN_PORT, low - 1), (high + 1, 65535)]
    if all(last - first + 1 < count for first, last in ranges):
        ranges = [(1024, 65535)]  # a machine whose every port is ephemeral: any unprivileged
    index, of = share
    ranges = [(first + (last - first + 1) * index // of,
               first + (last - first + 1) * (index + 1) // of - 1) for first, last in ranges]
    spans = [(first, last - count + 1) for first, last in ranges if last - first + 1 >= count]
    if not spans:
        raise RuntimeError(f"no {count} consecutive ports in this process's share of the range")
    weights = [last - first + 1 for first, last in spans]
    for _ in range(200):
        first, last = random.choices(spans, weights)[0]
        base = random.randint(first, last)
        ports = range(base, base + count)
        if _handed_out.isdisjoint(ports) and all(unavailable(host, p) is None for p in ports):
            _handed_out.update(ports)
            return base
    raise RuntimeError(f"no {count} free consecutive port(s) on {host}")


def _reason(exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return "address already in use"
    if exc.errno is not None:
        return os.strerror(exc.errno).lower()
    return str(exc)
