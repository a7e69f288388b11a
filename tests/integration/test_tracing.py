"""One monitoring alert, one trace: ingest's HTTP request -> incidents -> SLM -> finance,
and -> orchestrator -> triage agent -> orchestrator."""

from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from reasonops_agent_triage.app import TriageSettings
from reasonops_agent_triage.app import build_service as build_triage
from reasonops_contracts.agents import AgentDecisionRecorded
from reasonops_contracts.finance import LedgerEntryPosted
from reasonops_contracts.incidents import (
    AcknowledgeIncident,
    IncidentAcknowledged,
    IncidentOpened,
    IncidentView,
)
from reasonops_contracts.slm import PenaltyAssessed, SlaBreached
from reasonops_finance.app import FinanceSettings
from reasonops_finance.app import build_service as build_finance
from reasonops_incidents.app import IncidentSettings
from reasonops_incidents.app import build_service as build_incidents
from reasonops_ingest.app import IngestSettings
from reasonops_ingest.app import build_service as build_ingest
from reasonops_orchestrator.app import OrchestratorSettings
from reasonops_orchestrator.app import build_service as build_orchestrator
from reasonops_runtime import tracing
from reasonops_runtime.client import request
from reasonops_slm.app import SlmSettings
from reasonops_slm.app import build_service as build_slm
from tests.support import accepted, post_to_ingest, publish_all, stream_messages, wait_for

pytestmark = pytest.mark.nats

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "config"

ONE_ALERT = {
    "version": "4", "status": "firing", "receiver": "reasonops",
    "alerts": [{
        "status": "firing", "fingerprint": "7ra7ce0000000001",
        "labels": {"alertname": "CheckoutDown", "service": "checkout", "severity": "critical"},
        "annotations": {"summary": "checkout answers 503"},
        "startsAt": "2026-11-20T14:02:11Z",
    }],
}


@pytest.fixture
def spans(span_exporter: InMemorySpanExporter) -> InMemorySpanExporter:
    assert tracing.enabled()
    return span_exporter


def service_of(span: ReadableSpan) -> str:
    return str((span.attributes or {}).get(tracing.SERVICE_ATTRIBUTE, ""))


async def test_one_alert_is_one_trace_from_ingest_to_the_ledger(nc, start_service, spans, tmp_path):
    ingest = await start_service(build_ingest, IngestSettings,
                                 default_integration_key_file=tmp_path / "ingest.key")
    await start_service(build_incidents, IncidentSettings)
    await start_service(build_slm, SlmSettings,
                        sla_policies=EXAMPLES / "sla-policies-fast.yaml",
                        supplier_contracts=EXAMPLES / "supplier-contracts.yaml")
    await start_service(build_finance, FinanceSettings)
    await start_service(build_orchestrator, OrchestratorSettings)
    await start_service(build_triage, TriageSettings)

    response = await post_to_ingest(f"http://127.0.0.1:{ingest.port}",
                                    "/v1/alertmanager", ONE_ALERT,
                                    key_file=tmp_path / "ingest.key")
    assert response.status_code == 202, response.text
    # P1 on the fast policies breaches within seconds; checkout is under contract.
    await wait_for(lambda: stream_messages(nc, "FINANCE", LedgerEntryPosted.SUBJECT),
                   check=lambda found: len(found) >= 2, timeout=30)
    expected = {("incidents", "itsm.ingest.event.accepted"), ("slm", "itsm.incident.opened"),
                ("finance", "itsm.slm.penalty.assessed"),
                ("orchestrator", "itsm.incident.opened"),
                ("agent-triage", "itsm.agent.triage.requested"),
                ("orchestrator", AgentDecisionRecorded.SUBJECT)}

    def processed(finished) -> set[tuple[str, str]]:
        return {(service_of(s), str(s.attributes["messaging.destination.name"]))
                for s in finished if s.kind is SpanKind.CONSUMER}
    # Each service's span of each step, not only the first of a name: two services
    # process the triage decision, and the slower one must have finished too.
    await wait_for(spans.get_finished_spans, check=lambda finished: expected <= processed(
        finished) and f"send {LedgerEntryPosted.SUBJECT}" in {s.name for s in finished})

    def parents_finished(finished):
        # A send span can end just before the span of the batch that sent it.
        ids = {s.context.span_id for s in finished}
        return all(s.parent is None or s.parent.span_id in ids for s in finished)
    await wait_for(spans.get_finished_spans, check=parents_finished)

    finished = spans.get_finished_spans()
    (request,) = [s for s in finished if s.kind is SpanKind.SERVER]
    assert request.name == "POST /v1/alertmanager"
    assert request.parent is None
    trace_id = request.context.trace_id
    in_trace = [s for s in finished if s.context.trace_id == trace_id]
    # Every span of the system belongs to this alert's trace: nothing started a new one.
    strays = [(s.name, service_of(s), s.parent) for s in finished
              if s.context.trace_id != trace_id]
    assert not strays, f"spans outside the alert's trace: {strays}"
    # ... and the trace is one tree: each parent is a span of the trace.
    ids = {s.context.span_id for s in in_trace}
    assert all(s.parent is None or s.parent.span_id in ids for s in in_trace)
    assert [s for s in in_trace if s.parent is None] == [request]

    assert expected <= processed(in_trace)
    timers = [s for s in in_trace if s.name == "timer sla-deadline"]
    # Each clock's timer fires at the at-risk thresholds and at the deadline.
    assert len(timers) >= 2
    assert {service_of(s) for s in timers} == {"slm"}
    names = {s.name for s in in_trace}
    assert {"incident.correlate", "sla.evaluate", f"send {SlaBreached.SUBJECT}",
            f"send {PenaltyAssessed.SUBJECT}", f"send {LedgerEntryPosted.SUBJECT}"} <= names


async def test_consumer_spans_carry_the_messaging_conventions(nc, start_service, spans, tmp_path):
    ingest = await start_service(build_ingest, IngestSettings,
                                 default_integration_key_file=tmp_path / "ingest.key")
    await start_service(build_incidents, IncidentSettings)
    response = await post_to_ingest(f"http://127.0.0.1:{ingest.port}",
                                    "/v1/alertmanager", ONE_ALERT,
                                    key_file=tmp_path / "ingest.key")
    event_id = response.json()["event_ids"][0]
    process = await wait_for(lambda: [s for s in spans.get_finished_spans()
                                      if s.kind is SpanKind.CONSUMER],
                             check=lambda found: len(found) == 1)
    attributes = dict(process[0].attributes or {})
    assert attributes["messaging.system"] == "nats"
    assert attributes["messaging.operation.type"] == "process"
    assert attributes["messaging.destination.name"] == "itsm.ingest.event.accepted"
    assert attributes["messaging.consumer.group.name"] == "incidents"
    assert attributes["messaging.message.id"] == event_id
    assert attributes["messaging.message.conversation_id"] == event_id
    assert process[0].name == "process itsm.ingest.event.accepted"


async def test_a_command_continues_the_callers_trace(nc, start_service, spans):
    await start_service(build_incidents, IncidentSettings)
    await publish_all(nc, [accepted("fp-command")])
    (opened,) = await wait_for(lambda: stream_messages(nc, "INCIDENTS", IncidentOpened.SUBJECT))

    with tracing.span("operator acknowledges") as caller:
        view = await request(nc, AcknowledgeIncident(incident_id=opened.subject, actor="alice"),
                             IncidentView)
    assert view.state == "acknowledged"
    trace_id = caller.get_span_context().trace_id

    # FastStream's telemetry middleware traced the command under the caller's span ...
    handled = [s for s in spans.get_finished_spans()
               if s.kind is SpanKind.CONSUMER and s.context.trace_id == trace_id]
    assert [(s.name, s.attributes["messaging.system"]) for s in handled] == [
        (f"{AcknowledgeIncident.SUBJECT} process", "nats")]
    # ... and the event it caused carries the trace on.
    msg = await nc.jetstream().get_last_msg("INCIDENTS", IncidentAcknowledged.SUBJECT)
    assert tracing.parse_traceparent(msg.headers["traceparent"]).trace_id == trace_id
