"""Scenario scripts: the built-in ones load; a bad one is refused naming where and why."""

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from reasonops_cli.main import app
from reasonops_cli.scenario_actions import incident_message
from reasonops_cli.scenario_runner import Run, Target
from reasonops_cli.scenario_script import (
    Act,
    ScriptError,
    builtin,
    find,
    load_script,
    parse_script,
)
from reasonops_contracts.incidents import (
    AcknowledgeIncident,
    AssignIncident,
    CloseIncident,
    CommentIncident,
)

GOOD = """
name: tiny
title: One alert
services: [checkout]
steps:
  - send: {label: an alert, format: event, body: {name: Down, service: checkout}}
  - after: 500ms
    wait: {label: opened, opened: {service: checkout}, timeout: 1m}
  - act: {label: ack, command: ack}
expect:
  - {step: opened, type: incident.opened, text: "P[12]"}
"""


def refusal(text: str) -> str:
    with pytest.raises(ScriptError) as caught:
        parse_script(text, "bad.yaml")
    return str(caught.value)


def test_builtin_scenarios_load():
    assert sorted(builtin()) == ["database-degradation", "production-outage",
                                 "security-bruteforce"]
    for name in builtin():
        script = find(name)
        assert script.name == name
        assert script.expect
        assert script.steps


def test_durations_are_read_as_seconds():
    script = parse_script(GOOD, "good.yaml")
    assert script.steps[1].after == 0.5
    assert script.steps[1].wait is not None
    assert script.steps[1].wait.timeout == 60
    assert script.steps[2].act is not None
    assert script.steps[2].act.incident == "primary"


@pytest.mark.parametrize(("change", "message"), [
    (("format: event", "format: nagios"), "bad.yaml: steps.0.send.format: Input should be"),
    (("command: ack", "command: reboot"), "bad.yaml: steps.2.act.command: Input should be"),
    (("- act: {label: ack, command: ack}", "- act: {label: ack, command: assign}"),
     "bad.yaml: steps.2.act: Value error, assign needs group"),
    (("opened: {service: checkout}", "opened: {service: checkout}, major: true"),
     "bad.yaml: steps.1.wait: Value error, give exactly one of opened, state, major"),
    (("timeout: 1m", "timeout: soon"), "bad.yaml: steps.1.wait.timeout: Input should be a "
     "valid number"),
    (("  - after: 500ms\n", "  - after: 500ms\n    act: {label: x, command: ack}\n"),
     "bad.yaml: steps.1: Value error, a step is one of send, wait, act (got wait, act)"),
    (("name: tiny", "name: Tiny Scenario"), "bad.yaml: name: String should match pattern"),
    (('text: "P[12]"', 'text: "P[12"'), "bad.yaml: expect.0: Value error, text is not a "
     "regular expression"),
    (("services: [checkout]", "services: []"), "bad.yaml: services: List should have at "
     "least 1 item"),
    (("title: One alert", "title: One alert\ncolour: blue"),
     "bad.yaml: colour: Extra inputs are not permitted"),
])
def test_a_bad_script_is_refused_naming_the_field(change, message):
    old, new = change
    assert old in GOOD
    assert refusal(GOOD.replace(old, new, 1)).startswith(message)


def test_not_yaml_names_the_line():
    assert refusal("name: x\nsteps: [\n  - {") .startswith("bad.yaml: line ")
    assert refusal("- just\n- a list\n") == (
        "bad.yaml: a scenario is a mapping with name, title, services, steps")


def test_files_and_unknown_names(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(GOOD)
    assert find(str(path)).name == "tiny"
    with pytest.raises(ScriptError, match="no such scenario file"):
        load_script(tmp_path / "missing.yaml")
    with pytest.raises(ScriptError, match="unknown scenario 'nope'; built in: "
                       "database-degradation, production-outage, security-bruteforce"):
        find("nope")


def test_scenario_list_command():
    listed = CliRunner().invoke(app, ["scenario", "list", "--json"])
    assert [s["name"] for s in json.loads(listed.output)] == [
        "database-degradation", "production-outage", "security-bruteforce"]
    result = CliRunner().invoke(app, ["scenario", "list"])
    assert result.exit_code == 0, result.output
    assert "production-outage" in result.output
    assert "checkout" in result.output


def test_run_refuses_an_unknown_scenario_before_connecting():
    result = subprocess.run([sys.executable, "-m", "reasonops_cli", "scenario", "run", "nope"],
                            capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, NATS_URL="nats://127.0.0.1:1"))
    assert result.returncode == 1
    assert "error: unknown scenario 'nope'" in result.stderr


def test_run_without_a_key_says_where_it_looked(tmp_path):
    result = CliRunner().invoke(app, ["scenario", "run", "production-outage", "--data-dir",
                                      str(tmp_path)], env={"REASONOPS_INGEST_KEY": ""})
    assert result.exit_code != 0
    assert f"no integration key at {tmp_path}/ingest-default.key" in str(result.exception)


def test_placeholders_are_filled_everywhere():
    run = Run(parse_script(GOOD, "good.yaml"), Target("http://ingest", "K3Y", "nats://x"))
    filled = run.fill({"routing_key": "${KEY}", "alerts": [{"fingerprint": "${RUN}-${I}",
                                                            "n": 3}]}, index=7)
    assert filled == {"routing_key": "K3Y", "alerts": [{"fingerprint": f"{run.run_id}-7",
                                                        "n": 3}]}
    assert run.fill("${NOW}").endswith("Z")


@pytest.mark.parametrize(("act", "sent"), [
    ({"command": "ack", "note": "on it"}, AcknowledgeIncident),
    ({"command": "close"}, CloseIncident),
    ({"command": "assign", "group": "dba"}, AssignIncident),
    ({"command": "comment", "note": "rolling back"}, CommentIncident),
])
def test_people_send_the_commands_the_cli_sends(act, sent):
    message = incident_message(Act(label="x", actor="user:alice", **act), "INC0000001")
    assert type(message) is sent
    assert (message.incident_id, message.actor) == ("INC0000001", "user:alice")


def test_progress_is_told_each_step_and_note():
    told: list[str] = []
    run = Run(parse_script(GOOD, "good.yaml"), Target("http://ingest", "K", "nats://x"),
              progress=told.append)
    run.note("not observed within 1s: opened")
    assert run.notes == ["not observed within 1s: opened"]
    assert told[0].startswith("[+")
    assert told[0].endswith("] not observed within 1s: opened")
