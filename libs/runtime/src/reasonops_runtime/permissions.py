"""What each service may do on the broker, derived from the contracts. Pure.

A service may publish the events it owns (``reasonops_contracts.ownership``), its own
refusals and dead letters, and the commands and queries it is a requester of; answer
only its own commands and queries, in its own queue group; fetch from and ack only its
own durables; and receive only on its private inbox prefix. Declaring streams,
deleting or purging anything is the admin identity's alone. An operator (a person's
CLI) may send commands and queries and read streams, nothing more.
"""

from __future__ import annotations

from typing import Any

from reasonops_contracts import subjects
from reasonops_contracts.agents import AGENT_CONFIG_BUCKET
from reasonops_contracts.ownership import (
    AGENTS,
    CONFIG_WRITERS,
    DURABLES,
    RAW_SENDERS,
    READERS,
    REQUESTERS,
    SERVICES,
    owners,
)
from reasonops_contracts.policy import AccessDenied
from reasonops_contracts.registry import COMMANDS, EVENTS, QUERIES
from reasonops_contracts.streams import ALL_STREAMS, DEADLETTER

JS_API = "$JS.API"
ADMIN: dict[str, Any] = {"publish": {"allow": [">"]}, "subscribe": {"allow": [">"]}}
"""The operator ``make up`` creates, and the identity that declares the streams."""


def inbox_prefix(identity: str) -> str:
    """A connection's private reply subjects: ``_INBOX_<identity>.<unique>``."""
    return f"_INBOX_{identity}"


def publishes(service: str) -> list[str]:
    """Subjects ``service`` may publish to (event subjects, requests, JetStream API)."""
    allowed = {m.SUBJECT for m in EVENTS.values()
               if service in owners(m.SUBJECT) and not m.SUBJECT.endswith(".>")}
    allowed |= {AccessDenied.SUBJECT, subjects.dead_letter(service)}
    allowed |= RAW_SENDERS.get(service, frozenset())
    wanted = REQUESTERS.get(service, frozenset())
    allowed |= {s for s in (*COMMANDS, *QUERIES)
                if "*" in wanted or (s in wanted and service not in owners(s))}
    allowed |= {f"{JS_API}.INFO", f"{JS_API}.STREAM.INFO.*"}
    for stream, durable in DURABLES.get(service, ()):
        allowed |= {f"{JS_API}.CONSUMER.CREATE.{stream}.{durable}",
                    f"{JS_API}.CONSUMER.CREATE.{stream}.{durable}.>",
                    f"{JS_API}.CONSUMER.DURABLE.CREATE.{stream}.{durable}",
                    f"{JS_API}.CONSUMER.INFO.{stream}.{durable}",
                    f"{JS_API}.CONSUMER.MSG.NEXT.{stream}.{durable}",
                    f"$JS.ACK.{stream}.{durable}.>"}
    if service in READERS:
        allowed |= set(stream_reads())
    elif DURABLES.get(service):
        allowed |= set(dead_letter_reads())
    if service in AGENTS or service in CONFIG_WRITERS:
        allowed |= set(config_reads())
    if service in CONFIG_WRITERS:
        allowed.add(f"$KV.{AGENT_CONFIG_BUCKET}.>")
    return sorted(allowed)


def config_reads() -> list[str]:
    """Watching and reading the agents' configuration bucket (an ordered consumer on its
    stream, direct gets)."""
    stream = f"KV_{AGENT_CONFIG_BUCKET}"
    return [f"{JS_API}.CONSUMER.CREATE.{stream}", f"{JS_API}.CONSUMER.CREATE.{stream}.>",
            f"{JS_API}.CONSUMER.DELETE.{stream}.*", f"{JS_API}.CONSUMER.INFO.{stream}.*",
            f"{JS_API}.DIRECT.GET.{stream}", f"{JS_API}.DIRECT.GET.{stream}.>",
            f"{JS_API}.STREAM.MSG.GET.{stream}", "$JS.FC.>"]


def stream_reads() -> list[str]:
    """Reading every stream as a client: ephemeral consumers (created, fetched from,
    deleted; an ordered consumer re-creates its own) and direct gets; no durable."""
    reads = {f"{JS_API}.STREAM.MSG.GET.*", f"{JS_API}.DIRECT.GET.*", "$JS.FC.>"}
    for spec in ALL_STREAMS:
        reads |= {f"{JS_API}.CONSUMER.CREATE.{spec.name}",
                  f"{JS_API}.CONSUMER.CREATE.{spec.name}.>",
                  f"{JS_API}.CONSUMER.MSG.NEXT.{spec.name}.*",
                  f"{JS_API}.CONSUMER.INFO.{spec.name}.*",
                  f"{JS_API}.CONSUMER.DELETE.{spec.name}.*"}
    return sorted(reads)


def dead_letter_reads() -> list[str]:
    """Reading the DEADLETTER stream (a service replays its own dead letters): the
    record by its sequence, and one pass for what was done with it."""
    stream = DEADLETTER.name
    return [f"{JS_API}.STREAM.MSG.GET.{stream}", f"{JS_API}.DIRECT.GET.{stream}",
            f"{JS_API}.CONSUMER.CREATE.{stream}", f"{JS_API}.CONSUMER.CREATE.{stream}.>",
            f"{JS_API}.CONSUMER.MSG.NEXT.{stream}.*", f"{JS_API}.CONSUMER.DELETE.{stream}.*",
            f"{JS_API}.CONSUMER.INFO.{stream}.*"]


def subscribes(service: str) -> list[str]:
    """What ``service`` may subscribe to: its inbox, and its own requests in its own queue
    group (the agents' status query is scatter-gather: every agent answers; a command to
    one service of many, only that service's subject)."""
    answers = sorted(subjects.of_service(s, service) if s in subjects.PER_SERVICE_COMMANDS
                     else s for s in (*COMMANDS, *QUERIES) if service in owners(s))
    return [f"{inbox_prefix(service)}.>",
            *(s if s == subjects.AGENT_QUERY_STATUS else f"{s} {service}" for s in answers)]


def service_permissions(service: str) -> dict[str, Any]:
    """The nats-server ``permissions`` block of ``service``'s identity."""
    if service not in SERVICES:
        raise KeyError(f"unknown service {service!r}")
    return {"publish": {"allow": publishes(service)},
            "subscribe": {"allow": subscribes(service)},
            "allow_responses": True}


def operator_permissions(identity: str) -> dict[str, Any]:
    """A person's CLI below the admin: send any command or query (each service still
    checks the signed principal against the role policy), read streams' messages (the
    audit trail), receive on its own inbox; nothing that publishes an event or manages
    JetStream."""
    reads = [f"{JS_API}.INFO", f"{JS_API}.STREAM.INFO.*", f"{JS_API}.STREAM.MSG.GET.*",
             f"{JS_API}.DIRECT.GET.*"]
    return {"publish": {"allow": sorted({*COMMANDS, *QUERIES, *reads})},
            "subscribe": {"allow": [f"{inbox_prefix(identity)}.>"]}}
