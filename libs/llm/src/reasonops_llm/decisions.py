"""Turn a router's answer into the recorded decision every agent publishes."""

from __future__ import annotations

from datetime import datetime

from reasonops_contracts import new_id
from reasonops_contracts.agents import (
    AgentDecisionRecorded,
    AgentName,
    AgentOutput,
    ProviderAttempt,
)

from .prompts import RenderedPrompt
from .router import Answer


def decision_from(answer: Answer[AgentOutput], prompt: RenderedPrompt, *, agent: AgentName,
                  request_id: str, incident_id: str | None, summary: str,
                  decided_at: datetime, workflow_id: str = "") -> AgentDecisionRecorded:
    """Records who decided (provider, model), from what (prompt version and hash), at what
    cost (latency, tokens, money), what was redacted and why earlier providers failed."""
    used = prompt if answer.provider != "rules" else None
    return AgentDecisionRecorded(
        decision_id=new_id(), agent=agent, request_id=request_id, workflow_id=workflow_id,
        incident_id=incident_id, provider=answer.provider, model=answer.model,
        prompt_version=used.version if used else f"{agent}-rules",
        prompt_hash=used.hash if used else "",
        latency_ms=answer.latency_ms, tokens_in=answer.tokens_in, tokens_out=answer.tokens_out,
        cost=answer.cost, fallback=answer.fallback,
        attempts=[ProviderAttempt(provider=a.provider, model=a.model, outcome=a.outcome,
                                  detail=a.detail, latency_ms=a.latency_ms)
                  for a in answer.attempts],
        redacted=list(answer.redacted), output=answer.output, summary=summary[:300],
        decided_at=decided_at)
