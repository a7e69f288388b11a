"""OpenTelemetry tracing for the kit: W3C ``traceparent`` on every hop.

Export is configured only by the standard ``OTEL_*`` variables: with neither
``OTEL_EXPORTER_OTLP_ENDPOINT`` nor ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` set (or with
``OTEL_SDK_DISABLED=true`` / ``OTEL_TRACES_EXPORTER=none``) no SDK is installed, the
global tracer provider stays OpenTelemetry's no-op proxy, and the kit creates no spans:
it only forwards an incoming ``traceparent`` so a trace stays whole across a service
that does not record.

Services and libraries use ``span(name, attributes=...)`` for domain spans (a
correlation decision, an SLA evaluation, an LLM call); it is a no-op when tracing is off.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import (
    INVALID_SPAN,
    NonRecordingSpan,
    ProxyTracerProvider,
    Span,
    SpanContext,
    SpanKind,
    TraceFlags,
)

from reasonops_contracts import Envelope

if TYPE_CHECKING:
    from nats.aio.msg import Msg

    from .delivery import Delivery

log = logging.getLogger(__name__)

TRACEPARENT = "traceparent"
INSTRUMENTATION = "reasonops_runtime"

# Messaging semantic-convention attribute names (stable names of the 1.2x conventions).
MESSAGING_SYSTEM = "messaging.system"
MESSAGING_OPERATION_TYPE = "messaging.operation.type"
MESSAGING_OPERATION_NAME = "messaging.operation.name"
MESSAGING_DESTINATION = "messaging.destination.name"
MESSAGING_MESSAGE_ID = "messaging.message.id"
MESSAGING_CONVERSATION_ID = "messaging.message.conversation_id"
MESSAGING_CONSUMER_GROUP = "messaging.consumer.group.name"
MESSAGING_BODY_SIZE = "messaging.message.body.size"
SERVICE_ATTRIBUTE = "reasonops.service"


def enabled() -> bool:
    """True once a real tracer provider is installed (by ``configure_from_env`` or a test)."""
    return not isinstance(trace.get_tracer_provider(),
                          ProxyTracerProvider | trace.NoOpTracerProvider)


def tracer() -> trace.Tracer:
    return trace.get_tracer(INSTRUMENTATION)


def export_requested(env: Mapping[str, str] | None = None) -> bool:
    """Whether the standard ``OTEL_*`` variables ask for trace export."""
    env = os.environ if env is None else env
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if env.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() in ("none", ""):
        return False
    return bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
                or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def configure_from_env(service: str) -> bool:
    """Install the SDK with an OTLP/HTTP exporter when ``export_requested()``; else nothing.

    The exporter, batch processor, sampler and resource read their own ``OTEL_*``
    variables; ``service.name`` defaults to ``reasonops-<service>`` unless
    ``OTEL_SERVICE_NAME`` (or ``OTEL_RESOURCE_ATTRIBUTES``) names it.
    """
    if not export_requested() or enabled():
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    protocol = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
                              os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"))
    if protocol != "http/protobuf":
        log.warning("only OTLP over HTTP (http/protobuf) is built in; using it",
                    extra={"requested": protocol})
    resource = Resource.create({"service.namespace": "reasonops"})
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: f"reasonops-{service}"}))
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    log.info("tracing on: OTLP export", extra={"service_name": resource.attributes.get(
        SERVICE_NAME)})
    return True


def shutdown() -> None:
    """Flush and stop the SDK provider, if one is installed."""
    provider = trace.get_tracer_provider()
    stop = getattr(provider, "shutdown", None)
    if callable(stop):
        stop()


# -- traceparent <-> span context ---------------------------------------------------------

def format_traceparent(ctx: SpanContext) -> str | None:
    if not ctx.is_valid:
        return None
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"


def parse_traceparent(value: str | None) -> SpanContext | None:
    """A remote span context from a W3C ``traceparent``; None if absent or malformed."""
    if not value:
        return None
    parts = value.strip().split("-")
    if len(parts) < 4 or len(parts[1]) != 32 or len(parts[2]) != 16 or parts[0] == "ff":
        return None
    try:
        trace_id, span_id, flags = int(parts[1], 16), int(parts[2], 16), int(parts[3][:2], 16)
    except ValueError:
        return None
    ctx = SpanContext(trace_id, span_id, is_remote=True, trace_flags=TraceFlags(flags))
    return ctx if ctx.is_valid else None


def parent_context(traceparent: str | None) -> otel_context.Context | None:
    """An OTel context whose parent is ``traceparent`` (None: start a new trace)."""
    ctx = parse_traceparent(traceparent)
    if ctx is None:
        return otel_context.Context()
    return trace.set_span_in_context(NonRecordingSpan(ctx), otel_context.Context())


def current_traceparent() -> str | None:
    """The ``traceparent`` of the active span, if there is a valid one."""
    return format_traceparent(trace.get_current_span().get_span_context())


def inject(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` plus the active span's ``traceparent`` (unchanged when there is none)."""
    value = current_traceparent()
    if value is not None:
        headers[TRACEPARENT] = value
    return headers


@contextmanager
def span(name: str, *, parent: str | None = None, kind: SpanKind = SpanKind.INTERNAL,
         attributes: Mapping[str, Any] | None = None) -> Iterator[Span]:
    """A span made current for the block: child of ``parent`` (a ``traceparent``) if given,
    else of the active span. Yields a non-recording span when tracing is off."""
    if not enabled():
        yield INVALID_SPAN
        return
    ctx = parent_context(parent) if parent is not None else None
    with tracer().start_as_current_span(name, context=ctx, kind=kind,
                                        attributes=dict(attributes or {})) as current:
        yield current


def start_span(name: str, *, parent: str | None, kind: SpanKind,
               attributes: Mapping[str, Any]) -> Span:
    """A span that is not made current (the caller ends it); tracing must be on."""
    return tracer().start_span(name, context=parent_context(parent), kind=kind,
                               attributes=dict(attributes))


@contextmanager
def use(traceparent: str | None) -> Iterator[None]:
    """Make ``traceparent`` the active span context for the block (no-op when tracing is off
    or there is none), so spans and events made inside continue that trace."""
    if traceparent is None or not enabled():
        yield
        return
    token = otel_context.attach(parent_context(traceparent) or otel_context.Context())
    try:
        yield
    finally:
        otel_context.detach(token)


def process_spans(decoded: list[tuple[Msg, Delivery, Any]], service: str,
              consumer: str) -> dict[str, Span]:
    """A CONSUMER span per message, child of the ``traceparent`` it arrived with."""
    spans: dict[str, Span] = {}
    for _, delivery, item in decoded:
        attributes: dict[str, Any] = {
            MESSAGING_SYSTEM: "nats",
            MESSAGING_OPERATION_TYPE: "process",
            MESSAGING_OPERATION_NAME: "process",
            MESSAGING_DESTINATION: delivery.subject,
            MESSAGING_MESSAGE_ID: delivery.key,
            MESSAGING_CONSUMER_GROUP: consumer,
            MESSAGING_BODY_SIZE: len(delivery.data),
            SERVICE_ATTRIBUTE: service,
        }
        envelope = item[0] if isinstance(item, tuple) and item else item
        if isinstance(envelope, Envelope):
            attributes[MESSAGING_CONVERSATION_ID] = envelope.correlation_id
        spans[delivery.key] = start_span(
            f"process {delivery.subject}", parent=delivery.headers.get(TRACEPARENT),
            kind=SpanKind.CONSUMER, attributes=attributes)
    return spans


def trace_parents(decoded: list[tuple[Msg, Delivery, Any]], spans: dict[str, Span]
                   ) -> dict[str, str]:
    """Inbox key -> the traceparent its effects continue: this message's span when
    tracing is on, else the traceparent it arrived with (forwarded untouched)."""
    if spans:
        return {key: value for key, span in spans.items()
                if (value := format_traceparent(span.get_span_context()))}
    return {d.key: value for _, d, _ in decoded
            if (value := d.headers.get(TRACEPARENT))}
