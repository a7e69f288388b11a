"""Supplier contracts from YAML (``REASONOPS_SUPPLIER_CONTRACTS``)::

    contracts:
      - id: ACME-HOSTING-2026
        supplier: Acme Hosting
        services: [checkout]  # a service may be covered by one contract only
        currency: EUR         # ISO 4217; amounts have at most its minor unit's places
        penalties:            # flat amount per breach, by priority
          P1: 500.00
        per_hour:             # per started hour of working time beyond the target
          P1: 100.00
        monthly_fee: 20000.00
        availability_credits: # percent of the monthly fee; the worst tier reached applies
          - {below: 99.9, credit: 10}
          - {below: 99.0, credit: 25}
        monthly_cap: 5000.00  # what the contract can cost in one month, at most
        targets:              # underpinning contract: the supplier's own targets
          P1: {response: 30m, resolution: 6h}
        schedule:             # of the targets; 24x7 when absent
          timezone: Europe/London
          hours: 08:00-18:00
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from .domain import SlaPolicy
from .penalties import CreditTier, SupplierContract
from .reader import _kind, _Reader, read_yaml
from .schedule import ALWAYS

_OPTIONAL = frozenset({"description", "penalties", "per_hour", "monthly_fee",
                       "availability_credits", "monthly_cap", "targets", "schedule"})


def parse_contracts(doc: Any, *, file: str) -> tuple[SupplierContract, ...]:
    r = _Reader(file)
    contracts: list[SupplierContract] = []
    covered: dict[str, str] = {}
    for i, raw in enumerate(r.entries(doc, "contracts")):
        key = f"contracts[{i}]"
        entry = r.mapping(raw, key, required={"id", "supplier", "services", "currency"},
                          optional=_OPTIONAL)
        contract_id = r.text(entry["id"], f"{key}.id")
        if any(c.contract_id == contract_id for c in contracts):
            r.fail(f"{key}.id", f"{contract_id!r} is used by another contract")
        services = r.services(entry["services"], f"{key}.services")
        for service in services:
            if service in covered:
                r.fail(f"{key}.services", f"{service!r} is already covered by contract "
                                          f"{covered[service]!r}")
            covered[service] = contract_id
        currency = r.currency(entry["currency"], f"{key}.currency")
        contracts.append(_contract(r, entry, key, contract_id, services, currency))
    return tuple(contracts)


def _contract(r: _Reader, entry: dict[Any, Any], key: str, contract_id: str,
              services: list[str], currency: str) -> SupplierContract:
    fee = (r.money(entry["monthly_fee"], f"{key}.monthly_fee", currency)
           if "monthly_fee" in entry else None)
    credits = _credits(r, entry.get("availability_credits", []), f"{key}.availability_credits")
    if credits and fee is None:
        r.fail(f"{key}.monthly_fee", "missing: availability credits are a share of it")
    return SupplierContract(
        contract_id=contract_id, supplier=r.text(entry["supplier"], f"{key}.supplier"),
        services=frozenset(services), currency=currency,
        penalties=_by_priority(r, entry.get("penalties", {}), f"{key}.penalties", currency),
        per_hour=_by_priority(r, entry.get("per_hour", {}), f"{key}.per_hour", currency),
        monthly_fee=fee, credits=credits,
        monthly_cap=(r.money(entry["monthly_cap"], f"{key}.monthly_cap", currency)
                     if "monthly_cap" in entry else None),
        targets=_targets(r, entry, key, contract_id))


def _by_priority(r: _Reader, value: Any, key: str, currency: str) -> dict[int, Decimal]:
    if not isinstance(value, dict):
        r.fail(key, f"expected a mapping of priority to amount, got {_kind(value)}")
    amounts: dict[int, Decimal] = {}
    for raw_priority, raw_amount in value.items():
        priority = r.priority(raw_priority, f"{key}.{raw_priority}")
        if priority in amounts:
            r.fail(f"{key}.{raw_priority}", f"P{priority} is listed twice")
        amounts[priority] = r.money(raw_amount, f"{key}.{raw_priority}", currency)
    return amounts


def _credits(r: _Reader, value: Any, key: str) -> tuple[CreditTier, ...]:
    if not isinstance(value, list):
        r.fail(key, f"expected a list of tiers such as {{below: 99.9, credit: 10}}, "
                    f"got {_kind(value)}")
    tiers = []
    for i, raw in enumerate(value):
        entry = r.mapping(raw, f"{key}[{i}]", required={"below", "credit"})
        tiers.append(CreditTier(below=r.percent(entry["below"], f"{key}[{i}].below"),
                                percent=r.percent(entry["credit"], f"{key}[{i}].credit")))
    return tuple(sorted(tiers, key=lambda t: t.below, reverse=True))


def _targets(r: _Reader, entry: dict[Any, Any], key: str, contract_id: str
             ) -> dict[int, SlaPolicy]:
    schedule = (r.schedule(f"{contract_id} hours", entry["schedule"], f"{key}.schedule")
                if "schedule" in entry else ALWAYS)
    raw = entry.get("targets", {})
    if not isinstance(raw, dict):
        r.fail(f"{key}.targets", f"expected a mapping of priority to targets, got {_kind(raw)}")
    targets = {}
    for raw_priority, value in raw.items():
        where = f"{key}.targets.{raw_priority}"
        priority = r.priority(raw_priority, where)
        spec = r.mapping(value, where, required={"response", "resolution"})
        targets[priority] = SlaPolicy(
            name=f"UC {contract_id} P{priority}", priority=priority,
            response_seconds=r.duration(spec["response"], f"{where}.response"),
            resolution_seconds=r.duration(spec["resolution"], f"{where}.resolution"),
            schedule=schedule)
    return targets


def load_contracts(path: Path | None) -> tuple[SupplierContract, ...]:
    """The contracts in ``path``; none (so no penalties) when no file is configured."""
    return () if path is None else parse_contracts(read_yaml(path), file=str(path))
