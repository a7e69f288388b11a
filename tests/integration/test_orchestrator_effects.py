"""Steps' effects run side by side: a webhook that does not answer holds back no other
notification, and its own is delivered once it answers; on PostgreSQL two replicas
share the effects and none is delivered twice. Real orchestrators, a real webhook
receiver on loopback."""

import asyncio
import json
from datetime import UTC, datetime

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reasonops_contracts import Envelope
from reasonops_contracts.incidents import IncidentOpened
from reasonops_contracts.workflows import GetWorkflow, WorkflowView
from reasonops_orchestrator.app import OrchestratorSettings
from reasonops_orchestrator.app import build_service as build_orchestrator
from reasonops_runtime.client import request
from reasonops_runtime.http import HttpServer
from reasonops_runtime.ports import free_port
from tests.support import wait_for

pytestmark = pytest.mark.nats

STUCK = "INC0000001"
OTHERS = [f"INC{n:07d}" for n in range(2, 42)]
FLOW = """
name: tell-the-team
version: 1
trigger: {event: IncidentOpened, key: incident_id}
steps:
  - {id: tell, kind: notify, group: team, title: "${trigger.incident_id}", text: "opened"}
"""


class Webhook:
    """Answers every notification at once, except the stuck incident's: that one waits
    until released."""

    def __init__(self) -> None:
        self.port = free_port()
        self.delivered: list[str] = []
        self.holding = asyncio.Event()
        self.release = asyncio.Event()
        self.server = HttpServer(Starlette(routes=[Route("/hook", self._hook,
                                                         methods=["POST"])]),
                                 "127.0.0.1", self.port)

    async def _hook(self, request: Request) -> Response:
        incident = json.loads(await request.body())["incident_id"]
        if incident == STUCK:
            self.holding.set()
            await self.release.wait()
        self.delivered.append(incident)
        return Response(status_code=200)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def replicas(request) -> list[dict[str, str]]:
    """One orchestrator on its own SQLite file, or two sharing a PostgreSQL database."""
    if request.param == "sqlite":
        return [{}]
    url = request.getfixturevalue("postgres_database")()
    return [{"database_url": url, "instance": f"orchestrator-{n}"} for n in (1, 2)]


def opened(incident_id: str) -> Envelope:
    event = IncidentOpened(
        incident_id=incident_id, title="Disk full", service="files", severity="warning",
        impact=3, urgency=3, priority=4, priority_reason="test", fingerprint=f"fp-{incident_id}",
        labels={}, opened_at=datetime.now(UTC))
    return Envelope.wrap(event, source="incidents", subject=incident_id)


async def test_a_webhook_that_does_not_answer_holds_back_no_other(nc, start_service, tmp_path,
                                                                  replicas):
    webhook = Webhook()
    await webhook.server.start()
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "tell-the-team.yaml").write_text(FLOW)
    notifications = tmp_path / "notifications.yaml"
    notifications.write_text(f"""groups:
  team:
    - {{name: team-hook, url: "http://127.0.0.1:{webhook.port}/hook", timeout_seconds: 60}}
""")
    try:
        for replica in replicas:
            await start_service(build_orchestrator, OrchestratorSettings, workflows_dir=flows,
                                notifications=notifications, effect_concurrency=10,
                                **replica)
        js = nc.jetstream()
        for incident in [STUCK, *OTHERS]:
            envelope = opened(incident)
            await js.publish(IncidentOpened.SUBJECT, envelope.to_bytes(),
                             headers=envelope.headers())
            if incident == STUCK:  # its notification is in flight before the others
                await asyncio.wait_for(webhook.holding.wait(), 15)

        # Four times a runner's room: each finished notification makes room for the next.
        await wait_for(lambda: sorted(webhook.delivered) == OTHERS, timeout=30)
        stuck = await request(nc, GetWorkflow(workflow_id=f"tell-the-team-{STUCK}"),
                              WorkflowView)
        assert stuck.state == "running"

        webhook.release.set()

        async def completed() -> bool:
            view = await request(nc, GetWorkflow(workflow_id=f"tell-the-team-{STUCK}"),
                                 WorkflowView)
            return view.state == "completed"

        await wait_for(completed, timeout=15)
        assert sorted(webhook.delivered) == sorted([STUCK, *OTHERS])  # each once
    finally:
        webhook.release.set()
        await webhook.server.stop()
