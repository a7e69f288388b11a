"""Running a scenario script against a running ReasonOps: send, wait, act.

Senders post to ingest's HTTP endpoints with an integration key, in the formats the real
tools use. People act with the commands the CLI sends (``scenario_actions``). Waits poll
queries with a timeout; a wait that times out is noted and the scenario goes on, so a
missing piece shows in the report as "not observed" instead of hanging the run.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from nats.aio.client import Client

from reasonops_client.trail import TrailEntry
from reasonops_contracts import ReplyError, new_id
from reasonops_contracts.finance import LedgerEntryList, ListLedgerEntries
from reasonops_contracts.incidents import GetIncident, IncidentList, IncidentView, ListIncidents
from reasonops_runtime.client import request

from .scenario_actions import decide, incident_command, instance_with
from .scenario_observe import agent_messages
from .scenario_script import Act, IncidentMatch, Script, Send, Wait

ENDPOINTS = {"alertmanager": ("/v1/alertmanager", "application/json"),
             "grafana": ("/v1/grafana", "application/json"),
             "pagerduty": ("/v2/enqueue", "application/json"),
             "change": ("/v2/change/enqueue", "application/json"),
             "cloudevents": ("/v1/cloudevents", "application/cloudevents+json"),
             "cloudevents-batch": ("/v1/cloudevents", "application/cloudevents-batch+json"),
             "event": ("/v1/events", "application/json")}
POLL_SECONDS = 0.25


@dataclass
class Target:
    """Where the running ReasonOps is."""

    ingest_url: str
    key: str
    nats_url: str
    data_dir: Path | None = None
    """Where ``reasonops up`` keeps the operator's NATS credentials."""


@dataclass
class Run:
    script: Script
    target: Target
    speed: float = 1.0
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    run_id: str = field(default_factory=lambda: new_id()[:8].lower())
    incidents: dict[str, str] = field(default_factory=dict)
    entries: list[TrailEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    progress: Callable[[str], None] | None = None
    """Told each step as it happens (the text report's live view)."""

    def say(self, text: str) -> None:
        if self.progress is not None:
            offset = (datetime.now(UTC) - self.started_at).total_seconds()
            self.progress(f"[+{offset:5.1f}s] {text}")

    def note(self, text: str) -> None:
        self.notes.append(text)
        self.say(text)

    def fill(self, value: Any, index: int = 1) -> Any:
        """``${KEY}``, ``${RUN}``, ``${NOW}``, ``${I}`` in every string of a body."""
        if isinstance(value, str):
            now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
            return (value.replace("${KEY}", self.target.key).replace("${RUN}", self.run_id)
                    .replace("${NOW}", now).replace("${I}", str(index)))
        if isinstance(value, list):
            return [self.fill(v, index) for v in value]
        if isinstance(value, dict):
            return {k: self.fill(v, index) for k, v in value.items()}
        return value

    def record(self, kind: str, summary: str, at: datetime, actor: str = "scenario",
               **data: Any) -> None:
        self.entries.append(TrailEntry(at, f"scenario.{kind}", self.script.name, actor,
                                       summary, new_id(), data=data))
        self.say(summary)


class Runner:
    def __init__(self, run: Run, nc: Client, http: httpx.AsyncClient) -> None:
        self.run = run
        self.nc = nc
        self.http = http

    async def play(self) -> None:
        for step in self.run.script.steps:
            if step.after:
                await asyncio.sleep(step.after / self.run.speed)
            if step.send is not None:
                await self.send(step.send)
            elif step.wait is not None:
                await self.wait(step.wait)
            elif step.act is not None:
                await self.act(step.act)

    async def send(self, send: Send) -> None:
        path, content_type = ENDPOINTS[send.format]
        if send.format == "cloudevents-batch":
            events = [self.run.fill(send.body, i) for i in range(1, send.count + 1)]
            bodies = [events[i:i + send.batch] for i in range(0, len(events), send.batch)]
        else:
            bodies = [self.run.fill(send.body)]
        accepted, statuses, at = 0, [], datetime.now(UTC)
        for body in bodies:
            response = await self.http.post(path, content=json.dumps(body), headers={
                "content-type": content_type, "authorization": f"Bearer {self.run.target.key}"})
            statuses.append(response.status_code)
            if response.status_code == 202:
                accepted += _accepted(response)
            else:
                self.run.note(f"{send.label}: ingest answered {response.status_code}: "
                                      f"{response.text[:300]}")
        shown = ",".join(sorted({str(s) for s in statuses}))
        self.run.record("sent", f"sent {send.label} ({send.format}): {shown}, "
                        f"{accepted} accepted", at=at, format=send.format, accepted=accepted)

    async def wait(self, wait: Wait) -> None:
        probe = self._probe(wait)
        deadline = time.monotonic() + wait.timeout
        while True:
            try:
                if await probe():
                    self.run.say(f"seen: {wait.label}")
                    return
            except ReplyError:
                pass  # not there yet (e.g. no workflow for the incident so far)
            if time.monotonic() >= deadline:
                self.run.note(f"not observed within {wait.timeout:.0f}s: {wait.label}")
                return
            await asyncio.sleep(POLL_SECONDS)

    def _probe(self, wait: Wait) -> Callable[[], Awaitable[bool]]:
        name = wait.incident
        if wait.opened is not None:
            match = wait.opened
            return lambda: self._bind(name, match)
        if wait.state is not None:
            states = set(wait.state)
            return lambda: self._incident(name, lambda v: v.state in states)
        if wait.major is not None:
            major = wait.major
            return lambda: self._incident(name, lambda v: v.major is major)
        if wait.proposal is not None:
            action = wait.proposal
            return lambda: self._proposal(action)
        if wait.ledger is not None:
            ledger = wait.ledger
            return lambda: self._ledger(name, ledger)
        step, counted = wait.workflow_step or "", {str(s) for s in wait.step_states}
        return lambda: self._workflow_step(name, step, counted)

    async def _bind(self, name: str, match: IncidentMatch) -> bool:
        for incident in await self.scenario_incidents():
            if (match.service is None or incident.service == match.service) and (
                    match.priority is None or incident.priority == match.priority) and (
                    match.text is None or match.text.lower() in incident.title.lower()):
                self.run.incidents[name] = incident.incident_id
                return True
        return False

    async def _incident(self, name: str, test: Callable[[IncidentView], bool]) -> bool:
        incident_id = self.run.incidents.get(name)
        if incident_id is None:
            return False
        return test(await request(self.nc, GetIncident(incident_id=incident_id), IncidentView))

    async def _proposal(self, action: str) -> bool:
        return any(e.data.get("action") == action
                   for e in await agent_messages(self.nc, self.run.started_at))

    async def _ledger(self, name: str, kind: str) -> bool:
        incident_id = self.run.incidents.get(name)
        if incident_id is None:
            return False
        found = await request(self.nc, ListLedgerEntries(incident_id=incident_id),
                              LedgerEntryList)
        return any(e.kind == kind for e in found.items)

    async def _workflow_step(self, name: str, step: str, states: set[str]) -> bool:
        incident_id = self.run.incidents.get(name)
        return incident_id is not None and \
            await instance_with(self.nc, incident_id, step, states) is not None

    async def scenario_incidents(self) -> list[IncidentView]:
        """Incidents on the scenario's services opened since it started, oldest first."""
        found: list[IncidentView] = []
        for service in self.run.script.services:
            listed = await request(self.nc, ListIncidents(
                service=service, opened_from=self.run.started_at, sort="opened_at",
                descending=False, limit=200), IncidentList)
            found += listed.items
        return sorted(found, key=lambda i: i.opened_at)

    async def act(self, act: Act) -> None:
        if act.all:
            targets = [i.incident_id for i in await self.scenario_incidents()]
        else:
            targets = [self.run.incidents[act.incident]] if act.incident in self.run.incidents \
                else []
        if not targets:
            self.run.note(f"{act.label}: skipped, no incident {act.incident!r} seen")
            return
        for incident_id in targets:
            at = datetime.now(UTC)
            if act.command in ("approve", "reject"):
                ok, shown = await decide(self.nc, act, incident_id, self.run.notes)
            else:
                ok = await incident_command(self.nc, act, incident_id, self.run.notes)
                shown = f"reasonops incidents {act.command} {incident_id}"
            self.run.record("acted", f"{act.label}: {shown}: {'done' if ok else 'refused'}",
                            at=at, actor=act.actor, incident_id=incident_id,
                            command=act.command, ok=ok)


def _accepted(response: httpx.Response) -> int:
    try:
        body = response.json()
    except ValueError:
        return 0
    if isinstance(body, dict) and isinstance(body.get("accepted"), int):
        return int(body["accepted"])
    return 1
