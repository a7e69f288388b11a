"""Idle services ask their databases next to nothing, and work that arrives is still
taken at once: the timer wheel, the outbox sweep, the agents' request queue and the
orchestrator's effect runner are woken by what their own process commits, and only
look on their own every few seconds (for another replica's work). Real services on a
real nats-server, a real webhook receiver on loopback."""

import asyncio

import pytest

from reasonops_agent_triage.app import TriageSettings
from reasonops_agent_triage.app import build_service as build_triage
from reasonops_contracts.agents import AgentDecisionRecorded
from reasonops_contracts.incidents import IncidentOpened
from reasonops_orchestrator.app import OrchestratorSettings
from reasonops_orchestrator.app import build_service as build_orchestrator
from tests.integration.test_orchestrator_effects import FLOW, OTHERS, Webhook, opened
from tests.support import wait_for

pytestmark = pytest.mark.nats


async def test_idle_services_ask_their_databases_next_to_nothing(start_service):
    """Before, each service polled its timers four times a second, its outbox twice
    (two statements each) and, for an agent, its request queue five times: an idle
    stack of fifteen processes took a quarter of a core."""
    orchestrator = await start_service(build_orchestrator, OrchestratorSettings)
    triage = await start_service(build_triage, TriageSettings)
    await asyncio.sleep(1.5)  # the first looks of each loop
    counted: dict[str, list[float]] = {"orchestrator": [], "triage": []}
    orchestrator.store.time_statements(counted["orchestrator"].append)
    triage.store.time_statements(counted["triage"].append)
    await asyncio.sleep(3)
    # Within 3 s: at most one recheck of the timers (2 statements) and of the outbox
    # (2), the effect runner's or the queue's look every 2 s (up to 2 each, with the
    # claim's transaction) and the orchestrator's gauge (every 5 s); before: > 100 each.
    assert len(counted["orchestrator"]) <= 12, len(counted["orchestrator"])
    assert len(counted["triage"]) <= 10, len(counted["triage"])


async def test_work_is_taken_at_once_though_the_loops_look_only_hourly(nc, start_service,
                                                                       tmp_path):
    """With every fallback look an hour away, an opened incident still gets its triage
    decision and its notification: the commit that queued them woke the loop."""
    webhook = Webhook()
    await webhook.server.start()
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "tell-the-team.yaml").write_text(FLOW)
    notifications = tmp_path / "notifications.yaml"
    notifications.write_text(f"""groups:
  team:
    - {{name: team-hook, url: "http://127.0.0.1:{webhook.port}/hook"}}
""")
    try:
        await start_service(build_orchestrator, OrchestratorSettings, workflows_dir=flows,
                            notifications=notifications, effect_poll_seconds=3600)
        await start_service(build_triage, TriageSettings, queue_poll_seconds=3600)
        await asyncio.sleep(1.0)  # every loop has had its first look and now waits
        decided: list[bytes] = []

        async def record(msg) -> None:
            decided.append(msg.data)

        sub = await nc.subscribe(AgentDecisionRecorded.SUBJECT, cb=record)
        incident = OTHERS[0]
        envelope = opened(incident)
        await nc.jetstream().publish(IncidentOpened.SUBJECT, envelope.to_bytes(),
                                     headers=envelope.headers())
        await wait_for(lambda: webhook.delivered == [incident], timeout=20)
        await wait_for(lambda: decided, timeout=20)
        await sub.unsubscribe()
    finally:
        webhook.release.set()
        await webhook.server.stop()
