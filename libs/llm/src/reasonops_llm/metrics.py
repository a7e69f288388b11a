"""The LLM metrics every agent service exports on its /metrics (dashboards rely on names)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

OUTCOMES = ("ok", "invalid_output", "rate_limited", "error", "timeout", "circuit_open",
            "guard_blocked")


class LlmMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = Counter("reasonops_llm_calls_total",
                             "Provider calls by agent, provider, model and outcome",
                             ["agent", "provider", "model", "outcome"], registry=registry)
        self.seconds = Histogram("reasonops_llm_call_seconds", "Time one provider call took",
                                 ["agent", "provider"], registry=registry,
                                 buckets=(0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
        self.tokens = Counter("reasonops_llm_tokens_total", "Tokens sent (in) and received (out)",
                              ["agent", "provider", "direction"], registry=registry)
        self.fallbacks = Counter("reasonops_llm_fallbacks_total",
                                 "Times an agent moved past a provider to the next in its chain",
                                 ["agent", "from_provider"], registry=registry)
        self.decisions = Counter("reasonops_agent_decisions_total",
                                 "Decisions recorded, by the provider that made them ('repeat': "
                                 "an earlier decision's answer, no provider asked)",
                                 ["agent", "provider"], registry=registry)
        self.decision_seconds = Histogram(
            "reasonops_agent_decision_seconds",
            "Time to reach a decision, fallbacks included, by the provider that made it",
            ["agent", "provider"], registry=registry,
            buckets=(0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
