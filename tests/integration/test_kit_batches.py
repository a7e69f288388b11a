"""The kit's batch publisher, its pull fetcher and the batch consumer's fetch-ahead, on a
real nats-server."""

import asyncio
import contextlib
import time

import pytest
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from reasonops_contracts import MSG_ID_HEADER, subjects
from reasonops_contracts.streams import INGEST
from reasonops_runtime.acks import BatchNotAcked, BatchPublisher, Publication
from reasonops_runtime.durable import durable_config, ensure_durable
from reasonops_runtime.faults import operational
from reasonops_runtime.jetstream import ensure_streams
from reasonops_runtime.ports import free_port
from reasonops_runtime.pull import ConsumerGone, Puller
from reasonops_runtime.service import Service
from reasonops_runtime.settings import ServiceSettings
from tests.support import wait_for

pytestmark = pytest.mark.nats


@pytest.fixture
async def publisher(nc):
    await nc.jetstream().add_stream(StreamConfig(name="KIT", subjects=["kit.>"],
                                                 duplicate_window=60.0))
    publisher = BatchPublisher(nc)
    await publisher.start()
    yield publisher
    await publisher.close()


def batch(n, prefix="m", **headers):
    return [Publication("kit.a", f"{prefix}-{i}".encode(), {MSG_ID_HEADER: f"{prefix}-{i}",
                                                            **headers}) for i in range(n)]


async def test_a_batch_returns_once_every_message_is_stored(nc, publisher):
    await publisher.publish(batch(500), timeout=5)
    assert (await nc.jetstream().stream_info("KIT")).state.messages == 500


async def test_a_resent_batch_is_acked_and_stored_once(nc, publisher):
    await publisher.publish(batch(50), timeout=5)
    await publisher.publish(batch(50), timeout=5)  # duplicates are acks too
    assert (await nc.jetstream().stream_info("KIT")).state.messages == 50


async def test_concurrent_batches_each_wait_for_their_own_acks(nc, publisher):
    await asyncio.gather(*(publisher.publish(batch(200, prefix=f"b{n}"), timeout=5)
                           for n in range(5)))
    assert (await nc.jetstream().stream_info("KIT")).state.messages == 1000


async def test_a_refused_message_fails_its_batch_with_jetstream_s_reason(publisher):
    with pytest.raises(BatchNotAcked, match="expected stream does not match") as refused:
        await publisher.publish(batch(3, **{"Nats-Expected-Stream": "OTHER"}), timeout=5)
    assert not operational(refused.value)  # the message's own: it will never be stored


async def test_a_subject_no_stream_takes_fails_the_batch(publisher):
    with pytest.raises(BatchNotAcked, match="no responders") as refused:
        await publisher.publish([Publication("nowhere.at.all", b"x")], timeout=5)
    # No stream, or no leader of it while a cluster elects one: the broker's state.
    assert operational(refused.value)


async def test_a_batch_without_acks_times_out_and_a_late_ack_is_ignored(nc, publisher):
    listener = await nc.subscribe("silent.>")  # takes the messages, never answers
    with pytest.raises(TimeoutError):
        await publisher.publish([Publication("silent.x", b"x")], timeout=0.3)
    msg = await listener.next_msg(timeout=1)
    await nc.publish(msg.reply, b'{"stream":"KIT","seq":1}')  # too late: nobody waits
    await publisher.publish(batch(2), timeout=5)  # the publisher still works


@pytest.fixture
async def puller(nc):
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name="PULL", subjects=["pull.>"]))
    await js.add_consumer("PULL", ConsumerConfig(durable_name="d",
                                                 ack_policy=AckPolicy.EXPLICIT))
    puller = Puller(nc, "PULL", "d")
    await puller.start()
    yield puller
    await puller.close()


async def put(nc, *bodies):
    for body in bodies:
        await nc.jetstream().publish("pull.a", body.encode())


async def test_a_fetch_takes_up_to_the_batch_from_a_backlog_in_order(nc, puller):
    await put(nc, *(f"m{i}" for i in range(25)))
    first = await puller.fetch(10, timeout=5)
    rest = await puller.fetch(100, timeout=5)
    assert [m.data for m in first + rest] == [f"m{i}".encode() for i in range(25)]
    for m in first + rest:
        await m.ack()


async def test_a_fetch_on_an_empty_stream_times_out(puller):
    with pytest.raises(TimeoutError):
        await puller.fetch(10, timeout=0.2)


async def test_a_fetch_returns_with_the_first_message_that_arrives(nc, puller):
    waiting = asyncio.create_task(puller.fetch(10, timeout=10))
    await asyncio.sleep(0.2)
    await put(nc, "late")
    msgs = await asyncio.wait_for(waiting, 5)  # not after the 10 s the request lingers
    assert [m.data for m in msgs] == [b"late"]


async def test_a_fetch_waiting_for_messages_ends_when_its_consumer_stops(nc, puller):
    """On shutdown a consumer does not sit out its long poll (a simulation stopped its
    three services in 2.7 s, most of it waiting for fetches), and what arrives after is
    given back, not lost."""
    stopping = asyncio.Event()
    waiting = asyncio.create_task(puller.fetch(10, timeout=30, stopping=stopping))
    await asyncio.sleep(0.2)
    stopping.set()
    done, _ = await asyncio.wait({waiting}, timeout=5)  # not after the 30 s it lingers
    assert waiting in done
    with pytest.raises(TimeoutError):  # nothing came: as a fetch that timed out
        waiting.result()
    again = asyncio.create_task(puller.fetch(10, timeout=30))
    done, _ = await asyncio.wait({again}, timeout=5)  # and none waits from then on
    assert again in done
    with pytest.raises(TimeoutError):
        again.result()
    await put(nc, "late")
    await asyncio.sleep(0.2)
    assert [m.data for m in await puller.close()] == [b"late"]  # the consumer naks it


async def test_a_trickle_keeps_one_request_waiting_and_close_gives_back_the_rest(nc, puller):
    js = nc.jetstream()
    taken = []
    for i in range(5):
        waiting = asyncio.create_task(puller.fetch(10, timeout=10))
        await asyncio.sleep(0.05)
        await put(nc, f"t{i}")
        taken += await asyncio.wait_for(waiting, 5)
        assert (await js.consumer_info("PULL", "d")).num_waiting <= 1
    assert [m.data for m in taken] == [f"t{i}".encode() for i in range(5)]
    # The waiting request still has credit: what it delivers waits in the buffer...
    await put(nc, "x", "y")
    await wait_for(lambda: js.consumer_info("PULL", "d"),
                   check=lambda info: info.num_ack_pending == 7)
    # ...and is handed to whoever closes the fetcher, to give back.
    assert [m.data for m in await puller.close()] == [b"x", b"y"]


@pytest.mark.parametrize("backlog", [True, False], ids=["from-a-backlog", "as-they-come"])
async def test_a_fetch_given_until_gathers_what_arrives_before_it(nc, puller, backlog):
    if backlog:  # the first comes from a no_wait request, the rest from another
        await put(nc, "a")
    gathering = asyncio.create_task(puller.fetch(10, timeout=5,
                                                 until=time.monotonic() + 2.0))
    await asyncio.sleep(0.1)
    await put(nc, *(["b", "c"] if backlog else ["a", "b", "c"]))
    assert [m.data for m in await asyncio.wait_for(gathering, 10)] == [b"a", b"b", b"c"]


async def test_a_gathering_fetch_ends_when_told_to_stop(nc, puller):
    stopping = asyncio.Event()
    gathering = asyncio.create_task(puller.fetch(10, timeout=5, stopping=stopping,
                                                 until=time.monotonic() + 600))
    await put(nc, "a")
    await asyncio.sleep(0.2)
    stopping.set()
    assert [m.data for m in await asyncio.wait_for(gathering, 10)] == [b"a"]


async def test_a_deleted_consumer_is_reported_as_gone(nc, puller):
    waiting = asyncio.create_task(puller.fetch(10, timeout=10))
    await asyncio.sleep(0.2)
    await nc.jetstream().delete_consumer("PULL", "d")
    with pytest.raises(ConsumerGone, match="409"):
        await asyncio.wait_for(waiting, 5)


async def test_a_consumer_that_does_not_exist_is_reported_as_gone(nc, puller):
    lost = Puller(nc, "PULL", "nobody")
    await lost.start()
    with pytest.raises(ConsumerGone, match="503"):
        await lost.fetch(10, timeout=5)
    await lost.close()


class Slow:
    """Handles one batch at a time, slowly, so the next one is fetched ahead meanwhile."""

    def __init__(self) -> None:
        self.handling = asyncio.Event()
        self.handled: list[bytes] = []

    def decode(self, delivery):
        return delivery.data

    async def __call__(self, tx, batch):
        self.handling.set()
        await asyncio.sleep(0.5)
        self.handled.extend(item for _, item in batch)


async def test_a_batch_fetched_ahead_is_handed_back_when_the_service_stops(nc, nats_url,
                                                                           tmp_path):
    js = nc.jetstream()
    await ensure_streams(js, [INGEST])
    for i in range(10):
        await js.publish(subjects.INGEST_RAW_EVENT, f"e{i}".encode())
    settings = ServiceSettings(nats_url=nats_url, data_dir=tmp_path, http_port=free_port(),
                               batch_size=5, fetch_timeout=0.2, ack_wait_seconds=60)
    service = Service("kit", settings)
    handler = Slow()
    service.consume("kit-slow", handler, subjects=(subjects.INGEST_RAW_EVENT,), stream=INGEST)
    await service.start()
    try:
        await asyncio.wait_for(handler.handling.wait(), 10)
        # The first five are being handled; the next five were asked for meanwhile.
        await wait_for(lambda: js.consumer_info(INGEST.name, "kit-slow"),
                       check=lambda info: info.num_ack_pending == 10)
    finally:
        with contextlib.suppress(Exception):
            await service.stop()
    # Handled ones are acked; the fetched-ahead ones are back at once, not after ack_wait.
    assert handler.handled == [f"e{i}".encode() for i in range(5)]
    again = await js.pull_subscribe_bind("kit-slow", stream=INGEST.name)
    msgs = await again.fetch(10, timeout=5)
    assert [m.data for m in msgs] == [f"e{i}".encode() for i in range(5, 10)]


class Taken:
    """Keeps each batch it handles (``batches``) and everything in order (``handled``)."""

    def __init__(self) -> None:
        self.batches: list[list[bytes]] = []

    @property
    def handled(self) -> list[bytes]:
        return [item for batch in self.batches for item in batch]

    def decode(self, delivery):
        return delivery.data

    async def __call__(self, tx, batch):
        self.batches.append([item for _, item in batch])


async def test_a_durable_is_brought_in_line_with_the_code_on_start(nc, nats_url, tmp_path,
                                                                   caplog):
    """A handler added for a new event type receives it, and ack_wait and max_deliver
    changes apply, on the next start: the durable is updated, saying what changed."""
    js = nc.jetstream()
    await ensure_streams(js, [INGEST])

    async def run(subjects_, ack_wait):
        settings = ServiceSettings(nats_url=nats_url, data_dir=tmp_path, http_port=free_port(),
                                   fetch_timeout=0.2, ack_wait_seconds=ack_wait)
        service = Service("kit", settings)
        handler = Taken()
        service.consume("kit-grows", handler, subjects=subjects_, stream=INGEST)
        await service.start()
        return service, handler

    first, _ = await run((subjects.INGEST_RAW_EVENT,), 30)
    await first.stop()
    await js.publish(subjects.INGEST_RAW_GRAFANA, b"grafana")  # nobody listened for it
    caplog.set_level("INFO", logger="reasonops_runtime.durable")
    second, handler = await run((subjects.INGEST_RAW_EVENT, subjects.INGEST_RAW_GRAFANA), 45)
    try:
        await js.publish(subjects.INGEST_RAW_GRAFANA, b"grafana, now heard")
        await wait_for(lambda: _async(handler.handled), check=lambda h: b"grafana, now heard" in h)
        config = (await js.consumer_info(INGEST.name, "kit-grows")).config
        assert sorted(config.filter_subjects or []) == sorted(
            [subjects.INGEST_RAW_EVENT, subjects.INGEST_RAW_GRAFANA])
        assert config.ack_wait == 45
    finally:
        await second.stop()
    [changed] = [r for r in caplog.records if r.getMessage() == "consumer configuration changed"]
    both = ", ".join(sorted([subjects.INGEST_RAW_EVENT, subjects.INGEST_RAW_GRAFANA]))
    assert changed.changes == (  # type: ignore[attr-defined]
        f"subjects: {subjects.INGEST_RAW_EVENT} -> {both}; ack_wait: 30.0 -> 45.0")


async def _async(value):
    return value


async def background(nats_url, tmp_path, seconds):
    settings = ServiceSettings(nats_url=nats_url, data_dir=tmp_path, http_port=free_port(),
                               fetch_timeout=0.2, background_batch_seconds=seconds)
    service = Service("kit", settings)
    handler = Taken()
    service.consume("kit-background", handler, subjects=(subjects.INGEST_RAW_EVENT,),
                    stream=INGEST, background=True)
    await service.start()
    return service, handler


async def test_a_background_consumer_takes_a_trickle_as_one_batch(nc, nats_url, tmp_path):
    """Idle, it handles a message at once; messages that follow it within the interval
    wait for the interval and are handled together."""
    js = nc.jetstream()
    await ensure_streams(js, [INGEST])
    service, handler = await background(nats_url, tmp_path, 2.0)
    try:
        await js.publish(subjects.INGEST_RAW_EVENT, b"e0")
        await wait_for(lambda: _async(handler.batches), check=lambda b: b == [[b"e0"]])
        for i in (1, 2, 3):
            await js.publish(subjects.INGEST_RAW_EVENT, f"e{i}".encode())
        await wait_for(lambda: _async(handler.batches), check=lambda b: len(b) > 1)
        await asyncio.sleep(0.5)  # nothing else comes
        assert handler.batches == [[b"e0"], [b"e1", b"e2", b"e3"]]
    finally:
        await service.stop()


async def test_a_gathering_background_consumer_stops_at_once_and_loses_nothing(
        nc, nats_url, tmp_path):
    js = nc.jetstream()
    await ensure_streams(js, [INGEST])
    service, handler = await background(nats_url, tmp_path, 600.0)
    try:
        await js.publish(subjects.INGEST_RAW_EVENT, b"e0")  # idle: not held for 600 s
        await wait_for(lambda: _async(handler.batches), check=lambda b: b == [[b"e0"]])
        await js.publish(subjects.INGEST_RAW_EVENT, b"e1")  # held, gathering
        await wait_for(lambda: js.consumer_info(INGEST.name, "kit-background"),
                       check=lambda info: info.num_ack_pending == 1)
        assert handler.batches == [[b"e0"]]
    finally:
        await asyncio.wait_for(service.stop(), 15)  # not after the 600 s
    assert handler.batches == [[b"e0"], [b"e1"]]  # the stop ended the gathering
    assert (await js.consumer_info(INGEST.name, "kit-background")).num_ack_pending == 0


async def test_a_durable_waits_for_a_stream_the_server_does_not_know_yet(nc):
    """A starting service declared its streams a moment before; a cluster member that
    answers "stream not found" has not caught up yet. Creating the durable is asked again
    until the stream is there, and only within the patience."""
    js = nc.jetstream()
    wanted = durable_config("kit-waits", ["late.a"], ack_wait=30, batch_size=10)
    with pytest.raises(NotFoundError):
        await ensure_durable(js, "LATE", wanted, patience=0)

    async def declared_later() -> None:
        await asyncio.sleep(1.0)
        await js.add_stream(StreamConfig(name="LATE", subjects=["late.>"]))

    later = asyncio.create_task(declared_later())
    await ensure_durable(js, "LATE", wanted, patience=30)
    await later
    assert (await js.consumer_info("LATE", "kit-waits")).config.filter_subject == "late.a"


async def test_a_stream_neither_created_nor_there_is_an_error_not_a_warning(nc):
    """The server refuses to create a stream (its subjects overlap another's): declaring
    the streams fails with the server's reason, rather than going on without it."""
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name="WIDE", subjects=["itsm.ingest.>"]))
    with pytest.raises(BadRequestError, match="overlap"):
        await ensure_streams(js, [INGEST])
    with pytest.raises(NotFoundError):
        await js.stream_info(INGEST.name)


async def test_caught_up_waits_for_what_the_stream_held_when_asked(nc, puller):
    """Filtered to ``pull.a``: a message on another subject after them counts for
    nothing; behind, it says how many were left when its patience ran out."""
    from reasonops_runtime.jetstream import caught_up

    js = nc.jetstream()
    await js.add_consumer("PULL", ConsumerConfig(
        durable_name="only-a", ack_policy=AckPolicy.EXPLICIT, filter_subject="pull.a"))
    only_a = Puller(nc, "PULL", "only-a")
    await only_a.start()
    await put(nc, "m0", "m1", "m2")
    await js.publish("pull.b", b"not its subject")
    assert await caught_up(js, "PULL", "only-a", patience=0.2) == 3

    async def handle(n):
        for msg in await only_a.fetch(n, timeout=5):
            await asyncio.sleep(0.1)
            await msg.ack()

    waiting = asyncio.create_task(caught_up(js, "PULL", "only-a", patience=10))
    await handle(2)
    assert not waiting.done()
    await handle(1)
    assert await waiting == 0
    await only_a.close()
