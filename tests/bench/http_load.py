"""A small HTTP/1.1 keep-alive load generator (in the spirit of wrk), so the client's own
cost stays far below the server's: requests are pre-built bytes, responses are read by
Content-Length, no per-request objects beyond a few bytes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence


def post(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (f"POST {path} HTTP/1.1\r\nhost: bench\r\n{head}"
            f"content-length: {len(body)}\r\n\r\n").encode() + body


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        return cls(*await asyncio.open_connection(host, port))

    async def send(self, request: bytes) -> int:
        """Send one request; return the response status (the body is read and dropped)."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length:
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


async def closed_loop(host: str, port: int, requests: Sequence[bytes], *,
                      connections: int) -> tuple[float, dict[int, int]]:
    """Send every request as fast as ``connections`` keep-alive connections allow.
    Returns (elapsed seconds, count by status)."""
    conns = [await Connection.open(host, port) for _ in range(connections)]
    statuses: dict[int, int] = {}
    position = 0

    async def worker(conn: Connection) -> None:
        nonlocal position
        while position < len(requests):
            request = requests[position]
            position += 1
            status = await conn.send(request)
            statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    elapsed = time.perf_counter() - started
    for conn in conns:
        conn.close()
    return elapsed, statuses


async def open_loop(host: str, port: int, requests: Sequence[bytes], *, rate: float,
                    connections: int = 64) -> tuple[list[float], dict[int, int]]:
    """Start request i at t0 + i/rate whatever happened before (no coordinated omission):
    latency runs from the scheduled start to the end of the response."""
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(await Connection.open(host, port))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.05

    async def one(i: int, request: bytes) -> None:
        conn = await idle.get()
        status = await conn.send(request)
        latencies.append(loop.time() - (t0 + i / rate))
        statuses[status] = statuses.get(status, 0) + 1
        idle.put_nowait(conn)

    tasks = []
    for i, request in enumerate(requests):
        delay = t0 + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, request)))
    await asyncio.gather(*tasks)
    while not idle.empty():
        idle.get_nowait().close()
    return latencies, statuses


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]
