"""Changes -> read models."""

from __future__ import annotations

from reasonops_contracts.changes import ChangeView, FreezeView, LinkedIncident, TemplateView

from .config import FreezeSpec, TemplateSpec
from .domain import Change


def change_view(c: Change, incidents: list[LinkedIncident] | None = None) -> ChangeView:
    return ChangeView.model_validate({**c.__dict__, "incidents": incidents or []})


def freeze_view(f: FreezeSpec) -> FreezeView:
    return FreezeView(name=f.name, start=f.start, end=f.end, services=f.services,
                      reason=f.reason)


def template_view(name: str, t: TemplateSpec) -> TemplateView:
    return TemplateView(name=name, title=t.title, services=t.services,
                        duration_minutes=int(t.duration.total_seconds() // 60),
                        implementation_plan=t.implementation_plan, backout_plan=t.backout_plan)
