"""Briefings asked and made: when two agents have spoken about an incident, a request on
the agent's queue; when its turn comes, the views read from the store, combined by
:mod:`.briefing` and worded by the agent's chain (ADR 43)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from reasonops_contracts import Envelope
from reasonops_contracts.agents import AgentDecisionRecorded
from reasonops_contracts.briefings import BriefingOutput
from reasonops_llm import Decided, PromptTemplate, Router, decision_from
from reasonops_llm.queue import AgentQueue
from reasonops_runtime import Clock, Transaction
from reasonops_runtime.store import Store

from . import store
from .briefing import VIEWS_TO_BRIEF, Seen, Subject, brief, keep_known_views

FINDINGS_BEFORE = timedelta(days=1)
"""A security finding on the incident's address counts as its view from this long
before the incident opened."""


class Briefings:
    def __init__(self, db: Store, router: Router, template: PromptTemplate,
                 clock: Clock) -> None:
        self.db = db
        self.router = router
        self.template = template
        self.clock = clock

    async def ask(self, tx: Transaction, queue: AgentQueue,
                  batch: list[tuple[Envelope, AgentDecisionRecorded]],
                  fresh: list[AgentDecisionRecorded], sources: dict[str, str]) -> None:
        """A briefing for each incident a ``fresh`` decision is about (a security
        finding: the open incidents about its address) that two agents have now spoken
        about; keyed by the newest decision (one seen again was briefed when new)."""
        by_source = await store.open_incidents_from(tx.session, sorted(set(sources.values())))
        latest: dict[str, AgentDecisionRecorded] = {}
        for decision in fresh:
            for incident_id in ([decision.incident_id] if decision.incident_id else
                                by_source.get(sources[decision.decision_id], [])):
                latest[incident_id] = decision
        spoken = await store.viewers(tx.session, sorted(latest), since=FINDINGS_BEFORE)
        causes = {d.decision_id: e for e, d in batch}
        for incident_id, decision in latest.items():
            if len(spoken.get(incident_id, ())) < VIEWS_TO_BRIEF \
                    or await store.incident(tx.session, incident_id) is None:
                continue  # one view is the decision itself; an unseen incident waits
            request_id = f"briefing:{incident_id}:{decision.decision_id}"
            await queue.enqueue(tx, causes[decision.decision_id], request_id, "briefing",
                                {"request_id": request_id, "incident_id": incident_id})

    async def decide(self, payload: dict[str, Any]) -> Decided:
        """The agents' latest views of the incident in one decision that references
        them; a model may word it, the views and references are the decisions'."""
        async with self.db.read() as session:
            row = await store.incident(session, payload["incident_id"])
            labels = row.labels or {}
            seen = await store.views_of(session, row.incident_id, labels.get("source_ip"),
                                        since=row.opened_at - FINDINGS_BEFORE)
        subject = Subject(row.incident_id, row.title, row.service, row.priority or 3)
        first = brief(subject, [Seen(r.agent, r.decision_id, r.decided_at, r.provider,
                                     r.summary, r.output) for r in seen])
        prompt = self.template.render({
            "incident": {"id": subject.incident_id, "title": subject.title,
                         "service": subject.service, "priority": subject.priority},
            "views": [v.model_dump(mode="json") for v in first.views],
            "first_briefing": first.model_dump(mode="json")})
        answer = await self.router.decide(prompt, BriefingOutput, lambda: first)
        answer = replace(answer, output=keep_known_views(answer.output, first))
        agents = ", ".join(v.agent for v in first.views)
        return Decided(decision_from(
            answer, prompt, agent="briefing", request_id=payload["request_id"],
            incident_id=subject.incident_id, decided_at=self.clock.now(),
            summary=f"Briefing ({answer.provider}; {agents}): {answer.output.summary}"))
