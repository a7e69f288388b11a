"""``reasonops agents ...`` against running agents on a real nats-server."""

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from reasonops_agent_triage.app import TriageSettings
from reasonops_agent_triage.app import build_service as build_triage
from reasonops_contracts import Envelope, subjects
from reasonops_contracts.agents import TriageRequested
from reasonops_contracts.incidents import CreateIncident, IncidentView
from reasonops_incidents.app import IncidentSettings
from reasonops_incidents.app import build_service as build_incidents
from reasonops_llm.fakes import FakeLlmServer
from reasonops_runtime.client import request
from tests.support import cli, publish_all, stream_messages, wait_for

DATA = Path(__file__).resolve().parents[1] / "data" / "triage-eval.jsonl"



def requested(incident: str) -> Envelope:
    event = TriageRequested(request_id=f"REQ-{incident}", workflow_id=f"WF-{incident}",
                            incident_id=incident, title="Disk almost full", service="billing",
                            severity="warning", priority=3,
                            labels={"alertname": "NodeFilesystemSpaceFillingUp"})
    return Envelope.wrap(event, source="orchestrator", subject=incident)


@pytest.mark.nats
async def test_decisions_providers_and_health(nats_url, nc, start_service):
    await start_service(build_triage, TriageSettings)
    await start_service(build_incidents, IncidentSettings)
    first, second = [(await request(nc, CreateIncident(
        title=f"Disk almost full {n}", service="billing", impact=2, urgency=2,
        actor="user:ann"), IncidentView)).incident_id for n in (1, 2)]
    await publish_all(nc, [requested(first), requested(second)])
    await wait_for(lambda: stream_messages(nc, "AGENTS", subjects.AGENT_DECISION),
                   check=lambda found: len(found) == 2)

    code, out, _ = await cli(nats_url, "agents", "decisions", "--json", "--agent", "triage")
    assert code == 0
    assert {d["incident_id"] for d in json.loads(out)} == {first, second}
    code, out, _ = await cli(nats_url, "agents", "decisions", "--incident", second)
    assert code == 0
    assert second in out
    assert first not in out
    assert "storage" in out
    # An incident that does not exist is named, not listed as having no decisions.
    code, out, err = await cli(nats_url, "agents", "decisions", "--incident", "INC9999999")
    assert code == 1
    assert "INC9999999" in err

    code, out, _ = await cli(nats_url, "agents", "providers", "--json", "--wait", "1")
    [status] = json.loads(out)
    assert (status["agent"], status["chain"], status["prompt_version"]) == (
        "triage", "rules", "triage.v1")
    # Listing providers probes nothing, yet the offline rules are known to be healthy.
    assert [(p["provider"], p["healthy"]) for p in status["providers"]] == [("rules", True)]
    assert (status["pending"], status["given_up"]) == (0, 0)
    code, out, _ = await cli(nats_url, "agents", "health", "--wait", "1")
    assert code == 0
    assert "rules" in out
    assert "ok" in out
    assert out.splitlines()[0].split()[-3:] == ["QUEUED", "GIVEN", "UP"]


@pytest.mark.nats
async def test_configured_chain_is_used_and_an_unhealthy_provider_is_reported(
        nats_url, start_service, tmp_path):
    server = await FakeLlmServer({}, models=("other-model",)).start()
    try:
        from functools import partial

        from reasonops_llm import LlmSettings
        await start_service(partial(build_triage, llm=LlmSettings(ollama_url=server.url)),
                            TriageSettings)
        code, out, err = await cli(nats_url, "agents", "configure", "--agent", "triage",
                                   "--chain", "ollama:llama3.1 -> rules")
        assert code == 0, err
        assert "applies it now" in out
        code, out, _ = await wait_for(lambda: cli(nats_url, "agents", "health", "--wait", "1"),
                                      check=lambda answer: "llama3.1" in answer[1])
        assert code == 1
        assert "DOWN" in out
        assert "ollama pull llama3.1" in out
    finally:
        await server.stop()


def test_configure_refuses_a_bad_chain(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "reasonops_cli", "agents", "configure", "--agent", "triage",
         "--chain", "gpt:4 -> rules"],
        capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "--chain: chain step 1: unknown provider 'gpt'" in result.stderr


def test_shipped_eval_set_is_large_and_varied():
    cases = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
    assert len(cases) >= 150
    categories = Counter(c["expected_category"] for c in cases)
    assert set(categories) == {"network", "database", "application", "security",
                               "infrastructure", "storage"}
    assert min(categories.values()) >= 20
    assert len({c["source_tool"] for c in cases}) >= 20
    assert len({c["title"] for c in cases}) == len(cases)


@pytest.mark.slow
def test_eval_reports_accuracy_confusion_and_provider_figures():
    result = subprocess.run([sys.executable, "-m", "reasonops_cli", "agents", "eval",
                             "--agent", "triage", str(DATA)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert "accuracy category" in result.stdout
    assert "confusion (rows: expected, columns: decided)" in result.stdout
    assert "rules" in result.stdout.split("provider")[-1]
    figures = json.loads(subprocess.run(
        [sys.executable, "-m", "reasonops_cli", "agents", "eval", "--json", str(DATA)],
        capture_output=True, text=True, check=True).stdout)
    assert figures["cases"] >= 150
    assert figures["accuracy"]["category"] > 0.8
    assert sum(sum(row.values()) for row in figures["confusion"].values()) == figures["cases"]


def test_eval_names_the_bad_line_and_field(tmp_path):
    bad = tmp_path / "cases.jsonl"
    bad.write_text(DATA.read_text().splitlines()[0] + "\n" +
                   '{"title": "x", "severity": "high", "source_tool": "zabbix", '
                   '"expected_category": "weather"}\n')
    result = subprocess.run([sys.executable, "-m", "reasonops_cli", "agents", "eval", str(bad)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert f"{bad}:2: expected_category" in result.stderr


def test_eval_keeps_extra_fields_and_reports_by_difficulty_and_language(tmp_path):
    """Cases may carry an id, a difficulty, a language and notes; accuracy is reported by
    difficulty and language, a miss names its case, the other fields are named unused."""
    base = [{k: v for k, v in json.loads(line).items() if k not in ("language", "reason")}
            for line in DATA.read_text().splitlines()[:60]]
    cases = tmp_path / "cases.jsonl"
    lines = []
    for n, case in enumerate(base):
        extra = {"id": f"c-{n:03d}", "difficulty": "hard" if n % 3 == 0 else "easy",
                 "notes": "written for this test"}
        if n % 2:
            extra["language"] = "de"
        lines.append(json.dumps(case | extra))
    # One case labelled wrong on purpose (category and priority), so there are misses to
    # name.
    wrong = base[1] | {"id": "c-wrong", "difficulty": "hard", "expected_category": "security"
                       if base[1]["expected_category"] != "security" else "network",
                       "expected_priority": 1}
    lines.append(json.dumps(wrong))
    cases.write_text("\n".join(lines) + "\n")
    figures = json.loads(subprocess.run(
        [sys.executable, "-m", "reasonops_cli", "agents", "eval", "--json", str(cases)],
        capture_output=True, text=True, check=True).stdout)
    by = figures["category_accuracy_by"]
    assert sum(v["cases"] for v in by["difficulty"].values()) == 61
    assert set(by["difficulty"]) == {"easy", "hard"}
    assert by["language"]["de"]["cases"] == 30
    assert figures["fields_not_used"] == ["notes"]
    shown = subprocess.run(
        [sys.executable, "-m", "reasonops_cli", "agents", "eval", "--misses", "--progress",
         str(cases)], capture_output=True, text=True, check=True)
    assert "category accuracy by difficulty" in shown.stdout
    misses = shown.stdout.split("misses:")[1]
    assert "c-wrong: " in misses
    # A wrong priority is named with the case and the assessment's last steps.
    assert "c-wrong: 'NodeNetworkReceiveErrs': expected P1, got P3 (" in misses
    assert "=> P3)" in misses
    # Not a terminal, asked for progress: a line every tenth of the cases.
    assert shown.stderr.splitlines()[-1] == "triage eval 61/61"
    assert "triage eval 6/61" in shown.stderr
    quiet = subprocess.run(
        [sys.executable, "-m", "reasonops_cli", "agents", "eval", str(cases)],
        capture_output=True, text=True, check=True)
    assert quiet.stderr == ""  # not a terminal: no bar unless asked


HELD_OUT = DATA.with_name("triage-eval-test.jsonl")


def test_the_held_out_split_is_apart_from_the_one_tuned_on():
    """The test split is held out: no case of the dev split again, each case says who
    sends it, why its label and how hard it is; both splits read as one file are
    reported side by side."""
    dev = [json.loads(line) for line in DATA.read_text().splitlines()]
    test = [json.loads(line) for line in HELD_OUT.read_text().splitlines()]
    assert {c["split"] for c in dev} == {"dev"}
    assert {c["split"] for c in test} == {"test"}
    assert not {c["title"] for c in dev} & {c["title"] for c in test}
    assert all(c["reason"].strip() and c["difficulty"] in ("easy", "hard")
               and c["language"] in ("en", "de", "fr", "es") for c in test)
    every = dev + test
    assert len(every) >= 400
    assert len({c["source_tool"] for c in every}) >= 60
    assert all(c["id"] and c["source_tool"].strip() and c["reason"].strip() for c in every)
    assert len({c["id"] for c in every}) == len(every)
    assert sum("expected_priority" in c for c in every) >= 100
    assert len({c["source_tool"] for c in test} - {c["source_tool"] for c in dev}) >= 30
    assert {c["expected_category"] for c in test} == {c["expected_category"] for c in dev}
    report = json.loads(subprocess.run(
        [sys.executable, "-m", "reasonops_cli", "agents", "eval", "--json", str(HELD_OUT)],
        capture_output=True, text=True, check=True).stdout)
    assert report["cases"] == len(test)
    assert set(report["category_accuracy_by"]["split"]) == {"test"}
    assert report["fields_not_used"] == []


LEARNED = (Path(__file__).resolve().parents[2] / "services" / "agent-triage" / "src"
           / "reasonops_agent_triage" / "vocabularies" / "learned.yaml")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reasonops_cli", "agents", *args],
                          capture_output=True, text=True, check=False)


def test_tuning_never_reads_the_test_split(tmp_path):
    """A word that only test cases share is never learned, however many carry it; the
    same word in dev cases is. The shipped learned vocabulary is what tuning makes of
    the dev file alone."""
    dev = [json.loads(line) for line in DATA.read_text().splitlines()]
    planted = [{"id": f"t-{n}", "split": "test", "title": f"Zorblax quota {n}",
                "severity": "warning", "source_tool": "zorbtool", "expected_category": "storage",
                "reason": "planted"} for n in range(5)]
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text("".join(json.dumps(c) + "\n" for c in [*dev, *planted]))
    result = _cli("tune", str(mixed))
    assert result.returncode == 0, result.stderr
    assert "zorblax" not in result.stdout
    assert f"from {len(dev)} dev cases; 5 cases of other splits left unread" in result.stderr
    as_dev = tmp_path / "as-dev.jsonl"
    as_dev.write_text("".join(json.dumps(c | {"split": "dev"}) + "\n" for c in planted))
    assert "- zorblax" in _cli("tune", str(as_dev)).stdout

    out = tmp_path / "learned.yaml"
    assert _cli("tune", str(DATA), "--out", str(out)).returncode == 0
    assert out.read_text() == LEARNED.read_text().replace(
        "learned from the 241 dev cases", f"learned from the {len(dev)} dev cases")


def test_leave_one_source_out_scores_each_tool_as_unknown(tmp_path):
    """Each tool's cases are scored with what was learned without them and without the
    tool's own name: a case only its tool's name decides is right in the plain report
    and wrong here."""
    named = {"id": "z-1", "split": "test", "title": "Something happened", "severity": "notice",
             "source_tool": "zeek", "expected_category": "security", "reason": "zeek notices"}
    cases = tmp_path / "cases.jsonl"
    cases.write_text(DATA.read_text() + json.dumps(named) + "\n")
    plain = json.loads(_cli("eval", "--json", "--misses", str(cases)).stdout)
    result = _cli("eval", "--leave-one-source-out", "--json", str(cases), str(HELD_OUT))
    assert result.returncode == 0, result.stderr
    loso = json.loads(result.stdout)
    assert loso["by_tool"]["zeek"] == {"correct": 1, "cases": 2}  # the held-out one still right
    assert plain["accuracy"]["category"] > 0.9
    assert loso["cases"] == len(DATA.read_text().splitlines()) + 1 + len(
        HELD_OUT.read_text().splitlines())
    assert 0.8 < loso["accuracy"] <= 1
    assert loso["tools"] >= 60
    shown = _cli("eval", "--leave-one-source-out", str(cases))
    assert shown.stdout.startswith("leave one source out: ")
    refused = _cli("eval", "--agent", "rca", "--leave-one-source-out", str(cases))
    assert refused.returncode == 1
    assert "only for triage" in refused.stderr


SETS = {"triage": [DATA, HELD_OUT], "rca": [DATA.with_name("rca-eval.jsonl")],
        "security": [DATA.with_name("security-eval.jsonl")],
        "capacity": [DATA.with_name("capacity-eval.jsonl")],
        "slm": [DATA.with_name("slm-eval.jsonl")]}


@pytest.mark.parametrize("agent", sorted(SETS))
def test_every_agent_has_a_labelled_set_it_is_evaluated_on(agent, tmp_path):
    """Each set: unique ids, a split, the reason for each label; the agent's report
    covers every case."""
    lines = [json.loads(line) for path in SETS[agent] for line in path.read_text().splitlines()]
    assert len({c["id"] for c in lines}) == len(lines)
    assert all(c["split"] in ("dev", "test") and c["reason"].strip() for c in lines)
    paths = SETS[agent]
    # Months as three days and log stretches as two hours: this test is about the sets'
    # shape; the evaluation page's test runs them whole.
    shorter = {"slm": {"days": 3}, "security": {"hours": 2}}.get(agent)
    if shorter is not None:
        paths = [tmp_path / f"{agent}.jsonl"]
        paths[0].write_text("".join(json.dumps(c | shorter) + "\n" for c in lines))
    result = _cli("eval", "--agent", agent, "--json", *map(str, paths))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["cases"] == len(lines)


def test_rca_eval_ranks_the_known_cause(tmp_path):
    """A cause named wrongly on purpose is a miss; the right one is ranked first."""
    [case] = [json.loads(line) for line in SETS["rca"][0].read_text().splitlines()][:1]
    assert case["cause"] == {"kind": "change", "ref": "CHG-1001"}
    wrong = case | {"id": "wrong", "cause": {"kind": "change", "ref": "CHG-1002"}}
    cases = tmp_path / "rca.jsonl"
    cases.write_text(json.dumps(case) + "\n" + json.dumps(wrong) + "\n")
    report = json.loads(_cli("eval", "--agent", "rca", "--json", str(cases)).stdout)
    assert (report["top1"], report["top3"]) == (0.5, 0.5)  # CHG-1002 is another service's
    shown = _cli("eval", "--agent", "rca", "--misses", str(cases)).stdout
    assert "cause ranked first       50.0% (1/2)" in shown
    assert "wrong: cause change CHG-1002 ranked nowhere" in shown
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(case | {"cause": {"kind": "weather", "ref": "x"}}) + "\n")
    refused = _cli("eval", "--agent", "rca", str(bad))
    assert refused.returncode == 1
    assert f"{bad}:1: cause.kind" in refused.stderr


def test_security_eval_counts_attacks_found_and_false_alarms(tmp_path):
    """The same logs with and without a fast brute force: found within minutes when there;
    a job hammering a stale password (benign, as labelled) is counted as a false alarm
    when it trips the rules."""
    quiet = {"id": "q", "split": "test", "reason": "noise", "start": "2026-11-02T00:00:00Z",
             "hours": 2, "seed": 3, "noise": {"typos_per_hour": 30}}
    attacked = quiet | {"id": "a", "attacks": [{"kind": "brute_force", "source": "203.0.113.9",
                                                "start_minute": 30, "minutes": 3,
                                                "tries": 300, "accounts": 1}]}
    stale = quiet | {"id": "c", "hours": 0.25, "noise": {"service_accounts": [
        {"source": "10.30.0.7", "user": "svc-reports", "every_minutes": 0.04}]}}
    cases = tmp_path / "security.jsonl"
    cases.write_text("".join(json.dumps(c) + "\n" for c in (quiet, attacked, stale)))
    report = json.loads(_cli("eval", "--agent", "security", "--json", str(cases)).stdout)
    assert (report["attacks"], report["detected"], report["recall"]) == (1, 1, 1.0)
    assert report["false_alarms"] == 1
    assert report["precision"] == 0.5
    assert 0 <= report["minutes_to_detect_median"] < 3
    assert report["false_alarms_per_day"] == 5.65  # 1 in 4.25 hours of logs


def test_capacity_eval_measures_the_forecast_error(tmp_path):
    steady = {"id": "s", "split": "test", "reason": "linear", "metric": "DiskSpaceLow",
              "limit": 100, "last_value": 80, "slope_per_hour": 2, "hours": 6,
              "interval_minutes": 10}
    flat = steady | {"id": "f", "slope_per_hour": 0, "noise": 0.1}
    cases = tmp_path / "capacity.jsonl"
    cases.write_text(json.dumps(steady) + "\n" + json.dumps(flat) + "\n")
    report = json.loads(_cli("eval", "--agent", "capacity", "--json", str(cases)).stdout)
    assert report["growing"] == report["growing_forecast"] == 1
    assert report["median_error_hours"] < 0.1  # exact line: 10 h left, forecast 10 h
    assert (report["flat"], report["flat_right"]) == (1, 1)
