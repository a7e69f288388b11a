"""CSV output for reports: one header row, then one row per line, to stdout."""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from typing import Any


def emit_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(["" if cell is None else cell for cell in row] for row in rows)
