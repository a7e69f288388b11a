"""Every agent's evaluation on its labelled sets (``make eval``, and ``make bench``):
triage on the dev and the held-out test split and leaving each source tool out, root
cause, security and capacity; offline, the rules provider last in every chain."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data"
SETS: dict[str, list[Path]] = {
    "triage (dev split, tuned on)": [DATA / "triage-eval.jsonl"],
    "triage (test split, held out)": [DATA / "triage-eval-test.jsonl"],
    "rca": [DATA / "rca-eval.jsonl"],
    "security (dev split, tuned on)": [DATA / "security-eval-dev.jsonl"],
    "security (test split, held out)": [DATA / "security-eval.jsonl"],
    "capacity": [DATA / "capacity-eval.jsonl"],
    "slm": [DATA / "slm-eval.jsonl"],
}


def _module(agent: str) -> Any:
    [found] = [ep for ep in entry_points(group="reasonops.agent_evals") if ep.name == agent]
    return found.load()


async def run_evals() -> dict[str, Any]:
    figures: dict[str, Any] = {}
    print(f"\n== agent evaluations ({datetime.now(UTC):%Y-%m-%d}, chain: rules) ==")
    for title, paths in SETS.items():
        agent = title.split(" ")[0]
        module = _module(agent)
        started = time.perf_counter()
        report = await module.run(paths, chain="rules")
        elapsed = time.perf_counter() - started
        print(f"\n-- {title}: {', '.join(p.name for p in paths)} "
              f"({module.count_cases(paths)} cases, {elapsed:.1f} s) --")
        print(module.render(report))
        figures[title] = report.as_dict()
    triage = _module("triage")
    both = [DATA / "triage-eval.jsonl", DATA / "triage-eval-test.jsonl"]
    loso = triage.leave_one_source_out(both)
    print(f"\n-- triage, leave one source out: {', '.join(p.name for p in both)} --")
    print(triage.render_leave_one_out(loso))
    figures["triage (leave one source out)"] = loso.as_dict()
    return figures


def main() -> None:
    figures = asyncio.run(run_evals())
    out = Path(".reasonops") / "eval.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2, default=str))
    print(f"\nfigures written to {out}")


if __name__ == "__main__":
    main()
