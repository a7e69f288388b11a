"""JSON Schema export of every contract (``reasonops contracts export DIR``)."""

from __future__ import annotations

import json
from pathlib import Path

from .registry import all_models


def render_schemas() -> dict[str, str]:
    """File name -> JSON Schema text for every contract model."""
    return {
        f"{name}.json": json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"
        for name, model in all_models().items()
    }


def export_schemas(directory: Path) -> list[Path]:
    """Write every schema into ``directory``; remove schemas of models that no longer exist."""
    directory.mkdir(parents=True, exist_ok=True)
    rendered = render_schemas()
    for stale in directory.glob("*.json"):
        if stale.name not in rendered:
            stale.unlink()
    written = []
    for name, text in rendered.items():
        path = directory / name
        path.write_text(text)
        written.append(path)
    return written
