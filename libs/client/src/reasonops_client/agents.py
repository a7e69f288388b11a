"""What the agents have decided and how they are: read from the AGENTS stream and asked
of every running agent (a scatter-gather query: each replica answers for itself)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from nats.aio.client import Client
from nats.js.api import ConsumerConfig, DeliverPolicy

from reasonops_contracts import Envelope, streams, subjects
from reasonops_contracts.agents import (
    AGENT_NAMES,
    AgentDecisionRecorded,
    AgentStatus,
    AgentStatusQuery,
)


class AgentsUnavailable(RuntimeError):
    """The AGENTS stream cannot be read (ReasonOps never started on this server)."""


async def _read(nc: Client, subject: str, since: datetime | None = None) -> list[Envelope]:
    """Every message on ``subject`` in the AGENTS stream (stored at ``since`` or later),
    oldest first (an ordered, ephemeral read: nothing is acknowledged)."""
    js = nc.jetstream()
    found: list[Envelope] = []
    config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_TIME,
                            opt_start_time=since) if since is not None else None
    try:
        sub = await js.subscribe(subject, stream=streams.AGENTS.name, config=config,
                                 ordered_consumer=True, deliver_policy=None if config
                                 else DeliverPolicy.ALL)
    except Exception as exc:
        raise AgentsUnavailable(f"cannot read the {streams.AGENTS.name} stream "
                                f"({exc.__class__.__name__}); has ReasonOps been started?"
                                ) from None
    try:
        info = await sub.consumer_info()
        if not info.num_pending and not (info.delivered and info.delivered.consumer_seq):
            return found  # nothing to read: no need to wait for a message
        while True:
            try:
                msg = await sub.next_msg(timeout=1.0)
            except TimeoutError:
                break
            found.append(Envelope.from_bytes(msg.data))
            if msg.metadata.num_pending == 0:
                break
    finally:
        await sub.unsubscribe()
    return found


STAMPS_APART = timedelta(minutes=5)
"""How far a service's clock and the broker's may differ when reading the decisions
stored after an incident opened."""


async def read_decisions(nc: Client, *, limit: int = 0, incident_id: str | None = None,
                         agent: str | None = None, opened_at: datetime | None = None
                         ) -> list[AgentDecisionRecorded]:
    """The decisions in the AGENTS stream that match, oldest first; with ``limit`` the
    last ``limit`` of them; with ``opened_at`` (when ``incident_id`` opened), only those
    stored since then, less ``STAMPS_APART`` (an incident's decisions come after it
    opened: reading from then skips the stream's older part)."""
    since = None if opened_at is None else opened_at - STAMPS_APART
    found = []
    for envelope in await _read(nc, subjects.AGENT_DECISION, since):
        decision = envelope.decode(AgentDecisionRecorded)
        if (incident_id is None or decision.incident_id == incident_id) and \
                (agent is None or decision.agent == agent):
            found.append(decision)
    return found[-limit:] if limit else found


async def read_briefing(nc: Client, incident_id: str, opened_at: datetime
                        ) -> AgentDecisionRecorded | None:
    """The incident's newest briefing, read from the decisions stored since it opened
    (not the whole stream); None before there is one."""
    found = await read_decisions(nc, incident_id=incident_id, agent="briefing", limit=1,
                                 opened_at=opened_at)
    return found[-1] if found else None


REQUESTS = (subjects.AGENT_TRIAGE_REQUESTED, subjects.AGENT_RCA_REQUESTED,
            subjects.AGENT_SECURITY_REQUESTED, subjects.AGENT_CAPACITY_REQUESTED)


async def read_requests(nc: Client, request_ids: set[str]) -> dict[str, dict[str, Any]]:
    """What each of ``request_ids`` asked an agent (the request's fields), by id; a
    decision no request in the stream asked for (the security agent reads ingest's raw
    events itself, the run API asks directly) has none."""
    found: dict[str, dict[str, Any]] = {}
    if not request_ids:
        return found
    for subject in REQUESTS:
        for envelope in await _read(nc, subject):
            request_id = str(envelope.data.get("request_id", ""))
            if request_id in request_ids:
                found[request_id] = {"type": envelope.type, **envelope.data}
    return found


async def gather_statuses(nc: Client, *, probe: bool, wait: float,
                          quiet: float | None = None) -> list[AgentStatus]:
    """Every running agent replica's status, collected for ``wait`` seconds; with
    ``probe`` each one calls its providers first (health). With ``quiet``, collecting
    also ends that long after the last reply (replicas answer together, so a page need
    not wait out ``wait`` for the one more that is not coming)."""
    inbox = nc.new_inbox()
    replies: list[AgentStatus] = []
    sub = await nc.subscribe(inbox)
    await nc.publish(subjects.AGENT_QUERY_STATUS,
                     AgentStatusQuery(probe=probe).model_dump_json().encode(), reply=inbox)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while (left := deadline - loop.time()) > 0:
        try:
            msg = await sub.next_msg(timeout=left)
        except TimeoutError:
            break
        if not msg.data:  # the server's "no responders" status: no agent runs
            break
        replies.append(AgentStatus.model_validate_json(msg.data))
        if quiet is not None:
            deadline = min(deadline, loop.time() + quiet)
    await sub.unsubscribe()
    return sorted(replies, key=lambda s: (AGENT_NAMES.index(s.agent), s.instance))
