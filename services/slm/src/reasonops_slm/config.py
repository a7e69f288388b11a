"""SLA policies and supplier contracts from YAML, validated with errors naming file, key, problem.

Policies (``REASONOPS_SLA_POLICIES``)::

    policies:
      - name: P1 critical
        priority: P1          # P1..P5 (or 1..5); every priority needs exactly one policy
        response: 15m         # seconds, or a duration: 90s, 15m, 4h, 3d, 1h30m
        resolution: 4h

Supplier contracts (``REASONOPS_SUPPLIER_CONTRACTS``)::

    contracts:
      - id: ACME-HOSTING-2026
        supplier: Acme Hosting
        services: [checkout]  # a service may be covered by one contract only
        currency: EUR         # ISO 4217
        penalties:            # per breach, by priority; priorities not listed cost nothing
          P1: 500.00
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NoReturn

import yaml

from .domain import DEFAULT_POLICIES, PRIORITIES, PolicyBook, SlaPolicy, SupplierContract

CENT = Decimal("0.01")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(?:\d+[smhd])+")
_CURRENCY = re.compile(r"[A-Z]{3}")


class ConfigError(ValueError):
    """A configuration file is wrong; the message says which file, which key and why."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        super().__init__(f"{file}: {key}: {problem}")
        self.file = file
        self.key = key
        self.problem = problem


class _Loader(yaml.SafeLoader):
    """Keeps YAML floats as their text, so money never passes through a binary float."""


def _float_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    assert isinstance(node, yaml.ScalarNode)
    return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:float", _float_as_text)


def parse_duration(value: object) -> int:
    """Whole seconds from ``90``, ``"90"``, ``"90s"``, ``"15m"``, ``"4h"``, ``"1d"``, ``"1h30m"``.

    Raises ``ValueError`` saying what is wrong.
    """
    text = str(value).strip().lower() if isinstance(value, int | str) else None
    if isinstance(value, bool) or text is None:
        raise ValueError(f"expected a duration such as 15m, 4h or 1d, got {_kind(value)}")
    if text.isdigit():
        seconds = int(text)
    elif _DURATION.fullmatch(text):
        seconds = sum(int(n) * _UNITS[u] for n, u in re.findall(r"(\d+)([smhd])", text))
    else:
        raise ValueError(f"{value!r} is not a duration (use seconds or e.g. 90s, 15m, 4h, 1d)")
    if seconds <= 0:
        raise ValueError("must be longer than zero")
    return seconds


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


class _Reader:
    """Checks one document, failing with the key path of the first problem."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ConfigError(self.file, key, problem)

    def entries(self, doc: Any, top: str) -> list[Any]:
        if not isinstance(doc, dict):
            self.fail("(document)", f"expected a mapping with a '{top}' list, got {_kind(doc)}")
        self.mapping(doc, "(document)", required={top})
        if not isinstance(doc[top], list):
            self.fail(top, f"expected a list, got {_kind(doc[top])}")
        entries: list[Any] = doc[top]
        return entries

    def mapping(self, value: Any, key: str, *, required: set[str],
                optional: frozenset[str] = frozenset({"description"})) -> dict[Any, Any]:
        if not isinstance(value, dict):
            self.fail(key, f"expected a mapping, got {_kind(value)}")
        for name in value:
            if name not in required | optional:
                allowed = ", ".join(sorted(required | optional))
                self.fail(f"{key}.{name}", f"unknown key (expected: {allowed})")
        for name in sorted(required):
            if name not in value:
                self.fail(f"{key}.{name}", "missing")
        return value

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
            self.fail(key, f"expected a non-empty text, got {_kind(value)}")
        return str(value).strip()

    def priority(self, value: Any, key: str) -> int:
        text = str(value).strip().upper().removeprefix("P")
        if isinstance(value, bool) or not text.isdigit() or int(text) not in PRIORITIES:
            self.fail(key, f"expected a priority P1..P5, got {value!r}")
        return int(text)

    def duration(self, value: Any, key: str) -> int:
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(key, str(exc))

    def money(self, value: Any, key: str) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | str):
            self.fail(key, f"expected an amount such as 250.00, got {_kind(value)}")
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            self.fail(key, f"{value!r} is not an amount")
        if not amount.is_finite() or amount < 0:
            self.fail(key, f"{value!r} must be a finite amount of zero or more")
        if amount != amount.quantize(CENT):
            self.fail(key, f"{value!r} has more than 2 decimal places")
        return amount.quantize(CENT)

    def currency(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not _CURRENCY.fullmatch(value):
            self.fail(key, f"expected an ISO 4217 code of 3 capital letters (e.g. EUR), "
                           f"got {value!r}")
        return value

    def services(self, value: Any, key: str) -> list[str]:
        if not isinstance(value, list) or not value:
            self.fail(key, f"expected a non-empty list of service names, got {_kind(value)}")
        return [self.text(item, f"{key}[{i}]") for i, item in enumerate(value)]


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), "(file)", "not found") from None
    except OSError as exc:
        raise ConfigError(str(path), "(file)", f"cannot be read: {exc.strerror}") from None
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(str(path), "(document)", f"invalid YAML{where}: {problem}") from None


def parse_policies(doc: Any, *, file: str) -> PolicyBook:
    r = _Reader(file)
    found: dict[int, SlaPolicy] = {}
    names: set[str] = set()
    for i, raw in enumerate(r.entries(doc, "policies")):
        key = f"policies[{i}]"
        entry = r.mapping(raw, key, required={"name", "priority", "response", "resolution"})
        policy = SlaPolicy(name=r.text(entry["name"], f"{key}.name"),
                           priority=r.priority(entry["priority"], f"{key}.priority"),
                           response_seconds=r.duration(entry["response"], f"{key}.response"),
                           resolution_seconds=r.duration(entry["resolution"],
                                                         f"{key}.resolution"))
        if policy.name in names:
            r.fail(f"{key}.name", f"{policy.name!r} is used by another policy")
        if policy.priority in found:
            r.fail(f"{key}.priority", f"P{policy.priority} already has policy "
                                      f"{found[policy.priority].name!r}")
        if policy.response_seconds > policy.resolution_seconds:
            r.fail(f"{key}.response", "is longer than the resolution target")
        names.add(policy.name)
        found[policy.priority] = policy
    missing = [f"P{p}" for p in PRIORITIES if p not in found]
    if missing:
        r.fail("policies", f"no policy for {', '.join(missing)}; every priority needs one")
    return PolicyBook(found.values())


def parse_contracts(doc: Any, *, file: str) -> tuple[SupplierContract, ...]:
    r = _Reader(file)
    contracts: list[SupplierContract] = []
    covered: dict[str, str] = {}
    for i, raw in enumerate(r.entries(doc, "contracts")):
        key = f"contracts[{i}]"
        entry = r.mapping(raw, key,
                          required={"id", "supplier", "services", "currency", "penalties"})
        contract_id = r.text(entry["id"], f"{key}.id")
        if any(c.contract_id == contract_id for c in contracts):
            r.fail(f"{key}.id", f"{contract_id!r} is used by another contract")
        services = r.services(entry["services"], f"{key}.services")
        for service in services:
            if service in covered:
                r.fail(f"{key}.services", f"{service!r} is already covered by contract "
                                          f"{covered[service]!r}")
            covered[service] = contract_id
        contracts.append(SupplierContract(
            contract_id=contract_id, supplier=r.text(entry["supplier"], f"{key}.supplier"),
            services=frozenset(services), currency=r.currency(entry["currency"],
                                                              f"{key}.currency"),
            penalties=_penalties(r, entry["penalties"], f"{key}.penalties")))
    return tuple(contracts)


def _penalties(r: _Reader, value: Any, key: str) -> dict[int, Decimal]:
    if not isinstance(value, dict):
        r.fail(key, f"expected a mapping of priority to amount, got {_kind(value)}")
    amounts: dict[int, Decimal] = {}
    for raw_priority, raw_amount in value.items():
        priority = r.priority(raw_priority, f"{key}.{raw_priority}")
        if priority in amounts:
            r.fail(f"{key}.{raw_priority}", f"P{priority} is listed twice")
        amounts[priority] = r.money(raw_amount, f"{key}.{raw_priority}")
    return amounts


def load_policies(path: Path | None) -> PolicyBook:
    """The policies in ``path``, or the built-in defaults when no file is configured."""
    return DEFAULT_POLICIES if path is None else parse_policies(read_yaml(path), file=str(path))


def load_contracts(path: Path | None) -> tuple[SupplierContract, ...]:
    """The contracts in ``path``; none (so no penalties) when no file is configured."""
    return () if path is None else parse_contracts(read_yaml(path), file=str(path))
