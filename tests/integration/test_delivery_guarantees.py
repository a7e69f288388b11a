"""At-least-once delivery, exactly-once effects: redelivery and a SIGKILL mid-stream."""

import asyncio
import os
import signal
import subprocess
import sys

import pytest

from reasonops_contracts.incidents import IncidentList, IncidentOpened, ListIncidents
from reasonops_incidents.app import IncidentSettings, build_service
from reasonops_runtime.client import request
from reasonops_runtime.jetstream import drained
from reasonops_runtime.ports import free_port
from tests.support import accepted, publish_all, stream_messages, wait_for

pytestmark = pytest.mark.nats


async def _incidents(nc):
    return (await request(nc, ListIncidents(limit=1000), IncidentList)).items


async def test_every_message_delivered_twice_has_the_effect_of_one(nc, start_service):
    await start_service(build_service, IncidentSettings)
    envelopes = [accepted(f"fp-{i}") for i in range(20)]
    # Without Nats-Msg-Id the broker stores both copies; only the inbox can tell.
    await publish_all(nc, envelopes, with_msg_id=False)
    await publish_all(nc, envelopes, with_msg_id=False)
    await publish_all(nc, envelopes[:5], with_msg_id=False)

    js = nc.jetstream()
    await drained(js, "INGEST", "incidents")
    found = await _incidents(nc)
    assert len(found) == 20
    assert all(i.alert_count == 1 for i in found)
    opened = await stream_messages(nc, "INCIDENTS", IncidentOpened.SUBJECT)
    assert len(opened) == 20


def _spawn_incidents(nats_url, data_dir, port):
    env = dict(os.environ, REASONOPS_NATS_URL=nats_url, REASONOPS_DATA_DIR=str(data_dir),
               REASONOPS_HTTP_PORT=str(port), REASONOPS_BATCH_SIZE="25",
               REASONOPS_FETCH_TIMEOUT="0.1",
               REASONOPS_ACK_WAIT_SECONDS="2")
    return subprocess.Popen([sys.executable, "-m", "reasonops_cli", "run", "incidents"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.slow
async def test_sigkill_while_events_stream_in_loses_and_duplicates_nothing(nc, nats_url,
                                                                           tmp_path):
    port = free_port()
    proc = _spawn_incidents(nats_url, tmp_path, port)
    try:
        envelopes = [accepted(f"fp-{i % 500}") for i in range(1000)]
        js = nc.jetstream()
        await wait_for(lambda: js.consumer_info("INGEST", "incidents"), timeout=30)

        async def stream_in():
            for env in envelopes:
                await js.publish(accepted_subject(), env.to_bytes(), headers=env.headers())
                await asyncio.sleep(0.001)

        producer = asyncio.create_task(stream_in())
        # Kill once some (not all) events have been handled.
        await wait_for(lambda: js.consumer_info("INGEST", "incidents"),
                       check=lambda i: i.ack_floor.stream_seq >= 150, timeout=60)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        await asyncio.sleep(0.5)
        proc = _spawn_incidents(nats_url, tmp_path, port)
        await producer
        await drained(js, "INGEST", "incidents", timeout=90)
        found = await wait_for(lambda: _incidents(nc), check=lambda f: len(f) == 500,
                               timeout=30)
        assert sorted(i.alert_count for i in found) == [2] * 500
        assert sum(i.alert_count for i in found) == 1000
        # Events committed just before the kill are relayed by the restarted service.
        opened = await wait_for(
            lambda: stream_messages(nc, "INCIDENTS", IncidentOpened.SUBJECT),
            check=lambda found: len(found) >= 500, timeout=30)
        ids = [IncidentOpened.model_validate(e.data).incident_id for e in opened]
        assert len(ids) == len(set(ids)) == 500
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def accepted_subject():
    from reasonops_contracts.ingest import EventAccepted

    return EventAccepted.SUBJECT
