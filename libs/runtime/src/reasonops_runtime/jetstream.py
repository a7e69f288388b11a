"""Declares the contracts' streams on the server (idempotent, at every start), asking
again while a cluster cannot answer yet."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

import nats.errors
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, RetentionPolicy, StorageType, StreamConfig, StreamSource
from nats.js.errors import (
    BadRequestError,
    BucketNotFoundError,
    NotFoundError,
    ServiceUnavailableError,
)

from reasonops_contracts.agents import AGENT_CONFIG_BUCKET
from reasonops_contracts.streams import ALL_STREAMS, AUDIT, DAY, StreamSpec

log = logging.getLogger(__name__)

T = TypeVar("T")

START_PATIENCE_SECONDS = 120.0
"""How long a starting service keeps asking JetStream for what it needs (its streams,
its durables) while the API goes unanswered: a cluster electing leaders after a node
stopped, or without a quorum until a node rejoins. Then it gives up (``cannot start``)."""


def unanswered(error: BaseException) -> bool:
    """Whether a JetStream API call failed for want of an answer, not for what it asked:
    a timeout, no responders, or ``503`` (no leader, JetStream unavailable)."""
    return isinstance(error, TimeoutError | nats.errors.TimeoutError
                      | nats.errors.NoRespondersError | ServiceUnavailableError)


async def patiently(what: str, call: Callable[[], Awaitable[T]], *,
                    patience: float = START_PATIENCE_SECONDS,
                    again: Callable[[BaseException], bool] = unanswered) -> T:
    """``call()``, asked again a little later each time it goes unanswered (or fails as
    ``again`` says is worth asking again), for up to ``patience`` seconds; any other error
    is raised at once."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    tries = 0
    while True:
        try:
            return await call()
        except Exception as exc:
            if not again(exc) or loop.time() >= deadline:
                raise
            tries += 1
            log.warning("JetStream did not answer; asking again", extra={
                "what": what, "error": repr(exc), "tries": tries})
            await asyncio.sleep(min(0.25 * tries, 2.0))


def stream_config(spec: StreamSpec, replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=spec.name,
        subjects=list(spec.subjects) or None,
        description=spec.description,
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=float(spec.max_age_seconds),
        duplicate_window=float(spec.duplicate_window_seconds),
        num_replicas=replicas,
        sources=[StreamSource(name=s) for s in spec.sources] or None,
    )


def with_audit_retention(specs: Iterable[StreamSpec], days: int | None) -> list[StreamSpec]:
    """``specs`` with the AUDIT stream kept ``days`` days instead of the declared year."""
    return [dataclasses.replace(s, max_age_seconds=days * DAY)
            if days is not None and s.name == AUDIT.name else s for s in specs]


async def ensure_streams(js: JetStreamContext, specs: Iterable[StreamSpec] = ALL_STREAMS,
                         replicas: int = 1, *, audit_retention_days: int | None = None) -> None:
    """Create missing streams and bring existing ones to the declared config.

    ``audit_retention_days`` overrides the AUDIT stream's max age; an existing stream is
    updated, so shortening it drops older records at once (the server enforces max_age).
    """
    for spec in with_audit_retention(specs, audit_retention_days):
        config = stream_config(spec, replicas)
        try:
            current = (await js.stream_info(spec.name)).config
        except NotFoundError:
            try:
                await js.add_stream(config)
                continue
            except BadRequestError as refused:  # another service created it a moment ago?
                try:
                    current = (await js.stream_info(spec.name)).config
                except NotFoundError:  # no: a service must not go on without its stream
                    raise refused from None
        if not differs(current, config):
            continue  # as declared: nothing to ask (a service's identity may not manage)
        try:
            await js.update_stream(config)
        except Exception as exc:  # a replica change the server refuses, or no permission
            log.warning("stream update refused", extra={"stream": spec.name, "error": repr(exc)})
    await ensure_buckets(js, replicas)


async def ensure_buckets(js: JetStreamContext, replicas: int = 1) -> None:
    """The key-value buckets (the agents' configuration), created when missing."""
    try:
        await js.key_value(AGENT_CONFIG_BUCKET)
        return
    except (BucketNotFoundError, NotFoundError):
        pass
    try:
        await js.create_key_value(KeyValueConfig(
            bucket=AGENT_CONFIG_BUCKET, history=10, replicas=replicas,
            description="Each agent's provider chain, watched by its replicas"))
    except Exception as exc:  # no permission (a service's identity): the operator's job
        log.warning("bucket not created", extra={"bucket": AGENT_CONFIG_BUCKET,
                                                 "error": repr(exc)})


def differs(current: StreamConfig, wanted: StreamConfig) -> bool:
    """Whether a stream on the server is not as declared, in what the contracts declare."""
    def sources(config: StreamConfig) -> list[str]:
        return sorted(s.name for s in config.sources or [])

    return (sorted(current.subjects or []) != sorted(wanted.subjects or [])
            or sources(current) != sources(wanted)
            or (current.description or "") != (wanted.description or "")
            or current.max_age != wanted.max_age
            or current.duplicate_window != wanted.duplicate_window
            or (current.num_replicas or 1) != (wanted.num_replicas or 1)
            or current.retention != wanted.retention or current.storage != wanted.storage)


async def last_sequence(js: JetStreamContext, stream: str, consumer: str,
                        filters: list[str] | None = None) -> int:
    """The stream sequence of the last message ``consumer`` takes (0: none yet);
    ``filters``: its subjects, when the caller knows them (else they are asked for)."""
    if filters is None:
        filters = await consumer_filters(js, stream, consumer)
    if not filters:
        return int((await js.stream_info(stream)).state.last_seq or 0)
    lasts = await asyncio.gather(*(_last_of(js, stream, subject) for subject in filters))
    return max(lasts, default=0)


async def consumer_filters(js: JetStreamContext, stream: str, consumer: str) -> list[str]:
    """The subjects ``consumer`` takes ([]: all of the stream's)."""
    config = (await js.consumer_info(stream, consumer)).config
    return list(config.filter_subjects or ([config.filter_subject] if config.filter_subject
                                           else []))


async def _last_of(js: JetStreamContext, stream: str, subject: str) -> int:
    try:
        return int((await js.get_last_msg(stream, subject)).seq or 0)
    except NotFoundError:
        return 0


async def drained(js: JetStreamContext, stream: str, consumer: str, *,
                  timeout: float = 30.0, filters: list[str] | None = None) -> None:
    """Wait until ``consumer`` has handled every message on its subjects that is in the
    stream now: delivered up to the last of them, and nothing delivered left unacked.

    ``num_pending`` alone is no such proof: it can read 0 for a moment after a publish
    was acknowledged, before the consumer has taken account of the new message.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: int | None = None
    pause = 0.001  # most waits are a few milliseconds; a long one asks less often
    while True:
        try:
            if last is None:
                # Asked at once: a consumer's state read before the last message still
                # proves nothing short of it (its delivered sequence would be below).
                last, info = await asyncio.gather(
                    last_sequence(js, stream, consumer, filters),
                    js.consumer_info(stream, consumer))
            else:
                info = await js.consumer_info(stream, consumer)
        except NotFoundError:  # not created yet
            info = None
        if info is not None and last is not None and info.num_ack_pending == 0 \
                and (info.delivered.stream_seq or 0) >= last:
            return
        if loop.time() > deadline:
            raise TimeoutError(f"{stream}/{consumer} has not handled up to {last} "
                               f"within {timeout}s")
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.005)


async def caught_up(js: JetStreamContext, stream: str, consumer: str, *,
                    patience: float) -> int:
    """Wait up to ``patience`` seconds until ``consumer`` has handled every message of
    ``stream`` stored when asked: acknowledged up to the stream's last message then, or
    nothing of its subjects left to deliver or to acknowledge. How many of its messages
    were still waiting when the patience ran out (0: caught up). Needs only what a
    service's own identity may ask: the stream's and its own consumer's info. Unlike
    ``drained`` (the tests' proof, which reads the last message of the consumer's subjects
    and wants nothing unacknowledged) it ends while a busy consumer keeps messages in
    flight, once those stored when asked are acknowledged; a message stored at the very
    moment it asks may be missed (``drained``'s note on ``num_pending``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    last = int((await js.stream_info(stream)).state.last_seq or 0)
    while True:
        info = await js.consumer_info(stream, consumer)
        if (info.ack_floor.stream_seq or 0) >= last or (
                not info.num_pending and not info.num_ack_pending):
            return 0
        if loop.time() >= deadline:
            return int(info.num_pending or 0) + int(info.num_ack_pending or 0)
        await asyncio.sleep(0.05)
