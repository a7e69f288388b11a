"""``reasonops incidents list|show|ack|resolve|close|reopen``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from reasonops_contracts.incidents import (
    AcknowledgeIncident,
    AssignIncident,
    ChangeIncidentPriority,
    CloseIncident,
    CommentIncident,
    CorrelationRulesView,
    CountIncidents,
    CreateIncident,
    DeclareMajorIncident,
    GetCorrelationRules,
    GetIncident,
    HoldIncident,
    IncidentCounts,
    IncidentList,
    IncidentSort,
    IncidentState,
    IncidentView,
    ListIncidents,
    ReopenIncident,
    ResolveIncident,
    ResumeIncident,
)

from .connection import ask, principal
from .output import emit_json, table, when

app = typer.Typer(help="Incidents: list, inspect and move them through their lifecycle.",
                  no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
Note = Annotated[str | None, typer.Option("--note", help="Why; kept on the incident.")]
Actor = Annotated[str, typer.Option("--actor", help="Who is acting (default: the global "
                                    "--as, else your user name).")]
IncidentId = Annotated[str, typer.Argument(help="Incident number, e.g. INC0000001.")]


def _actor_default() -> str:
    return principal()


@app.command("list")
def list_(
    state: Annotated[list[str] | None, typer.Option("--state", help="Filter; repeatable.")] = None,
    priority: Annotated[list[int] | None, typer.Option(
        "--priority", help="1..5; repeatable.")] = None,
    service: Annotated[str | None, typer.Option(help="Only this service.")] = None,
    group: Annotated[str | None, typer.Option("--group", help="Assignment group.")] = None,
    since: Annotated[datetime | None, typer.Option(help="Opened at or after (UTC).")] = None,
    until: Annotated[datetime | None, typer.Option(help="Opened before (UTC).")] = None,
    text: Annotated[str | None, typer.Option(
        "--text", help="In title, service, resource or number.")] = None,
    major: Annotated[bool | None, typer.Option("--major/--not-major")] = None,
    sort: Annotated[str, typer.Option(
        help="opened_at, updated_at, priority or alert_count.")] = "opened_at",
    ascending: Annotated[bool, typer.Option("--asc", help="Oldest/lowest first.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many per page.")] = 50,
    offset: Annotated[int, typer.Option(help="Skip this many (pagination).")] = 0,
    json: Json = False,
) -> None:
    """List incidents: filtered, sorted (newest first by default) and paginated."""
    states: list[IncidentState] | None = state  # type: ignore[assignment]
    order: IncidentSort = sort  # type: ignore[assignment]
    found = ask(ListIncidents(
        states=states, priorities=priority, service=service, assignment_group=group,
        opened_from=_utc(since), opened_to=_utc(until), text=text, major=major, sort=order,
        descending=not ascending, limit=limit, offset=offset), IncidentList)
    if json:
        emit_json(found)
        return
    if not found.items:
        typer.echo("No incidents.")
        return
    typer.echo(table(
        ["INCIDENT", "STATE", "PRIORITY", "SERVICE", "GROUP", "ALERTS", "OPENED (UTC)",
         "TITLE"],
        [[i.incident_id, i.state, f"P{i.priority}" + (" major" if i.major else ""),
          i.service or "-", i.assignment_group or "-", i.alert_count, when(i.opened_at),
          i.title[:60]] for i in found.items]))
    shown = found.offset + len(found.items)
    if found.total is not None and shown < found.total:
        typer.echo(f"({found.offset + 1}-{shown} of {found.total}; next page: "
                   f"--offset {shown})")


def _utc(value: datetime | None) -> datetime | None:
    """typer parses naive times; ReasonOps speaks UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@app.command()
def counts(
    service: Annotated[str | None, typer.Option(help="Only this service.")] = None,
    group: Annotated[str | None, typer.Option("--group", help="Assignment group.")] = None,
    json: Json = False,
) -> None:
    """Incidents by state and by priority (for dashboards)."""
    found = ask(CountIncidents(service=service, assignment_group=group), IncidentCounts)
    if json:
        emit_json(found)
        return
    typer.echo(table(["STATE", "INCIDENTS"], list(found.by_state.items())))
    typer.echo("")
    typer.echo(table(["PRIORITY", "ALL", "OPEN"],
                     [[p, n, found.open_by_priority.get(p, 0)]
                      for p, n in found.by_priority.items()]))


@app.command()
def show(incident_id: IncidentId, json: Json = False) -> None:
    """Show one incident with its timeline."""
    view = ask(GetIncident(incident_id=incident_id), IncidentView)
    if json:
        emit_json(view)
        return
    _print_view(view)


def _print_view(view: IncidentView) -> None:
    cause = view.probable_cause
    rows = [
        ("Incident", view.incident_id + ("  MAJOR" if view.major else "")),
        ("Title", view.title), ("State", view.state),
        ("Priority", f"P{view.priority} (impact {view.impact}, urgency {view.urgency})"),
        ("Why", view.priority_reason), ("Service", view.service or "-"),
        ("Resource" if len(view.resources) < 2 else "Resources",
         view.resource or ", ".join(view.resources) or "-"), ("Severity", view.severity),
        ("Alerts", f"{view.alert_count} ({view.firing_alerts} firing)"),
        ("Rule", f"{view.rule or '-'} (group {view.group_key or view.fingerprint})"),
        ("Assigned to", f"{view.assignment_group or '-'}"
         + (f" (from {view.assignment_source})" if view.assignment_source else "")),
        ("Escalation", f"level {view.escalation_level}"),
        ("Probable cause", f"{cause.service}: {cause.reason}" if cause else "-"),
        ("Problem", view.problem_id or "-"),
        ("Opened", when(view.opened_at)), ("Acknowledged", when(view.acknowledged_at)),
        ("Resolved", when(view.resolved_at)), ("Closed", when(view.closed_at)),
        ("Note", view.note or "-"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        typer.echo(f"{key.ljust(width)}  {value}")
    if view.timeline:
        typer.echo("\nTimeline")
        typer.echo(table(["TIME (UTC)", "ACTOR", "WHAT", "DETAIL"],
                         [[when(e.at), e.actor, e.kind, e.detail] for e in view.timeline]))


@app.command()
def rules(json: Json = False) -> None:
    """The correlation rules in force (and why a changed file was refused, if it was)."""
    view = ask(GetCorrelationRules(), CorrelationRulesView)
    if json:
        emit_json(view)
        return
    typer.echo(f"Rule file: {view.path or '(built-in default)'}")
    if view.error:
        typer.secho(f"Refused change, previous rules active: {view.error}", fg="red")
    typer.echo(table(["RULE", "MATCH", "GROUP BY", "WINDOW", "CREATE ON", "RESOLVE ON",
                      "ASSIGN"],
                     [[r.name, " ".join(r.match) or "(all)", ",".join(r.group_by),
                       f"{r.window_seconds}s", r.create_on, r.resolve_on, r.assign_to or "-"]
                      for r in view.rules]))
    typer.echo(f"Assignment precedence: {' > '.join(view.assignment_precedence)}")
    for team, levels in view.escalation_policies.items():
        typer.echo(f"Escalation {team}: {'; '.join(levels)}")


def _transition(command_cls: type, verb: str, doc: str):  # type: ignore[no-untyped-def]
    def run(incident_id: IncidentId, note: Note = None, actor: Actor = "", json: Json = False
            ) -> None:
        command = command_cls(incident_id=incident_id, note=note,
                              actor=actor or _actor_default())
        view = ask(command, IncidentView)
        if json:
            emit_json(view)
        else:
            typer.echo(f"{view.incident_id} {verb}: now {view.state}.")
    run.__doc__ = doc
    return run


app.command("ack")(_transition(
    AcknowledgeIncident, "acknowledged",
    "Acknowledge an incident: someone is on it (stops the response clock)."))
app.command("resolve")(_transition(
    ResolveIncident, "resolved",
    "Resolve an incident: service restored (stops the resolution clock)."))
app.command("close")(_transition(CloseIncident, "closed", "Close a resolved incident."))
app.command("reopen")(_transition(ReopenIncident, "reopened", "Reopen a resolved incident."))
app.command("hold")(_transition(
    HoldIncident, "on hold", "Put an incident on hold (--note: why, e.g. awaiting_supplier)."))
app.command("resume")(_transition(ResumeIncident, "resumed", "Resume a held incident."))
app.command("major")(_transition(
    DeclareMajorIncident, "declared major", "Declare a major incident by hand."))


@app.command()
def create(
    title: Annotated[str, typer.Option("--title", help="What is wrong, in a line.")],
    service: Annotated[str | None, typer.Option(help="The affected service.")] = None,
    impact: Annotated[int, typer.Option(min=1, max=3, help="1 widespread .. 3 one user.")]
    = 3,
    urgency: Annotated[int, typer.Option(min=1, max=3, help="1 now .. 3 can wait.")] = 3,
    description: Annotated[str | None, typer.Option(help="What the caller said.")] = None,
    caller: Annotated[str | None, typer.Option(help="Who reported it.")] = None,
    category: Annotated[str | None, typer.Option(help="e.g. network, access.")] = None,
    group: Annotated[str | None, typer.Option(
        "--group", help="Assignment group; default: the service's owner.")] = None,
    attachment: Annotated[list[str] | None, typer.Option(
        "--attachment", help="A link (http or https); repeatable.")] = None,
    json: Json = False,
) -> None:
    """Open an incident by hand (a call to the service desk): priority from impact x
    urgency; SLA clocks, triage and workflows follow as for any incident."""
    view = ask(CreateIncident(title=title, service=service, impact=impact, urgency=urgency,
                              description=description, caller=caller, category=category,
                              assignment_group=group, attachments=attachment or [],
                              actor=_actor_default()), IncidentView)
    if json:
        emit_json(view)
    else:
        typer.echo(f"{view.incident_id} opened: P{view.priority}, "
                   f"{view.assignment_group or 'unassigned'}.")


@app.command()
def priority(
    incident_id: IncidentId,
    impact: Annotated[int, typer.Option(min=1, max=3, help="1 widespread .. 3 one user.")],
    urgency: Annotated[int, typer.Option(min=1, max=3, help="1 now .. 3 can wait.")],
    reason: Annotated[str, typer.Option("--reason", help="Why, for the timeline.")],
    json: Json = False,
) -> None:
    """Reassess an incident's impact and urgency; its priority follows the ITIL matrix."""
    view = ask(ChangeIncidentPriority(incident_id=incident_id, impact=impact,
                                      urgency=urgency, note=reason,
                                      actor=_actor_default()), IncidentView)
    if json:
        emit_json(view)
    else:
        typer.echo(f"{view.incident_id}: now P{view.priority}.")


@app.command()
def assign(incident_id: IncidentId,
           group: Annotated[str, typer.Argument(help="Assignment group (team).")],
           note: Note = None, actor: Actor = "", json: Json = False) -> None:
    """Assign an incident to a group (a person's assignment outranks every automatic one)."""
    view = ask(AssignIncident(incident_id=incident_id, assignment_group=group, note=note,
                              actor=actor or _actor_default()), IncidentView)
    if json:
        emit_json(view)
    else:
        typer.echo(f"{view.incident_id} assigned to {view.assignment_group}.")


@app.command()
def comment(incident_id: IncidentId,
            text: Annotated[str, typer.Argument(help="The comment.")],
            actor: Actor = "", json: Json = False) -> None:
    """Add a comment to an incident's timeline."""
    view = ask(CommentIncident(incident_id=incident_id, note=text,
                               actor=actor or _actor_default()), IncidentView)
    if json:
        emit_json(view)
    else:
        typer.echo(f"{view.incident_id}: comment added.")
