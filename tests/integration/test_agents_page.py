"""docs/agents.md's "Run it" block, each command as written, from the repository's root.

A command a test: each has its own time limit (the service-level evaluation replays two
months), and a file of its own lets the evaluations run beside the other agent tests."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def commands() -> list[list[str]]:
    page = (ROOT / "docs" / "agents.md").read_text()
    block = page.split("Run it:\n\n```\n", 1)[1].split("```", 1)[0]
    return [line.split() for line in block.splitlines() if line.strip()]


def test_the_page_evaluates_every_agent_and_tunes():
    found = commands()
    assert all(c[:2] == ["reasonops", "agents"] for c in found)
    assert {c[4] if c[2] == "eval" else c[2] for c in found} >= {
        "triage", "rca", "security", "capacity", "slm", "tune"}


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("command", commands(), ids=lambda c: " ".join(c[2:]))
def test_the_evaluation_page_runs_as_written(command, tmp_path):
    args = [a.replace("/tmp/learned.yaml", str(tmp_path / "learned.yaml"))
            for a in command[2:]]
    result = subprocess.run([sys.executable, "-m", "reasonops_cli", "agents", *args],
                            capture_output=True, text=True, check=False, cwd=ROOT)
    assert result.returncode == 0, (command, result.stderr)
    if command[2] == "tune":
        assert (tmp_path / "learned.yaml").read_text().startswith("# Written by")
    else:
        assert result.stdout.strip()
