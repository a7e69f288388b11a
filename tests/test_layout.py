"""One shape per role: in every service the same kind of code lives in the file of the
same name, so a newcomer who knows one service finds their way in all of them.

- ``app.py``: the composition root, ``build_service``;
- ``store.py``: the tables (SQLAlchemy ``Table``) and their reads and writes;
- ``metrics.py``: the Prometheus metrics;
- ``handlers.py``: what a durable consumer calls for each batch of events;
- ``commands.py`` / ``queries.py``: what answers each command / each query, as an
  importable function or method (not a closure inside a ``register`` function);
- ``domain.py`` (pure rules), ``events.py`` (domain objects -> events: a module that
  builds three or more kinds is one), ``views.py`` (domain objects -> read models; it
  builds no event).

A service split into subdomains (incidents) has the same names in each subpackage.
``ALLOWED`` lists the few exceptions, each with the reason it is one.
"""

from __future__ import annotations

import ast
import inspect
import os
from pathlib import Path

import pytest

from reasonops_cli.run import installed_services
from reasonops_contracts import Command
from reasonops_runtime import EventRouter

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = sorted(p for p in ROOT.glob("services/*/src/reasonops_*") if p.is_dir())

ALLOWED: dict[str, str] = {
    "reasonops_orchestrator/effect_store.py: Table":
        "the effect runner's own tables (claims, proposals): written outside the engine's "
        "transaction, by the runner that carries out a step's I/O once",
    "reasonops_orchestrator/definition_store.py: Table":
        "the definitions instances run, each stored once by digest: written when an "
        "instance starts, read when one loads, beside the instances' store",
    "reasonops_incidents/incident/alert_store.py: Table":
        "what correlation remembers (each alert fingerprint's record, each group): read "
        "and written only by the intake's batch, beside the incidents' own store",
}

_METRIC_TYPES = {"Counter", "Gauge", "Histogram", "Summary", "Info", "Enum"}


def _static_findings(package: Path) -> list[str]:
    found = []
    if not (package / "app.py").is_file() or "def build_service" not in (
            package / "app.py").read_text(encoding="utf-8"):
        found.append(f"{package.name}: no app.py with build_service")
    for file in sorted(package.rglob("*.py")):
        tree = ast.parse(file.read_text(encoding="utf-8"))
        origin: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                origin |= {a.asname or a.name: node.module for a in node.names}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            name, module = node.func.id, origin.get(node.func.id, "")
            if name == "Table" and module.startswith("sqlalchemy"):
                role = "store"
            elif name in _METRIC_TYPES and module.startswith("prometheus_client"):
                role = "metrics"
            else:
                continue
            if file.stem != role:
                found.append(f"{file.relative_to(package.parent)}: {name}")
    return found


def _event_findings(package: Path) -> list[str]:
    """Event builders live in ``events.py``: a module that builds three or more kinds of
    event is one, and a ``views.py`` (read models) builds none."""
    from reasonops_contracts.registry import EVENTS

    names = {m.__name__ for m in EVENTS.values()}
    found = []
    for file in sorted(package.rglob("*.py")):
        built = {n.func.id for n in ast.walk(ast.parse(file.read_text(encoding="utf-8")))
                 if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                 and n.func.id in names}
        where = file.relative_to(package.parent)
        if file.stem == "views" and built:
            found.append(f"{where}: builds {', '.join(sorted(built))} (a view builds none)")
        elif len(built) >= 3 and file.stem != "events":
            found.append(f"{where}: builds {len(built)} kinds of event (name it events.py)")
    return found


def _module_role(fn: object) -> str:
    module = inspect.getmodule(inspect.unwrap(fn))  # type: ignore[arg-type]
    return (module.__name__ if module else "?").rsplit(".", 1)[-1]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    os.environ.setdefault("REASONOPS_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    return {name: entry.load()() for name, entry in installed_services().items()}


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_tables_and_metrics_live_in_their_files(package):
    found = [f for f in _static_findings(package)
             if f.split("/", 1)[-1] not in ALLOWED and f not in ALLOWED]
    assert not found, "move these into the file of their role (or allow-list with why):\n" \
        + "\n".join(found)


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_event_builders_live_in_events_py(package):
    found = _event_findings(package)
    assert not found, "\n".join(found)


def test_commands_and_queries_are_importable_units_in_their_files(built):
    found = []
    for name, service in built.items():
        for model, responder in service.responders:
            fn = inspect.unwrap(responder)
            where = f"{name}: {model.__name__} -> {fn.__module__}.{fn.__qualname__}"
            if "<locals>" in fn.__qualname__:
                found.append(f"{where} (a closure: not importable)")
            else:
                role = "commands" if issubclass(model, Command) else "queries"
                if _module_role(fn) != role:
                    found.append(f"{where} (not in {role}.py)")
    assert not found, "\n".join(found)


def test_event_consumers_call_their_services_handlers(built):
    found = []
    for name, service in built.items():
        for spec in service.consumer_specs:
            handler = spec.handler
            fns = handler.handlers if isinstance(handler, EventRouter) else (type(handler),)
            found += [f"{name}: {spec.name} -> {f.__module__}.{f.__qualname__}"
                      for f in fns if _module_role(f) != "handlers"]
    assert not found, "\n".join(found)


def test_the_scan_finds_a_table_and_a_metric_out_of_place(tmp_path):
    package = tmp_path / "reasonops_x"
    package.mkdir()
    (package / "app.py").write_text("def build_service(): ...\n")
    (package / "intake.py").write_text(
        "from sqlalchemy import Table\nfrom prometheus_client import Counter\n"
        "from collections import Counter as Tally\nT = Table('t', m)\nC = Counter('c', 'd')\n"
        "n = Tally()\n")
    assert _static_findings(package) == ["reasonops_x/intake.py: Table",
                                         "reasonops_x/intake.py: Counter"]
