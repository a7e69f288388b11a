import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from reasonops_cli.main import app

runner = CliRunner()
EXAMPLE = str(Path(__file__).parents[3] / "examples" / "config" / "policy.yaml")


def test_policy_check_explains_a_denial_and_exits_1():
    result = runner.invoke(app, ["policy", "check", "user:bob", "incident.resolve", "--team",
                                 "payments", "--service", "checkout", "--file", EXAMPLE])
    assert result.exit_code == 1
    assert result.output == ("denied: user:bob has roles [observer, on-call@identity]; "
                             "incident.resolve on team payments, service checkout is outside "
                             "their scope\n")


def test_policy_check_says_when_approval_is_needed():
    result = runner.invoke(app, ["policy", "check", "agent:security", "proposal.block_source",
                                 "--json"], env={"REASONOPS_POLICY": EXAMPLE})
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.output)
    assert (verdict["allowed"], verdict["requires_approval"]) == (True, True)


def test_policy_show_lists_roles_and_who_holds_them():
    result = runner.invoke(app, ["policy", "show", "--json"], env={"REASONOPS_POLICY": ""})
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["source"] == "built-in"
    assert shown["principals"]["agent:security"] == ["security-agent"]
    assert shown["roles"]["security-agent"]["allow"] == [
        {"actions": ["proposal.block_source", "proposal.force_password_reset"],
         "approval": "required"}]


def test_a_bad_policy_file_is_named_without_a_traceback(tmp_path):
    bad = tmp_path / "policy.yaml"
    bad.write_text("roles:\n  r:\n    allow: [incident.resolv]\n")
    result = subprocess.run([sys.executable, "-m", "reasonops_cli", "policy", "show", "--file",
                             str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"error: {bad}:3: roles.r.allow[0].actions[0]: unknown action 'incident.resolv'")
    assert "Traceback" not in result.stderr


def test_as_must_name_a_principal():
    result = runner.invoke(app, ["--as", " ", "policy", "show"])
    assert result.exit_code != 0
    assert "--as ' ': give a principal such as user:alice" in str(result.exception)
