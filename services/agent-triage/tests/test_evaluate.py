import json
from decimal import Decimal

import pytest

from reasonops_agent_triage.evaluate import CaseError, load_cases, render, run
from reasonops_llm import LlmSettings
from reasonops_llm.fakes import FakeLlmServer

CASES = [
    {"title": "Replication lag on pg-2", "labels": {"alertname": "PostgresReplicationLag"},
     "severity": "P2", "source_tool": "datadog", "expected_category": "database",
     "expected_priority": 2},
    {"title": "Disk /data 95% full", "labels": {"mountpoint": "/data"}, "severity": "High",
     "source_tool": "zabbix", "expected_category": "storage"},
]
MODEL = {"category": "database", "assignment_group": "dba", "suggested_impact": 1,
         "suggested_urgency": 2, "suggested_priority": 2, "confidence": 0.7,
         "reasons": ["x"], "summary": "x"}


async def test_eval_reports_per_provider_latency_cost_and_a_confusion_matrix(tmp_path):
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in CASES))
    server = await FakeLlmServer(MODEL, script=["ok", "500"]).start()
    try:
        report = await run([path], chain="openai:gpt-4o-mini -> rules", llm=LlmSettings(
            openai_url=server.url, openai_api_key="sk-test-abcdefghijklmnop12", retries=0,
            prices='{"openai:gpt-4o-mini": {"in": "0.15", "out": "0.60"}}'))
    finally:
        await server.stop()
    assert set(report.providers) == {"openai", "rules"}
    assert report.providers["openai"].cost == Decimal("0.000042")
    assert report.fallbacks == 1
    assert report.accuracy("category") == 1.0
    assert report.accuracy("priority") == 1.0
    assert report.confusion["storage"]["storage"] == 1
    text = render(report)
    assert "accuracy category  100.0% (2/2)" in text
    assert "openai" in text
    assert "rules" in text


def test_cases_severity_spellings_map_to_the_canonical_scale(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in CASES))
    first, second = load_cases(path)
    assert (first.severity_level(), second.severity_level()) == ("error", "error")


def test_a_bad_case_names_line_and_field(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(CASES[0]) + "\n" + json.dumps({**CASES[0], "severity": 3}))
    with pytest.raises(CaseError, match=r"c.jsonl:2: severity"):
        load_cases(path)
