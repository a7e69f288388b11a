"""The definitions the orchestrator runs: built-in files plus ``REASONOPS_WORKFLOWS_DIR``.

Several versions of a workflow may be loaded; new instances use the newest, running
ones keep the snapshot they started with (stored on the instance).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .definitions import ConfigError, WorkflowDefinition
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

    def awaited(self) -> set[str]:
        """Event types some step, finish or reset waits for (in any loaded version)."""
        found: set[str] = set()
        for by_version in self.versions.values():
            for d in by_version.values():
                found |= {m.event for m in [d.finish_on, *(s.until for s in d.steps),
                                            *(s.reset_on for s in d.steps)] if m is not None}
                found |= {str(s.event) for s in d.steps if s.kind == "wait_event"}
        return found

    def newest(self) -> list[WorkflowDefinition]:
        return [by_version[max(by_version)] for _, by_version in sorted(self.versions.items())]


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
