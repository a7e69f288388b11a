"""Whose fault a failure is decides what happens to a message, on a real nats-server: a
message that keeps failing is dead-lettered whole (bytes and headers, however large),
while one the environment keeps failing (a database down, locked) is retried for as long
as that lasts and never dead-lettered."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from reasonops_contracts import MSG_ID_HEADER, subjects
from reasonops_contracts.deadletter import MessageDeadLettered
from reasonops_contracts.streams import DEADLETTER, INGEST
from reasonops_runtime.faults import operational
from reasonops_runtime.jetstream import ensure_streams
from reasonops_runtime.ports import free_port
from reasonops_runtime.service import Service
from reasonops_runtime.settings import ServiceSettings
from tests.support import stream_messages, wait_for

pytestmark = pytest.mark.nats


class Flaky:
    """Fails the first ``failures`` tries of every message with ``error``."""

    def __init__(self, error: Exception, failures: int) -> None:
        self.error, self.failures = error, failures
        self.tries: dict[bytes, int] = {}
        self.handled: list[bytes] = []

    def decode(self, delivery):
        return delivery.data

    async def __call__(self, tx, batch):
        for _, item in batch:
            self.tries[item] = self.tries.get(item, 0) + 1
            if self.tries[item] <= self.failures:
                raise self.error
        self.handled.extend(item for _, item in batch)


async def started(nats_url, tmp_path, handler, name):
    settings = ServiceSettings(nats_url=nats_url, data_dir=tmp_path, http_port=free_port(),
                               fetch_timeout=0.2, max_deliver=3,
                               deferred_retry_max_seconds=1.0)
    service = Service("ingest", settings)
    service.consume(name, handler, subjects=(subjects.INGEST_RAW_EVENT,), stream=INGEST)
    await service.start()
    return service


def locked() -> OperationalError:
    return OperationalError("INSERT ...", {}, Exception("database is locked"))


async def test_a_store_that_keeps_failing_is_waited_for_not_dead_lettered(nc, nats_url,
                                                                          tmp_path):
    js = nc.jetstream()
    await ensure_streams(js, [INGEST, DEADLETTER])
    handler = Flaky(locked(), failures=5)  # more failures than max_deliver allows
    service = await started(nats_url, tmp_path, handler, "kit-waits")
    try:
        await js.publish(subjects.INGEST_RAW_EVENT, b"patience")
        await wait_for(lambda: _now(handler.handled), check=lambda h: h == [b"patience"],
                       timeout=60)
        assert handler.tries[b"patience"] == 6
        assert await stream_messages(nc, DEADLETTER.name) == []
        deferred = service.metrics.messages.labels("ingest", "kit-waits", "deferred")
        assert deferred._value.get() >= 5
    finally:
        await service.stop()


async def test_a_poison_message_is_dead_lettered_whole_with_its_headers(nc, nats_url,
                                                                        tmp_path):
    js = nc.jetstream()
    await ensure_streams(js, [INGEST, DEADLETTER])
    handler = Flaky(KeyError("no such customer"), failures=100)
    service = await started(nats_url, tmp_path, handler, "kit-parks")
    large = ("x" * 99 + "\n") * 1500  # 150 KB, more than a dead letter used to keep
    binary = bytes(range(256)) * 4
    try:
        await js.publish(subjects.INGEST_RAW_EVENT, large.encode(),
                         headers={MSG_ID_HEADER: "large-1", "traceparent": "00-" + "a" * 32
                                  + "-" + "b" * 16 + "-01"})
        await js.publish(subjects.INGEST_RAW_EVENT, binary, headers={MSG_ID_HEADER: "bin-1"})
        found = await wait_for(lambda: stream_messages(nc, DEADLETTER.name),
                               check=lambda f: len(f) == 2, timeout=60)
    finally:
        await service.stop()
    parked = {p.headers[MSG_ID_HEADER]: p for p in (e.decode(MessageDeadLettered)
                                                     for e in found)}
    text, raw = parked["large-1"], parked["bin-1"]
    assert (text.consumer, text.service, text.deliveries) == ("kit-parks", "ingest", 3)
    assert "no such customer" in text.error
    assert text.original_bytes() == large.encode()
    assert not text.truncated
    assert text.headers["traceparent"].startswith("00-aaaa")
    assert raw.payload == ""
    assert raw.original_bytes() == binary
    assert handler.handled == []  # each tried in its batch, then alone, three times


def test_whose_fault_a_failure_is():
    import sqlalchemy.exc as sa

    class Refused(Exception):
        sqlstate = "57P03"  # the database is starting up

    class TooLong(Exception):
        sqlstate = "22001"  # a value too long for its column: the message's

    assert operational(ConnectionRefusedError(111, "refused"))
    assert operational(locked())
    assert operational(sa.DBAPIError("SELECT 1", {}, Refused()))
    assert not operational(sa.DBAPIError("INSERT", {}, TooLong()))
    assert not operational(KeyError("no such customer"))
    # A message's error raised while an operational one was being handled is the
    # message's: only what it was raised *from* counts.
    with pytest.raises(ValueError, match="bad value") as raised:
        try:
            raise ConnectionResetError()
        except ConnectionResetError:
            raise ValueError("bad value") from None
    assert not operational(raised.value)
    wrapped = sa.OperationalError("SELECT 1", {}, Exception("database is locked"))
    with pytest.raises(RuntimeError) as outer:
        raise RuntimeError("could not claim") from wrapped
    assert operational(outer.value)


async def _now(value):
    return value
