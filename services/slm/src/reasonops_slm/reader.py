"""Reading YAML configuration with errors that name the file, the key and the problem."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reasonops_contracts.money import minor_unit
from reasonops_runtime.durations import whole_seconds
from reasonops_runtime.yaml_source import read_exact

from .domain import PRIORITIES
from .schedule import Schedule

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")
_CURRENCY = re.compile(r"[A-Z]{3}")


class ConfigError(ValueError):
    """A configuration file is wrong; the message says which file, which key and why."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        super().__init__(f"{file}: {key}: {problem}")
        self.file = file
        self.key = key
        self.problem = problem


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


class _Reader:
    """Checks one document, failing with the key path of the first problem."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ConfigError(self.file, key, problem)

    def entries(self, doc: Any, top: str,
                optional: frozenset[str] = frozenset({"description"})) -> list[Any]:
        if not isinstance(doc, dict):
            self.fail("(document)", f"expected a mapping with a '{top}' list, got {_kind(doc)}")
        self.mapping(doc, "(document)", required={top}, optional=optional)
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
            return whole_seconds(value)
        except ValueError as exc:
            self.fail(key, str(exc))

    def money(self, value: Any, key: str, currency: str = "EUR") -> Decimal:
        amount = self.decimal(value, key, "an amount such as 250.00")
        places = minor_unit(currency)
        if amount != amount.quantize(Decimal(1).scaleb(-places)):
            self.fail(key, f"{value!r} has more than {places} decimal places for {currency}")
        return amount.quantize(Decimal(1).scaleb(-places))

    def decimal(self, value: Any, key: str, what: str = "a number") -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | str):
            self.fail(key, f"expected {what}, got {_kind(value)}")
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            self.fail(key, f"{value!r} is not an amount")
        if not amount.is_finite() or amount < 0:
            self.fail(key, f"{value!r} must be a finite amount of zero or more")
        return amount

    def percent(self, value: Any, key: str) -> Decimal:
        amount = self.decimal(value, key, "a percentage such as 99.9")
        if amount > 100:
            self.fail(key, f"{value!r} is more than 100 percent")
        return amount

    def flag(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            self.fail(key, f"expected true or false, got {_kind(value)}")
        return value

    def instant(self, value: Any, key: str) -> datetime:
        text = value.isoformat() if isinstance(value, datetime) else value
        try:
            at = datetime.fromisoformat(str(text))
        except ValueError:
            self.fail(key, f"{value!r} is not a date-time such as 2026-03-08T02:00:00Z")
        if at.tzinfo is None:
            self.fail(key, f"{value!r} has no time zone (add Z or +01:00)")
        return at.astimezone(UTC)

    def schedule(self, name: str, value: Any, key: str) -> Schedule:
        entry = self.mapping(value, key, required={"timezone"},
                             optional=frozenset({"description", "days", "hours", "holidays"}))
        try:
            zone = ZoneInfo(self.text(entry["timezone"], f"{key}.timezone"))
        except (ZoneInfoNotFoundError, ValueError):
            self.fail(f"{key}.timezone", f"unknown time zone {entry['timezone']!r} "
                                         f"(use an IANA name such as Europe/London)")
        raw_days = entry.get("days", ["mon", "tue", "wed", "thu", "fri"])
        if not isinstance(raw_days, list) or not raw_days:
            self.fail(f"{key}.days", f"expected a non-empty list such as [mon, tue], "
                                     f"got {_kind(raw_days)}")
        days = set()
        for i, day in enumerate(raw_days):
            if str(day).lower()[:3] not in _DAYS:
                self.fail(f"{key}.days[{i}]", f"{day!r} is not a weekday (mon..sun)")
            days.add(_DAYS.index(str(day).lower()[:3]) + 1)
        start, end = self.hours(entry.get("hours", "00:00-24:00"), f"{key}.hours")
        holidays = entry.get("holidays", [])
        if not isinstance(holidays, list):
            self.fail(f"{key}.holidays", f"expected a list of dates, got {_kind(holidays)}")
        dates = set()
        for i, item in enumerate(holidays):
            try:
                dates.add(item if isinstance(item, date) else date.fromisoformat(str(item)))
            except ValueError:
                self.fail(f"{key}.holidays[{i}]", f"{item!r} is not a date (YYYY-MM-DD)")
        return Schedule(name=name, zone=zone, days=frozenset(days), start=start, end=end,
                        holidays=frozenset(dates))

    def hours(self, value: Any, key: str) -> tuple[time, time]:
        match = _HOURS.fullmatch(str(value).strip())
        if not match:
            self.fail(key, f"expected working hours such as 09:00-17:00, got {value!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            self.fail(key, f"{value!r} is not a time range within a day")
        return time(h1, m1), time(0) if h2 == 24 else time(h2, m2)

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
    return read_exact(path, lambda key, problem: ConfigError(str(path), key, problem))
