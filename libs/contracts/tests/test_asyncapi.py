"""The AsyncAPI document names every subject with its owner and payload, and every
reference in it resolves."""

from __future__ import annotations

import json
from typing import Any

from reasonops_contracts.asyncapi import document
from reasonops_contracts.registry import COMMANDS, EVENTS, QUERIES


def _refs(node: Any):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def test_every_subject_is_a_channel_with_its_operation():
    doc = document()
    addresses = {c["address"] for c in doc["channels"].values()}
    assert {m.SUBJECT for m in EVENTS.values()} <= addresses
    assert set(COMMANDS) | set(QUERIES) <= addresses
    opened = doc["operations"]["publishIncidentOpened"]
    assert (opened["action"], opened["summary"]) == ("send", "Published by incidents")
    ack = doc["operations"]["answerAcknowledgeIncident"]
    assert (ack["action"], ack["summary"]) == ("receive", "Answered by incidents")
    assert ack["reply"]["channel"] == {"$ref": "#/channels/reply"}


def test_an_events_payload_is_its_envelope_with_the_event_as_data():
    doc = document()
    payload = doc["components"]["messages"]["IncidentOpened"]["payload"]
    envelope, specific = payload["allOf"]
    assert _resolve(doc, envelope["$ref"])["title"] == "Envelope"
    assert specific["properties"]["type"] == {"const": "itsm.incident.opened.v1"}
    data = _resolve(doc, specific["properties"]["data"]["$ref"])
    assert {"incident_id", "priority", "opened_at"} <= set(data["properties"])


def test_every_reference_resolves_and_the_document_is_plain_data():
    doc = document("1.2.3")
    json.dumps(doc)  # nothing but JSON types
    refs = set(_refs(doc))
    assert len(refs) > 100
    for ref in refs:
        _resolve(doc, ref)
    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"]["version"] == "1.2.3"
