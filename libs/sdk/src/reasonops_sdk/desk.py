"""The calls of change management and the ServiceNow sync, for both clients: request a
change (standard, normal, emergency), list them, the calendar and a month's metrics,
start, complete or withdraw one; how the sync stands, an incident's ServiceNow record,
a resync. Mixed into ``ReasonOpsClient`` and ``AsyncReasonOpsClient``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from reasonops_contracts.changes import ChangeCalendar, ChangeList, ChangeMetrics, ChangeView
from reasonops_contracts.servicenow import ResyncResult, ServiceNowLink, ServiceNowStatus

from .backoffice import AsyncSends, Sends
from .calls import Call, _body, _call, _id

CHANGE_STEPS = ("start", "complete", "cancel")


# -- the calls ------------------------------------------------------------------------------

def request_change(type_: str, planned_start: datetime, **fields: Any) -> Call[ChangeView]:
    return _call("POST", "/api/changes", ChangeView,
                 body=_body(type=type_, planned_start=planned_start, **fields))


def changes(states: Sequence[str] | None, service: str | None, incident_id: str | None,
            limit: int) -> Call[ChangeList]:
    return _call("GET", "/api/changes", ChangeList, state=list(states or []) or None,
                 service=service, incident_id=incident_id, limit=limit)


def change_calendar(start: datetime | None, end: datetime | None,
                    service: str | None) -> Call[ChangeCalendar]:
    return _call("GET", "/api/changes/calendar", ChangeCalendar, start=start, end=end,
                 service=service)


def change_metrics(month: str) -> Call[ChangeMetrics]:
    return _call("GET", f"/api/changes/metrics/{_id(month)}", ChangeMetrics)


def change(change_id: str) -> Call[ChangeView]:
    return _call("GET", f"/api/changes/{_id(change_id)}", ChangeView)


def change_step(change_id: str, step: str, **fields: Any) -> Call[ChangeView]:
    if step not in CHANGE_STEPS:
        raise ValueError(f"step: one of {', '.join(CHANGE_STEPS)}, not {step!r}")
    return _call("POST", f"/api/changes/{_id(change_id)}/{step}", ChangeView,
                 body=_body(**fields))


def servicenow_status() -> Call[ServiceNowStatus]:
    return _call("GET", "/api/servicenow", ServiceNowStatus)


def servicenow_link(incident_id: str) -> Call[ServiceNowLink]:
    return _call("GET", f"/api/servicenow/incidents/{_id(incident_id)}", ServiceNowLink)


def servicenow_resync(incident_ids: Sequence[str], force: bool) -> Call[ResyncResult]:
    return _call("POST", "/api/servicenow/resync", ResyncResult,
                 body=_body(incident_ids=list(incident_ids), force=force))


# -- the clients' methods -------------------------------------------------------------------

class ServiceDesk:
    """Changes and the ServiceNow sync, blocking."""

    def request_change(self: Sends, type: str, planned_start: datetime,
                       **fields: Any) -> ChangeView:
        """``type``: standard (with ``template``), normal or emergency (with ``title``,
        ``services``, ``planned_end``, ``implementation_plan``); refused with the reason
        when its window collides with another change or a freeze."""
        return self.send(request_change(type, planned_start, **fields))

    def list_changes(self: Sends, *, states: Sequence[str] | None = None,
                     service: str | None = None, incident_id: str | None = None,
                     limit: int = 100) -> ChangeList:
        return self.send(changes(states, service, incident_id, limit))

    def change_calendar(self: Sends, start: datetime | None = None,
                        end: datetime | None = None, service: str | None = None
                        ) -> ChangeCalendar:
        return self.send(change_calendar(start, end, service))

    def change_metrics(self: Sends, month: str) -> ChangeMetrics:
        return self.send(change_metrics(month))

    def get_change(self: Sends, change_id: str) -> ChangeView:
        return self.send(change(change_id))

    def start_change(self: Sends, change_id: str, note: str | None = None) -> ChangeView:
        return self.send(change_step(change_id, "start", note=note))

    def complete_change(self: Sends, change_id: str, outcome: str,
                        note: str | None = None) -> ChangeView:
        """``outcome``: successful, failed or backed_out."""
        return self.send(change_step(change_id, "complete", outcome=outcome, note=note))

    def cancel_change(self: Sends, change_id: str, note: str | None = None) -> ChangeView:
        return self.send(change_step(change_id, "cancel", note=note))

    def servicenow_status(self: Sends) -> ServiceNowStatus:
        return self.send(servicenow_status())

    def servicenow_record(self: Sends, incident_id: str) -> ServiceNowLink:
        return self.send(servicenow_link(incident_id))

    def servicenow_resync(self: Sends, incident_ids: Sequence[str], *,
                          force: bool = False) -> ResyncResult:
        return self.send(servicenow_resync(incident_ids, force))


class AsyncServiceDesk:
    """Changes and the ServiceNow sync, awaitable."""

    async def request_change(self: AsyncSends, type: str, planned_start: datetime,
                             **fields: Any) -> ChangeView:
        return await self.send(request_change(type, planned_start, **fields))

    async def list_changes(self: AsyncSends, *, states: Sequence[str] | None = None,
                           service: str | None = None, incident_id: str | None = None,
                           limit: int = 100) -> ChangeList:
        return await self.send(changes(states, service, incident_id, limit))

    async def change_calendar(self: AsyncSends, start: datetime | None = None,
                              end: datetime | None = None, service: str | None = None
                              ) -> ChangeCalendar:
        return await self.send(change_calendar(start, end, service))

    async def change_metrics(self: AsyncSends, month: str) -> ChangeMetrics:
        return await self.send(change_metrics(month))

    async def get_change(self: AsyncSends, change_id: str) -> ChangeView:
        return await self.send(change(change_id))

    async def start_change(self: AsyncSends, change_id: str,
                           note: str | None = None) -> ChangeView:
        return await self.send(change_step(change_id, "start", note=note))

    async def complete_change(self: AsyncSends, change_id: str, outcome: str,
                              note: str | None = None) -> ChangeView:
        return await self.send(change_step(change_id, "complete", outcome=outcome,
                                           note=note))

    async def cancel_change(self: AsyncSends, change_id: str,
                            note: str | None = None) -> ChangeView:
        return await self.send(change_step(change_id, "cancel", note=note))

    async def servicenow_status(self: AsyncSends) -> ServiceNowStatus:
        return await self.send(servicenow_status())

    async def servicenow_record(self: AsyncSends, incident_id: str) -> ServiceNowLink:
        return await self.send(servicenow_link(incident_id))

    async def servicenow_resync(self: AsyncSends, incident_ids: Sequence[str], *,
                                force: bool = False) -> ResyncResult:
        return await self.send(servicenow_resync(incident_ids, force))
