"""The secret gate: fails when a secret-looking value is committed outside the allow-list.

    python .ci/secret_gate.py [--root DIR] [--allow FILE]

Looks with the privacy guard's own detectors (keys and tokens of known formats, private
keys, passwords in URLs, values under secret-named keys) at every file git tracks under
``--root`` (every file, where it is not a git work tree). What a fixture plants on
purpose is listed in ``.ci/secrets-allowed.yaml``, each entry with the reason. Findings
are printed as ``path:line: kind`` with the value masked; exit 1 if there are any.
"""

from __future__ import annotations

import argparse
import fnmatch
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from reasonops_llm.detectors import BUILTIN, Detector, normalise

PERSONAL = {"email", "phone", "payment_card", "iban"}
"""Personal data is the guard's business at run time, not a committed secret."""
DETECTORS = [d for d in BUILTIN if d.kind not in PERSONAL]
CODE = {".py"}
"""In code, a secret-named key's value counts only when it is a string literal."""
NOT_A_VALUE = re.compile(
    r"(?i)^(?:[`$%{<(\[*/]|\.\.\.|f$)|\$[{(]|^(?:change[-_]?me|example|redacted|xx+|none|null|true|"
    r"false|bearer|basic|token|secret|password|required|optional|str|int|\W*)$")
"""References (``${X}``, ``$(X)``, ``<key>``, paths), placeholders and type names."""


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    kind: str
    value: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}: {self.value[:4]}{'*' * 8}"


@dataclass(frozen=True)
class Allowed:
    path: str
    kinds: frozenset[str]
    reason: str

    def covers(self, finding: Finding) -> bool:
        return fnmatch.fnmatch(finding.path, self.path) and (
            not self.kinds or finding.kind in self.kinds)


def read_allow_list(path: Path) -> list[Allowed]:
    entries = yaml.safe_load(path.read_text()) if path.exists() else []
    allowed = []
    for i, entry in enumerate(entries or []):
        if not isinstance(entry, dict) or not str(entry.get("reason", "")).strip():
            raise SystemExit(f"{path}: entry {i + 1} needs a path and a reason")
        allowed.append(Allowed(str(entry["path"]), frozenset(entry.get("kinds") or ()),
                               str(entry["reason"])))
    return allowed


def tracked_files(root: Path) -> list[Path]:
    listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True)
    if listed.returncode == 0:
        return [root / name for name in listed.stdout.decode().split("\0") if name]
    return [p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts]


def scan(path: Path, root: Path) -> list[Finding]:
    try:
        text = normalise(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, OSError):
        return []  # binary or unreadable: nothing a reader would copy from
    name = path.relative_to(root).as_posix()
    found: dict[tuple[int, str], Finding] = {}  # one finding a value: the first, most
    for detector in DETECTORS:                 # specific kind (detectors run in that order)
        for match in detector.finds(text):
            value = match.group(detector.group)
            if _counts(detector, value, path.suffix):
                line = text.count("\n", 0, match.start()) + 1
                bare = value.strip("\\\"'")
                found.setdefault((line, bare), Finding(name, line, detector.kind, bare))
    return list(found.values())


def _counts(detector: Detector, value: str, suffix: str) -> bool:
    bare = value.strip("\\\"'")
    if detector.kind != "password" and detector.kind != "url_password":
        return True  # a known format: a key is a key wherever it is written
    if suffix in CODE and bare == value:
        return False  # an expression (``password=settings.password``), not a literal
    # A plain lower-case word is prose ("the password is committed"), not a secret.
    return len(bare) >= 6 and not NOT_A_VALUE.search(bare) and not bare.isalpha()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--allow", type=Path, default=None)
    args = parser.parse_args(argv)
    root = args.root.resolve()
    allowed = read_allow_list(args.allow or root / ".ci" / "secrets-allowed.yaml")
    findings = [f for path in tracked_files(root) for f in scan(path, root)
                if not any(a.covers(f) for a in allowed)]
    for finding in findings:
        print(finding)
    if findings:
        print(f"{len(findings)} secret-looking value(s) committed; remove them, or list a "
              "fixture's fake ones in .ci/secrets-allowed.yaml with the reason")
        return 1
    print("secret gate: nothing secret-looking outside the allow-list")
    return 0


if __name__ == "__main__":
    sys.exit(main())
