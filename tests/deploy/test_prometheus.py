"""Prometheus config and rules pass promtool; dashboards are Grafana-loadable JSON."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import yaml

from tests.deploy.manifests import DEPLOY

PROMETHEUS = DEPLOY / "prometheus"
DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:  # .ci/run installs Debian's prometheus package
        pytest.skip("promtool is not installed (apt-get install prometheus)")
    return found


def test_alert_rules_pass_promtool():
    result = subprocess.run([promtool(), "check", "rules", *map(str, PROMETHEUS.glob(
        "rules/*.yml"))], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_scrape_config_passes_promtool():
    result = subprocess.run([promtool(), "check", "config", "prometheus.yml"], cwd=PROMETHEUS,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_reasonops_watches_itself():
    rules = yaml.safe_load((PROMETHEUS / "rules" / "reasonops.yml").read_text())
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
    assert {"ReasonOpsServiceDown", "ReasonOpsConsumerLagGrowing", "ReasonOpsOutboxStuck",
            "ReasonOpsLlmFallbackRateHigh"} <= alerts


def test_alertmanager_config_passes_amtool():
    amtool = shutil.which("amtool")
    if amtool is None:  # .ci/run installs Debian's prometheus-alertmanager package
        pytest.skip("amtool is not installed (apt-get install prometheus-alertmanager)")
    result = subprocess.run([amtool, "check-config",
                             str(DEPLOY / "alertmanager" / "alertmanager.yml")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_alertmanager_sends_to_reasonops_ingest_with_a_key_from_a_file():
    config = yaml.safe_load((DEPLOY / "alertmanager" / "alertmanager.yml").read_text())
    (receiver,) = config["receivers"]
    assert config["route"]["receiver"] == receiver["name"]
    (hook,) = receiver["webhook_configs"]
    assert hook["url"].endswith("/v1/alertmanager")
    assert hook["send_resolved"] is True
    auth = hook["http_config"]["authorization"]
    assert auth["type"] == "Bearer"
    assert auth["credentials_file"].startswith("/")


def test_there_is_a_dashboard_for_each_concern():
    titles = {json.loads(p.read_text())["title"] for p in DASHBOARDS}
    assert titles == {"ReasonOps / Overview", "ReasonOps / Service levels and money",
                      "ReasonOps / AI agents", "ReasonOps / Pipeline health",
                      "ReasonOps / On call", "ReasonOps / Service desk"}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_is_provisionable_and_portable(path):
    text = path.read_text()
    dashboard = json.loads(text)
    assert dashboard["uid"]
    assert len(dashboard["uid"]) <= 40
    assert isinstance(dashboard["schemaVersion"], int)
    assert "id" not in dashboard or dashboard["id"] is None  # provisioning assigns ids
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert set(panel["gridPos"]) == {"x", "y", "w", "h"}
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}"
            assert target["expr"].strip()
    # Nothing tied to one installation: no instance, pod or host names, no fixed UIDs.
    assert not re.search(r'instance\s*=~?\s*"[^"$]', text)
    assert not re.search(r'"uid":\s*"(?!\$\{datasource\}|reasonops-)', text)
    assert "localhost" not in text
