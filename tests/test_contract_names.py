"""Names are spelled once, in the contracts: no subject, event type, stream or durable
name is written out anywhere else in the product's code (tests may spell the wire)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from reasonops_contracts import Event, subjects
from reasonops_contracts.registry import EVENTS
from reasonops_contracts.streams import ALL_STREAMS

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(p for p in [*ROOT.glob("services/*/src"), *ROOT.glob("libs/*/src")]
                 if p.parent.name != "contracts")
STREAM_NAMES = {s.name for s in ALL_STREAMS}


def _strings(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node


def _findings(source: Path) -> list[str]:
    found = []
    for file in sorted(source.rglob("*.py")):
        tree = ast.parse(file.read_text(encoding="utf-8"))
        where = file.relative_to(ROOT) if file.is_relative_to(ROOT) else file.name
        found += [f"{where}:{n.lineno}: {n.value!r} (a subject or type)"
                  for n in _strings(tree) if n.value.startswith(f"{subjects.ROOT}.")]
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name == "consume" and node.args and isinstance(node.args[0], ast.Constant):
                found.append(f"{where}:{node.lineno}: durable {node.args[0].value!r}")
            found += [f"{where}:{k.value.lineno}: stream {k.value.value!r}"
                      for k in node.keywords if k.arg == "stream"
                      and isinstance(k.value, ast.Constant) and k.value.value in STREAM_NAMES]
    return found


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.name)
def test_no_name_of_the_contracts_is_spelled_outside_them(source):
    found = _findings(source)
    assert not found, "spell these with the contracts' names:\n" + "\n".join(found)


def test_the_scan_finds_what_it_looks_for(tmp_path):
    (tmp_path / "bad.py").write_text(
        'T = "itsm.incident.opened.v1"\nservice.consume("incidents", h)\n'
        'js.subscribe(s, stream="AGENTS")\nOK = f"{subjects.ROOT}.x"\n')
    assert [f.split(": ", 1)[1] for f in _findings(tmp_path)] == [
        "'itsm.incident.opened.v1' (a subject or type)", "durable 'incidents'",
        "stream 'AGENTS'"]


def test_every_event_type_is_its_subject_and_version():
    for model in EVENTS.values():
        if "*" not in model.SUBJECT and ">" not in model.SUBJECT:
            assert f"{model.SUBJECT}.v{model.VERSION}" == model.TYPE


def test_a_type_that_disagrees_with_its_subject_is_refused():
    with pytest.raises(TypeError, match="disagrees with its SUBJECT"):
        class Mistyped(Event):
            SUBJECT = subjects.INCIDENT_OPENED
            TYPE = "itsm.incident.open.v1"

    class Second(Event):
        SUBJECT = subjects.INCIDENT_OPENED
        VERSION = 2
    assert Second.TYPE == "itsm.incident.opened.v2"
