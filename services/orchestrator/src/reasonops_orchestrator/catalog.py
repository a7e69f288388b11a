"""The definitions the orchestrator runs: built-in files plus ``REASONOPS_WORKFLOWS_DIR``.

Several versions of a workflow may be loaded; new instances use the newest, running
ones keep the snapshot they started with (stored on the instance).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from reasonops_contracts.agents import AgentDecisionRecorded, AgentProposalRecorded

from .definitions import ConfigError, EventMatch, WorkflowDefinition
from .store import WILDCARD
from .validation import parse


@dataclass
class Catalog:
    versions: dict[str, dict[int, WorkflowDefinition]] = field(default_factory=dict)
    sources: dict[tuple[str, int], str] = field(default_factory=dict)

    def add(self, definition: WorkflowDefinition, source: str) -> None:
        known = self.versions.setdefault(definition.name, {})
        if definition.version in known:
            first = self.sources[(definition.name, definition.version)]
            raise ConfigError(source, "version", f"{definition.name} v{definition.version} is "
                              f"already defined in {first}")
        known[definition.version] = definition
        self.sources[(definition.name, definition.version)] = source

    def all(self) -> list[WorkflowDefinition]:
        return [d for by_version in self.versions.values() for d in by_version.values()]

    def awaited(self) -> set[str]:
        """Event types some step, finish or reset waits for (in any loaded version)."""
        return {m.event for d in self.all() for m in waits_of(d)}

    def wait_fields(self) -> dict[str, set[str]]:
        """Event type -> the fields its waits are keyed by (a wait's key is the first
        single value of its filter; ``*`` for a wait with none), to keep awaited events
        under the values an instance started later will look for."""
        found: dict[str, set[str]] = {}
        for d in self.all():
            for match in waits_of(d):
                found.setdefault(match.event, set()).add(_key_field(d, match))
        return found

    def newest(self) -> list[WorkflowDefinition]:
        return [by_version[max(by_version)] for _, by_version in sorted(self.versions.items())]


def waits_of(definition: WorkflowDefinition) -> list[EventMatch]:
    """What an instance of ``definition`` may wait for, besides its agents' decisions:
    its finish, each step's event, ``until`` and ``reset_on``."""
    found = [definition.finish_on, *(s.until for s in definition.steps),
             *(s.reset_on for s in definition.steps),
             *(EventMatch(event=str(s.event), filter=s.filter)
               for s in definition.steps if s.kind == "wait_event")]
    return [m for m in found if m is not None]


def listens_to(definitions: Iterable[WorkflowDefinition]) -> set[str]:
    """Event types the orchestrator must see to run ``definitions``: their triggers,
    what their instances wait for, agents' decisions (and proposals) if they ask one."""
    found: set[str] = set()
    for d in definitions:
        found |= {t.event for t in d.trigger} | {m.event for m in waits_of(d)}
        if any(s.kind == "agent" for s in d.steps):
            found |= {AgentDecisionRecorded.TYPE, AgentProposalRecorded.TYPE}
    return found


def _key_field(definition: WorkflowDefinition, match: EventMatch) -> str:
    """The field a wait on ``match`` is keyed by (see ``engine.await_event``)."""
    if match.filter:
        return next((k for k, v in match.filter.items() if not isinstance(v, list | dict)),
                    WILDCARD)
    key = definition.trigger[0].key
    return key if key in match.model().model_fields else WILDCARD


def builtin_texts() -> list[tuple[str, str]]:
    folder = resources.files("reasonops_orchestrator") / "workflows"
    return sorted((f"built-in {p.name}", p.read_text()) for p in folder.iterdir()
                  if p.name.endswith((".yaml", ".yml")))


def load(directory: Path | None, *, builtins: bool = True) -> Catalog:
    """Every definition, or ``ConfigError`` naming the first bad file, step and field."""
    catalog = Catalog()
    texts = builtin_texts() if builtins else []
    if directory is not None:
        if not directory.is_dir():
            raise ConfigError(str(directory), "(directory)", "not a directory")
        texts += [(str(p), p.read_text()) for p in sorted(directory.iterdir())
                  if p.suffix in (".yaml", ".yml")]
    for source, text in texts:
        catalog.add(parse(text, source), source)
    return catalog
