"""The double-entry ledger: accounts, balanced entries, periods. Pure: no I/O.

A penalty is money a supplier owes us: debit the supplier's receivable account,
credit service-credit income. An incident's cost is an expense of its service:
debit downtime and effort expense, credit accrued incident costs. Amounts are
``Decimal`` in the currency's minor unit, never float.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from reasonops_contracts.money import quantum

CENT = Decimal("0.01")
RECEIVABLE = "supplier-credits-receivable"
INCOME = "service-credit-income"
DOWNTIME_EXPENSE = "incident-downtime-expense"
EFFORT_EXPENSE = "incident-effort-expense"
ACCRUED = "accrued-incident-costs"
ACCOUNTS: dict[str, str] = {
    RECEIVABLE: "asset", INCOME: "income", DOWNTIME_EXPENSE: "expense",
    EFFORT_EXPENSE: "expense", ACCRUED: "liability",
}
"""The chart of accounts; a ledger account is one of these, optionally ``:<party>``."""


class PostingError(ValueError):
    """An entry that must not reach the ledger (unbalanced, negative, not in cents)."""


@dataclass(frozen=True)
class Line:
    account: str
    debit: Decimal = Decimal("0.00")
    credit: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class Entry:
    entry_id: str
    posted_at: datetime
    period: str
    penalty_id: str | None
    incident_id: str | None
    supplier: str | None
    service: str
    amount: Decimal
    currency: str
    lines: tuple[Line, ...]
    causation_id: str
    kind: str = "penalty"
    source_key: str = ""
    """What the entry books (penalty id, ``COST-<incident>``): one entry per source."""
    causation_type: str | None = None
    correlation_id: str | None = None
    original_period: str | None = None
    reference: str | None = None
    memo: str | None = None

    def key(self) -> str:
        return self.source_key or self.penalty_id or self.entry_id


def period_of(at: datetime) -> str:
    """The accounting month, ``YYYY-MM``, of ``at`` in UTC."""
    if at.tzinfo is None:
        raise PostingError("naive datetime; ledger periods are UTC")
    return at.astimezone(UTC).strftime("%Y-%m")


def receivable_account(supplier: str) -> str:
    return f"{RECEIVABLE}:{supplier}"


def cents(amount: Decimal, currency: str = "EUR") -> Decimal:
    """``amount`` exactly in the currency's minor unit; refuses floats, fractions of the
    minor unit and non-finite values."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise PostingError(f"amount must be a finite Decimal, got {amount!r}")
    if amount != amount.quantize(quantum(currency)):
        raise PostingError(f"amount {amount} has fractions of a cent (the minor unit of "
                           f"{currency})")
    return amount.quantize(quantum(currency))


def posting_period(wanted: str, closed: set[str]) -> tuple[str, str | None]:
    """The month to post in: ``wanted``, or the first open month after it when it is
    closed (then also ``wanted`` as the original period)."""
    period = wanted
    while period in closed:
        year, month = (int(x) for x in period.split("-"))
        period = f"{year + month // 12:04d}-{month % 12 + 1:02d}"
    return period, (wanted if period != wanted else None)


def check_balanced(lines: Iterable[Line]) -> None:
    """Every line one-sided and non-negative; debits equal credits."""
    lines = list(lines)
    if len(lines) < 2:
        raise PostingError("an entry needs at least two lines")
    for line in lines:
        if line.debit < 0 or line.credit < 0 or (line.debit > 0) == (line.credit > 0):
            raise PostingError(f"line {line.account}: exactly one of debit and credit must be "
                               f"positive (debit {line.debit}, credit {line.credit})")
    debits, credits = sum(ln.debit for ln in lines), sum(ln.credit for ln in lines)
    if debits != credits:
        raise PostingError(f"unbalanced entry: debits {debits} != credits {credits}")


def penalty_entry(*, entry_id: str, penalty_id: str, incident_id: str, supplier: str,
                  service: str, amount: Decimal, currency: str, assessed_at: datetime,
                  posted_at: datetime, causation_id: str) -> Entry:
    """The ledger entry booking one penalty, in the month it was assessed."""
    value = cents(amount, currency)
    if value <= 0:
        raise PostingError(f"penalty {penalty_id}: amount must be positive, got {value}")
    lines = (Line(receivable_account(supplier), debit=value), Line(INCOME, credit=value))
    check_balanced(lines)
    return Entry(entry_id=entry_id, posted_at=posted_at, period=period_of(assessed_at),
                 penalty_id=penalty_id, incident_id=incident_id, supplier=supplier,
                 service=service, amount=value, currency=currency, lines=lines,
                 causation_id=causation_id, source_key=penalty_id)


def cost_entry(*, entry_id: str, incident_id: str, service: str, downtime: Decimal,
               effort: Decimal, currency: str, closed_at: datetime, posted_at: datetime,
               causation_id: str, memo: str) -> Entry:
    """The entry booking an incident's cost as an expense of its service."""
    downtime, effort = cents(downtime, currency), cents(effort, currency)
    total = downtime + effort
    if total <= 0:
        raise PostingError(f"incident {incident_id}: no cost to book")
    lines = tuple(ln for ln in (
        Line(f"{DOWNTIME_EXPENSE}:{service}", debit=downtime) if downtime > 0 else None,
        Line(f"{EFFORT_EXPENSE}:{service}", debit=effort) if effort > 0 else None,
        Line(ACCRUED, credit=total)) if ln is not None)
    check_balanced(lines)
    return Entry(entry_id=entry_id, posted_at=posted_at, period=period_of(closed_at),
                 penalty_id=None, incident_id=incident_id, supplier=None, service=service,
                 amount=total, currency=currency, lines=lines, causation_id=causation_id,
                 kind="incident_cost", source_key=f"COST-{incident_id}", memo=memo)


@dataclass(frozen=True)
class SummaryRow:
    supplier: str
    service: str
    currency: str
    amount: Decimal
    entries: int


Booking = tuple[str, str, str, Decimal]
"""What a summary needs of an entry: supplier, service, currency, amount."""


def summarise(bookings: Iterable[Booking]) -> tuple[list[SummaryRow], dict[str, Decimal], int]:
    """Totals by (supplier, service, currency), totals by currency, and the entry count."""
    rows: dict[tuple[str, str, str], tuple[Decimal, int]] = {}
    totals: dict[str, Decimal] = {}
    count = 0
    for supplier, service, currency, amount in bookings:
        key = (supplier, service, currency)
        zero = Decimal(0).quantize(quantum(currency))
        so_far, n = rows.get(key, (zero, 0))
        rows[key] = (so_far + amount, n + 1)
        totals[currency] = totals.get(currency, zero) + amount
        count += 1
    return ([SummaryRow(*key, amount, n) for key, (amount, n) in sorted(rows.items())],
            dict(sorted(totals.items())), count)
