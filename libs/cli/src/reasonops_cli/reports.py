"""``reasonops dashboard`` and ``reasonops report monthly|metrics|contracts``: the views
the REST API serves, built by the same client library from the same queries, over NATS."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from nats.aio.client import Client
from pydantic import BaseModel

from reasonops_client.agents import gather_statuses
from reasonops_client.reports import Asker, fetch_dashboard, fetch_monthly_summary, slm_metrics
from reasonops_contracts import Command, ReplyError
from reasonops_contracts import Query as Question
from reasonops_contracts.api import Dashboard
from reasonops_contracts.slm import (
    GetSlaReport,
    ListSupplierContracts,
    SlaReport,
    SupplierContractList,
)
from reasonops_runtime.client import request

from .connection import CliError, ask, principal, with_nats
from .output import emit_json, table

T = TypeVar("T")
V = TypeVar("V", bound=BaseModel)

app = typer.Typer(help="Reports: the month's summary, service-level figures, supplier "
                  "contracts.", no_args_is_help=True)
Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
Month = Annotated[str | None, typer.Option(help="YYYY-MM (UTC); default: this month.")]


def _answered(go: Callable[[Client], Awaitable[T]]) -> T:
    try:
        return with_nats(go)
    except ReplyError as exc:
        raise CliError(f"{exc.detail.code}: {exc.detail.message}") from None


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "es" if noun.endswith("ch") else "s")


def _unit(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:g} {unit}"


def _month(month: str | None) -> str:
    return month or datetime.now(UTC).strftime("%Y-%m")


def _asker(nc: Client) -> Asker:
    who = principal()

    async def ask(message: Command | Question, result: type[V]) -> V:
        return await request(nc, message.model_copy(
            update={message.PRINCIPAL_FIELD: who}), result)
    return ask


def dashboard(json: Json = False) -> None:
    """The integrated view: services and availability this month, open incidents by
    priority, breaches, penalties, budget against actual, agent health."""
    async def go(nc: Client) -> Dashboard:
        return await fetch_dashboard(
            _asker(nc), lambda: gather_statuses(nc, probe=False, wait=0.5),
            now=datetime.now(UTC))
    found = _answered(go)
    if json:
        emit_json(found)
        return
    typer.echo(f"ReasonOps, {found.month}: {found.services} services, {found.offerings} "
               f"measured; {_count(found.open_incidents, 'open incident')} "
               f"({', '.join(f'{p} {n}' for p, n in found.open_by_priority.items() if n)}); "
               f"{_count(found.breaches, 'breach')}")
    typer.echo(table(["SERVICE", "AVAILABILITY %", "SLO %", "BUDGET LEFT %", "INCIDENTS",
                      "BREACHES"],
                     [[s.service, s.availability, s.slo, s.error_budget_remaining_percent,
                       s.incidents, s.breaches] for s in found.service_levels]))
    for currency, amount in found.penalties.items():
        typer.echo(f"Penalties: {amount} {currency}")
    for money in found.budget:
        typer.echo(f"Budget {money.currency}: {money.actual} of {money.budget} "
                   f"(variance {money.variance})")
    typer.echo("Agents: " + (", ".join(f"{n} {h.status}" for n, h in found.agents.items())
                             or "none running"))


@app.command()
def monthly(
    month: Month = None,
    out: Annotated[Path | None, typer.Option("--out", help="Also write it to this JSON "
                                             "file (its folder is created).")] = None,
    json: Json = False,
) -> None:
    """A month's service levels, penalties by supplier, incident costs and budget."""
    chosen = _month(month)
    summary = _answered(lambda nc: fetch_monthly_summary(_asker(nc), chosen,
                                                         now=datetime.now(UTC)))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(summary.model_dump_json(indent=2) + "\n")
    if json:
        emit_json(summary)
        return
    m = summary.metrics
    typer.echo(f"{summary.month}: availability {m.availability_pct}% over "
               f"{_count(m.services, 'service')}, {_count(m.incidents, 'incident')}, MTTR "
               f"{_unit(m.mttr_minutes, 'min')}, MTBF {_unit(m.mtbf_hours, 'h')}, "
               f"{_count(m.breaches, 'breach')}")
    for supplier, amounts in summary.penalties.items():
        typer.echo(f"  penalties from {supplier}: "
                   + ", ".join(f"{a} {c}" for c, a in amounts.items()))
    if out is not None:
        typer.echo(f"Written to {out}")


@app.command()
def metrics(
    period_days: Annotated[int, typer.Option("--period-days", min=1, max=366)] = 30,
    json: Json = False,
) -> None:
    """Availability, MTTR, MTBF and MTTA over the last N days, every service you may
    read."""
    found = slm_metrics(ask(GetSlaReport(actor=principal(), period_days=period_days),
                            SlaReport))
    if json:
        emit_json(found)
        return
    typer.echo(f"{found.period}: availability {found.availability_pct}% "
               f"({_count(found.services, 'service')}), MTTR "
               f"{_unit(found.mttr_minutes, 'min')}, MTBF {_unit(found.mtbf_hours, 'h')}, "
               f"MTTA {_unit(found.mtta_minutes, 'min')}, {_count(found.incidents, 'incident')}, "
               f"{_count(found.breaches, 'breach')}")


@app.command()
def contracts(json: Json = False) -> None:
    """The supplier contracts in force and their penalties."""
    found = ask(ListSupplierContracts(actor=principal()), SupplierContractList)
    if json:
        emit_json(found)
        return
    if not found.items:
        typer.echo("No supplier contracts.")
        return
    typer.echo(table(["CONTRACT", "SUPPLIER", "SERVICES", "PER BREACH", "CURRENCY", "UC"],
                     [[c.contract_id, c.supplier, ",".join(c.services),
                       " ".join(f"{p}={a}" for p, a in c.penalty_per_breach.items()),
                       c.currency, "yes" if c.underpinning else "no"] for c in found.items]))
