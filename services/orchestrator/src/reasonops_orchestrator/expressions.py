"""The small, safe expression language of ``when`` conditions and ``${...}`` templates.

Dotted paths into a context (``trigger.priority``, ``steps.triage.output.confidence``),
literals, comparisons (``== != < <= > >= in``, ``not in``), ``and or not`` and
parentheses. Parsed once when a definition loads; evaluated without ``eval``.
A path that leads nowhere is ``None``; an ordering comparison with ``None`` is false.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(r"""\s*(?:
    (?P<number>-?\d+(?:\.\d+)?)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)
  | (?P<name>[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*)
)""", re.VERBOSE)
_KEYWORDS = {"and", "or", "not", "in"}
_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None,
                             "True": True, "False": False, "None": None}
_TEMPLATE = re.compile(r"\$\{([^}]*)\}")


class ExpressionError(ValueError):
    """An expression that does not parse; the message says where."""


@dataclass(frozen=True)
class Lit:
    value: Any


@dataclass(frozen=True)
class Path:
    parts: tuple[str, ...]


@dataclass(frozen=True)
class ListOf:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class BoolOp:
    op: str
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Compare:
    op: str
    left: Node
    right: Node


Node = Lit | Path | ListOf | Not | BoolOp | Compare


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ExpressionError(f"unexpected {text[pos:].strip()[:20]!r} at column {pos + 1}")
        out.append(match.group().strip())
        pos = match.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            wanted = f"{expected!r}" if expected else "more"
            raise ExpressionError(f"expected {wanted} in {self.text!r}")
        self.pos += 1
        return token

    def parse(self) -> Node:
        node = self.or_()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()!r} in {self.text!r}")
        return node

    def or_(self) -> Node:
        items = [self.and_()]
        while self.peek() == "or":
            self.take()
            items.append(self.and_())
        return items[0] if len(items) == 1 else BoolOp("or", tuple(items))

    def and_(self) -> Node:
        items = [self.not_()]
        while self.peek() == "and":
            self.take()
            items.append(self.not_())
        return items[0] if len(items) == 1 else BoolOp("and", tuple(items))

    def not_(self) -> Node:
        if self.peek() == "not":
            self.take()
            return Not(self.not_())
        return self.compare()

    def compare(self) -> Node:
        left = self.operand()
        token = self.peek()
        if token in {"==", "!=", "<", "<=", ">", ">=", "in"}:
            self.take()
            return Compare(token, left, self.operand())
        if token == "not" and self.pos + 1 < len(self.tokens) and self.tokens[self.pos + 1] == "in":
            self.pos += 2
            return Not(Compare("in", left, self.operand()))
        return left

    def operand(self) -> Node:
        token = self.take()
        if token == "(":
            node = self.or_()
            self.take(")")
            return node
        if token == "[":
            items: list[Node] = []
            while self.peek() != "]":
                items.append(self.operand())
                if self.peek() == ",":
                    self.take()
            self.take("]")
            return ListOf(tuple(items))
        if token[0] in "'\"":
            return Lit(token[1:-1])
        if re.fullmatch(r"-?\d+(\.\d+)?", token):
            return Lit(float(token) if "." in token else int(token))
        if token in _LITERALS:
            return Lit(_LITERALS[token])
        if token in _KEYWORDS or (not token[0].isalpha() and token[0] != "_"):
            raise ExpressionError(f"unexpected {token!r} in {self.text!r}")
        return Path(tuple(token.split(".")))


@functools.lru_cache(maxsize=1024)
def parse(text: str) -> Node:
    """The expression's tree (immutable, so one tree serves every evaluation: the
    definitions' few expressions are parsed once, not at each step they decide)."""
    if not text.strip():
        raise ExpressionError("empty expression")
    return _Parser(text).parse()


def paths(node: Node) -> list[Path]:
    """Every path the expression reads (to check them against the definition)."""
    if isinstance(node, Path):
        return [node]
    if isinstance(node, ListOf):
        return [p for item in node.items for p in paths(item)]
    if isinstance(node, Not):
        return paths(node.operand)
    if isinstance(node, BoolOp):
        return [p for item in node.operands for p in paths(item)]
    if isinstance(node, Compare):
        return paths(node.left) + paths(node.right)
    return []


def resolve(context: Any, parts: tuple[str, ...]) -> Any:
    value = context
    for part in parts:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def evaluate(node: Node, context: dict[str, Any]) -> Any:
    if isinstance(node, Lit):
        return node.value
    if isinstance(node, Path):
        return resolve(context, node.parts)
    if isinstance(node, ListOf):
        return [evaluate(item, context) for item in node.items]
    if isinstance(node, Not):
        return not evaluate(node.operand, context)
    if isinstance(node, BoolOp):
        # Python's semantics: the deciding operand, so ``a or 'default'`` gives a fallback.
        value: Any = None
        for item in node.operands:
            value = evaluate(item, context)
            if bool(value) == (node.op == "or"):
                return value
        return value
    return _compare(node.op, evaluate(node.left, context), evaluate(node.right, context))


def _compare(op: str, left: Any, right: Any) -> bool:
    try:
        if op == "==":
            return bool(left == right)
        if op == "!=":
            return bool(left != right)
        if op == "in":
            return right is not None and left in right
        if left is None or right is None:
            return False
        return bool({"<": left < right, "<=": left <= right,
                     ">": left > right, ">=": left >= right}[op])
    except TypeError:
        return False


def template_expressions(value: Any) -> list[str]:
    """The ``${...}`` expressions inside a (nested) template value."""
    if isinstance(value, str):
        return _TEMPLATE.findall(value)
    if isinstance(value, dict):
        return [e for v in value.values() for e in template_expressions(v)]
    if isinstance(value, list):
        return [e for v in value for e in template_expressions(v)]
    return []


def render(value: Any, context: dict[str, Any]) -> Any:
    """Fill ``${...}`` in strings, recursively; a string that is one whole template keeps
    the value's type (a number stays a number)."""
    if isinstance(value, dict):
        return {k: render(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, context) for v in value]
    if not isinstance(value, str):
        return value
    whole = _TEMPLATE.fullmatch(value)
    if whole is not None:
        return evaluate(parse(whole.group(1)), context)

    def fill(match: re.Match[str]) -> str:
        result = evaluate(parse(match.group(1)), context)
        return "" if result is None else str(result)
    return _TEMPLATE.sub(fill, value)
