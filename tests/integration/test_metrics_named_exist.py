"""Every metric the dashboards and alert rules name is exported by a running service."""

from __future__ import annotations

import json
import re
import typing
from importlib.metadata import entry_points
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from reasonops_contracts.finance import LedgerEntryPosted
from tests.support import post_to_ingest, stream_messages, wait_for

pytestmark = pytest.mark.nats

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "config"
METRIC = re.compile(r"\breasonops_[a-z0-9_]+")

# Metrics of services still being built elsewhere, named by the dashboards and rules
# ahead of them. Remove an entry as soon as a service exports it: from then on the
# scrape is the proof.
PENDING: set[str] = set()

ONE_ALERT = {
    "version": "4", "status": "firing", "receiver": "reasonops",
    "alerts": [{"status": "firing", "fingerprint": "3e7a1c0000000001",
                "labels": {"alertname": "CheckoutDown", "service": "checkout",
                           "severity": "critical"},
                "annotations": {"summary": "checkout answers 503"}}],
}


def named_in_dashboards_and_rules() -> dict[str, set[str]]:
    """Metric name -> the files that use it."""
    named: dict[str, set[str]] = {}
    for path in sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json")):
        dashboard = json.loads(path.read_text())
        exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
        exprs += [str(v.get("query", "")) for v in dashboard["templating"]["list"]]
        for name in METRIC.findall(" ".join(exprs)):
            named.setdefault(name, set()).add(path.name)
    for path in sorted((ROOT / "deploy" / "prometheus" / "rules").glob("*.yml")):
        rules = yaml.safe_load(path.read_text())
        for rule in (r for g in rules["groups"] for r in g["rules"]):
            for name in METRIC.findall(rule["expr"]):
                named.setdefault(name, set()).add(path.name)
    return named


def exposed_names(text: str) -> set[str]:
    """Every series name a /metrics page can produce, from its TYPE lines (present even
    before a labelled metric has its first sample)."""
    names: set[str] = set()
    suffixes = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count",
                                                                 "_created"),
                "summary": ("_sum", "_count", "_created"), "gauge": ("",)}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            base = name.removesuffix("_total") if kind == "counter" else name
            names |= {base + s for s in suffixes.get(kind, ("",))} | {name}
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [(sample.labels, sample.value) for family in text_string_to_metric_families(text)
            for sample in family.samples if sample.name == name]


def settings_class(build: typing.Any) -> type:
    hint = typing.get_type_hints(build)["settings"]
    return next(a for a in typing.get_args(hint) if a is not type(None))


async def test_every_metric_in_dashboards_and_rules_is_exported(nc, start_service, tmp_path):
    overrides = {"ingest": {"default_integration_key_file": tmp_path / "ingest.key"},
                 "slm": {"sla_policies": EXAMPLES / "sla-policies-fast.yaml",
                         "supplier_contracts": EXAMPLES / "supplier-contracts.yaml"}}
    running = {}
    for ep in entry_points(group="reasonops.services"):
        build = ep.load()
        running[ep.name] = await start_service(build, settings_class(build),
                                               **overrides.get(ep.name, {}))
    assert {"ingest", "incidents", "slm", "finance"} <= set(running)

    ingest = f"http://127.0.0.1:{running['ingest'].port}"
    assert (await post_to_ingest(ingest, "/v1/alertmanager", ONE_ALERT,
                                  key_file=tmp_path / "ingest.key")).status_code == 202
    await wait_for(lambda: stream_messages(nc, "FINANCE", LedgerEntryPosted.SUBJECT),
                   check=lambda found: len(found) == 2, timeout=30)

    exposed: set[str] = set()
    async with httpx.AsyncClient(timeout=10) as client:
        for name, service in running.items():
            page = await client.get(f"http://127.0.0.1:{service.port}/metrics")
            assert page.status_code == 200, name
            exposed |= exposed_names(page.text)

    # The gauges read from the stores show the incident and its workflow.
    incidents = f"http://127.0.0.1:{running['incidents'].port}/metrics"
    orchestrator = f"http://127.0.0.1:{running['orchestrator'].port}/metrics"
    async with httpx.AsyncClient(timeout=10) as client:
        await wait_for(lambda: client.get(incidents), timeout=20, check=lambda r: samples(
            r.text, "reasonops_incidents_open") == [
                ({"state": "new", "priority": "P1", "service": "checkout"}, 1.0)])
        await wait_for(lambda: client.get(orchestrator), timeout=20, check=lambda r: (
            {"workflow": "incident-response", "state": "running"}, 1.0) in samples(
                r.text, "reasonops_workflow_instances"))

    named = named_in_dashboards_and_rules()
    assert len(named) > 20
    unknown = {n: sorted(files) for n, files in named.items()
               if n not in exposed and n not in PENDING}
    assert unknown == {}, "named in dashboards/rules but exported by no service"
    # A pending entry that a service now exports should be dropped from PENDING.
    assert sorted(PENDING & exposed) == []
