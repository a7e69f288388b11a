"""The orchestrator's side tables: the I/O effects steps owe (see ``runner.py``), the
agent proposals seen, and the post-incident review records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Integer, String, Table, delete, insert, select, update

from reasonops_runtime import UtcDateTime
from reasonops_runtime.store import Session, select_in

from .tables import metadata

effects = Table(
    "workflow_effects", metadata,
    Column("effect_id", String(256), primary_key=True),
    Column("workflow_id", String(160), nullable=False),
    Column("step", String(64), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("state", String(16), nullable=False, index=True),  # pending | claimed | done
    Column("created_at", UtcDateTime(), nullable=False),
    Column("claimed_at", UtcDateTime(), nullable=True),
    # Who runs a claimed effect, and until when that claim holds unless renewed: a
    # replica recovers only claims whose lease ran out (their owner died).
    Column("claimed_by", String(128), nullable=True),
    Column("lease_until", UtcDateTime(), nullable=True),
)

proposals = Table(
    "workflow_proposals", metadata,
    Column("proposal_id", String(64), primary_key=True),
    Column("decision_id", String(64), nullable=False, index=True),
    Column("payload", JSON, nullable=False),
)

reviews = Table(
    "workflow_reviews", metadata,
    Column("workflow_id", String(160), primary_key=True),
    Column("incident_id", String(32), nullable=True, index=True),
    Column("review", JSON, nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
)


# -- effects -------------------------------------------------------------------------------

async def add_effects(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Owe these effects (``pending``); one already owed under the same id (a re-armed
    round with the same key) is the same effect and is left as it is."""
    if not rows:
        return
    known = {r.effect_id for r in await select_in(session, select(effects.c.effect_id),
                                                   effects.c.effect_id,
                                                   [r["effect_id"] for r in rows])}
    new = [{**r, "state": "pending"} for r in rows if r["effect_id"] not in known]
    if new:
        await session.execute(insert(effects), new)


async def pending_ids(session: Session, limit: int) -> list[str]:
    """Up to ``limit`` pending effects, oldest first (read only: an idle runner's poll
    takes no write turn)."""
    return list((await session.execute(
        select(effects.c.effect_id).where(effects.c.state == "pending")
        .order_by(effects.c.created_at).limit(limit))).scalars())


async def claim(session: Session, effect_ids: Sequence[str], at: datetime, *,
                owner: str, lease_until: datetime) -> list[Any]:
    """Claim those of ``effect_ids`` still pending, in one statement, and return them,
    oldest first: an effect another replica claimed meanwhile is not among them, so two
    replicas never run one effect."""
    if not effect_ids:
        return []
    claimed = await session.execute(update(effects).where(
        effects.c.effect_id.in_(list(effect_ids)), effects.c.state == "pending").values(
        state="claimed", claimed_at=at, claimed_by=owner, lease_until=lease_until)
        .returning(*effects.c))
    return sorted(claimed.all(), key=lambda r: r.created_at)


async def renew_claims(session: Session, effect_ids: Sequence[str], *, owner: str,
                       lease_until: datetime) -> None:
    """Extend the leases of effects ``owner`` is still running."""
    if effect_ids:
        await session.execute(update(effects).where(
            effects.c.effect_id.in_(list(effect_ids)), effects.c.state == "claimed",
            effects.c.claimed_by == owner).values(lease_until=lease_until))


async def finish_effects(session: Session, effect_ids: Sequence[str]) -> None:
    await session.execute(update(effects).where(effects.c.effect_id.in_(list(effect_ids)))
                          .values(state="done"))


async def abandoned_effects(session: Session, now: datetime) -> list[Any]:
    """Claimed effects whose lease ran out: their owner stopped before recording a result
    (a claim from before leases has none, and is abandoned too). Locked, so two replicas
    do not both recover one."""
    return list((await session.execute(select(effects).where(
        effects.c.state == "claimed",
        (effects.c.lease_until.is_(None)) | (effects.c.lease_until < now))
        .order_by(effects.c.effect_id).with_for_update(skip_locked=True))).all())


async def release_effect(session: Session, effect_id: str) -> None:
    await session.execute(update(effects).where(effects.c.effect_id == effect_id)
                          .values(state="pending", claimed_at=None, claimed_by=None,
                                  lease_until=None))


# -- proposals and reviews -----------------------------------------------------------------

async def add_proposal(session: Session, payload: dict[str, Any]) -> None:
    exists = (await session.execute(select(proposals.c.proposal_id).where(
        proposals.c.proposal_id == payload["proposal_id"]))).first()
    if exists is None:
        await session.execute(insert(proposals).values(
            proposal_id=payload["proposal_id"], decision_id=payload["decision_id"],
            payload=payload))


async def proposals_of(session: Session, decision_id: str) -> list[dict[str, Any]]:
    rows = (await session.execute(select(proposals.c.payload).where(
        proposals.c.decision_id == decision_id).order_by(proposals.c.proposal_id))).all()
    return [dict(r.payload) for r in rows]


async def review_of(session: Session, *, workflow_id: str | None = None,
                    incident_id: str | None = None) -> Any | None:
    """The review row of ``workflow_id``, else the newest of ``incident_id``'s."""
    query = select(reviews)
    if workflow_id:
        query = query.where(reviews.c.workflow_id == workflow_id)
    else:
        query = query.where(reviews.c.incident_id == incident_id).order_by(
            reviews.c.recorded_at.desc(), reviews.c.workflow_id.desc())
    return (await session.execute(query.limit(1))).first()


async def add_review(session: Session, workflow_id: str, incident_id: str | None,
                     review: dict[str, Any], at: datetime) -> None:
    await session.execute(delete(reviews).where(reviews.c.workflow_id == workflow_id))
    await session.execute(insert(reviews).values(workflow_id=workflow_id,
                                                 incident_id=incident_id, review=review,
                                                 recorded_at=at))
