"""ReasonOps LLM library: provider clients, a router with fallback, structured output,
a fail-closed privacy guard, versioned prompts, and the agents' decision queue."""

from .breaker import CircuitBreaker
from .config import ChainEntry, ChainError, LlmSettings, configured_chain, parse_chain, write_chain
from .decisions import decision_from
from .errors import (
    CircuitOpen,
    ClientError,
    GuardBlocked,
    InvalidOutput,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    ServerError,
    Unreachable,
)
from .factory import build_router, provider_for
from .guard import PrivacyGuard
from .messages import ChatMessage, Completion, CompletionRequest, Health
from .metrics import LlmMetrics
from .prompts import PromptTemplate, RenderedPrompt
from .queue import AgentQueue, Decided
from .router import Answer, Attempt, RetryPolicy, Route, Router
from .schema import output_schema, parse_output

__all__ = [
    "AgentQueue",
    "Answer",
    "Attempt",
    "ChainEntry",
    "ChainError",
    "ChatMessage",
    "CircuitBreaker",
    "CircuitOpen",
    "ClientError",
    "Completion",
    "CompletionRequest",
    "Decided",
    "GuardBlocked",
    "Health",
    "InvalidOutput",
    "LlmMetrics",
    "LlmSettings",
    "PrivacyGuard",
    "PromptTemplate",
    "ProviderError",
    "ProviderTimeout",
    "RateLimited",
    "RenderedPrompt",
    "RetryPolicy",
    "Route",
    "Router",
    "ServerError",
    "Unreachable",
    "build_router",
    "configured_chain",
    "decision_from",
    "output_schema",
    "parse_chain",
    "parse_output",
    "provider_for",
    "write_chain",
]
