"""The provider port: whatever decides a triage. Rules today; LLM providers plug in here."""

from __future__ import annotations

from typing import Protocol

from reasonops_contracts.agents import TriageOutput, TriageRequested

from .domain import triage


class Provider(Protocol):
    """Decides one triage request. ``name``, ``model`` and ``prompt_version`` are
    recorded on every decision so a reader knows exactly what produced it."""

    name: str
    model: str
    prompt_version: str

    async def triage(self, request: TriageRequested) -> TriageOutput: ...


class RulesProvider:
    """Deterministic keyword and label heuristics; works offline, never fails."""

    name = "rules"
    model = "rules-v1"
    prompt_version = "triage-rules-1"

    async def triage(self, request: TriageRequested) -> TriageOutput:
        return triage(request)


class FixedProvider:
    """A fake for tests: answers every request with the same output."""

    prompt_version = "fixed"

    def __init__(self, output: TriageOutput, *, name: str = "fixed",
                 model: str = "fixed") -> None:
        self.output = output
        self.name = name
        self.model = model
        self.requests: list[TriageRequested] = []

    async def triage(self, request: TriageRequested) -> TriageOutput:
        self.requests.append(request)
        return self.output


PROVIDERS: dict[str, type[RulesProvider]] = {"rules": RulesProvider}


def provider_named(name: str) -> Provider:
    """The provider a setting names; unknown names are a configuration error."""
    try:
        return PROVIDERS[name]()
    except KeyError:
        raise ValueError(f"unknown triage provider {name!r}; known: {sorted(PROVIDERS)}") \
            from None
