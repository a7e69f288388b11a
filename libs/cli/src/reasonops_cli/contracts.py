"""``reasonops contracts export`` and ``reasonops contracts asyncapi``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml

from reasonops_contracts.asyncapi import document
from reasonops_contracts.schemas import export_schemas

from .output import emit_json

app = typer.Typer(help="Message contracts.", no_args_is_help=True)


@app.command()
def export(
    directory: Annotated[Path, typer.Argument(help="Where to write the JSON Schemas.")],
    json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Write the JSON Schema of every event, command, query and reply."""
    written = export_schemas(directory)
    if json:
        emit_json({"directory": str(directory), "schemas": [p.name for p in written]})
    else:
        typer.echo(f"Wrote {len(written)} schemas to {directory}")


def asyncapi_text() -> str:
    """The AsyncAPI document of every subject, as YAML."""
    from importlib.metadata import version

    return yaml.safe_dump(document(version("reasonops-contracts")), sort_keys=False,
                          allow_unicode=True, width=100)


@app.command()
def asyncapi(
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write it here instead of printing it.")] = None,
) -> None:
    """The AsyncAPI 3.0 document of every event, command and query: subjects, who
    publishes or answers each, and the JSON Schema of every payload."""
    text = asyncapi_text()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"Wrote the AsyncAPI document to {output}")
