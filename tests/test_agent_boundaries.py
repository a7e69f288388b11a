"""Agents publish decisions and proposals; they never command incidents themselves."""

import ast
from pathlib import Path

import pytest

from reasonops_contracts import Command
from reasonops_contracts import incidents as incident_contracts

ROOT = Path(__file__).resolve().parents[1]
AGENTS = sorted((ROOT / "services").glob("agent-*/src"))
COMMANDS = {name for name, obj in vars(incident_contracts).items()
            if isinstance(obj, type) and issubclass(obj, Command) and obj is not Command}


def test_there_are_agents_to_check():
    assert {p.parent.name for p in AGENTS} >= {"agent-triage", "agent-rca", "agent-security",
                                               "agent-capacity"}
    assert "AcknowledgeIncident" in COMMANDS


@pytest.mark.parametrize("source", AGENTS, ids=lambda p: p.parent.name)
def test_agent_code_names_no_incident_command(source):
    for path in source.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert not COMMANDS.intersection(a.name for a in node.names), path
            if isinstance(node, ast.Attribute):
                assert not node.attr.startswith("INCIDENT_CMD"), path
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert ".cmd." not in node.value, path
