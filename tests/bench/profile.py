"""Where the time goes: CPU seconds and resident memory per service process (from
``/proc``), and a sampling profile (py-spy, raw collapsed stacks) of each, of which the
busiest one's top functions are printed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU of ``pid`` so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int) -> float:
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except OSError:
        return 0.0
    return pages * PAGE / 2**20


def histogram(metrics_urls: dict[str, str], name: str, by: str | None = None
              ) -> dict[tuple[str, str], tuple[float, float]]:
    """(service, the ``by`` label's value) -> (count, sum) of the histogram ``name`` so
    far, from each service's ``/metrics``."""
    found: dict[tuple[str, str], list[float]] = {}
    for service, url in metrics_urls.items():
        try:
            text = httpx.get(f"{url}/metrics", timeout=5).text
        except httpx.HTTPError:
            continue
        for line in text.splitlines():
            for suffix, slot in (("_count", 0), ("_sum", 1)):
                head = f"{name}{suffix}{{"
                if line.startswith(head):
                    labels, _, value = line[len(head):].rpartition("} ")
                    key = dict(part.split("=", 1) for part in labels.split(",")
                               if "=" in part).get(by, "?").strip('"') if by else ""
                    found.setdefault((service, key), [0.0, 0.0])[slot] += float(value)
    return {key: (n, t) for key, (n, t) in found.items()}


def handler_seconds(metrics_urls: dict[str, str]) -> list[tuple[str, str, float, float]]:
    """(service, consumer, batches, seconds) handling fetched batches (the kit's
    ``reasonops_handler_batch_seconds``), the longest first."""
    found = histogram(metrics_urls, "reasonops_handler_batch_seconds", "consumer")
    return sorted(((s, c, n, t) for (s, c), (n, t) in found.items()), key=lambda r: -r[3])


def statements(metrics_urls: dict[str, str]) -> dict[str, tuple[float, float]]:
    """Service -> (database statements, seconds waited for them) so far (the kit's
    ``reasonops_db_statement_seconds``)."""
    found = histogram(metrics_urls, "reasonops_db_statement_seconds")
    return {service: counted for (service, _), counted in found.items()}


def _py_spy() -> str | None:
    here = Path(sys.executable).parent / "py-spy"
    return str(here) if here.exists() else shutil.which("py-spy")


@dataclass
class Profile:
    """CPU used by each named process between ``start`` and ``stop``, with samples."""

    pids: dict[str, int]
    metrics_urls: dict[str, str] = field(default_factory=dict)
    rate: int = 40
    sample: bool = True
    """Attach py-spy to each Python process. Off while a rate is measured: fourteen
    samplers starting and reading stacks took CPU from the services measured (ingest
    beside every service took 1,231-1,911 alerts/s sampled, 3,634-6,046 not)."""
    cpu: dict[str, float] = field(default_factory=dict)
    statements: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Service -> (database statements, seconds) between ``start`` and ``stop``."""
    _spies: dict[str, tuple[subprocess.Popen[bytes], Path]] = field(default_factory=dict)
    _tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bench-prof-")))

    def start(self) -> None:
        self.cpu = {name: -cpu_seconds(pid) for name, pid in self.pids.items()}
        self.statements = statements(self.metrics_urls)
        spy = _py_spy() if self.sample else None
        if spy is None:
            return
        for name, pid in self.pids.items():
            if name == "nats-server":
                continue  # not Python
            out = self._tmp / f"{name}.txt"
            self._spies[name] = (subprocess.Popen(
                [spy, "record", "--pid", str(pid), "--format", "raw", "--nonblocking",
                 "--rate", str(self.rate), "--function", "--output", str(out)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), out)

    def stop(self) -> None:
        for name, pid in self.pids.items():
            self.cpu[name] += cpu_seconds(pid)
        before = self.statements
        self.statements = {service: (n - before.get(service, (0, 0))[0],
                                     t - before.get(service, (0, 0))[1])
                           for service, (n, t) in statements(self.metrics_urls).items()}
        for proc, _ in self._spies.values():
            proc.send_signal(2)  # py-spy writes its file on SIGINT
        for proc, _ in self._spies.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    def busiest(self, n: int = 1) -> list[str]:
        """The ``n`` Python processes that used the most CPU, busiest first."""
        sampled = [name for name in self.cpu if name in self._spies or not self._spies]
        return sorted(sampled, key=lambda name: -self.cpu[name])[:n]

    def top(self, name: str, n: int = 12) -> list[tuple[str, float, float]]:
        """(function, share of samples where it is on the stack, share where it is the
        leaf) for ``name``'s process: the ``n`` most often the leaf, then the ``n``
        ReasonOps functions most often on the stack."""
        found = self._spies.get(name)
        if found is None or not found[1].exists():
            return []
        inclusive: Counter[str] = Counter()
        leaf: Counter[str] = Counter()
        total = 0
        for line in found[1].read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            frames = [f for f in stack.split(";") if f and not f.startswith("process ")]
            if not frames:
                continue
            samples = int(count)
            total += samples
            for frame in dict.fromkeys(_short(f) for f in frames):
                inclusive[frame] += samples
            leaf[_short(frames[-1])] += samples
        if not total:
            return []
        ranked = sorted(inclusive, key=lambda f: (leaf[f], inclusive[f]), reverse=True)[:n]
        ours = sorted((f for f in inclusive if "reasonops_" in f and f not in ranked),
                      key=lambda f: inclusive[f], reverse=True)[:n]
        return [(f, inclusive[f] / total, leaf[f] / total) for f in ranked + ours]

    def report(self, label: str, n: int = 12) -> None:
        print(f"\n  where the time went ({label}): CPU seconds per process")
        for name, seconds in sorted(self.cpu.items(), key=lambda kv: -kv[1]):
            print(f"    {name:<16} {seconds:>7.1f} s  RSS {rss_mb(self.pids[name]):>6.0f} MB")
        ran = sorted(((n, t, s) for s, (n, t) in self.statements.items() if n), reverse=True)
        if ran:
            print(f"  database statements: {sum(n for n, _, _ in ran):,.0f} in all; per process "
                  + ", ".join(f"{s} {n:,.0f} ({t:.1f} s)" for n, t, s in ran))
        handling = [r for r in handler_seconds(self.metrics_urls) if r[2]]
        if handling:
            print("  time handling fetched batches, per durable consumer (top 6)")
            for service, consumer, batches, seconds in handling[:6]:
                print(f"    {service:<16} {consumer:<24} {seconds:>6.1f} s in {batches:>6,.0f} "
                      f"batches ({seconds / batches * 1000:.1f} ms each)")
        for busiest in self.busiest(2):
            rows = self.top(busiest, n)
            if rows:
                print(f"  {busiest}: top functions by own samples (on stack / own)")
                for function, on_stack, own in rows:
                    print(f"    {own:>6.1%} {on_stack:>6.1%}  {function[:100]}")
        shutil.rmtree(self._tmp, ignore_errors=True)


def _short(frame: str) -> str:
    """``function (path/to/module.py)`` -> ``function (module.py)``."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    parts = where.split("/")
    return f"{name} ({'/'.join(parts[-2:])})" if where else name
