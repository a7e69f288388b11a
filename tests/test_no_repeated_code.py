"""No block of more than ten lines of product code is written twice: a repeated block is
a rule or a mechanism that will drift apart. Imports, docstrings, comments and blank
lines are left out, and whitespace inside a line is normalised."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LONGEST = 10  # lines a block may share with another


def _not_code(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            lines |= set(range(node.lineno, (node.end_lineno or node.lineno) + 1))
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            first = body[0]
            lines |= set(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return lines


def code_lines(source: str) -> list[tuple[int, str]]:
    skip = _not_code(ast.parse(source))
    return [(n, re.sub(r"\s+", " ", line.strip()))
            for n, line in enumerate(source.split("\n"), 1)
            if n not in skip and line.strip() and not line.strip().startswith("#")]


def repeated(files: dict[str, str], longest: int = LONGEST) -> list[str]:
    """``file:line`` pairs that start the same run of ``longest + 1`` code lines."""
    runs: dict[str, list[str]] = defaultdict(list)
    for name, source in files.items():
        lines = code_lines(source)
        for k in range(len(lines) - longest):
            key = "\n".join(text for _, text in lines[k:k + longest + 1])
            runs[key].append(f"{name}:{lines[k][0]}")
    return sorted(", ".join(where) for where in runs.values() if len(where) > 1)


def test_no_block_of_product_code_is_written_twice():
    sources = sorted([*ROOT.glob("services/*/src/**/*.py"), *ROOT.glob("libs/*/src/**/*.py")])
    found = repeated({str(p.relative_to(ROOT)): p.read_text(encoding="utf-8")
                      for p in sources})
    assert not found, "blocks of more than ten lines written twice:\n" + "\n".join(found)


def test_the_scan_finds_a_block_written_twice():
    block = "\n".join(f"x{i} = f({i})" for i in range(11))
    files = {"a.py": f'"""doc"""\nimport os\n{block}\n', "b.py": f"# c\n\n{block}\ny = 1\n"}
    assert repeated(files) == ["a.py:3, b.py:3"]
    assert repeated({"a.py": block + "\n", "b.py": block[:block.rindex("\n")]}) == []
