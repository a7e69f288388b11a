"""Service level management: the fields its messages share."""

from __future__ import annotations

from typing import Literal

ClockKind = Literal["response", "resolution"]
ClockState = Literal["running", "met", "breached", "cancelled"]
Agreement = Literal["sla", "ola", "uc"]
"""The customer SLA, an assignment group's OLA, or a supplier's underpinning contract."""
PenaltyKind = Literal["response", "resolution", "availability"]
PenaltyClause = Literal["per_breach", "per_hour", "availability"]
Attention = Literal["at_risk", "breached", "running"]
AtRiskPercent = Literal[50, 75, 90]
"""The points at which a running clock is announced at risk (``SlaAtRisk``)."""
