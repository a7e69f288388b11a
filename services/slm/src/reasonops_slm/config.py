"""SLA definitions from YAML, validated with errors naming file, key and problem.

SLA definitions (``REASONOPS_SLA_POLICIES``)::

    schedules:                # optional; a policy without a schedule counts 24x7
      uk-office:
        timezone: Europe/London
        days: [mon, tue, wed, thu, fri]
        hours: 09:00-17:00
        holidays: [2026-12-25]
    policies:
      - name: P1 critical
        priority: P1          # P1..P5; every priority needs one policy without a service
        service: checkout     # optional: this service's own definition for the priority
        response: 15m         # seconds, or a duration: 90s, 15m, 4h, 3d, 1h30m
        resolution: 4h
        schedule: uk-office
        pause_on: [awaiting_supplier]   # hold reasons that pause; default every hold
        retroactive_start: true         # from the first alert, not the opening
    olas:                     # internal targets per assignment group
      - group: payments
        priority: P1
        response: 10m
        resolution: 2h
    maintenance:              # excluded from availability
      - service: checkout     # optional: every service when absent
        start: 2026-03-08T02:00:00Z
        end: 2026-03-08T04:00:00Z
    availability:
      slo: 99.9               # percent, default for every service
      services: {checkout: 99.95}
      impact_weights: {1: 1, 2: 0.5, 3: 0.25}

Supplier contracts (``REASONOPS_SUPPLIER_CONTRACTS``): see ``contract_file``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from .availability import DEFAULT_IMPACT_WEIGHTS, DEFAULT_SLO, Maintenance
from .contract_file import load_contracts, parse_contracts
from .domain import ANY_HOLD, DEFAULT_POLICIES, PRIORITIES, PolicyBook, SlaPolicy
from .reader import ConfigError, _kind, _Reader, read_yaml
from .schedule import ALWAYS, Schedule

__all__ = ["ConfigError", "SlaConfig", "load_contracts", "load_policies", "load_sla",
           "parse_contracts", "parse_policies", "read_yaml"]

_POLICY_KEYS = frozenset({"description", "service", "schedule", "pause_on",
                          "retroactive_start"})


@dataclass(frozen=True)
class SlaConfig:
    policies: PolicyBook
    maintenance: tuple[Maintenance, ...] = ()
    slo: Decimal = DEFAULT_SLO
    slo_by_service: Mapping[str, Decimal] = field(default_factory=dict)
    impact_weights: Mapping[int, Decimal] = field(
        default_factory=lambda: dict(DEFAULT_IMPACT_WEIGHTS))

    def slo_for(self, service: str) -> Decimal:
        return self.slo_by_service.get(service, self.slo)


def _policy(r: _Reader, raw: Any, key: str, schedules: Mapping[str, Schedule], *,
            party: str) -> SlaPolicy:
    entry = r.mapping(raw, key, required={party, "priority", "response", "resolution"}
                      - ({"name"} if party == "group" else set()),
                      optional=_POLICY_KEYS | ({"name"} if party == "group" else set()))
    schedule = ALWAYS
    if "schedule" in entry:
        name = r.text(entry["schedule"], f"{key}.schedule")
        if name not in schedules:
            r.fail(f"{key}.schedule", f"unknown schedule {name!r} (defined: "
                                      f"{', '.join(sorted(schedules)) or 'none'})")
        schedule = schedules[name]
    pause_on = frozenset({ANY_HOLD})
    if "pause_on" in entry:
        reasons = entry["pause_on"]
        if not isinstance(reasons, list):
            r.fail(f"{key}.pause_on", f"expected a list of hold reasons, got {_kind(reasons)}")
        pause_on = frozenset(r.text(x, f"{key}.pause_on[{i}]") for i, x in enumerate(reasons))
    priority = r.priority(entry["priority"], f"{key}.priority")
    service = (r.text(entry["group"], f"{key}.group") if party == "group"
               else r.text(entry["service"], f"{key}.service") if "service" in entry else None)
    policy = SlaPolicy(
        name=(r.text(entry["name"], f"{key}.name") if "name" in entry
              else f"OLA {service} P{priority}"),
        priority=priority, service=service,
        response_seconds=r.duration(entry["response"], f"{key}.response"),
        resolution_seconds=r.duration(entry["resolution"], f"{key}.resolution"),
        schedule=schedule, pause_on=pause_on,
        retroactive=r.flag(entry.get("retroactive_start", False), f"{key}.retroactive_start"))
    if policy.response_seconds > policy.resolution_seconds:
        r.fail(f"{key}.response", "is longer than the resolution target")
    return policy


def _schedules(r: _Reader, doc: dict[Any, Any]) -> dict[str, Schedule]:
    raw = doc.get("schedules", {})
    if not isinstance(raw, dict):
        r.fail("schedules", f"expected a mapping of name to schedule, got {_kind(raw)}")
    return {str(name): r.schedule(str(name), value, f"schedules.{name}")
            for name, value in raw.items()}


def parse_sla(doc: Any, *, file: str) -> SlaConfig:
    r = _Reader(file)
    entries = r.entries(doc, "policies", frozenset(
        {"description", "schedules", "olas", "maintenance", "availability"}))
    schedules = _schedules(r, doc)
    found: dict[tuple[str | None, int], SlaPolicy] = {}
    names: set[str] = set()
    for i, raw in enumerate(entries):
        key = f"policies[{i}]"
        policy = _policy(r, raw, key, schedules, party="name")
        if policy.name in names:
            r.fail(f"{key}.name", f"{policy.name!r} is used by another policy")
        if (policy.service, policy.priority) in found:
            where = f" on {policy.service}" if policy.service else ""
            r.fail(f"{key}.priority", f"P{policy.priority}{where} already has policy "
                                      f"{found[(policy.service, policy.priority)].name!r}")
        names.add(policy.name)
        found[(policy.service, policy.priority)] = policy
    missing = [f"P{p}" for p in PRIORITIES if (None, p) not in found]
    if missing:
        r.fail("policies", f"no policy for {', '.join(missing)}; every priority needs one")
    olas = doc.get("olas", [])
    if not isinstance(olas, list):
        r.fail("olas", f"expected a list, got {_kind(olas)}")
    book = PolicyBook(found.values(), [_policy(r, raw, f"olas[{i}]", schedules, party="group")
                                       for i, raw in enumerate(olas)])
    return SlaConfig(policies=book, maintenance=_maintenance(r, doc.get("maintenance", [])),
                     **_availability(r, doc.get("availability", {})))


def _maintenance(r: _Reader, raw: Any) -> tuple[Maintenance, ...]:
    if not isinstance(raw, list):
        r.fail("maintenance", f"expected a list, got {_kind(raw)}")
    windows = []
    for i, item in enumerate(raw):
        key = f"maintenance[{i}]"
        entry = r.mapping(item, key, required={"start", "end"},
                          optional=frozenset({"description", "service"}))
        start, end = r.instant(entry["start"], f"{key}.start"), r.instant(entry["end"],
                                                                         f"{key}.end")
        if end <= start:
            r.fail(f"{key}.end", "is not after the start")
        service = r.text(entry["service"], f"{key}.service") if "service" in entry else None
        windows.append(Maintenance(service, start, end))
    return tuple(windows)


def _availability(r: _Reader, raw: Any) -> dict[str, Any]:
    entry = r.mapping(raw, "availability", required=set(), optional=frozenset(
        {"description", "slo", "services", "impact_weights"}))
    found: dict[str, Any] = {}
    if "slo" in entry:
        found["slo"] = r.percent(entry["slo"], "availability.slo")
    services = entry.get("services", {})
    if not isinstance(services, dict):
        r.fail("availability.services", f"expected a mapping of service to SLO, "
                                        f"got {_kind(services)}")
    found["slo_by_service"] = {str(k): r.percent(v, f"availability.services.{k}")
                               for k, v in services.items()}
    if "impact_weights" in entry:
        weights = entry["impact_weights"]
        if not isinstance(weights, dict):
            r.fail("availability.impact_weights", "expected a mapping of impact 1..3 to weight")
        found["impact_weights"] = {**DEFAULT_IMPACT_WEIGHTS, **{
            int(k): r.decimal(v, f"availability.impact_weights.{k}") for k, v in weights.items()
            if str(k) in {"1", "2", "3"} or r.fail(f"availability.impact_weights.{k}",
                                                   "impact must be 1, 2 or 3")}}
    return found


def parse_policies(doc: Any, *, file: str) -> PolicyBook:
    return parse_sla(doc, file=file).policies


def load_sla(path: Path | None) -> SlaConfig:
    """The definitions in ``path``, or the built-in defaults when no file is configured."""
    return (SlaConfig(policies=DEFAULT_POLICIES) if path is None
            else parse_sla(read_yaml(path), file=str(path)))


def load_policies(path: Path | None) -> PolicyBook:
    return load_sla(path).policies
