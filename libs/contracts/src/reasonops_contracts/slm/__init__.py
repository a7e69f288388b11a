"""Service level management: SLA clocks, breaches and supplier penalties.

A module each for the fields, events and queries (``from reasonops_contracts.slm import X``
names any of them)."""

from __future__ import annotations

from .events import (
    MonthAssessed,
    PenaltyAssessed,
    ServiceMonthView,
    SlaAtRisk,
    SlaBreached,
    SlaMet,
    SlaPaused,
    SlaResumed,
    SlaStarted,
)
from .fields import (
    Agreement,
    AtRiskPercent,
    Attention,
    ClockKind,
    ClockState,
    PenaltyClause,
    PenaltyKind,
)
from .queries import (
    CreditTierView,
    GetSlaReport,
    GetSlaStatus,
    ListSlaClocks,
    ListSlaPolicies,
    ListSupplierContracts,
    OpenClockView,
    SlaClockList,
    SlaClockView,
    SlaPolicyList,
    SlaPolicyView,
    SlaReport,
    SlaStatus,
    SupplierContractList,
    SupplierContractView,
)

__all__ = [
    "Agreement",
    "AtRiskPercent",
    "Attention",
    "ClockKind",
    "ClockState",
    "CreditTierView",
    "GetSlaReport",
    "GetSlaStatus",
    "ListSlaClocks",
    "ListSlaPolicies",
    "ListSupplierContracts",
    "MonthAssessed",
    "OpenClockView",
    "PenaltyAssessed",
    "PenaltyClause",
    "PenaltyKind",
    "ServiceMonthView",
    "SlaAtRisk",
    "SlaBreached",
    "SlaClockList",
    "SlaClockView",
    "SlaMet",
    "SlaPaused",
    "SlaPolicyList",
    "SlaPolicyView",
    "SlaReport",
    "SlaResumed",
    "SlaStarted",
    "SlaStatus",
    "SupplierContractList",
    "SupplierContractView",
]
