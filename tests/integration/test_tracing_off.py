"""With tracing off, services record nothing but keep an incoming trace whole."""

import pytest

from reasonops_contracts.incidents import IncidentOpened
from reasonops_incidents.app import IncidentSettings
from reasonops_incidents.app import build_service as build_incidents
from reasonops_runtime import tracing
from tests.support import accepted, wait_for

pytestmark = pytest.mark.nats

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def test_events_carry_on_the_traceparent_of_the_message_that_caused_them(
        nc, start_service):
    assert not tracing.enabled()
    await start_service(build_incidents, IncidentSettings)
    alert = accepted("fp-traced")
    js = nc.jetstream()
    await js.publish("itsm.ingest.event.accepted", alert.to_bytes(),
                     headers={**alert.headers(), "traceparent": TRACEPARENT})

    async def opened_headers():
        msg = await js.get_last_msg("INCIDENTS", IncidentOpened.SUBJECT)
        return msg.headers

    headers = await wait_for(opened_headers)
    assert headers["traceparent"] == TRACEPARENT


async def test_events_made_from_a_raw_payload_carry_on_its_traceparent(nc, start_service):
    from reasonops_contracts.ingest import EventAccepted
    from reasonops_ingest.app import IngestSettings
    from reasonops_ingest.app import build_service as build_ingest

    await start_service(build_ingest, IngestSettings)
    js = nc.jetstream()
    body = (b'{"version": "4", "status": "firing", "alerts": [{"status": "firing", '
            b'"labels": {"alertname": "DiskFull", "service": "billing"}}]}')
    await js.publish("itsm.ingest.raw.alertmanager", body,
                     headers={"Nats-Msg-Id": "raw-1", "traceparent": TRACEPARENT})

    async def accepted_headers():
        msg = await js.get_last_msg("INGEST", EventAccepted.SUBJECT)
        return msg.headers

    headers = await wait_for(accepted_headers)
    assert headers["traceparent"] == TRACEPARENT


async def test_the_outbox_sweep_publishes_a_row_with_its_stored_traceparent(nc, tmp_path):
    """A row left by a process that died before relaying it keeps its trace."""
    from reasonops_runtime.acks import BatchPublisher
    from reasonops_runtime.jetstream import ensure_streams
    from reasonops_runtime.metrics import KitMetrics
    from reasonops_runtime.outbox import OutboxRelay
    from reasonops_runtime.store import Store

    js = nc.jetstream()
    await ensure_streams(js)
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}")
    await store.create_all()
    cause = accepted("fp-swept")
    async with store.transaction() as tx:
        tx.trace_parents[cause.id] = TRACEPARENT
        effect = cause.caused(IncidentOpened(
            incident_id="INC0000042", title="t", severity="critical", impact=1, urgency=1,
            priority=1, priority_reason="r", fingerprint="fp-swept",
            opened_at=cause.time), source="incidents", subject="INC0000042")
        tx.emit(effect, IncidentOpened.SUBJECT)
    # Nobody relayed it; the sweep of a later process finds it in the store.
    publisher = BatchPublisher(nc)
    await publisher.start()
    relay = OutboxRelay(publisher, store, KitMetrics("incidents"))
    await relay.flush()
    await publisher.close()
    msg = await js.get_last_msg("INCIDENTS", IncidentOpened.SUBJECT)
    assert msg.headers["traceparent"] == TRACEPARENT
    assert msg.headers["Nats-Msg-Id"] == effect.id
    await store.close()
