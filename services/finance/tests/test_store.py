"""The ledger tables: exact money, one entry per penalty; what is read back is the same on
SQLite and PostgreSQL."""

import asyncio
import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from reasonops_finance import store
from reasonops_finance.domain import penalty_entry
from reasonops_runtime import Store

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def entry(entry_id, penalty_id, amount="123456789012.34", incident="INC0000001"):
    return penalty_entry(entry_id=entry_id, penalty_id=penalty_id, incident_id=incident,
                         supplier="Acme Hosting", service="checkout", amount=Decimal(amount),
                         currency="EUR", assessed_at=AT, posted_at=AT, causation_id="M")


@pytest.fixture
async def db(tmp_path):
    ledger = Store(f"sqlite+aiosqlite:///{tmp_path / 'finance.db'}", store.metadata)
    await ledger.create_all()
    yield ledger
    await ledger.close()


async def test_entries_round_trip_exactly_with_their_lines(db):
    async with db.transaction() as tx:
        await store.add_entry(tx.session, entry("E1", "PEN-1"))
    async with db.read() as session:
        (found,) = await store.find_entries(session, month="2026-11")
        assert await store.has_penalty(session, "PEN-1")
        assert not await store.has_penalty(session, "PEN-2")
    assert found == entry("E1", "PEN-1")
    assert found.amount == Decimal("123456789012.34")


async def test_the_same_penalty_cannot_be_booked_twice(db):
    async with db.transaction() as tx:
        await store.add_entry(tx.session, entry("E1", "PEN-1"))
    with pytest.raises(IntegrityError):
        async with db.transaction() as tx:
            await store.add_entry(tx.session, entry("E2", "PEN-1"))


async def test_bookings_and_filters(db):
    async with db.transaction() as tx:
        await store.add_entry(tx.session, entry("E1", "PEN-1", "0.10"))
        await store.add_entry(tx.session, entry("E2", "PEN-2", "0.20", incident="INC0000002"))
    async with db.read() as session:
        bookings = await store.bookings_in(session, "2026-11")
        assert sum(b[3] for b in bookings) == Decimal("0.30")
        assert await store.bookings_in(session, "2026-10") == []
        only = await store.find_entries(session, incident_id="INC0000002")
        assert [e.entry_id for e in only] == ["E2"]
        assert len(await store.find_entries(session, limit=1)) == 1


@pytest.fixture
async def any_db(database_url):
    ledger = Store(database_url, store.metadata)
    await ledger.create_all()
    yield ledger
    await ledger.close()


async def test_money_reads_back_in_its_currency_s_minor_unit_on_every_backend(any_db):
    """NUMERIC(20,4) on PostgreSQL would read 3000.0000 where SQLite reads 3000.00."""
    from reasonops_finance.domain import summarise

    yen = penalty_entry(entry_id="E2", penalty_id="PEN-2", incident_id="INC0000002",
                        supplier="Acme Hosting", service="checkout", amount=Decimal("5000"),
                        currency="JPY", assessed_at=AT, posted_at=AT, causation_id="M")
    async with any_db.transaction() as tx:
        await store.add_entry(tx.session, entry("E1", "PEN-1", "3000.00"))
        await store.add_entry(tx.session, yen)
    async with any_db.read() as session:
        found = {e.entry_id: e for e in await store.find_entries(session, month="2026-11")}
        bookings = await store.bookings_in(session, "2026-11")
        balances = await store.balances(session)
    assert str(found["E1"].amount) == "3000.00"
    assert [str(ln.debit + ln.credit) for ln in found["E1"].lines] == ["3000.00", "3000.00"]
    assert str(found["E2"].amount) == "5000"
    _, totals, count = summarise(bookings)
    assert {c: str(v) for c, v in totals.items()} == {"EUR": "3000.00", "JPY": "5000"}
    assert count == 2
    assert {str(v).lstrip("-") for v in balances.values()} == {"3000.00", "5000"}


@pytest.mark.postgres
async def test_a_posting_racing_a_period_close_lands_in_an_open_month(postgres_database):
    """Closing November while a penalty of November is being posted: the posting waits
    for the close and books into December, marked late (READ COMMITTED would have let
    it read November as open and book into a closed month)."""
    from reasonops_finance.domain import posting_period

    ledger = Store(postgres_database(), store.metadata)
    await ledger.create_all()

    async def posting() -> None:
        async with ledger.transaction() as tx:
            await store.hold_periods(tx.session, closing=False)
            period, _ = posting_period("2026-11", set(await store.closed_periods(tx.session)))
            await store.add_entry(tx.session, dataclasses.replace(
                entry("E1", "PEN-1", "10.00"), period=period))

    try:
        async with ledger.transaction() as tx:
            await store.hold_periods(tx.session, closing=True)
            assert await store.close_period(tx.session, "2026-11", AT, "user:controller")
            posted = asyncio.create_task(posting())
            await asyncio.sleep(0.5)
            assert not posted.done()  # it waits for the close to commit
        await asyncio.wait_for(posted, 10)
        async with ledger.read() as session:
            (found,) = await store.find_entries(session)
        assert found.period == "2026-12"
    finally:
        await ledger.close()
