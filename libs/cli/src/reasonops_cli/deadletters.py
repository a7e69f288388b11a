"""``reasonops deadletters list|show|replay|discard``: messages the consumers gave up on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from nats.aio.client import Client

from reasonops_client.deadletters import discard, replay
from reasonops_contracts import ReplyError
from reasonops_runtime.dead_letters import (
    STATUSES,
    DeadLetter,
    DeadLetterError,
    dead_letter,
    dead_letters,
)

from .connection import CliError, who_am_i, with_nats
from .output import emit_json, table, when

app = typer.Typer(help="Dead letters: messages a consumer gave up on, kept whole with the "
                       "error; replay one once its cause is fixed, or discard it.",
                  no_args_is_help=True)
Sequence_ = Annotated[int, typer.Argument(help="The dead letter's number (SEQ in the list).",
                                          min=1)]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
T = TypeVar("T")


@app.command("list")
def list_(
    service: Annotated[str | None, typer.Option(help="Only this service's.")] = None,
    status: Annotated[str, typer.Option(
        help=f"{', '.join(STATUSES)} or all.")] = "parked",
    json: Json = False,
) -> None:
    """Dead letters (by default those still parked), oldest first."""
    if status not in (*STATUSES, "all"):
        raise CliError(f"--status: {status!r} is not one of {', '.join(STATUSES)}, all")
    letters = with_nats(lambda nc: dead_letters(nc, service=service,
                                                status=status))  # type: ignore[arg-type]
    if json:
        emit_json({"items": [d.view().model_dump(mode="json") for d in letters],
                   "total": len(letters)})
        return
    typer.echo(table(["SEQ", "STATUS", "SERVICE", "CONSUMER", "SUBJECT", "WHEN", "ERROR"],
                     [[d.sequence, d.status, d.record.service, d.record.consumer or "-",
                       d.record.original_subject, when(d.record.dead_lettered_at),
                       d.record.error.splitlines()[0][:80] if d.record.error else ""]
                      for d in letters]))


@app.command()
def show(sequence: Sequence_, json: Json = False) -> None:
    """One dead letter whole: the error, the headers and the message."""
    letter = _run(lambda nc: dead_letter(nc, sequence))
    if json:
        emit_json(letter.view(whole=True))
        return
    typer.echo(_describe(letter))


@app.command("replay")
def replay_(
    sequences: Annotated[list[int], typer.Argument(help="Dead letters to replay.", min=1)],
    json: Json = False,
) -> None:
    """Have dead letters handled again by the consumers that parked them (after fixing
    what failed them); a letter replayed before is a duplicate and changes nothing."""
    actor = who_am_i()

    async def go(nc: Client) -> list[dict[str, object]]:
        return [(await replay(nc, seq, actor=actor)).model_dump(mode="json")
                for seq in sequences]

    done = _run(go)
    if json:
        emit_json(done)
        return
    for item in done:
        typer.echo(f"replayed dead letter {item['sequence']}: " + (
            "handled" if item["outcome"] == "handled"
            else "a duplicate (replayed before), nothing changed"))


@app.command("discard")
def discard_(
    sequence: Sequence_,
    reason: Annotated[str, typer.Option(help="Why it is not to be handled (required).")],
    json: Json = False,
) -> None:
    """Record that a dead letter is not to be handled, and why (it stays readable)."""
    if not reason.strip():
        raise CliError("--reason: say why the message is not to be handled")
    done = _run(lambda nc: discard(nc, sequence, actor=who_am_i(), reason=reason.strip()))
    if json:
        emit_json(done)
        return
    typer.echo(f"discarded dead letter {sequence}: {done.reason}")


def _run(fn: Callable[[Client], Awaitable[T]]) -> T:
    """``with_nats``, with a dead letter's problems and the services' refusals as errors."""
    try:
        return with_nats(fn)
    except DeadLetterError as exc:
        raise CliError(str(exc)) from None
    except ReplyError as exc:
        raise CliError(f"{exc.detail.code}: {exc.detail.message}") from None


def _describe(letter: DeadLetter) -> str:
    r = letter.record
    lines = [f"Dead letter {letter.sequence}: {letter.status}",
             f"  service     {r.service} (consumer {r.consumer or '-'})",
             f"  subject     {r.original_subject} (stream sequence {r.stream_sequence or '-'})",
             f"  parked      {when(r.dead_lettered_at)} after {r.deliveries} failures",
             f"  error       {r.error}"]
    lines += [f"  replayed    {when(x.replayed_at)} by {x.actor}: "
              f"{x.outcome or 'republished as ' + str(x.republished_as)}"
              for x in letter.replays]
    if letter.discarded:
        lines.append(f"  discarded   {when(letter.discarded.discarded_at)} by "
                     f"{letter.discarded.actor}: {letter.discarded.reason}")
    lines += ["  headers"] + [f"    {k}: {v}" for k, v in sorted(r.headers.items())]
    body = r.payload if r.payload_base64 is None else f"(base64) {r.payload_base64}"
    lines += ["  message" + (" (cut to fit the broker)" if r.truncated else ""), body]
    return "\n".join(lines)
