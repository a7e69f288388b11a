"""Reads are authorised too: a principal sees the incidents, SLA clocks, ledger entries,
silences and problems of the teams and services its roles cover, and nothing else; one
with no role reads nothing, and every refused read is on record."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reasonops_contracts import ReplyError
from reasonops_contracts.finance import (
    GetIncidentCost,
    IncidentCostView,
    LedgerEntryList,
    ListLedgerEntries,
)
from reasonops_contracts.incidents import (
    CloseIncident,
    CorrelationRulesView,
    CountIncidents,
    CreateSilence,
    GetCorrelationRules,
    GetIncident,
    GetSilence,
    IncidentCounts,
    IncidentList,
    IncidentView,
    ListIncidents,
    ListProblems,
    ListSilences,
    ProblemList,
    ResolveIncident,
    SilenceList,
    SilenceView,
)
from reasonops_contracts.policy import AccessDenied
from reasonops_contracts.slm import GetSlaStatus, SlaStatus
from reasonops_finance.app import FinanceSettings
from reasonops_finance.app import build_service as build_finance
from reasonops_incidents.app import IncidentSettings
from reasonops_incidents.app import build_service as build_incidents
from reasonops_runtime import FrozenClock
from reasonops_runtime.client import request
from reasonops_slm.app import SlmSettings
from reasonops_slm.app import build_service as build_slm
from tests.support import accepted, publish_all, stream_messages, wait_for

pytestmark = pytest.mark.nats

CONFIG = Path(__file__).parents[2] / "examples" / "config"
POLICY = """
roles:
  admin: {allow: ["*"]}
  observer: {allow: []}
principals:
  user:admin: [admin]
  user:olga:
    - {role: observer, teams: [payments]}
  user:sam:
    - {role: observer, services: [search]}
  service:*: [admin]
"""


@pytest.fixture
async def stack(nc, start_service, tmp_path):
    """Incidents, SLM and finance with the example catalog (checkout: payments, search:
    discovery); one resolved incident on each service, its clocks and its cost booked."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    # Opened ten minutes ago, closed now: each incident has a downtime cost to book.
    clock = FrozenClock(datetime.now(UTC) - timedelta(minutes=10))
    shared = {"policy": policy, "service_catalog": CONFIG / "service-catalog.yaml",
              "clock": clock}
    await start_service(build_incidents, IncidentSettings, **shared)
    await start_service(build_slm, SlmSettings, **shared)
    await start_service(build_finance, FinanceSettings, finance_config=CONFIG / "finance.yaml",
                        **shared)
    await publish_all(nc, [accepted("c", service="checkout"), accepted("s", service="search")])
    found = await wait_for(lambda: request(nc, ListIncidents(actor="user:admin"), IncidentList),
                           check=lambda r: r.total == 2)
    ids = {i.service: i.incident_id for i in found.items}
    for incident_id in ids.values():
        await wait_for(lambda i=incident_id: request(
            nc, GetSlaStatus(incident_id=i, actor="user:admin"), SlaStatus),
            check=lambda s: s.clocks)
    clock.set(datetime.now(UTC))
    for incident_id in ids.values():
        for command in (ResolveIncident, CloseIncident):
            await request(nc, command(incident_id=incident_id, actor="user:admin"),
                          IncidentView)
    await wait_for(lambda: request(nc, ListLedgerEntries(actor="user:admin"), LedgerEntryList),
                   check=lambda r: {e.service for e in r.items} == {"checkout", "search"})
    return ids


async def _forbidden(nc, message, result) -> str:
    with pytest.raises(ReplyError) as err:
        await request(nc, message, result)
    assert err.value.detail.code == "forbidden"
    return err.value.detail.message


async def test_an_observer_of_a_team_reads_only_that_teams_incidents_clocks_and_entries(
        nc, stack):
    checkout, search = stack["checkout"], stack["search"]
    listed = await request(nc, ListIncidents(actor="user:olga"), IncidentList)
    assert ([i.incident_id for i in listed.items], listed.total) == ([checkout], 1)
    counts = await request(nc, CountIncidents(actor="user:olga"), IncidentCounts)
    assert counts.total == 1
    assert (await request(nc, GetIncident(incident_id=checkout, actor="user:olga"),
                          IncidentView)).service == "checkout"
    message = await _forbidden(nc, GetIncident(incident_id=search, actor="user:olga"),
                               IncidentView)
    assert message == (f"user:olga may not read {search}: team discovery, service search is "
                       "outside the scope of its roles")

    assert (await request(nc, GetSlaStatus(incident_id=checkout, actor="user:olga"),
                          SlaStatus)).clocks
    await _forbidden(nc, GetSlaStatus(incident_id=search, actor="user:olga"), SlaStatus)

    entries = await request(nc, ListLedgerEntries(actor="user:olga"), LedgerEntryList)
    assert {e.service for e in entries.items} == {"checkout"}

    # A service scope works the same way, whoever owns the service.
    listed = await request(nc, ListIncidents(actor="user:sam"), IncidentList)
    assert [i.incident_id for i in listed.items] == [search]
    entries = await request(nc, ListLedgerEntries(actor="user:sam"), LedgerEntryList)
    assert {e.service for e in entries.items} == {"search"}

    # The admin sees both.
    everything = await request(nc, ListLedgerEntries(actor="user:admin"), LedgerEntryList)
    assert {e.service for e in everything.items} == {"checkout", "search"}

    # An incident's cost, as booked, to whoever reads its service.
    cost = await request(nc, GetIncidentCost(incident_id=checkout, actor="user:olga"),
                         IncidentCostView)
    [booked] = [e for e in everything.items if e.incident_id == checkout]
    assert (cost.booked_entry_id, cost.total) == (booked.entry_id, booked.amount)
    await _forbidden(nc, GetIncidentCost(incident_id=search, actor="user:olga"),
                     IncidentCostView)


async def test_a_principal_without_a_role_reads_nothing_and_the_refusal_is_on_record(
        nc, stack):
    message = await _forbidden(nc, ListIncidents(actor="user:mallory"), IncidentList)
    assert message == ("user:mallory may not read incidents: user:mallory has no roles in "
                       "the policy.yaml policy; reads denied by default")
    await _forbidden(nc, ListLedgerEntries(actor="user:mallory"), LedgerEntryList)
    await _forbidden(nc, GetSlaStatus(incident_id=stack["checkout"], actor="user:mallory"),
                     SlaStatus)
    # nothing said of an incident, known or not, to one who may read nothing
    for incident_id in (stack["checkout"], "INC9999999"):
        await _forbidden(nc, GetIncidentCost(incident_id=incident_id, actor="user:mallory"),
                         IncidentCostView)
    denied = await wait_for(lambda: stream_messages(nc, "POLICY", AccessDenied.SUBJECT),
                            check=lambda found: len(found) >= 5)
    assert {(d.source, d.data["principal"], d.data["action"]) for d in denied} == {
        ("incidents", "user:mallory", "read"), ("finance", "user:mallory", "read"),
        ("slm", "user:mallory", "read")}


async def test_silences_are_read_within_scope_and_global_ones_by_anyone_with_a_role(
        nc, stack):
    ends = datetime.now(UTC) + timedelta(hours=1)
    made = {}
    for matchers in (["service=checkout"], ["service=search"], ["alertname=~Disk.*"]):
        view = await request(nc, CreateSilence(matchers=matchers, ends_at=ends,
                                               reason="planned", author="user:admin"),
                             SilenceView)
        made[matchers[0]] = view.silence_id

    def ids(found: SilenceList) -> set[str]:
        return {s.silence_id for s in found.items}
    olga = await request(nc, ListSilences(actor="user:olga"), SilenceList)
    assert ids(olga) == {made["service=checkout"], made["alertname=~Disk.*"]}
    sam = await request(nc, ListSilences(actor="user:sam"), SilenceList)
    assert ids(sam) == {made["service=search"], made["alertname=~Disk.*"]}
    message = await _forbidden(
        nc, GetSilence(silence_id=made["service=search"], actor="user:olga"), SilenceView)
    assert "team discovery, service search is outside the scope of its roles" in message
    await _forbidden(nc, ListSilences(actor="user:mallory"), SilenceList)
    await _forbidden(nc, ListProblems(actor="user:mallory"), ProblemList)
    assert (await request(nc, ListProblems(actor="user:olga"), ProblemList)).items == []
    await _forbidden(nc, GetCorrelationRules(actor="user:mallory"), CorrelationRulesView)
