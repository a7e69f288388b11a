"""A month of incidents through the real SLM and finance services on a frozen clock.

Configuration (written by the test):

* SLA: P1 24x7, response 15m, resolution 4h; P2 30m / 8h. ``payroll`` P3 runs on the
  UK office schedule (Europe/London, Mon-Fri 09:00-17:00), response 2h, resolution 8h,
  paused while ``awaiting_supplier``. OLA: group ``payments`` P1, response 10m,
  resolution 2h. Maintenance on checkout 2026-03-08 02:00-04:00Z. SLO 99.95% on
  checkout, 99.9% elsewhere; impact weights 1 -> 1, 2 -> 0.5.
* Contract ACME (checkout, EUR): 500.00 per P1 breach, 100.00 per started hour beyond
  target (P1), monthly fee 20000.00, credits below 99.9% 10%, below 99.0% 25%, cap
  4500.00 a month.
* Finance: downtime per minute tier 1 (checkout) 50.00, tier 3 (payroll) 5.00;
  responders P1 2, P3 1 at 100.00/h; budgets March: checkout 20000.00, cost centre
  CC-HR (payroll) 1000.00.

March 2026 (31 days = 2,678,400 s), by hand:

A checkout P1, impact 1: opened 03-03 10:00, ack 10:05, resolved 11:00, closed 12:00.
  Both clocks met. Downtime 3,600 s. Cost: 60 min x 50 = 3000.00; effort 55 min =
  0.91667 h x 2 x 100 = 183.33; total 3183.33.
B checkout P1, impact 1: opened 03-08 01:00, never acknowledged, resolved 06:30,
  closed 07:00. Response breached at 01:15 (500.00), resolution at 05:00 (500.00);
  at resolution the response overran 5h15m -> 6 started hours (600.00), the
  resolution 1h30m -> 2 hours (200.00). Downtime 01:00-06:30 less maintenance
  02:00-04:00 = 12,600 s. Cost: 330 min x 50 = 16500.00; effort 5.5 h x 2 x 100 =
  1100.00; total 17600.00.
C payroll P3, impact 2: opened Fri 03-13 16:00 (GMT = London). Response deadline
  Fri 16-17 + Mon 09-10 = Mon 03-16 10:00; ack Mon 09:30: met. Resolution: held Mon
  11:00 (awaiting_supplier; 3 h counted), resumed Tue 03-17 10:00 (7 working hours
  paused: Mon 11-17, Tue 09-10), deadline moves from Mon 16:00 to Tue 15:00; resolved
  Tue 14:00 (7 h counted): met. Closed Tue 15:00. Downtime Fri 16:00 - Tue 14:00 =
  94 h = 338,400 s x 0.5 = 169,200 s. Cost: 5,640 min x 5 = 28200.00; effort ack
  Mon 09:30 - Tue 14:00 = 28.5 h x 1 x 100 = 2850.00; total 31050.00.
D checkout P1, impact 1: opened 03-20 12:00, assigned to payments 12:01, ack 12:20,
  resolved 13:00, closed 13:30. SLA response breached 12:15 (500.00) and overran 5
  min -> 1 hour (100.00); OLA response (10m from 12:01) breached 12:11, no penalty;
  resolution met. Downtime 3,600 s. Cost: 3000.00 + 40 min = 0.6667 h x 2 x 100 =
  133.33; total 3133.33.
E checkout P2, impact 2: opened 03-25 09:00, priority P1 at 09:20 (the response target
  becomes 15m from 09:00: breached at 09:15, 500.00), ack 09:25 (overran 10 min -> 1
  hour, 100.00), resolved 10:00. Not closed in March. Downtime 3,600 x 0.5 = 1,800 s.

Month end, checkout: due 2,678,400 - 7,200 maintenance = 2,671,200 s; downtime 3,600
+ 12,600 + 3,600 + 1,800 = 21,600 s; availability 100 - 21,600 / 2,671,200 x 100 =
99.1914%: below 99.9 -> 10% of 20000.00 = 2000.00, but the cap leaves 4500.00 -
3000.00 = 1500.00. Error budget 0.05% x 2,671,200 = 1,335.6 s, remaining -20,264 s
(-1517.25%). MTTA (A 300, D 1,200, E 1,500) = 1,000 s; MTTR (3,600, 19,800, 3,600,
3,600) = 7,650 s; MTBF (2,671,200 - 21,600) / 4 = 662,400 s; breaches 4 (B x2, D, E).
Payroll: due 2,678,400 s, downtime 169,200 s, availability 93.6828%; budget 2,678.4 s,
remaining -166,522 s (-6217.20%); MTTA 65.5 h = 235,800 s; MTTR 94 h = 338,400 s; MTBF
2,509,200 s; no breaches.

Finance, March: penalties Acme / checkout 4500.00 in 9 entries. Incident cost checkout
22500.00 downtime + 1416.66 effort = 23916.66 (3 incidents); payroll 28200.00 + 2850.00
= 31050.00. Budgets: checkout 20000.00 - 23916.66 = -3916.66; CC-HR 1000.00 - 31050.00
= -30050.00. Top incidents: C 31050.00, B 17600.00, A 3183.33, D 3133.33.
After March is closed, E closes (03-31 23:00): its cost (3000.00 + 35 min = 0.5833 h x
2 x 100 = 116.67 -> 3116.67) is posted in April with a reference to March.
"""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from reasonops_contracts import Envelope
from reasonops_contracts.finance import (
    ClosePeriod,
    EntryTrace,
    FinanceSummary,
    GetFinanceSummary,
    LedgerEntryList,
    ListLedgerEntries,
    PeriodView,
    TraceEntry,
)
from reasonops_contracts.incidents import (
    IncidentAcknowledged,
    IncidentAssigned,
    IncidentClosed,
    IncidentHeld,
    IncidentOpened,
    IncidentPriorityChanged,
    IncidentResolved,
    IncidentResumed,
)
from reasonops_contracts.slm import GetSlaReport, PenaltyAssessed, SlaAtRisk, SlaBreached, SlaReport
from reasonops_finance.app import FinanceSettings
from reasonops_finance.app import build_service as build_finance
from reasonops_runtime import FrozenClock
from reasonops_runtime.client import request
from reasonops_runtime.jetstream import drained
from reasonops_runtime.store import timers_table
from reasonops_slm.app import SlmSettings
from reasonops_slm.app import build_service as build_slm
from tests.support import cli, publish_all, stream_messages, wait_for

pytestmark = pytest.mark.nats

SLA = """
schedules:
  uk-office: {timezone: Europe/London, days: [mon, tue, wed, thu, fri], hours: 09:00-17:00}
policies:
  - {name: P1, priority: P1, response: 15m, resolution: 4h}
  - {name: P2, priority: P2, response: 30m, resolution: 8h}
  - {name: P3, priority: P3, response: 4h, resolution: 3d}
  - {name: P4, priority: P4, response: 8h, resolution: 5d}
  - {name: P5, priority: P5, response: 1d, resolution: 10d}
  - {name: Payroll P3, priority: P3, service: payroll, response: 2h, resolution: 8h,
     schedule: uk-office, pause_on: [awaiting_supplier]}
olas:
  - {group: payments, priority: P1, response: 10m, resolution: 2h}
maintenance:
  - {service: checkout, start: "2026-03-08T02:00:00Z", end: "2026-03-08T04:00:00Z"}
availability:
  slo: 99.9
  services: {checkout: 99.95}
"""
CONTRACTS = """
contracts:
  - id: ACME
    supplier: Acme
    services: [checkout]
    currency: EUR
    penalties: {P1: 500.00}
    per_hour: {P1: 100.00}
    monthly_fee: 20000.00
    availability_credits: [{below: 99.9, credit: 10}, {below: 99.0, credit: 25}]
    monthly_cap: 4500.00
"""
FINANCE = """
currency: EUR
downtime_cost_per_minute: {1: 50.00, 3: 5.00}
responder_hourly_rate: 100.00
responders: {P1: 2, P3: 1}
cost_centres: {payroll: CC-HR}
budgets:
  - {service: checkout, month: 2026-03, amount: 20000.00}
  - {cost_centre: CC-HR, month: 2026-03, amount: 1000.00}
"""
CATALOG = """
services:
  - {name: checkout, tier: 1}
  - {name: payroll, tier: 3}
"""


def t(day, hour, minute=0):
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def wrap(event, incident_id):
    return Envelope.wrap(event, source="incidents", subject=incident_id)


def opened(incident_id, service, priority, impact, at):
    return wrap(IncidentOpened(
        incident_id=incident_id, title=f"{service} trouble", service=service,
        severity="critical", impact=impact, urgency=1, priority=priority,
        priority_reason="test", fingerprint=f"fp-{incident_id}", opened_at=at), incident_id)


def ack(i, at):
    return wrap(IncidentAcknowledged(incident_id=i, acknowledged_at=at, actor="oncall"), i)


def resolve(i, at):
    return wrap(IncidentResolved(incident_id=i, resolved_at=at, actor="oncall"), i)


def close(i, at):
    return wrap(IncidentClosed(incident_id=i, closed_at=at, actor="oncall"), i)


TIMELINE = [
    (t(3, 10), lambda: opened("INC0000001", "checkout", 1, 1, t(3, 10))),
    (t(3, 10, 5), lambda: ack("INC0000001", t(3, 10, 5))),
    (t(3, 11), lambda: resolve("INC0000001", t(3, 11))),
    (t(3, 12), lambda: close("INC0000001", t(3, 12))),
    (t(8, 1), lambda: opened("INC0000002", "checkout", 1, 1, t(8, 1))),
    (t(8, 6, 30), lambda: resolve("INC0000002", t(8, 6, 30))),
    (t(8, 7), lambda: close("INC0000002", t(8, 7))),
    (t(13, 16), lambda: opened("INC0000003", "payroll", 3, 2, t(13, 16))),
    (t(16, 9, 30), lambda: ack("INC0000003", t(16, 9, 30))),
    (t(16, 11), lambda: wrap(IncidentHeld(
        incident_id="INC0000003", held_at=t(16, 11), actor="oncall",
        reason="awaiting_supplier", previous_state="acknowledged"), "INC0000003")),
    (t(17, 10), lambda: wrap(IncidentResumed(
        incident_id="INC0000003", resumed_at=t(17, 10), actor="oncall",
        state="acknowledged"), "INC0000003")),
    (t(17, 14), lambda: resolve("INC0000003", t(17, 14))),
    (t(17, 15), lambda: close("INC0000003", t(17, 15))),
    (t(20, 12), lambda: opened("INC0000004", "checkout", 1, 1, t(20, 12))),
    (t(20, 12, 1), lambda: wrap(IncidentAssigned(
        incident_id="INC0000004", assignment_group="payments", assigned_at=t(20, 12, 1),
        actor="triage", reason="owner"), "INC0000004")),
    (t(20, 12, 20), lambda: ack("INC0000004", t(20, 12, 20))),
    (t(20, 13), lambda: resolve("INC0000004", t(20, 13))),
    (t(20, 13, 30), lambda: close("INC0000004", t(20, 13, 30))),
    (t(25, 9), lambda: opened("INC0000005", "checkout", 2, 2, t(25, 9))),
    (t(25, 9, 20), lambda: wrap(IncidentPriorityChanged(
        incident_id="INC0000005", priority=1, previous_priority=2, impact=1, urgency=1,
        changed_at=t(25, 9, 20), actor="manager", reason="customer impact"), "INC0000005")),
    (t(25, 9, 25), lambda: ack("INC0000005", t(25, 9, 25))),
    (t(25, 10), lambda: resolve("INC0000005", t(25, 10))),
]
APRIL = datetime(2026, 4, 1, 0, 0, 1, tzinfo=UTC)
D = Decimal


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    found = {}
    for name, text in {"sla": SLA, "contracts": CONTRACTS, "finance": FINANCE,
                       "catalog": CATALOG}.items():
        found[name] = tmp_path / f"{name}.yaml"
        found[name].write_text(text)
    return found


async def settled(nc, slm, clock):
    """Every timer due by the frozen clock has fired and every consumer is drained."""
    async def no_due_timers():
        async with slm.store.read() as session:
            rows = await session.execute(select(timers_table.c.timer_id)
                                         .where(timers_table.c.due_at <= clock.now()))
            return rows.first() is None

    await wait_for(no_due_timers, timeout=20)
    js = nc.jetstream()
    for stream, consumer in (("INCIDENTS", "slm"), ("INCIDENTS", "finance-incidents"),
                             ("SLM", "finance")):
        await drained(js, stream, consumer, timeout=20)


async def run_month(nc, start_service, files, clock):
    slm = await start_service(build_slm, SlmSettings, clock=clock,
                              sla_policies=files["sla"], supplier_contracts=files["contracts"])
    finance = await start_service(build_finance, FinanceSettings, clock=clock,
                                  finance_config=files["finance"],
                                  service_catalog=files["catalog"])
    published = []
    for at, make in TIMELINE:
        clock.set(at)
        await settled(nc, slm, clock)
        envelope = make()
        published.append(envelope)
        await publish_all(nc, [envelope])
        await settled(nc, slm, clock)
    clock.set(APRIL)
    await settled(nc, slm, clock)
    return slm, finance, published


async def cli_output(nats_url, *args):
    """Run ``reasonops ARGS`` against the test's broker; return its standard output."""
    code, out, err = await cli(nats_url, *args)
    assert code == 0, err
    return out


async def test_a_month_of_incidents_gives_the_hand_computed_report_and_summary(
        nc, nats_url, start_service, files):
    clock = FrozenClock(t(1, 0))
    slm, _, _ = await run_month(nc, start_service, files, clock)

    breaches = [e.decode(SlaBreached) for e in await stream_messages(nc, "SLM",
                                                                      SlaBreached.SUBJECT)]
    assert sorted((b.incident_id, b.agreement, b.kind, b.breached_at) for b in breaches) == [
        ("INC0000002", "sla", "resolution", t(8, 5)),
        ("INC0000002", "sla", "response", t(8, 1, 15)),
        ("INC0000004", "ola", "response", t(20, 12, 11)),
        ("INC0000004", "sla", "response", t(20, 12, 15)),
        ("INC0000005", "sla", "response", t(25, 9, 15))]
    warnings = [e.decode(SlaAtRisk) for e in await stream_messages(nc, "SLM",
                                                                    SlaAtRisk.SUBJECT)]
    b_response = sorted((w.percent, w.at) for w in warnings
                        if w.clock_id == "INC0000002-response-1")
    assert b_response == [(50, datetime(2026, 3, 8, 1, 7, 30, tzinfo=UTC)),
                          (75, datetime(2026, 3, 8, 1, 11, 15, tzinfo=UTC)),
                          (90, datetime(2026, 3, 8, 1, 13, 30, tzinfo=UTC))]

    report = await request(nc, GetSlaReport(month="2026-03"), SlaReport)
    by = {s.service: s for s in report.services}
    checkout, payroll = by["checkout"], by["payroll"]
    assert (checkout.period_seconds, checkout.maintenance_seconds,
            checkout.downtime_seconds) == (2678400, 7200, 21600)
    assert (checkout.availability, checkout.slo) == (D("99.1914"), D("99.95"))
    assert (checkout.error_budget_seconds, checkout.error_budget_remaining_seconds,
            checkout.error_budget_remaining_percent) == (1336, -20264, D("-1517.25"))
    assert (checkout.mtta_seconds, checkout.mttr_seconds, checkout.mtbf_seconds,
            checkout.incidents, checkout.breaches) == (1000, 7650, 662400, 4, 4)
    assert (payroll.downtime_seconds, payroll.availability) == (169200, D("93.6828"))
    assert (payroll.error_budget_remaining_seconds,
            payroll.error_budget_remaining_percent) == (-166522, D("-6217.20"))
    assert (payroll.mtta_seconds, payroll.mttr_seconds, payroll.mtbf_seconds,
            payroll.breaches) == (235800, 338400, 2509200, 0)

    penalties = sorted((p.penalty_id, p.amount) for p in report.penalties)
    assert penalties == [
        ("PEN-INC0000002-resolution-1", D("500.00")), ("PEN-INC0000002-response-1", D("500.00")),
        ("PEN-INC0000004-response-1", D("500.00")), ("PEN-INC0000005-response-1", D("500.00")),
        ("PENA-ACME-checkout-2026-03", D("1500.00")),
        ("PENH-INC0000002-resolution-1", D("200.00")),
        ("PENH-INC0000002-response-1", D("600.00")),
        ("PENH-INC0000004-response-1", D("100.00")),
        ("PENH-INC0000005-response-1", D("100.00"))]

    summary = await wait_for(
        lambda: request(nc, GetFinanceSummary(month="2026-03"), FinanceSummary),
        check=lambda s: s.entries == 9)
    assert summary.totals == {"EUR": D("4500.00")}
    assert [(p.name, p.amount, p.entries) for p in summary.penalties_by_supplier] == [
        ("Acme", D("4500.00"), 9)]
    assert [(p.name, p.amount) for p in summary.penalties_by_service] == [
        ("checkout", D("4500.00"))]
    assert [(c.service, c.downtime, c.effort, c.total, c.incidents)
            for c in summary.incident_cost_by_service] == [
        ("checkout", D("22500.00"), D("1416.66"), D("23916.66"), 3),
        ("payroll", D("28200.00"), D("2850.00"), D("31050.00"), 1)]
    assert [(b.scope, b.name, b.budget, b.actual, b.variance) for b in summary.budgets] == [
        ("cost_centre", "CC-HR", D("1000.00"), D("31050.00"), D("-30050.00")),
        ("service", "checkout", D("20000.00"), D("23916.66"), D("-3916.66"))]
    assert [(i.incident_id, i.amount) for i in summary.top_incidents] == [
        ("INC0000003", D("31050.00")), ("INC0000002", D("17600.00")),
        ("INC0000001", D("3183.33")), ("INC0000004", D("3133.33"))]

    # Every entry traces back to the message that caused it.
    entries = (await request(nc, ListLedgerEntries(month="2026-03", limit=100),
                             LedgerEntryList)).items
    credit = next(e for e in entries if e.penalty_id == "PENA-ACME-checkout-2026-03")
    trace = await request(nc, TraceEntry(entry_id=credit.entry_id), EntryTrace)
    assessed = {e.id: e for e in await stream_messages(nc, "SLM", PenaltyAssessed.SUBJECT)}
    assert trace.causation_id in assessed
    assert trace.causation_type == PenaltyAssessed.TYPE
    assert "availability 99.1914%" in trace.origin

    # A closed month is never rewritten: a late cost goes to April, pointing at March.
    closed = await request(nc, ClosePeriod(month="2026-03", actor="controller"), PeriodView)
    assert closed.state == "closed"
    await publish_all(nc, [close("INC0000005", t(31, 23))])
    await settled(nc, slm, clock)
    april = await request(nc, GetFinanceSummary(month="2026-04"), FinanceSummary)
    assert [(i.incident_id, i.amount) for i in april.top_incidents] == [
        ("INC0000005", D("3116.67"))]
    assert april.late_entries == 1
    late = (await request(nc, ListLedgerEntries(incident_id="INC0000005"),
                          LedgerEntryList)).items
    assert sorted((e.kind, e.period, e.original_period) for e in late) == [
        ("incident_cost", "2026-04", "2026-03"), ("penalty", "2026-03", None),
        ("penalty", "2026-03", None)]
    again = await request(nc, GetFinanceSummary(month="2026-03"), FinanceSummary)
    assert again == summary

    # The same figures from the command line.
    rows = list(csv.DictReader(io.StringIO(await cli_output(nats_url, "sla", "report", "--month",
                                                     "2026-03", "--csv"))))
    assert [(r["service"], r["availability_percent"], r["breaches"]) for r in rows] == [
        ("checkout", "99.1914", "4"), ("payroll", "93.6828", "0")]
    rows = list(csv.DictReader(io.StringIO(await cli_output(nats_url, "finance", "summary",
                                                     "--month", "2026-03", "--csv"))))
    assert {(r["section"], r["name"]): r["amount"] for r in rows}[
        ("budget", "service:checkout")] == "20000.00"
    assert [r["name"] for r in rows if r["section"] == "top_incident"][:2] == [
        "INC0000003", "INC0000002"]
    shown = await cli_output(nats_url, "finance", "trace", credit.entry_id)
    assert "supplier-credits-receivable:Acme" in shown
    assert trace.causation_id in shown
    assert "2026-03  closed" in await cli_output(nats_url, "finance", "periods", "list")
    assert "-30050.00" in await cli_output(nats_url, "finance", "budgets", "--month", "2026-03")
