import pytest
from opentelemetry import trace

from reasonops_runtime import tracing

VALID = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.mark.parametrize(("env", "wanted"), [
    ({}, False),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, False),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
])
def test_export_is_asked_for_only_by_the_standard_variables(env, wanted):
    assert tracing.export_requested(env) is wanted


def test_without_otel_variables_no_sdk_is_installed(monkeypatch):
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    assert tracing.configure_from_env("ingest") is False
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    assert not tracing.enabled()
    with tracing.span("anything") as span:
        assert not span.is_recording()
    assert tracing.inject({"a": "b"}) == {"a": "b"}


def test_traceparent_round_trips():
    ctx = tracing.parse_traceparent(VALID)
    assert ctx is not None
    assert ctx.is_remote
    assert tracing.format_traceparent(ctx) == VALID


@pytest.mark.parametrize("bad", [None, "", "garbage", "00-abc-def-01",
                                 "00-00000000000000000000000000000000-b7ad6b7169203331-01",
                                 "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                                 "00-0af7651916cd43dd8448eb211c80319z-b7ad6b7169203331-01"])
def test_a_missing_or_malformed_traceparent_starts_a_new_trace(bad):
    assert tracing.parse_traceparent(bad) is None


def test_json_logs_carry_the_trace_id_when_tracing_is_on(span_exporter):
    import json
    import logging

    from reasonops_runtime.logs import JsonFormatter

    record = logging.makeLogRecord({"msg": "hello", "levelname": "INFO"})
    assert "trace_id" not in json.loads(JsonFormatter("t").format(record))
    with tracing.span("work") as span:
        line = json.loads(JsonFormatter("t").format(record))
    assert line["trace_id"] == f"{span.get_span_context().trace_id:032x}"
    assert [s.name for s in span_exporter.get_finished_spans()] == ["work"]


def test_without_otel_variables_the_sdk_is_not_even_imported():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    code = ("import sys\n"
            "from reasonops_runtime import service, tracing\n"
            "assert tracing.configure_from_env('incidents') is False\n"
            "loaded = [m for m in sys.modules if m.startswith('opentelemetry.sdk')]\n"
            "assert not loaded, loaded\n")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
