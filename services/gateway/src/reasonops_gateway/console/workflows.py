"""Workflows: running and finished instances, pending approvals to grant or refuse, and
one instance drawn as its steps' graph with each step's state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reasonops_contracts.api import Me
from reasonops_contracts.workflows import WorkflowDefinitionView, WorkflowView
from reasonops_sdk import AsyncReasonOpsClient

from .frame import Console, Shown

STATES = ("queued", "running", "compensating", "completed", "failed")
LIMIT = 100


def routes(console: Console) -> list[Route]:
    async def list_page(request: Request) -> Response:
        return await console.show(request, instances)

    async def instance_page(request: Request) -> Response:
        return await console.show(request, instance)

    async def decide(request: Request) -> Response:
        workflow_id, step = request.path_params["workflow_id"], request.path_params["step"]
        verdict = request.path_params["verdict"]
        if verdict not in ("approve", "reject"):
            return await console.show(request, instance, status=404,
                                      error=f"no decision {verdict!r}")

        async def run(client: AsyncReasonOpsClient, form: FormData) -> None:
            note = str(form.get("note") or "").strip() or None
            if verdict == "approve":
                await client.approve_step(workflow_id, step, note)
            else:
                await client.reject_step(workflow_id, step, note)
        return await console.perform(request, run, done=verdict, again=instance,
                                     back=f"/workflows/{quote(workflow_id)}")

    return [Route("/workflows", list_page), Route("/workflows/{workflow_id}", instance_page),
            Route("/workflows/{workflow_id}/steps/{step}/{verdict}", decide,
                  methods=["POST"])]


def waiting_approvals(found: WorkflowView, definition: WorkflowDefinitionView | None
                      ) -> list[str]:
    kinds = {s.id: s.kind for s in definition.steps} if definition else {}
    return [s.step for s in found.steps if s.state == "waiting"
            and (kinds.get(s.step) or s.kind) == "approval"]


async def instances(request: Request, client: AsyncReasonOpsClient, me: Me) -> Shown:
    state = request.query_params.get("state") or None
    workflow = request.query_params.get("workflow") or None
    filters: dict[str, Any] = {"limit": LIMIT}
    if state in STATES:
        filters["state"] = state
    if workflow:
        filters["workflow"] = workflow
    found = (await client.workflow_instances(**filters)).items
    definitions = {d.name: d for d in (await client.workflow_definitions()).items}
    running = (await client.workflow_instances(state="running", limit=LIMIT)).items
    pending = [(i, step) for i in running
               for step in waiting_approvals(i, definitions.get(i.workflow))]
    return Shown("workflows.html", {
        "instances": found, "definitions": definitions, "pending": pending,
        "states": STATES, "state": state, "workflow": workflow,
        "may_approve": me.can.get("workflow.approve", False),
        "may_reject": me.can.get("workflow.reject", False)})


@dataclass(frozen=True)
class Column:
    """Steps at one depth of the graph: each runs after steps of earlier columns."""

    depth: int
    steps: list[dict[str, Any]]


def graph(found: WorkflowView, definition: WorkflowDefinitionView | None) -> list[Column]:
    """The instance's steps in columns by depth (longest path from a step without
    dependencies), each with its state and what it waits for."""
    runs = {s.step: s for s in found.steps}
    specs = {s.id: s for s in definition.steps} if definition else {}
    names = list(specs) or list(runs)
    depth: dict[str, int] = {}

    def depth_of(name: str, seen: frozenset[str] = frozenset()) -> int:
        if name not in depth:
            parents = [p for p in (specs[name].depends_on if name in specs else [])
                       if p not in seen]
            depth[name] = 1 + max((depth_of(p, seen | {name}) for p in parents), default=-1)
        return depth[name]

    columns: dict[int, list[dict[str, Any]]] = {}
    for name in names:
        run = runs.get(name)
        spec = specs.get(name)
        columns.setdefault(depth_of(name), []).append({
            "id": name, "kind": (spec.kind if spec else run.kind if run else ""),
            "state": run.state if run else "pending", "after": spec.depends_on if spec else [],
            "when": spec.when if spec else None, "run": run})
    return [Column(d, columns[d]) for d in sorted(columns)]


async def instance(request: Request, client: AsyncReasonOpsClient, me: Me) -> Shown:
    found = await client.get_workflow(request.path_params["workflow_id"])
    definitions = {d.name: d for d in (await client.workflow_definitions()).items}
    definition = definitions.get(found.workflow)
    return Shown("workflow.html", {
        "instance": found, "columns": graph(found, definition),
        "approvals": waiting_approvals(found, definition),
        "may_approve": me.can.get("workflow.approve", False),
        "may_reject": me.can.get("workflow.reject", False)})
