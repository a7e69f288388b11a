"""A batch claims inbox rows for exactly the items that need them, however it is mixed."""

import asyncio

from prometheus_client import CollectorRegistry
from sqlalchemy import select

from reasonops_contracts.streams import INGEST
from reasonops_runtime.batch_handler import ConsumerSpec
from reasonops_runtime.consumer import BatchConsumer
from reasonops_runtime.delivery import Delivery
from reasonops_runtime.metrics import KitMetrics
from reasonops_runtime.store import inbox_table


class Handler:
    """Items named ``stateful-*`` need the inbox; the others are idempotent by id."""

    def __init__(self) -> None:
        self.handled: list[str] = []

    def decode(self, delivery):
        return delivery.key

    def needs_inbox(self, item) -> bool:
        return item.startswith("stateful")

    async def __call__(self, tx, batch) -> None:
        self.handled += [item for _, item in batch]


def consumer(store, handler) -> BatchConsumer:
    metrics = KitMetrics("probe", registry=CollectorRegistry())
    return BatchConsumer(ConsumerSpec("probe", INGEST, handler), service="probe", nc=None,
                         js=None, store=store, relay=None, metrics=metrics, batch_size=10,
                         fetch_timeout=0.1, max_deliver=3, ack_wait=30)


def decoded(*keys):
    return [(None, Delivery("s", b"", key, {}), key) for key in keys]


async def test_a_mixed_batch_claims_only_what_needs_the_inbox(store):
    handler = Handler()
    await consumer(store, handler)._commit_batch(
        decoded("stateless-1", "stateful-1", "stateless-1", "stateful-2"), {})
    async with store.read() as session:
        claimed = (await session.execute(select(inbox_table.c.message_id))).scalars().all()
    assert sorted(claimed) == ["stateful-1", "stateful-2"]
    assert handler.handled == ["stateless-1", "stateful-1", "stateful-2"]  # each once


async def test_a_redelivered_stateful_item_is_not_handled_again(store):
    handler = Handler()
    await consumer(store, handler)._commit_batch(decoded("stateful-1"), {})
    await consumer(store, handler)._commit_batch(decoded("stateful-1", "stateless-2"), {})
    assert handler.handled == ["stateful-1", "stateless-2"]


async def test_a_claim_returns_exactly_the_ids_never_claimed(store):
    async with store.transaction() as tx:
        assert await tx.claim("probe", [f"m-{n}" for n in range(0, 600)]) == {
            f"m-{n}" for n in range(0, 600)}
    async with store.transaction() as tx:
        fresh = await tx.claim("probe", [f"m-{n}" for n in range(400, 1200)] + ["m-700"])
        assert await tx.claim("other", ["m-1"]) == {"m-1"}  # each consumer its own inbox
    assert fresh == {f"m-{n}" for n in range(600, 1200)}


async def test_replicas_claiming_the_same_ids_at_once_each_get_a_share(store):
    """Two transactions claiming overlapping ids side by side: each id goes to one."""
    ids = [f"m-{n}" for n in range(200)]

    async def claim(part: list[str]) -> set[str]:
        async with store.transaction() as tx:
            return await tx.claim("probe", part)

    first, second = await asyncio.gather(claim(ids[:150]), claim(list(reversed(ids[50:]))))
    assert first | second == set(ids)
    assert not first & second


def accepted(name: str) -> Delivery:
    from datetime import UTC, datetime

    from reasonops_contracts import Envelope
    from reasonops_contracts.ingest import EventAccepted
    event = EventAccepted(fingerprint=name, status="firing", name=name, severity="warning",
                          summary=name, received_at=datetime(2026, 12, 6, tzinfo=UTC),
                          source_format="event")
    envelope = Envelope.wrap(event, source="ingest", subject=name)
    return Delivery(EventAccepted.SUBJECT, envelope.to_bytes(), envelope.id, {})


async def test_a_batch_no_handler_wants_asks_the_store_nothing(store):
    """An agent watching for logins sees every accepted event: the batches without one
    are acked without a transaction; a mixed batch hands over, and claims, only logins."""
    from reasonops_contracts.ingest import EventAccepted
    from reasonops_runtime.routing import EventRouter

    seen: list[str] = []
    router = EventRouter()

    @router.on_many(EventAccepted, wanted=lambda e: e.name.startswith("login"))
    async def logins(tx, batch) -> None:
        seen.extend(event.name for _, event in batch)

    statements: list[float] = []
    store.time_statements(statements.append)
    probe = consumer(store, router)

    def batch(*names: str):
        return [(None, delivery, router.decode(delivery))
                for delivery in map(accepted, names)]

    assert await probe._commit_batch(batch("disk-full", "cpu-high"), {}) == []
    assert (statements, seen) == ([], [])
    ignored = probe.metrics.messages.labels("probe", "probe", "ignored")._value.get()
    assert ignored == 2
    assert await probe._commit_batch(batch("cpu-high", "login-failed", "disk-full"), {}) == []
    assert seen == ["login-failed"]
    async with store.read() as session:
        claimed = (await session.execute(select(inbox_table.c.message_id))).scalars().all()
    assert len(claimed) == 1  # the login only
