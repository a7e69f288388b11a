"""MkDocs hook: the pages written from the code at build time (the CLI, configuration
and subjects reference, the AsyncAPI document) and the index of the architecture
decision records."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files


def _adr_index(adr_dir: Path) -> str:
    lines = ["# Architecture decision records", "",
             "Each decision, its context and its consequences; a later record that changes "
             "one says so.", ""]
    for path in sorted(adr_dir.glob("[0-9][0-9][0-9][0-9]-*.md")):
        first = path.read_text(encoding="utf-8").split("\n", 1)[0]
        title = re.sub(r"^#\s*", "", first)
        lines.append(f"- [{title}]({path.name})")
    return "\n".join(lines) + "\n"


def on_files(files: Files, config: Any) -> Files:
    from reasonops_cli import reference
    from reasonops_cli.contracts import asyncapi_text
    from reasonops_cli.main import app

    pages = {"reference/cli.md": reference.cli_page(app),
             "reference/configuration.md": reference.configuration_page(),
             "reference/subjects.md": reference.subjects_page(),
             "reference/asyncapi.yaml": asyncapi_text(),
             "adr/index.md": _adr_index(Path(config["docs_dir"]) / "adr")}
    for uri, content in pages.items():
        files.append(File.generated(config, uri, content=content))
    return files
