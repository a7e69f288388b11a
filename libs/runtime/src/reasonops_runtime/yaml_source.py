"""Reading configuration YAML, and where an error points in it.

Configuration files (role policy, correlation rules) are validated by pydantic models;
``dotted`` and ``line_of`` turn an error's ``loc`` into what a person looks for in the
file. Files with money in them (SLA contracts, cost rates) are read by ``read_exact``,
which keeps YAML floats as their text so an amount never passes through a binary float.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml


class SourceError(ValueError):
    """A configuration file is wrong: which file, which line and field, and why."""

    def __init__(self, file: str, line: int | None, field_: str, reason: str) -> None:
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {field_}: {reason}")
        self.file = file
        self.line = line
        self.field = field_
        self.reason = reason


def read_mapping(text: str, file: str, error: type[SourceError], expected: str
                 ) -> tuple[yaml.Node | None, dict[str, Any]]:
    """The file's node tree (for ``line_of``) and its data, which must be a mapping;
    ``error`` names file, line and reason when it is not YAML or not a mapping."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise error(file, mark.line + 1 if mark else None, "(file)",
                    f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise error(file, 1, "(file)", f"expected {expected}")
    return root, data


def dotted(loc: Sequence[Any]) -> str:
    """``["rules", 2, "match"]`` -> ``rules[2].match``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def line_of(node: yaml.Node | None, loc: Sequence[Any]) -> int | None:
    """The line of the deepest YAML node ``loc`` reaches (1-based; None without a node)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                and part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


class _ExactLoader(yaml.SafeLoader):
    """Keeps YAML floats as their text, so money never passes through a binary float."""


def _float_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    assert isinstance(node, yaml.ScalarNode)
    return loader.construct_scalar(node)


_ExactLoader.add_constructor("tag:yaml.org,2002:float", _float_as_text)


def read_exact(path: Path, error: Callable[[str, str], Exception]) -> Any:
    """The YAML document at ``path``, floats kept as text; ``error(field, reason)`` makes
    the exception raised when the file cannot be read or is not YAML."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error("(file)", "not found") from None
    except OSError as exc:
        raise error("(file)", f"cannot be read: {exc.strerror}") from None
    try:
        return yaml.load(text, Loader=_ExactLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise error("(document)", f"invalid YAML{where}: {problem}") from None
