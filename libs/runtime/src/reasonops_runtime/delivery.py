"""One message as a durable consumer takes it from a stream, before it is known to be
an envelope, with the key its inbox row is kept under."""

from __future__ import annotations

from dataclasses import dataclass

from nats.aio.msg import Msg

from reasonops_contracts import MSG_ID_HEADER


@dataclass(frozen=True)
class Delivery:
    """One message taken from a stream, before it is known to be an envelope."""

    subject: str
    data: bytes
    key: str
    """Inbox key: the ``Nats-Msg-Id`` header, else ``<stream>:<sequence>``."""
    headers: dict[str, str]


def delivery_of(msg: Msg) -> Delivery:
    """A fetched message as the consumer hands it on (its inbox key: the ``Nats-Msg-Id``
    header, else its stream position)."""
    headers = dict(msg.headers or {})
    key = headers.get(MSG_ID_HEADER) or _stream_position(msg)
    return Delivery(subject=msg.subject, data=msg.data, key=key, headers=headers)


def _stream_position(msg: Msg) -> str:
    """``STREAM:sequence`` from the ack subject, which JetStream formats as
    ``$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>...`` (9 tokens) or, with a
    domain and account hash, ``$JS.ACK.<domain>.<hash>.<stream>...`` (12 or more).
    Splitting it here costs a fraction of nats-py's full ``metadata`` parse."""
    tokens = (msg.reply or "").split(".")
    if len(tokens) == 9:
        return f"{tokens[2]}:{tokens[5]}"
    if len(tokens) >= 12:
        return f"{tokens[4]}:{tokens[7]}"
    meta = msg.metadata
    return f"{meta.stream}:{meta.sequence.stream}"
