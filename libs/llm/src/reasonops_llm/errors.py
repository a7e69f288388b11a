"""Why a provider call did not produce an answer. The outcome names are metric labels."""

from __future__ import annotations


class ProviderError(Exception):
    """A provider call failed; ``outcome`` is the ``reasonops_llm_calls_total`` label."""

    outcome = "error"
    retryable = False


class RateLimited(ProviderError):
    outcome = "rate_limited"
    retryable = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServerError(ProviderError):
    retryable = True


class ClientError(ProviderError):
    """A 4xx other than 429: our request or our credentials are wrong; retrying won't help."""


class ProviderTimeout(ProviderError):
    outcome = "timeout"


class Unreachable(ProviderError):
    """Connection refused, DNS failure, reset: the provider is not there."""


class InvalidOutput(ProviderError):
    """The reply was not JSON, or not the JSON the schema asks for."""

    outcome = "invalid_output"

    def __init__(self, message: str, raw: str = "") -> None:
        super().__init__(message)
        self.raw = raw


class CircuitOpen(ProviderError):
    outcome = "circuit_open"


class GuardBlocked(ProviderError):
    """The privacy guard could not make the prompt safe; nothing was sent."""

    outcome = "guard_blocked"
