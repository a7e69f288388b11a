"""Double-entry postings for supplier penalties, and monthly summaries. Pure: no I/O.

A penalty is money a supplier owes us: debit the supplier's receivable account,
credit service-credit income. Amounts are ``Decimal`` in cents, never float.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

CENT = Decimal("0.01")
RECEIVABLE = "supplier-credits-receivable"
INCOME = "service-credit-income"


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
    penalty_id: str
    incident_id: str
    supplier: str
    service: str
    amount: Decimal
    currency: str
    lines: tuple[Line, ...]
    causation_id: str


def period_of(at: datetime) -> str:
    """The accounting month, ``YYYY-MM``, of ``at`` in UTC."""
    if at.tzinfo is None:
        raise PostingError("naive datetime; ledger periods are UTC")
    return at.astimezone(UTC).strftime("%Y-%m")


def receivable_account(supplier: str) -> str:
    return f"{RECEIVABLE}:{supplier}"


def cents(amount: Decimal) -> Decimal:
    """``amount`` in cents exactly; refuses floats, fractions of a cent and non-finite values."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise PostingError(f"amount must be a finite Decimal, got {amount!r}")
    if amount != amount.quantize(CENT):
        raise PostingError(f"amount {amount} has fractions of a cent")
    return amount.quantize(CENT)


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
    value = cents(amount)
    if value <= 0:
        raise PostingError(f"penalty {penalty_id}: amount must be positive, got {value}")
    lines = (Line(receivable_account(supplier), debit=value), Line(INCOME, credit=value))
    check_balanced(lines)
    return Entry(entry_id=entry_id, posted_at=posted_at, period=period_of(assessed_at),
                 penalty_id=penalty_id, incident_id=incident_id, supplier=supplier,
                 service=service, amount=value, currency=currency, lines=lines,
                 causation_id=causation_id)


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
        so_far, n = rows.get(key, (Decimal("0.00"), 0))
        rows[key] = (so_far + amount, n + 1)
        totals[currency] = totals.get(currency, Decimal("0.00")) + amount
        count += 1
    return ([SummaryRow(*key, amount, n) for key, (amount, n) in sorted(rows.items())],
            dict(sorted(totals.items())), count)
