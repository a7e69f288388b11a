"""Principals come from signed claims, checked against the registry ``reasonops up``
writes (ADR 0030): no default actor, no ``service:anything``, no ``group:`` principal,
an operator's ``--as`` only within what its identity may speak for, and every refusal a
typed ``forbidden`` reply with an ``itsm.policy.access.denied`` record.

Each spoofing case here was accepted before claims existed: the payload's ``actor``
(or its ``cli`` default) was the principal."""

import asyncio
import base64
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reasonops_cli.credentials import OPERATOR, add_operator, ensure_identities, seed_file
from reasonops_contracts import ErrorDetail, Reply, ReplyError
from reasonops_contracts.finance import ClosePeriod, ListPeriods, PeriodList, PeriodView
from reasonops_contracts.incidents import (
    GetIncident,
    IncidentList,
    IncidentView,
    ListIncidents,
    ResolveIncident,
)
from reasonops_contracts.policy import AccessDenied
from reasonops_contracts.workflows import ApproveStep
from reasonops_finance.app import FinanceSettings
from reasonops_finance.app import build_service as build_finance
from reasonops_incidents.app import IncidentSettings
from reasonops_incidents.app import build_service as build_incidents
from reasonops_orchestrator.app import OrchestratorSettings
from reasonops_orchestrator.app import build_service as build_orchestrator
from reasonops_runtime import claims
from reasonops_runtime.broker import connect
from reasonops_runtime.client import request
from tests.support import accepted, publish_all, stream_messages, wait_for

pytestmark = pytest.mark.nats

CONFIG = Path(__file__).parents[2] / "examples" / "config"


@pytest.fixture
def identities(tmp_path: Path) -> Path:
    """Identities made exactly as ``reasonops up`` makes them, plus an operator ``bob``
    made as ``reasonops identities add bob --principal user:bob`` makes it."""
    folder = tmp_path / "up"
    ensure_identities(folder)
    add_operator(folder, "bob", "user:bob")
    return folder


async def _client(nats_url: str, folder: Path | None, identity: str | None,
                  principal: str | None = None):
    nc = await connect(nats_url)
    if folder is not None and identity is not None:
        claims.attach(nc, claims.Signer.from_file(identity, seed_file(folder, identity),
                                                  principal))
    return nc


async def _refused(nc, message, result=PeriodView) -> ErrorDetail:
    with pytest.raises(ReplyError) as err:
        await request(nc, message, result)
    assert err.value.detail.code == "forbidden", err.value.detail
    return err.value.detail


async def _denials(nc, n: int):
    return await wait_for(lambda: stream_messages(nc, "POLICY", AccessDenied.SUBJECT),
                          check=lambda found: len(found) >= n)


async def test_a_command_without_a_signed_principal_is_refused_and_changes_nothing(
        nats_url, start_service, identities):
    """Was: a command with no actor ran as ``cli``, an admin (closing a period)."""
    await start_service(build_finance, FinanceSettings, identities=identities / "identities.json")
    anonymous = await _client(nats_url, None, None)
    operator = await _client(nats_url, identities, OPERATOR)
    try:
        for message in (ClosePeriod(month="2026-03"), ClosePeriod(month="2026-03", actor="cli")):
            detail = await _refused(anonymous, message)
            assert detail.message == ("itsm.finance.cmd.close_period: the request carries no "
                                      "signed principal; ReasonOps answers only authenticated "
                                      "senders")
            assert detail.field == "actor"
        periods = await request(operator, ListPeriods(), PeriodList)
        assert periods.items == []
        denied = await _denials(operator, 2)
        assert {d.data["principal"] for d in denied} == {"(unauthenticated)"}
        assert {d.source for d in denied} == {"finance"}
        # The local operator is a named admin; its own close goes through, as user:admin.
        closed = await request(operator, ClosePeriod(month="2026-03"), PeriodView)
        assert closed.closed_by == "user:admin"
    finally:
        await anonymous.close()
        await operator.close()


async def test_no_identity_speaks_for_a_service_it_is_not(nats_url, start_service, identities):
    """Was: ``service:anything`` held the built-in policy's automation role, so any sender
    could approve a workflow step or close a period with it."""
    registry = identities / "identities.json"
    await start_service(build_finance, FinanceSettings, identities=registry)
    await start_service(build_orchestrator, OrchestratorSettings, identities=registry)
    operator = await _client(nats_url, identities, OPERATOR)
    agent = await _client(nats_url, identities, "agent-triage")
    try:
        detail = await _refused(operator, ClosePeriod(month="2026-04", actor="service:anything"))
        assert detail.message.endswith("identity 'operator' may not speak for service:anything "
                                       "(it speaks for user:admin, user:*)")
        detail = await _refused(operator, ApproveStep(workflow_id="WF-INC0000001",
                                                      step="approve", actor="service:anything"))
        assert "may not speak for service:anything" in detail.message
        detail = await _refused(agent, ApproveStep(workflow_id="WF-INC0000001", step="approve",
                                                   actor="service:orchestrator"))
        assert detail.message.endswith("identity 'agent-triage' may not speak for "
                                       "service:orchestrator (it speaks for agent:triage)")
        periods = await request(operator, ListPeriods(), PeriodList)
        assert periods.items == []
        # A service speaks for itself: the orchestrator's own identity may close a period
        # under the built-in policy (automation), as it would from a workflow step.
        orchestrator = await _client(nats_url, identities, "orchestrator",
                                     "service:orchestrator")
        try:
            closed = await request(orchestrator, ClosePeriod(month="2026-04"), PeriodView)
            assert closed.closed_by == "service:orchestrator"
        finally:
            await orchestrator.close()
    finally:
        await operator.close()
        await agent.close()


async def test_a_group_cannot_be_claimed_only_held_through_the_policy_file(
        nats_url, nc, start_service, identities):
    """Was: claiming ``group:payments-oncall`` was enough to resolve a payments incident."""
    await start_service(build_incidents, IncidentSettings, policy=CONFIG / "policy.yaml",
                        service_catalog=CONFIG / "service-catalog.yaml",
                        identities=identities / "identities.json")
    operator = await _client(nats_url, identities, OPERATOR)
    try:
        await publish_all(nc, [accepted("a")])
        await wait_for(lambda: request(operator, ListIncidents(), IncidentList),
                       check=lambda r: len(r.items) == 1)
        detail = await _refused(operator, ResolveIncident(
            incident_id="INC0000001", actor="group:payments-oncall"), IncidentView)
        assert "a group is not a principal; membership comes from the policy file" in \
            detail.message
        view = await request(operator, GetIncident(incident_id="INC0000001"), IncidentView)
        assert view.state == "new"
        # Alice is in the group, so the group's role is hers.
        resolved = await request(operator, ResolveIncident(incident_id="INC0000001",
                                                           actor="user:alice"), IncidentView)
        assert resolved.state == "resolved"
    finally:
        await operator.close()


async def test_a_claim_holds_only_for_the_subject_body_and_time_it_was_signed_for(
        nats_url, start_service, identities):
    await start_service(build_finance, FinanceSettings, identities=identities / "identities.json")
    nc = await connect(nats_url)
    signer = claims.Signer.from_file(OPERATOR, seed_file(identities, OPERATOR), "user:admin")
    subject = ClosePeriod.SUBJECT

    async def send(body: bytes, headers: dict[str, str]) -> Reply:
        raw = await nc.request(subject, body, headers=headers, timeout=5)
        return Reply.model_validate_json(raw.data)

    try:
        signed_for = ClosePeriod(month="2026-05").model_dump_json().encode()
        other = ClosePeriod(month="2026-06").model_dump_json().encode()
        stale = signer.headers(subject, signed_for, now=time.time() - 900)
        forged = dict(signer.headers(subject, signed_for),
                      **{claims.SIGNATURE: base64.b64encode(b"x" * 64).decode()})
        unknown = dict(signer.headers(subject, signed_for), **{claims.SIGNER: "mallory"})
        refusals = {
            "another body": (other, signer.headers(subject, signed_for)),
            "another subject": (signed_for, signer.headers(ListPeriods.SUBJECT, signed_for)),
            "too old": (signed_for, stale),
            "not its signature": (signed_for, forged),
            "unknown identity": (signed_for, unknown)}
        reasons = {}
        for case, (body, headers) in refusals.items():
            reply = await send(body, headers)
            assert reply.error is not None, case
            assert reply.error.code == "forbidden", case
            reasons[case] = reply.error.message.split(": ", 1)[1]
        assert reasons == {
            "another body": "the signature of identity 'operator' does not verify",
            "another subject": "the signature of identity 'operator' does not verify",
            "too old": "the claim of identity 'operator' was signed 900s ago (at most 300s)",
            "not its signature": "the signature of identity 'operator' does not verify",
            "unknown identity": "identity 'mallory' is not in the registry"}
        reply = await send(signed_for, signer.headers(subject, signed_for))
        assert reply.ok, reply.error
    finally:
        await nc.close()


async def _cli(nats_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "reasonops_cli", *args, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, "NATS_URL": nats_url, **env})
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return subprocess.CompletedProcess(args, process.returncode or 0, out.decode(),
                                       err.decode())


async def test_the_cli_acts_as_only_what_its_operator_credential_allows(
        nats_url, nc, start_service, identities):
    """The local operator may act as any user (``--as user:alice``); a less privileged
    operator made with ``reasonops identities add`` only as itself."""
    await start_service(build_incidents, IncidentSettings, policy=CONFIG / "policy.yaml",
                        service_catalog=CONFIG / "service-catalog.yaml",
                        identities=identities / "identities.json")
    operator = await _client(nats_url, identities, OPERATOR)
    await publish_all(nc, [accepted("a")])
    await wait_for(lambda: request(operator, ListIncidents(), IncidentList),
                   check=lambda r: len(r.items) == 1)
    as_bob = {"REASONOPS_IDENTITY_KEY": str(seed_file(identities, "bob")),
              "REASONOPS_IDENTITY": "bob"}
    refused = await _cli(nats_url, "--as", "user:alice", "incidents", "ack", "INC0000001",
                         **as_bob)
    assert refused.returncode == 1
    assert "identity 'bob' may not speak for user:alice (it speaks for user:bob)" in \
        refused.stderr
    own = await _cli(nats_url, "incidents", "ack", "INC0000001", **as_bob)
    assert own.returncode == 1
    assert "user:bob may not incident.acknowledge INC0000001" in own.stderr
    as_operator = {"REASONOPS_IDENTITY_KEY": str(seed_file(identities, OPERATOR)),
                   "REASONOPS_IDENTITY": OPERATOR}
    acked = await _cli(nats_url, "--as", "user:alice", "incidents", "ack", "INC0000001",
                       **as_operator)
    assert acked.returncode == 0, acked.stderr
    view = await request(operator, GetIncident(incident_id="INC0000001"), IncidentView)
    assert [e.actor for e in view.timeline if e.kind == "state_changed"] == ["user:alice"]
    await operator.close()
