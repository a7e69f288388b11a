"""Prompt templates: versioned files; every decision records the version and hash used.

A template file is named ``<name>.v<N>.txt``; its system part comes first, then a line
``=== user ===``, then the user part. ``$input`` is replaced by the request as JSON.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

SEPARATOR = "=== user ==="


@dataclass(frozen=True)
class RenderedPrompt:
    system: str
    user: str
    version: str
    hash: str
    data: Any = None
    """The request before it was encoded into ``user``, so the privacy guard can redact
    each value before encoding (a JSON-escaped secret is not what a pattern sees)."""
    template: str | None = None
    """The user part with ``$input`` not yet replaced by ``data``."""


def encode_input(data: Any) -> str:
    """How a request is written into a prompt: JSON, keys sorted, one level a line."""
    return json.dumps(data, indent=1, sort_keys=True, default=str, ensure_ascii=False)


@dataclass(frozen=True)
class PromptTemplate:
    version: str
    system: str
    user: str
    hash: str

    @classmethod
    def load(cls, path: Path) -> PromptTemplate:
        text = path.read_text(encoding="utf-8")
        if SEPARATOR not in text:
            raise ValueError(f"{path}: no '{SEPARATOR}' line between system and user parts")
        system, user = text.split(SEPARATOR, 1)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        return cls(version=path.name.removesuffix(".txt"), system=system.strip(),
                   user=user.strip(), hash=digest)

    @classmethod
    def latest(cls, directory: Path, name: str) -> PromptTemplate:
        """The highest version of ``name`` in ``directory``."""
        found = sorted(directory.glob(f"{name}.v*.txt"),
                       key=lambda p: int(p.name.removesuffix(".txt").rsplit(".v", 1)[1]))
        if not found:
            raise FileNotFoundError(f"no prompt template {name}.v*.txt in {directory}")
        return cls.load(found[-1])

    def render(self, data: Any) -> RenderedPrompt:
        return RenderedPrompt(system=self.system,
                              user=Template(self.user).safe_substitute(input=encode_input(data)),
                              version=self.version, hash=self.hash, data=data,
                              template=self.user)
