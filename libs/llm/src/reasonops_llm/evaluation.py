"""What every agent's evaluation shares: labelled cases read from JSONL files, with a bad
line named by file, line and field, and a progress callback.

An agent offers an evaluation as a ``reasonops.agent_evals`` entry point: a module with
``CaseError``, ``count_cases(paths)``, ``async run(paths, *, chain, progress)`` returning
a report with ``as_dict()`` and ``misses``, and ``render(report)``;
``reasonops agents eval --agent NAME`` finds and runs it.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import MetaData

from reasonops_runtime.store import Store

Progress = Callable[[int], None]
"""Told how many cases are done, after each."""

M = TypeVar("M", bound=BaseModel)


class CaseError(ValueError):
    """A case file that cannot be evaluated: which file, line and field, and why."""


def load_cases(model: type[M], *paths: Path) -> list[M]:
    """Every non-blank line of every file a case; a file without any is refused."""
    cases: list[M] = []
    for path in paths:
        before = len(cases)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                cases.append(model.model_validate_json(line))
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "(line)"
                raise CaseError(f"{path}:{number}: {where}: {first['msg']}") from None
        if len(cases) == before:
            raise CaseError(f"{path}: no cases")
    return cases


def count_cases(paths: Sequence[Path]) -> int:
    """How many cases the files hold (for a progress bar), without checking them."""
    return sum(1 for path in paths
               for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


@asynccontextmanager
async def case_store(*metadata: MetaData) -> AsyncIterator[Store]:
    """A fresh store of the agent's own tables for one case (SQLite in a temporary
    directory), gone afterwards: a case sees nothing of another's."""
    with tempfile.TemporaryDirectory(prefix="reasonops-eval-") as folder:
        db = Store(f"sqlite+aiosqlite:///{folder}/case.db", *metadata)
        await db.create_all()
        try:
            yield db
        finally:
            await db.close()
