"""How long ``reasonops simulate`` takes for 1 and 12 months of a 5,000-events/day history.

Each run is the real command (a child process: embedded nats-server, incidents, SLM and
finance on a simulated clock) on a synthetic history from ``history.write_history``.
Run alone with ``python -m tests.bench.simulate [--months 1,12] [--step 3600]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .history import write_history

ROOT = Path(__file__).resolve().parents[2]
SLA = """policies:
  - {name: P1, priority: P1, response: 15m, resolution: 4h}
  - {name: P2, priority: P2, response: 30m, resolution: 8h}
  - {name: P3, priority: P3, response: 4h, resolution: 3d}
  - {name: P4, priority: P4, response: 8h, resolution: 5d}
  - {name: P5, priority: P5, response: 1d, resolution: 10d}
"""


def bench_simulate(months: list[int], *, per_day: int = 5000, step: int = 3600) -> None:
    print(f"\nsimulate: {per_day} events/day, step {step}s")
    print(f"{'months':>6} {'events':>10} {'steps':>7} {'seconds':>9} {'cpu s':>7} "
          f"{'events/s':>9} {'penalties':>10}")
    with tempfile.TemporaryDirectory(prefix="reasonops-bench-sim-") as tmp:
        sla = Path(tmp) / "sla.yaml"
        sla.write_text(SLA)
        for count in months:
            history = Path(tmp) / f"history-{count}.jsonl"
            events = write_history(history, days=round(count * 365 / 12),
                                   per_day=per_day)
            started, cpu = time.perf_counter(), _children_cpu()
            run = subprocess.run(
                [sys.executable, "-m", "reasonops_cli", "simulate", "--events", str(history),
                 "--sla", str(sla), "--contracts",
                 str(ROOT / "examples" / "config" / "supplier-contracts.yaml"),
                 "--step", str(step), "--json"],
                capture_output=True, text=True)
            if run.returncode != 0:
                raise SystemExit(f"reasonops simulate failed ({run.returncode}):\n"
                                 f"{run.stderr[-4000:]}")
            out = run.stdout
            seconds, cpu = time.perf_counter() - started, _children_cpu() - cpu
            result = json.loads(out)
            penalties = sum(len(r["penalties"]) for r in result["sla"].values())
            print(f"{count:>6} {events:>10} {result['steps']:>7} {seconds:>9.1f} {cpu:>7.1f} "
                  f"{events / seconds:>9.0f} {penalties:>10}", flush=True)


def _children_cpu() -> float:
    """User and system CPU of the finished children (the command, its broker included),
    printed beside the wall time: a slower run that used no more CPU was kept waiting."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--months", default="1,12")
    parser.add_argument("--per-day", type=int, default=5000)
    parser.add_argument("--step", type=int, default=3600)
    args = parser.parse_args()
    bench_simulate([int(m) for m in args.months.split(",")], per_day=args.per_day,
                   step=args.step)


if __name__ == "__main__":
    main()
