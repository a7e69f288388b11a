"""``reasonops run SERVICE``: one service in the foreground, as a container runs it."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from .connection import CliError

SERVICE_ORDER = ("ingest", "incidents", "slm", "finance", "orchestrator", "agent-triage",
                 "agent-rca", "agent-security", "agent-capacity", "oncall", "servicenow",
                 "changes", "agent-slm", "gateway")


def installed_services() -> dict[str, Any]:
    """Service name -> its ``build_service`` entry point, in start-up order."""
    found = {ep.name: ep for ep in entry_points(group="reasonops.services")}
    ordered = [n for n in SERVICE_ORDER if n in found] + sorted(set(found) - set(SERVICE_ORDER))
    return {name: found[name] for name in ordered}


def run_service(name: str, *, json_logs: bool = True) -> None:
    from reasonops_runtime import run
    from reasonops_runtime.lifecycle import refuse_start

    services = installed_services()
    if name not in services:
        raise CliError(f"unknown service {name!r}; installed: {', '.join(services)}")
    try:
        service = services[name].load()()
    except ValueError as exc:  # a configuration file error: file, line/key and reason
        refuse_start(name, str(exc), json_logs=json_logs)
    run(service, json_logs=json_logs)
