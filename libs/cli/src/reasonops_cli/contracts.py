"""``reasonops contracts export``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
