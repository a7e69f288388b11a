"""The calls of the service desk: on call, change management and the ServiceNow sync."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from reasonops_contracts.changes import ChangeCalendar, ChangeList, ChangeMetrics, ChangeView
from reasonops_contracts.oncall import OnCallNow, OverrideView, ScheduleList, ShiftList
from reasonops_contracts.servicenow import ResyncResult, ServiceNowLink, ServiceNowStatus

from .base import Call, call, json_body, quoted

# -- On call ---------------------------------------------------------------------------------

def oncall_schedules() -> Call[ScheduleList]:
    return call("GET", "/api/oncall/schedules", ScheduleList)


def who_is_on_call(schedule: str | None, service: str | None,
                   at: datetime | None) -> Call[OnCallNow]:
    if (schedule is None) == (service is None):
        raise ValueError("schedule or service: give exactly one of them")
    path = (f"/api/oncall/schedules/{quoted(schedule)}/now" if schedule is not None
            else f"/api/oncall/services/{quoted(str(service))}/now")
    return call("GET", path, OnCallNow, at=at)


def oncall_shifts(schedule: str, start: datetime | None,
                  end: datetime | None) -> Call[ShiftList]:
    return call("GET", f"/api/oncall/schedules/{quoted(schedule)}/shifts", ShiftList,
                start=start, end=end)


def create_override(schedule: str, **fields: Any) -> Call[OverrideView]:
    return call("POST", f"/api/oncall/schedules/{quoted(schedule)}/overrides", OverrideView,
                body=json_body(**fields))


def remove_override(override_id: str) -> Call[OverrideView]:
    return call("DELETE", f"/api/oncall/overrides/{quoted(override_id)}", OverrideView)


CHANGE_STEPS = ("start", "complete", "cancel")


# -- Changes --------------------------------------------------------------------------------

def request_change(type_: str, planned_start: datetime, **fields: Any) -> Call[ChangeView]:
    return call("POST", "/api/changes", ChangeView,
                body=json_body(type=type_, planned_start=planned_start, **fields))


def changes(states: Sequence[str] | None, service: str | None, incident_id: str | None,
            limit: int) -> Call[ChangeList]:
    return call("GET", "/api/changes", ChangeList, state=list(states or []) or None,
                service=service, incident_id=incident_id, limit=limit)


def change_calendar(start: datetime | None, end: datetime | None,
                    service: str | None) -> Call[ChangeCalendar]:
    return call("GET", "/api/changes/calendar", ChangeCalendar, start=start, end=end,
                service=service)


def change_metrics(month: str) -> Call[ChangeMetrics]:
    return call("GET", f"/api/changes/metrics/{quoted(month)}", ChangeMetrics)


def change(change_id: str) -> Call[ChangeView]:
    return call("GET", f"/api/changes/{quoted(change_id)}", ChangeView)


def change_step(change_id: str, step: str, **fields: Any) -> Call[ChangeView]:
    if step not in CHANGE_STEPS:
        raise ValueError(f"step: one of {', '.join(CHANGE_STEPS)}, not {step!r}")
    return call("POST", f"/api/changes/{quoted(change_id)}/{step}", ChangeView,
                body=json_body(**fields))


def servicenow_status() -> Call[ServiceNowStatus]:
    return call("GET", "/api/servicenow", ServiceNowStatus)


def servicenow_link(incident_id: str) -> Call[ServiceNowLink]:
    return call("GET", f"/api/servicenow/incidents/{quoted(incident_id)}", ServiceNowLink)


def servicenow_resync(incident_ids: Sequence[str], force: bool) -> Call[ResyncResult]:
    return call("POST", "/api/servicenow/resync", ResyncResult,
                body=json_body(incident_ids=list(incident_ids), force=force))
