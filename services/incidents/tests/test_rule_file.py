"""Rule files: validation with file, line, field and reason; hot reload keeps good rules."""

import json
import os

import pytest

from reasonops_incidents.incident.rules import ConfigError, RuleFile, parse
from reasonops_incidents.matchers import parse_matcher

GOOD = """rules:
  - name: checkout
    match: ["service=checkout"]
    group_by: [service]
    create_on: {alerts: 2}
"""


@pytest.mark.parametrize(("text", "line", "field", "reason"), [
    ("rules:\n  - name: a\n    window: 10x\n", 3, "rules[0].window", "is not a duration"),
    ("rules:\n  - name: a\n    match:\n      - service=x\n      - 'x=~('\n", 5,
     "rules[0].match[1]", "bad regular expression"),
    ("rules:\n  - name: a\n    create_on: {alerts: 3, resources: 2}\n", 3,
     "rules[0].create_on", "exactly one of"),
    ("rules:\n  - name: a\n  - name: b\n    resolve_on: sometimes\n", 4,
     "rules[1].resolve_on", "'first', 'last', 'all' or 'never'"),
    ("rules:\n  - name: a\n    colour: red\n", 3, "rules[0].colour", "Extra inputs"),
    ("escalation:\n  payments:\n    - {after: 30m, to: a}\n    - {after: 10m, to: b}\n", 2,
     "escalation", "must increase"),
    ("rules: [\n", 2, "(file)", "not valid YAML"),
    ("- just a list\n", 1, "(file)", "expected a mapping"),
])
def test_bad_rule_files_name_file_line_field_and_reason(text, line, field, reason):
    with pytest.raises(ConfigError) as err:
        parse(text, "rules.yaml")
    assert (err.value.file, err.value.line, err.value.field) == ("rules.yaml", line, field)
    assert reason in err.value.reason
    assert str(err.value).startswith(f"rules.yaml:{line}: {field}: ")


def test_a_bad_file_at_start_stops_the_service(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - name: a\n    window: soon\n")
    with pytest.raises(ConfigError, match=r"rules.yaml:3: rules\[0\].window"):
        RuleFile(path)


def test_a_missing_file_at_start_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"nope.yaml: \(file\): cannot read"):
        RuleFile(tmp_path / "nope.yaml")


def test_changed_file_is_reloaded_and_a_bad_one_keeps_the_previous_rules(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(GOOD)
    rules = RuleFile(path)
    assert [r.name for r in rules.current().rules] == ["checkout", "default"]
    path.write_text(GOOD.replace("checkout\n", "checkout-v2\n", 1))
    os.utime(path, (1, 1))
    assert [r.name for r in rules.current().rules] == ["checkout-v2", "default"]
    path.write_text("rules:\n  - name: broken\n    window: -5\n")
    os.utime(path, (2, 2))
    assert [r.name for r in rules.current().rules] == ["checkout-v2", "default"]
    assert rules.error is not None
    assert "rules.yaml:3: rules[0].window" in rules.error
    path.unlink()
    assert [r.name for r in rules.current().rules] == ["checkout-v2", "default"]
    assert "cannot read" in (rules.error or "")


def test_first_matching_rule_wins_and_default_catches_the_rest():
    rules = parse(GOOD + "  - name: all-checkout\n    match: [service=checkout]\n", "r")
    assert rules.rule_for({"service": "checkout"}).name == "checkout"
    assert rules.rule_for({"service": "search"}).name == "default"


def test_group_key_uses_the_group_by_fields():
    rule = parse(GOOD, "r").rules[0]
    assert rule.group_key({"service": "checkout", "alertname": "X"}) == \
        "checkout:service=checkout"


@pytest.mark.parametrize(("matcher", "fields", "expected"), [
    ("service=checkout", {"service": "checkout"}, True),
    ("service!=checkout", {"service": "checkout"}, False),
    ("severity!=info", {}, True),
    ("alertname=~Disk.*", {"alertname": "DiskFull"}, True),
    ("alertname=~Disk", {"alertname": "DiskFull"}, False),  # anchored
    ("instance!~test-.*", {"instance": "prod-1"}, True),
    ("severity in (critical, error)", {"severity": "error"}, True),
    ("env not in (dev, test)", {"env": "dev"}, False),
    ("cluster", {"cluster": "eu-1"}, True),
    ("!maintenance", {"maintenance": "yes"}, False),
])
def test_matchers(matcher, fields, expected):
    assert parse_matcher(matcher)(fields) is expected


@pytest.mark.parametrize("bad", ["", "=x", "service in ()", "x=~[", "1abc=2"])
def test_bad_matchers_are_refused(bad):
    with pytest.raises(ValueError, match=r"matcher|regular expression|empty|not a"):
        parse_matcher(bad)


def test_the_example_rule_file_is_valid():
    from pathlib import Path

    path = Path(__file__).parents[3] / "examples" / "config" / "correlation-rules.yaml"
    rules = RuleFile(path).current()
    assert [r.name for r in rules.rules] == ["databases", "checkout", "batch", "default"]
    assert rules.escalation["payments"][0].after == 600


def test_the_service_refuses_to_start_on_a_bad_rule_file_without_a_traceback(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - name: a\n    window: 10x\n")
    env = {**os.environ, "REASONOPS_CORRELATION_RULES": str(path),
           "REASONOPS_DATA_DIR": str(tmp_path / "data"), "NATS_URL": "nats://127.0.0.1:1"}
    result = subprocess.run([sys.executable, "-m", "reasonops_cli", "run", "incidents"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 1
    (refusal,) = [json.loads(line) for line in result.stderr.splitlines()
                  if '"cannot start"' in line]
    assert refusal["service"] == "incidents"
    assert refusal["reason"].startswith(f"{path}:3: rules[0].window: '10x' is not a duration")
    assert "Traceback" not in result.stderr
