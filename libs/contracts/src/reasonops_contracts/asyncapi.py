"""The AsyncAPI 3.0 document of every subject, written from the contracts.

Events are sent by the services that own their subject and stored in their domain's
stream; each travels in an ``Envelope`` whose ``data`` is the event. Commands and queries
are received by the service that owns them (core request-reply, never stored) and
answered with a ``Reply``; each must carry a signed claim (ADR 0030). The JSON Schemas
are the models' own, so the document cannot disagree with what the services validate.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .envelope import Envelope
from .messages import Command, Query
from .ownership import owners
from .registry import COMMANDS, EVENTS, QUERIES
from .replies import Reply
from .streams import stream_for

REF = "#/components/schemas/{model}"
DESCRIPTION = (
    "Every subject on the ReasonOps broker. Events are published by the service that owns "
    "their subject, stored in their domain's stream and, for a year, in AUDIT; each "
    "travels in an Envelope (CloudEvents attributes, correlation_id, causation_id) whose "
    "data is the event, and its Nats-Msg-Id header is the envelope's id. Commands and "
    "queries are core request-reply, never stored, answered by the service that owns "
    "them with a Reply; each carries a signed claim in its headers, and the answering "
    "service replaces its actor with the principal the claim proves.")
CLAIM_HEADERS = ("Reasonops-Signer", "Reasonops-Principal", "Reasonops-Signed-At",
                 "Reasonops-Signature")


def _doc(model: type[BaseModel]) -> str:
    return " ".join((model.__doc__ or model.__name__).split())


def _channel(name: str) -> dict[str, str]:
    return {"$ref": f"#/channels/{name}"}


def document(version: str = "0") -> dict[str, Any]:
    """The AsyncAPI document as a mapping (dump it as YAML or JSON)."""
    requests: list[type[Command] | type[Query]] = [*COMMANDS.values(), *QUERIES.values()]
    models: list[type[BaseModel]] = [Envelope, Reply, *EVENTS.values(), *requests]
    _, top = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    claim = {"type": "object", "properties": {h: {"type": "string"} for h in CLAIM_HEADERS},
             "required": list(CLAIM_HEADERS)}
    for model in sorted(EVENTS.values(), key=lambda m: m.SUBJECT):
        name = model.__name__
        payload = {"allOf": [{"$ref": REF.format(model="Envelope")}, {
            "type": "object", "properties": {
                "type": {"const": model.TYPE}, "data": {"$ref": REF.format(model=name)}}}]}
        messages[name] = {"name": name, "title": model.TYPE, "summary": _doc(model),
                          "contentType": "application/json", "payload": payload}
        channels[name] = {"address": model.SUBJECT,
                          "description": f"Stored in the {stream_for(model.SUBJECT).name} "
                                         "stream",
                          "messages": {name: {"$ref": f"#/components/messages/{name}"}}}
        by = sorted(owners(model.SUBJECT))
        operations[f"publish{name}"] = {
            "action": "send", "channel": _channel(name),
            "summary": f"Published by {', '.join(by) or 'no service'}",
            "messages": [{"$ref": f"#/channels/{name}/messages/{name}"}]}
    messages["Reply"] = {"name": "Reply", "summary": _doc(Reply),
                         "contentType": "application/json",
                         "payload": {"$ref": REF.format(model="Reply")}}
    channels["reply"] = {"address": None,
                         "description": "The requester's inbox (_INBOX_<identity>.<unique>)",
                         "messages": {"Reply": {"$ref": "#/components/messages/Reply"}}}
    for request in sorted(requests, key=lambda m: m.SUBJECT):
        name = request.__name__
        kind = "command" if issubclass(request, Command) else "query"
        messages[name] = {"name": name, "title": request.SUBJECT, "summary": _doc(request),
                          "contentType": "application/json", "headers": claim,
                          "payload": {"$ref": REF.format(model=name)}}
        channels[name] = {"address": request.SUBJECT,
                          "description": f"A {kind}: request-reply, never stored",
                          "messages": {name: {"$ref": f"#/components/messages/{name}"}}}
        by = sorted(owners(request.SUBJECT))
        operations[f"answer{name}"] = {
            "action": "receive", "channel": _channel(name),
            "summary": f"Answered by {', '.join(by) or 'no service'}",
            "messages": [{"$ref": f"#/channels/{name}/messages/{name}"}],
            "reply": {"channel": _channel("reply"),
                      "messages": [{"$ref": "#/channels/reply/messages/Reply"}]}}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "ReasonOps", "version": version, "description": DESCRIPTION},
        "defaultContentType": "application/json",
        "servers": {"local": {"host": "localhost:4222", "protocol": "nats",
                              "description": "the broker `reasonops up` starts"}},
        "channels": channels, "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }
