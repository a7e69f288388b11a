"""Changes: the fields their messages share."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

CHANGE_ID_PATTERN = r"^CHG\d{7,}$"
ChangeId = Annotated[str, Field(pattern=CHANGE_ID_PATTERN)]
ChangeType = Literal["standard", "normal", "emergency"]
ChangeState = Literal["requested", "approved", "rejected", "implementing", "completed",
                      "cancelled"]
"""``requested``: waiting for the advisory board (normal changes); standard and
emergency changes are approved when requested."""
Outcome = Literal["successful", "failed", "backed_out"]
Risk = Literal["low", "medium", "high"]
ServiceName = Annotated[str, Field(min_length=1, max_length=256)]
