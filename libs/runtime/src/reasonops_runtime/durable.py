"""A durable pull consumer's configuration: as this code wants it, and brought in line
with it on start (a handler added for a new event type receives it; ``ack_wait`` and
``max_deliver`` changes apply), saying what changed."""

from __future__ import annotations

import logging

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from .jetstream import patiently, unanswered

log = logging.getLogger(__name__)


def durable_config(name: str, subjects: list[str], *, ack_wait: float,
                   batch_size: int) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=name,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=ack_wait,
        # No bound at the server: the kit dead-letters a message after max_deliver failures
        # it caused, and retries one the environment failed (a database down for minutes)
        # for as long as that lasts (see ``faults``).
        max_deliver=-1,
        max_ack_pending=max(1000, batch_size * 4),
        filter_subjects=subjects if len(subjects) > 1 else None,
        filter_subject=subjects[0] if len(subjects) == 1 else None,
    )


async def ensure_durable(js: JetStreamContext, stream: str, config: ConsumerConfig, *,
                         patience: float = 0.0) -> None:
    """Create the durable, or update it where it differs from ``config``; asked again
    for up to ``patience`` seconds while JetStream does not answer."""
    await patiently(f"consumer {stream}/{config.durable_name}",
                    lambda: _ensure(js, stream, config), patience=patience, again=not_yet)


STREAM_NOT_FOUND = 10059
"""JetStream's error code for a stream it does not know."""


def not_yet(error: BaseException) -> bool:
    """Whether creating a durable is worth asking again: JetStream did not answer, or
    said the stream is not there. A starting service declared its streams a moment
    before, so the server answering does not know them yet: a cluster member catching up
    on the streams' assignments, or one that became leader without them after its peers
    stopped."""
    return unanswered(error) or (isinstance(error, NotFoundError)
                                 and error.err_code == STREAM_NOT_FOUND)


async def _ensure(js: JetStreamContext, stream: str, config: ConsumerConfig) -> None:
    try:
        current = (await js.consumer_info(stream, str(config.durable_name))).config
    except NotFoundError:
        await js.add_consumer(stream, config)
        return
    changed = reconciled(current, config)
    if changed:
        await js.add_consumer(stream, config)  # the same name: an update
        log.info("consumer configuration changed", extra={
            "consumer": config.durable_name, "stream": stream, "changes": "; ".join(changed)})


def reconciled(current: ConsumerConfig, wanted: ConsumerConfig) -> list[str]:
    """What an existing durable's configuration lacks of ``wanted``, as "field: was ->
    now" lines (empty when they agree)."""
    def subjects_of(config: ConsumerConfig) -> list[str]:
        return sorted(config.filter_subjects or ([config.filter_subject]
                                                 if config.filter_subject else []))

    found = []
    if subjects_of(current) != subjects_of(wanted):
        found.append(f"subjects: {', '.join(subjects_of(current)) or 'all'} -> "
                     f"{', '.join(subjects_of(wanted))}")
    for name in ("ack_wait", "max_deliver", "max_ack_pending"):
        was, now = getattr(current, name), getattr(wanted, name)
        if now is not None and (was is None or float(was) != float(now)):
            found.append(f"{name}: {was} -> {now}")
    return found
