"""End to end: `reasonops up` as a user runs it, driven over HTTP and the CLI."""

import signal
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from reasonops_runtime.settings import DEFAULT_CPU_NICE
from tests.e2e.stack import ROOT, Stack, alive, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FAST = {
    "REASONOPS_SLA_POLICIES": str(ROOT / "examples/config/sla-policies-fast.yaml"),
    "REASONOPS_SUPPLIER_CONTRACTS": str(ROOT / "examples/config/supplier-contracts.yaml"),
}


@pytest.fixture
def stack(tmp_path):
    stack = Stack(tmp_path / "data", **FAST)
    stack.start()
    yield stack
    if stack.process and stack.process.poll() is None:
        stack.stop(signal.SIGTERM)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_stack(request, tmp_path):
    """``reasonops up`` on its SQLite files, and on PostgreSQL with one URL for every
    service (a database each, created on first start)."""
    env = dict(FAST)
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        env["DATABASE_URL"] = f"postgresql+asyncpg://reasonops@{server}/up_{{service}}"
    stack = Stack(tmp_path / "data", **env)
    stack.start()
    yield stack
    if stack.process and stack.process.poll() is None:
        stack.stop(signal.SIGTERM)


def test_alert_to_ledger_and_back(any_stack):
    stack = any_stack
    response = stack.post("/v1/alertmanager", "alertmanager-firing.json")
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == 2

    # Two pods in one Alertmanager group: one incident over both (default grouping).
    incidents = wait_until(lambda: (items := stack.cli("incidents", "list")["items"])
                           and items[0]["alert_count"] == 2 and items)
    assert [(i["service"], i["priority"], i["state"]) for i in incidents] == [
        ("checkout", 1, "new")]
    assert len(stack.cli("incidents", "show", "INC0000001")["resources"]) == 2

    workflow = wait_until(lambda: _triaged(stack.cli("workflows", "show", "INC0000001")))
    triage = next(s for s in workflow["steps"] if s["step"] == "triage")
    assert triage["result"]["category"] == "application"

    # The demo policy gives P1 2 s to respond and 3 s to resolve: both clocks breach.
    status = wait_until(lambda: _breached(stack.cli("sla", "status", "INC0000001"), 2),
                        timeout=30)
    assert all(c["state"] == "breached" for c in status["clocks"])
    assert {p["supplier"] for p in status["penalties"]} == {"Acme Hosting"}
    penalties = len(status["penalties"])
    assert penalties == 2

    month = datetime.now(UTC).strftime("%Y-%m")
    summary = wait_until(lambda: (s := stack.cli("finance", "summary", "--month", month))
                         ["entries"] == penalties and s)
    assert summary["totals"] == {"EUR": "1000.00"}  # 2 breaches x P1 500.00
    assert [(ln["supplier"], ln["service"]) for ln in summary["lines"]] == [
        ("Acme Hosting", "checkout")]

    response = stack.post("/v1/alertmanager", "alertmanager-resolved.json")
    assert response.status_code == 202
    resolved = wait_until(lambda: {i["state"] for i in stack.cli("incidents", "list")["items"]}
                          == {"resolved"})
    assert resolved


def priorities(pid: int) -> tuple[int, int | None]:
    """A process's nice value, and its session's where the kernel groups by session."""
    nice = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
    group = Path(f"/proc/{pid}/autogroup")
    return nice, int(group.read_text().split()[-1]) if group.exists() else None


def test_cli_lifecycle_then_ctrl_c_stops_everything_and_data_survives(stack, tmp_path):
    # Each service yields the CPU by its tier, as its session too (ADR 54): the edge
    # keeps its share, the response path and the rest yield to it.
    tiers = {s["name"]: (s["pid"], DEFAULT_CPU_NICE[s["name"]])
             for s in stack.described["services"]}
    assert {n for n, (_, nice) in tiers.items() if nice == 0} == {"ingest", "incidents",
                                                                   "gateway"}
    grouped = Path("/proc/self/autogroup").exists()

    def on_their_tiers() -> bool:  # a session's value is set from a thread, soon after
        off = {n: priorities(pid) for n, (pid, nice) in tiers.items()
               if priorities(pid) != (nice, nice if grouped else None)}
        assert not off, off
        return True

    wait_until(on_their_tiers)
    assert stack.post("/v1/alertmanager", "alertmanager-firing.json").status_code == 202
    wait_until(lambda: stack.cli("incidents", "list")["items"])
    assert stack.cli("incidents", "ack", "INC0000001")["state"] == "acknowledged"
    refused = stack.cli("incidents", "close", "INC0000001", check=False)
    assert refused.returncode == 1
    assert "illegal_transition" in refused.stderr
    view = stack.cli("incidents", "resolve", "INC0000001", "--note", "rolled back")
    assert (view["state"], view["note"]) == ("resolved", "rolled back")
    assert stack.cli("incidents", "close", "INC0000001")["state"] == "closed"
    # The P1 was a major incident: its workflow recorded a review when it resolved.
    review = wait_until(lambda: stack.cli("workflows", "review", "INC0000001"))
    assert (review["workflow_id"], set(review["decisions"])) == ("MI-INC0000001",
                                                                {"triage", "rca"})
    assert "state_changed" in {t["kind"] for t in review["timeline"]}

    published = stack.cli("publish", "--name", "DiskFull", "--service", "billing",
                          "--severity", "error", "--resource", "db-3")
    assert published["subject"] == "itsm.ingest.raw.event"
    billing = wait_until(lambda: stack.cli("incidents", "list", "--service", "billing")["items"])
    assert [(i["priority"], i["resource"]) for i in billing] == [(2, "db-3")]

    _a_less_privileged_operator_as_the_guide_shows(stack)

    _the_rest_api_with_the_token_up_issued(stack)

    pids = stack.pids()
    assert len(pids) == 15  # nats-server, thirteen services and the gateway
    took = stack.stop(signal.SIGINT)
    assert took < 10
    assert not [pid for pid in pids if alive(pid)]

    again = Stack(stack.data_dir, **FAST)
    again.start()
    try:
        shown = again.cli("incidents", "show", "INC0000001")
        assert (shown["state"], shown["note"]) == ("closed", "rolled back")
        # A finished instance is read back by an orchestrator that never ran it.
        assert again.cli("workflows", "show", "MI-INC0000001")["state"] == "completed"
        assert again.cli("workflows", "review", "INC0000001") == review
    finally:
        again.stop(signal.SIGTERM)


def _the_rest_api_with_the_token_up_issued(stack):
    """The gateway on its own NATS identity (speaking for people, reading streams as a
    client): every kind of answer it builds works under the broker's real permissions."""
    headers = {"Authorization": f"Bearer {stack.api_token()}"}
    with httpx.Client(base_url=stack.gateway_url, headers=headers, timeout=15) as api:
        assert api.get("/api/me").json()["principal"] == "user:admin"
        listed = api.get("/api/incidents", params={"service": "billing"}).json()
        assert [i["resource"] for i in listed["items"]] == ["db-3"]
        trail = api.get("/api/incidents/INC0000001/audit")
        assert trail.status_code == 200, trail.text
        assert {"itsm.incident.opened.v1", "itsm.incident.closed.v1"} <= {
            e["type"] for e in trail.json()["items"]}
        decisions = api.get("/api/agents/decisions", params={"limit": 5})
        assert decisions.status_code == 200, decisions.text
        assert decisions.json()["total"] >= 1
        health = api.get("/api/agents/health").json()
        assert health["rules"]["status"] == "healthy"
        board = api.get("/api/dashboard").json()
        assert board["open_incidents"] >= 1
        # The CLI builds the same views from the same queries, over NATS.
        assert stack.cli("dashboard")["open_by_priority"] == board["open_by_priority"]
        contracts = stack.cli("report", "contracts")["items"]
        assert contracts == api.get("/api/sla/contracts").json()["items"]
        assert stack.cli("report", "metrics", "--period-days", "7")["period"] == "last-7d"
        # Second-scale targets: both clocks of the open incident (billing) breach.
        def both_breached() -> list[dict] | None:
            found = api.get("/api/sla/clocks", params={"attention": "breached"}).json()
            kinds = {c["kind"] for c in found["items"]}
            return found["items"] if kinds == {"response", "resolution"} else None
        breached = wait_until(both_breached)
        assert [c["clock_id"] for c in stack.cli("sla", "clocks", "breached")["items"]] == [
            c["clock_id"] for c in breached]
        assert stack.cli("sla", "policies") == api.get("/api/sla/policies").json()
        assert stack.cli("report", "monthly")["month"] == board["month"]
        configured = api.post("/api/agents/configure-llm", json={
            "provider": "ollama", "model": "llama3.1", "agent": "triage"})
        assert configured.status_code == 200, configured.text
        acked = api.post("/api/incidents/INC0000002/acknowledge", json={"note": "via API"})
        assert acked.json()["state"] == "acknowledged"
        assert api.get("/api/incidents").status_code == 200
    shown = stack.cli("incidents", "show", "INC0000002")
    assert [e["actor"] for e in shown["timeline"] if e["kind"] == "state_changed"] == [
        "user:admin"]
    # The triage agent watched its key in the bucket and switched, under its own identity.
    switched = wait_until(lambda: [s for s in stack.cli("agents", "providers", "--wait", "1")
                                   if s["agent"] == "triage"
                                   and s["chain"] == "ollama:llama3.1 -> rules"])
    assert switched[0]["configured_by"] == "user:admin"
    # The service desk opens one by hand: triage and the workflow follow as for any.
    opened = stack.cli("incidents", "create", "--title", "VPN drops every 10 minutes",
                       "--service", "billing", "--impact", "2", "--urgency", "1",
                       "--caller", "Rui", "--category", "network")
    assert (opened["priority"], opened["labels"]["source"]) == (2, "service-desk")
    wait_until(lambda: _triaged(stack.cli("workflows", "show", opened["incident_id"])))
    clocks = wait_until(lambda: stack.cli("sla", "status", opened["incident_id"])["clocks"])
    assert {c["kind"] for c in clocks} >= {"response", "resolution"}
    raised = stack.cli("incidents", "priority", opened["incident_id"], "--impact", "1",
                       "--urgency", "1", "--reason", "the whole office is affected")
    assert (raised["priority"], raised["major"]) == (1, True)
    # Tokens from the CLI, over NATS, as the guide shows.
    issued = stack.cli("tokens", "create", "--name", "ci", "--json")
    assert issued["token"].startswith("ro_")
    with httpx.Client(base_url=stack.gateway_url, timeout=15,
                      headers={"Authorization": f"Bearer {issued['token']}"}) as api:
        assert api.get("/api/me").status_code == 200
        stack.cli("tokens", "revoke", issued["token_id"])
        assert api.get("/api/me").status_code == 401


def _a_less_privileged_operator_as_the_guide_shows(stack):
    """docs/guides/identity-and-policy.md, "Who you are": ``identities add``, the new key
    used, ``--as`` refused."""
    made = stack.run("identities", "add", "bob")
    assert made.returncode == 0, made.stderr
    assert "bob created: acts as user:bob" in made.stdout
    listed = stack.cli("identities", "list")
    assert (listed["bob"]["kind"], listed["operator"]["principal"]) == ("operator", "user:admin")
    bob = {"REASONOPS_NATS_CREDS": str(stack.data_dir / "credentials" / "bob.nk")}
    # The embedded server re-reads its configuration: bob connects without a restart.
    seen = wait_until(lambda: (r := stack.run("incidents", "list", **bob)).returncode == 0 and r)
    assert "INC0000001" in seen.stdout
    refused = stack.run("--as", "user:alice", "incidents", "ack", "INC0000002", **bob)
    assert refused.returncode == 1
    assert refused.stderr == (
        "error: forbidden: itsm.incident.cmd.acknowledge: identity 'bob' may not speak for "
        "user:alice (it speaks for user:bob)\n")
    kept = stack.data_dir.parent / "bob-kept.nk"  # a copy someone kept of the removed key
    kept.write_bytes(Path(bob["REASONOPS_NATS_CREDS"]).read_bytes())
    assert stack.run("identities", "remove", "bob").returncode == 0
    assert not Path(bob["REASONOPS_NATS_CREDS"]).exists()
    gone = wait_until(lambda: (r := stack.run("incidents", "list", REASONOPS_NATS_CREDS=str(
        kept), REASONOPS_IDENTITY="bob")).returncode != 0 and r)
    assert "refused the credentials" in gone.stderr


def _triaged(workflow):
    steps = {s["step"]: s for s in workflow["steps"]}
    return workflow if steps.get("triage", {}).get("state") == "completed" else None


def _breached(status, clocks):
    breached = [c for c in status["clocks"] if c["state"] == "breached"]
    return status if len(breached) >= clocks and status["penalties"] else None
