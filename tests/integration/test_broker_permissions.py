"""The broker refuses what an identity is not for, on a nats-server configured exactly as
`reasonops up` configures it: each forbidden action is refused by the server (not by
our code), and its allowed counterpart goes through."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from nats.js.errors import APIError

from reasonops_cli.credentials import OPERATOR, seed_file
from reasonops_cli.supervisor import Supervisor
from reasonops_contracts import subjects
from reasonops_runtime.permissions import inbox_prefix
from reasonops_runtime.ports import free_port_range

pytestmark = pytest.mark.nats


class Identity:
    """A connection as one identity, collecting the server's refusals."""

    def __init__(self, name: str | None) -> None:
        self.name = name
        self.errors: list[str] = []
        self.nc: nats.NATS | None = None

    async def connect(self, url: str, data_dir: Path) -> "Identity":
        async def record(exc: Exception) -> None:
            self.errors.append(str(exc))

        options = {} if self.name is None else {
            "nkeys_seed": str(seed_file(data_dir, self.name)),
            "inbox_prefix": inbox_prefix(self.name)}
        self.nc = await nats.connect(url, error_cb=record, allow_reconnect=False,
                                     connect_timeout=3, **options)
        return self

    async def refused(self, subject: str) -> bool:
        """Whether the server has refused something on ``subject`` (waits a little)."""
        assert self.nc is not None
        await self.nc.flush()
        for _ in range(50):
            # nats-py hands the server's -ERR over in lower case.
            if any("violation" in e.lower() and f'"{subject.lower()}"' in e.lower()
                   for e in self.errors):
                return True
            await asyncio.sleep(0.02)
        return False


@pytest.fixture
async def broker(tmp_path) -> AsyncIterator[tuple[str, Path]]:
    """`reasonops up`'s embedded server (its identities, permissions and streams), with no
    service started."""
    port = free_port_range(2)
    up = Supervisor(data_dir=tmp_path / "data", nats_url=None, nats_port=port,
                    nats_monitor_port=port + 1, ports={})
    await asyncio.to_thread(up.start)
    yield up.nats_url, up.data_dir
    await asyncio.to_thread(up.stop)


@pytest.fixture
async def as_(broker):
    url, data_dir = broker
    opened: list[Identity] = []

    async def connect(name: str | None) -> Identity:
        identity = await Identity(name).connect(url, data_dir)
        opened.append(identity)
        return identity

    yield connect
    for identity in opened:
        if identity.nc is not None and not identity.nc.is_closed:
            await identity.nc.close()


async def test_an_agent_cannot_send_an_incident_command_the_orchestrator_can(as_):
    agent = await as_("agent-triage")
    await agent.nc.publish(subjects.INCIDENT_CMD_ACKNOWLEDGE, b"{}")
    assert await agent.refused(subjects.INCIDENT_CMD_ACKNOWLEDGE)

    orchestrator = await as_("orchestrator")
    await orchestrator.nc.publish(subjects.INCIDENT_CMD_ACKNOWLEDGE, b"{}")
    assert not await orchestrator.refused(subjects.INCIDENT_CMD_ACKNOWLEDGE)


async def test_an_agent_cannot_forge_a_penalty_slm_can(as_):
    agent = await as_("agent-rca")
    with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError)):
        await agent.nc.jetstream().publish(subjects.PENALTY_ASSESSED, b"{}", timeout=1)
    assert await agent.refused(subjects.PENALTY_ASSESSED)

    slm = await as_("slm")
    ack = await slm.nc.jetstream().publish(subjects.PENALTY_ASSESSED, b"{}", timeout=5)
    assert ack.stream == "SLM"


async def test_ingest_cannot_publish_a_ledger_event_finance_can(as_):
    ingest = await as_("ingest")
    await ingest.nc.publish(subjects.FINANCE_ENTRY_POSTED, b"{}")
    assert await ingest.refused(subjects.FINANCE_ENTRY_POSTED)

    finance = await as_("finance")
    ack = await finance.nc.jetstream().publish(subjects.FINANCE_ENTRY_POSTED, b"{}", timeout=5)
    assert ack.stream == "FINANCE"


async def test_no_one_reads_another_identitys_inbox(as_):
    agent = await as_("agent-triage")
    theirs = f"{inbox_prefix('incidents')}.>"
    await agent.nc.subscribe(theirs)
    assert await agent.refused(theirs)

    ours = f"{inbox_prefix('agent-triage')}.>"
    await agent.nc.subscribe(ours)
    assert not await agent.refused(ours)


async def test_no_one_joins_another_services_queue_group(as_):
    agent = await as_("agent-security")
    subject = subjects.INCIDENT_CMD_RESOLVE
    await agent.nc.subscribe(subject, queue="incidents")
    assert await agent.refused(subject)

    incidents = await as_("incidents")
    await incidents.nc.subscribe(subject, queue="incidents")
    assert not await incidents.refused(subject)


async def test_only_the_operator_may_purge_the_audit_stream(as_):
    for name in ("agent-capacity", "incidents"):
        service = await as_(name)
        with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError,
                            APIError)):
            await service.nc.jetstream(timeout=1).purge_stream("AUDIT")
        assert await service.refused("$JS.API.STREAM.PURGE.AUDIT")

    operator = await as_(OPERATOR)
    assert await operator.nc.jetstream().purge_stream("AUDIT")


async def test_a_connection_without_credentials_is_refused(broker, as_):
    url, _ = broker
    with pytest.raises(Exception, match="Authorization Violation"):
        await nats.connect(url, allow_reconnect=False, connect_timeout=3,
                           max_reconnect_attempts=0)
    operator = await as_(OPERATOR)
    assert operator.nc.is_connected


async def test_the_cli_says_when_the_broker_refuses_it_and_what_to_do(broker, tmp_path):
    import os
    import sys

    url, data_dir = broker
    env = dict(os.environ, NATS_URL=url, REASONOPS_DATA_DIR=str(tmp_path / "elsewhere"))
    env.pop("REASONOPS_NATS_CREDS", None)
    refused = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "reasonops_cli", "incidents", "list", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await refused.communicate()
    assert refused.returncode == 1
    assert "refused the credentials" in err.decode()
    assert "REASONOPS_NATS_CREDS" in err.decode()

    env["REASONOPS_DATA_DIR"] = str(data_dir)  # the operator's key, as `up` left it
    allowed = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "reasonops_cli", "integrations", "list", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await allowed.communicate()
    assert "refused" not in err.decode()  # connected; no ingest answers in this test
