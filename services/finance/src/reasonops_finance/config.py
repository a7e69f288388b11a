"""Cost rates and budgets from YAML (``REASONOPS_FINANCE_CONFIG``), checked on load::

    currency: EUR                 # of incident costs and budgets
    downtime_cost_per_minute:     # by service tier (from the service catalog), 1..4
      1: 250.00
      2: 80.00
    responder_hourly_rate: 95.00
    responders: {P1: 4, P2: 3, P3: 2, P4: 1, P5: 1}   # people working an incident
    cost_centres: {checkout: CC-SHOP}
    budgets:
      - service: checkout         # or cost_centre: CC-SHOP
        month: 2026-03
        amount: 60000.00

A wrong file stops the service with a ``ConfigError`` naming the file, key and problem.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NoReturn

from reasonops_contracts.money import minor_unit
from reasonops_runtime.yaml_source import read_exact

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_KEYS = {"description", "currency", "downtime_cost_per_minute", "responder_hourly_rate",
         "responders", "cost_centres", "budgets"}


class ConfigError(ValueError):
    def __init__(self, file: str, key: str, problem: str) -> None:
        super().__init__(f"{file}: {key}: {problem}")
        self.file, self.key, self.problem = file, key, problem


@dataclass(frozen=True)
class Budget:
    scope: str
    """``service`` or ``cost_centre``."""
    name: str
    month: str
    amount: Decimal


@dataclass(frozen=True)
class CostRates:
    currency: str = "EUR"
    downtime_per_minute: Mapping[int, Decimal] = field(default_factory=dict)
    hourly_rate: Decimal = Decimal("0")
    responders: Mapping[int, int] = field(default_factory=dict)
    cost_centres: Mapping[str, str] = field(default_factory=dict)
    budgets: tuple[Budget, ...] = ()


class _Reader:
    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ConfigError(self.file, key, problem)

    def amount(self, value: Any, key: str, currency: str) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | str):
            self.fail(key, f"expected an amount such as 95.00, got {type(value).__name__}")
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            self.fail(key, f"{value!r} is not an amount")
        if not amount.is_finite() or amount < 0:
            self.fail(key, f"{value!r} must be a finite amount of zero or more")
        places = minor_unit(currency)
        if amount != amount.quantize(Decimal(1).scaleb(-places)):
            self.fail(key, f"{value!r} has more than {places} decimal places for {currency}")
        return amount

    def mapping(self, value: Any, key: str) -> dict[Any, Any]:
        if not isinstance(value, dict):
            self.fail(key, f"expected a mapping, got {type(value).__name__}")
        return value

    def number(self, value: Any, key: str, low: int, high: int) -> int:
        text = str(value).upper().removeprefix("P")
        if isinstance(value, bool) or not text.isdigit() or not low <= int(text) <= high:
            self.fail(key, f"expected a number from {low} to {high}, got {value!r}")
        return int(text)


def parse(doc: Any, *, file: str) -> CostRates:
    r = _Reader(file)
    doc = r.mapping(doc if doc is not None else {}, "(document)")
    for name in doc:
        if name not in _KEYS:
            r.fail(str(name), f"unknown key (expected: {', '.join(sorted(_KEYS))})")
    currency = str(doc.get("currency", "EUR"))
    if not re.fullmatch(r"[A-Z]{3}", currency):
        r.fail("currency", f"expected an ISO 4217 code such as EUR, got {currency!r}")
    per_minute = {r.number(k, f"downtime_cost_per_minute.{k}", 1, 4):
                  r.amount(v, f"downtime_cost_per_minute.{k}", currency)
                  for k, v in r.mapping(doc.get("downtime_cost_per_minute", {}),
                                        "downtime_cost_per_minute").items()}
    responders = {r.number(k, f"responders.{k}", 1, 5): r.number(v, f"responders.{k}", 0, 1000)
                  for k, v in r.mapping(doc.get("responders", {}), "responders").items()}
    centres = {str(k): str(v) for k, v in r.mapping(doc.get("cost_centres", {}),
                                                    "cost_centres").items()}
    return CostRates(currency=currency, downtime_per_minute=per_minute,
                     hourly_rate=r.amount(doc.get("responder_hourly_rate", 0),
                                          "responder_hourly_rate", currency),
                     responders=responders, cost_centres=centres,
                     budgets=_budgets(r, doc.get("budgets", []), currency))


def _budgets(r: _Reader, raw: Any, currency: str) -> tuple[Budget, ...]:
    if not isinstance(raw, list):
        r.fail("budgets", f"expected a list, got {type(raw).__name__}")
    found: dict[tuple[str, str, str], Budget] = {}
    for i, item in enumerate(raw):
        key = f"budgets[{i}]"
        entry = r.mapping(item, key)
        scopes = [s for s in ("service", "cost_centre") if s in entry]
        if len(scopes) != 1:
            r.fail(key, "needs exactly one of service and cost_centre")
        for name in entry:
            if name not in {"service", "cost_centre", "month", "amount", "description"}:
                r.fail(f"{key}.{name}", "unknown key (expected: service or cost_centre, "
                                        "month, amount)")
        month = str(entry.get("month", ""))
        if not _MONTH.fullmatch(month):
            r.fail(f"{key}.month", f"expected a month YYYY-MM, got {entry.get('month')!r}")
        if "amount" not in entry:
            r.fail(f"{key}.amount", "missing")
        budget = Budget(scopes[0], str(entry[scopes[0]]), month,
                        r.amount(entry["amount"], f"{key}.amount", currency))
        if (budget.scope, budget.name, month) in found:
            r.fail(key, f"{budget.scope} {budget.name} already has a budget for {month}")
        found[(budget.scope, budget.name, month)] = budget
    return tuple(found.values())


def load(path: Path | None) -> CostRates:
    """The rates and budgets in ``path``; no incident costs and no budgets when unset."""
    if path is None:
        return CostRates()
    doc = read_exact(path, lambda key, problem: ConfigError(str(path), key, problem))
    return parse(doc, file=str(path))
