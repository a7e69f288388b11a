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


class RenderedPrompt:
    """A prompt as a provider is sent it. Its user part is written out when first read:
    a decision the rules make never reads it, and encoding a large request (a storm's
    hundreds of alerts) is much of such a decision's time."""

    def __init__(self, system: str, user: str | None, version: str, hash: str,
                 data: Any = None, template: str | None = None) -> None:
        if user is None and template is None:
            raise ValueError("a prompt needs its user part or a template to write it from")
        self.system = system
        self.version = version
        self.hash = hash
        self.data = data
        """The request before it was encoded into ``user``, so the privacy guard can
        redact each value before encoding (a JSON-escaped secret is not what a pattern
        sees)."""
        self.template = template
        """The user part with ``$input`` not yet replaced by ``data``."""
        self._user = user

    @property
    def user(self) -> str:
        if self._user is None:
            assert self.template is not None
            self._user = Template(self.template).safe_substitute(input=encode_input(self.data))
        return self._user

    def __repr__(self) -> str:
        return f"RenderedPrompt(version={self.version!r}, hash={self.hash!r})"


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
        return RenderedPrompt(system=self.system, user=None, version=self.version,
                              hash=self.hash, data=data, template=self.user)
