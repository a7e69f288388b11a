"""``reasonops publish``: send monitoring events straight onto the broker."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from nats.aio.client import Client
from pydantic import ValidationError

from reasonops_contracts import new_id, subjects
from reasonops_contracts.ingest import NativeEvent

from .connection import CliError, with_nats
from .output import emit_json


class Format(StrEnum):
    alertmanager = "alertmanager"
    event = "event"


SUBJECTS = {Format.alertmanager: subjects.INGEST_RAW_ALERTMANAGER,
            Format.event: subjects.INGEST_RAW_EVENT}


def _from_flags(name: str, severity: str, service: str | None, resource: str | None,
                summary: str | None, labels: list[str], resolved: bool) -> bytes:
    parsed: dict[str, str] = {}
    for item in labels:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CliError(f"--label expects key=value, got {item!r}")
        parsed[key] = value
    try:
        event = NativeEvent(name=name, severity=severity,  # type: ignore[arg-type]
                            status="resolved" if resolved else "firing", service=service,
                            resource=resource, summary=summary, labels=parsed,
                            starts_at=datetime.now(UTC), source="reasonops-cli")
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise CliError(f"invalid event: {problems}") from None
    return event.model_dump_json(exclude_none=True).encode()


def _from_file(path: Path, fmt: Format) -> bytes:
    try:
        body: Any = json.loads(path.read_text())
    except FileNotFoundError:
        raise CliError(f"no such file: {path}") from None
    except json.JSONDecodeError as exc:
        raise CliError(f"{path} is not JSON: {exc}") from None
    if fmt is Format.alertmanager and not (isinstance(body, dict)
                                           and isinstance(body.get("alerts"), list)):
        raise CliError(f"{path} is not an Alertmanager webhook body (no 'alerts' list)")
    return json.dumps(body).encode()


def publish(
    file: Annotated[Path | None, typer.Argument(help="JSON file to publish.")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Format of FILE.")] = Format.event,
    name: Annotated[str | None, typer.Option(help="Without FILE: the alert name.")] = None,
    severity: Annotated[str, typer.Option(help="critical, error, warning or info.")] = "warning",
    service: Annotated[str | None, typer.Option(help="Affected service.")] = None,
    resource: Annotated[str | None, typer.Option(help="Affected host, pod, ...")] = None,
    summary: Annotated[str | None, typer.Option(help="One line for people.")] = None,
    label: Annotated[list[str] | None, typer.Option(help="key=value; repeatable.")] = None,
    resolved: Annotated[bool, typer.Option("--resolved", help="Send a resolve.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Publish an event (from a JSON file, or from flags) onto ReasonOps' ingest subject."""
    if file is not None:
        payload, fmt_used = _from_file(file, fmt), fmt
    elif name:
        payload = _from_flags(name, severity, service, resource, summary, label or [], resolved)
        fmt_used = Format.event
    else:
        raise CliError("give a FILE or --name")
    subject = SUBJECTS[fmt_used]
    message_id = new_id()

    async def go(nc: Client) -> int:
        ack = await nc.jetstream().publish(subject, payload, headers={"Nats-Msg-Id": message_id})
        return int(ack.seq)

    seq = with_nats(go)
    if json_out:
        emit_json({"subject": subject, "stream_sequence": seq, "message_id": message_id})
    else:
        typer.echo(f"Published to {subject} (stream sequence {seq}).")
