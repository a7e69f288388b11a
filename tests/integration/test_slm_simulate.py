"""``reasonops simulate`` as a user runs it: the real command, its own embedded broker.

History (March 2026): checkout fires at 02 10:00 (critical: P1, impact 1), repeats at
10:20, resolves at 10:30, nobody acknowledges: the response target (15m) breaches at
10:15 -> 500.00 EUR; the resolution (4h) is met. Checkout fires again 05 08:00, is
acknowledged 08:10 (met), resolves 09:00, closes 10:00.
Downtime 1,800 + 3,600 = 5,400 s of 2,678,400: availability 99.7984% < 99.9% -> 10% of
the 18000.00 monthly fee = 1800.00 at month end; penalties 2300.00 in total.
MTTA 600 s (one acknowledgement), MTTR (1,800 + 3,600) / 2 = 2,700 s.
The second incident's cost: 60 min x 120.00 (tier 1) = 7200.00, plus 50 min of 4
responders at 95.00/h = 316.67: 7516.67 (the first was never closed: no cost).
"""

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

pytestmark = pytest.mark.nats

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "config"


def alert(at, fingerprint, status, name="HighErrorRate"):
    return {"at": at, "alert": {"fingerprint": fingerprint, "status": status, "name": name,
                                "severity": "critical", "service": "checkout",
                                "summary": "checkout trouble"}}


HISTORY = [
    alert("2026-03-02T10:00:00+00:00", "co-1", "firing"),
    alert("2026-03-02T10:20:00+00:00", "co-1", "firing"),
    alert("2026-03-02T10:30:00+00:00", "co-1", "resolved"),
    alert("2026-03-05T08:00:00+00:00", "co-2", "firing", "Latency"),
    {"at": "2026-03-05T08:10:00+00:00", "action": "acknowledge", "fingerprint": "co-2"},
    alert("2026-03-05T09:00:00+00:00", "co-2", "resolved", "Latency"),
    {"at": "2026-03-05T10:00:00+00:00", "action": "close", "fingerprint": "co-2"},
]


def simulate(tmp_path, *extra):
    history = tmp_path / "history.jsonl"
    history.write_text("".join(json.dumps(line) + "\n" for line in HISTORY))
    return subprocess.run(
        [sys.executable, "-m", "reasonops_cli", "simulate", "--events", str(history),
         "--sla", str(EXAMPLES / "sla-policies.yaml"),
         "--contracts", str(EXAMPLES / "supplier-contracts.yaml"), *extra],
        capture_output=True, text=True, timeout=300)


def test_simulate_prints_the_breaches_penalties_and_availability_a_history_gives(tmp_path):
    done = simulate(tmp_path, "--finance", str(EXAMPLES / "finance.yaml"), "--catalog",
                    str(EXAMPLES / "service-catalog.yaml"), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["events"], result["months"]) == (7, ["2026-03"])
    report = result["sla"]["2026-03"]
    checkout = next(s for s in report["services"] if s["service"] == "checkout")
    assert (checkout["downtime_seconds"], Decimal(checkout["availability"])) == (
        5400, Decimal("99.7984"))
    assert (checkout["mtta_seconds"], checkout["mttr_seconds"], checkout["breaches"]) == (
        600, 2700, 1)
    assert sorted((p["penalty_id"], Decimal(p["amount"])) for p in report["penalties"]) == [
        ("PEN-INC0000001-response-1", Decimal("500.00")),
        ("PENA-ACME-HOSTING-2026-checkout-2026-03", Decimal("1800.00"))]
    finance = result["finance"]["2026-03"]
    assert finance["totals"] == {"EUR": "2300.00"}
    assert [(i["incident_id"], i["amount"]) for i in finance["top_incidents"]] == [
        ("INC0000002", "7516.67")]


def test_simulate_table_output_and_a_bad_history_line(tmp_path):
    done = simulate(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Replayed 7 events" in done.stdout
    assert "Acme Hosting" in done.stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"at": "2026-03-02T10:00:00"}\n')
    refused = subprocess.run(
        [sys.executable, "-m", "reasonops_cli", "simulate", "--events", str(bad),
         "--sla", str(EXAMPLES / "sla-policies.yaml"),
         "--contracts", str(EXAMPLES / "supplier-contracts.yaml")],
        capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0
    assert "bad.jsonl:1: 'at' has no time zone" in refused.stderr + refused.stdout


SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "config" / "history-sample.jsonl"
EXPECTED = Path(__file__).resolve().parents[1] / "data" / "simulate-sample-expected.json"
RANDOM = ("entry_id", "seconds", "steps")
"""Ledger entry ids are new ids each run, the duration is the machine's, and how many
steps the replay took is how it works, not what it found."""


def test_the_sample_history_gives_the_recorded_figures(tmp_path):
    """Every figure of the sample history's replay as recorded: an SLA deadline that falls
    on a step's start is breached there (its timer fires before the step's events), so a
    replay does not depend on which of the two the services happened to see first."""
    done = subprocess.run(
        [sys.executable, "-m", "reasonops_cli", "simulate", "--events", str(SAMPLE),
         "--sla", str(EXAMPLES / "sla-policies.yaml"),
         "--contracts", str(EXAMPLES / "supplier-contracts.yaml"),
         "--finance", str(EXAMPLES / "finance.yaml"),
         "--catalog", str(EXAMPLES / "service-catalog.yaml"), "--json"],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert _without(json.loads(done.stdout), RANDOM) == json.loads(EXPECTED.read_text())


def _without(value, keys):
    if isinstance(value, dict):
        return {k: _without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_without(v, keys) for v in value]
    return value
