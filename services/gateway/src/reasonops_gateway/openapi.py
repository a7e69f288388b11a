"""The REST API's OpenAPI document, as the repository keeps it (``make schemas`` writes
it; a test fails when the code and the file disagree):
``python -m reasonops_gateway.openapi [FILE]``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .api import build_api

EXPORTED = Path(__file__).parents[2] / "openapi.json"
"""Where the repository keeps it: ``services/gateway/openapi.json``."""


def document() -> dict[str, Any]:
    return build_api().openapi()


def render() -> str:
    return json.dumps(document(), indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else EXPORTED
    target.write_text(render())
    sys.stdout.write(f"Wrote the OpenAPI document to {target}\n")


if __name__ == "__main__":
    main()
