"""On call, change management and the ServiceNow sync, as both clients' methods:
schedules, who is on call, turns and overrides; request a change (standard, normal,
emergency), list them, the calendar and a month's metrics, start, complete or withdraw
one; how the sync stands, an incident's ServiceNow record, a resync. Mixed into
``ReasonOpsClient`` and ``AsyncReasonOpsClient``; the calls are ``calls.desk``'s."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from reasonops_contracts.changes import ChangeCalendar, ChangeList, ChangeMetrics, ChangeView
from reasonops_contracts.oncall import OnCallNow, OverrideView, ScheduleList, ShiftList
from reasonops_contracts.servicenow import ResyncResult, ServiceNowLink, ServiceNowStatus

from . import calls
from .backoffice import AsyncSends, Sends


class ServiceDesk:
    """On call, changes and the ServiceNow sync, blocking."""

    def oncall_schedules(self: Sends) -> ScheduleList:
        """Schedules, who is on call on each now, gaps in the next 14 days."""
        return self.send(calls.oncall_schedules())

    def who_is_on_call(self: Sends, schedule: str | None = None, *,
                       service: str | None = None, at: datetime | None = None) -> OnCallNow:
        """Who is on call for a schedule or a service, now or ``at``."""
        return self.send(calls.who_is_on_call(schedule, service, at))

    def oncall_shifts(self: Sends, schedule: str, *, start: datetime | None = None,
                      end: datetime | None = None) -> ShiftList:
        """A schedule's turns and gaps (and ``calendar``, as iCalendar)."""
        return self.send(calls.oncall_shifts(schedule, start, end))

    def create_override(self: Sends, schedule: str, user: str, start: datetime,
                        end: datetime, reason: str = "") -> OverrideView:
        """``user`` takes ``schedule`` from ``start`` to ``end``."""
        return self.send(calls.create_override(schedule, user=user, start=start, end=end,
                                               reason=reason or None))

    def remove_override(self: Sends, override_id: str) -> OverrideView:
        return self.send(calls.remove_override(override_id))

    def request_change(self: Sends, type: str, planned_start: datetime,
                       **fields: Any) -> ChangeView:
        """``type``: standard (with ``template``), normal or emergency (with ``title``,
        ``services``, ``planned_end``, ``implementation_plan``); refused with the reason
        when its window collides with another change or a freeze."""
        return self.send(calls.request_change(type, planned_start, **fields))

    def list_changes(self: Sends, *, states: Sequence[str] | None = None,
                     service: str | None = None, incident_id: str | None = None,
                     limit: int = 100) -> ChangeList:
        return self.send(calls.changes(states, service, incident_id, limit))

    def change_calendar(self: Sends, start: datetime | None = None,
                        end: datetime | None = None, service: str | None = None
                        ) -> ChangeCalendar:
        return self.send(calls.change_calendar(start, end, service))

    def change_metrics(self: Sends, month: str) -> ChangeMetrics:
        return self.send(calls.change_metrics(month))

    def get_change(self: Sends, change_id: str) -> ChangeView:
        return self.send(calls.change(change_id))

    def start_change(self: Sends, change_id: str, note: str | None = None) -> ChangeView:
        return self.send(calls.change_step(change_id, "start", note=note))

    def complete_change(self: Sends, change_id: str, outcome: str,
                        note: str | None = None) -> ChangeView:
        """``outcome``: successful, failed or backed_out."""
        return self.send(calls.change_step(change_id, "complete", outcome=outcome, note=note))

    def cancel_change(self: Sends, change_id: str, note: str | None = None) -> ChangeView:
        return self.send(calls.change_step(change_id, "cancel", note=note))

    def servicenow_status(self: Sends) -> ServiceNowStatus:
        return self.send(calls.servicenow_status())

    def servicenow_record(self: Sends, incident_id: str) -> ServiceNowLink:
        return self.send(calls.servicenow_link(incident_id))

    def servicenow_resync(self: Sends, incident_ids: Sequence[str], *,
                          force: bool = False) -> ResyncResult:
        return self.send(calls.servicenow_resync(incident_ids, force))


class AsyncServiceDesk:
    """On call, changes and the ServiceNow sync, awaitable."""

    async def oncall_schedules(self: AsyncSends) -> ScheduleList:
        """Schedules, who is on call on each now, gaps in the next 14 days."""
        return await self.send(calls.oncall_schedules())

    async def who_is_on_call(self: AsyncSends, schedule: str | None = None, *,
                             service: str | None = None, at: datetime | None = None
                             ) -> OnCallNow:
        """Who is on call for a schedule or a service, now or ``at``."""
        return await self.send(calls.who_is_on_call(schedule, service, at))

    async def oncall_shifts(self: AsyncSends, schedule: str, *,
                            start: datetime | None = None, end: datetime | None = None
                            ) -> ShiftList:
        """A schedule's turns and gaps (and ``calendar``, as iCalendar)."""
        return await self.send(calls.oncall_shifts(schedule, start, end))

    async def create_override(self: AsyncSends, schedule: str, user: str, start: datetime,
                              end: datetime, reason: str = "") -> OverrideView:
        """``user`` takes ``schedule`` from ``start`` to ``end``."""
        return await self.send(calls.create_override(schedule, user=user, start=start,
                                                     end=end, reason=reason or None))

    async def remove_override(self: AsyncSends, override_id: str) -> OverrideView:
        return await self.send(calls.remove_override(override_id))

    async def request_change(self: AsyncSends, type: str, planned_start: datetime,
                             **fields: Any) -> ChangeView:
        return await self.send(calls.request_change(type, planned_start, **fields))

    async def list_changes(self: AsyncSends, *, states: Sequence[str] | None = None,
                           service: str | None = None, incident_id: str | None = None,
                           limit: int = 100) -> ChangeList:
        return await self.send(calls.changes(states, service, incident_id, limit))

    async def change_calendar(self: AsyncSends, start: datetime | None = None,
                              end: datetime | None = None, service: str | None = None
                              ) -> ChangeCalendar:
        return await self.send(calls.change_calendar(start, end, service))

    async def change_metrics(self: AsyncSends, month: str) -> ChangeMetrics:
        return await self.send(calls.change_metrics(month))

    async def get_change(self: AsyncSends, change_id: str) -> ChangeView:
        return await self.send(calls.change(change_id))

    async def start_change(self: AsyncSends, change_id: str,
                           note: str | None = None) -> ChangeView:
        return await self.send(calls.change_step(change_id, "start", note=note))

    async def complete_change(self: AsyncSends, change_id: str, outcome: str,
                              note: str | None = None) -> ChangeView:
        return await self.send(calls.change_step(change_id, "complete", outcome=outcome,
                                           note=note))

    async def cancel_change(self: AsyncSends, change_id: str,
                            note: str | None = None) -> ChangeView:
        return await self.send(calls.change_step(change_id, "cancel", note=note))

    async def servicenow_status(self: AsyncSends) -> ServiceNowStatus:
        return await self.send(calls.servicenow_status())

    async def servicenow_record(self: AsyncSends, incident_id: str) -> ServiceNowLink:
        return await self.send(calls.servicenow_link(incident_id))

    async def servicenow_resync(self: AsyncSends, incident_ids: Sequence[str], *,
                                force: bool = False) -> ResyncResult:
        return await self.send(calls.servicenow_resync(incident_ids, force))
