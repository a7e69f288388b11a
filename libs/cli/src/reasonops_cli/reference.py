"""The reference pages of the documentation, written from the code itself: every CLI
command's help, every service's settings, every subject with its model and owner.

The documentation site's build (``docs/hooks.py``) adds them as pages, so they cannot
fall behind the code they describe.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Any

import typer
from pydantic.fields import FieldInfo

from reasonops_contracts.ownership import DURABLES, owners
from reasonops_contracts.registry import COMMANDS, EVENTS, QUERIES
from reasonops_contracts.streams import stream_for
from reasonops_runtime import ServiceSettings

from .run import installed_services


def _commands(command: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
    """The command and, for a group, every command under it."""
    yield path, command
    children: dict[str, Any] = getattr(command, "commands", None) or {}  # a group's
    for name in sorted(children):
        yield from _commands(children[name], [*path, name])


def cli_page(app: typer.Typer) -> str:
    """Every command's ``--help``, in the order of the command tree."""
    root = typer.main.get_command(app)
    lines = ["# CLI reference", "",
             "Every command of `reasonops`, with the help it prints (`reasonops ... --help`). "
             "Every command takes `--json` where it prints a result.", ""]
    for path, command in _commands(root, ["reasonops"]):
        command.rich_markup_mode = None  # type: ignore[attr-defined]  # plain text help
        ctx = command.context_class(command, info_name=" ".join(path))
        lines += [f"## {' '.join(path)}", "", "```", command.get_help(ctx).rstrip(), "```", ""]
    return "\n".join(lines)


def _env(name: str, field: FieldInfo) -> str:
    alias = field.validation_alias
    choices = [c for c in getattr(alias, "choices", ()) if isinstance(c, str) and c.isupper()]
    if choices:
        return " / ".join(f"`{c}`" for c in choices)
    return f"`REASONOPS_{name.upper()}`"


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        return "computed at start"
    value = field.get_default(call_default_factory=True)
    return "unset" if value is None else f"`{value}`"


def _meaning(field: FieldInfo) -> str:
    text = (field.description or "").replace("|", "\\|").replace("\n", " ")
    head, _, rest = text.partition(": ")
    return rest if head.startswith("REASONOPS_") and rest else text


def _rows(fields: dict[str, FieldInfo]) -> list[str]:
    return [f"| {_env(n, f)} | {_default(f)} | {_meaning(f)} |"
            for n, f in fields.items() if n != "service_name"]


def _settings_of(service: str) -> type[ServiceSettings]:
    build = installed_services()[service].load()
    hints = typing.get_type_hints(build)
    found = hints.get("settings")
    for arg in typing.get_args(found) or (found,):
        if isinstance(arg, type) and issubclass(arg, ServiceSettings):
            return arg
    return ServiceSettings


def configuration_page() -> str:
    """Every setting: the ones every service reads, then each service's own."""
    common = ServiceSettings.model_fields
    header = ["| variable | default | meaning |", "| --- | --- | --- |"]
    lines = ["# Configuration reference", "",
             "Every service reads `REASONOPS_*` environment variables. This page is written "
             "from the services' settings; [Configuration](../guides/configuration.md) "
             "explains the ones most installations set.", "", "## Every service", "",
             *header, *_rows(common), ""]
    for service in sorted(installed_services()):
        settings = _settings_of(service)
        own = {n: f for n, f in settings.model_fields.items()
               if n not in common or _default(f) != _default(common[n])}
        changed = {n for n in own if n in common and n != "service_name"}
        rows = _rows(own)
        lines += [f"## {service}", ""]
        if rows:
            lines += [*header, *rows, ""]
            if changed:
                lines += ["(" + ", ".join(f"`{n}`" for n in sorted(changed))
                          + " differ from every service's default.)", ""]
        else:
            lines += ["Nothing beyond what every service reads.", ""]
    return "\n".join(lines)


def subjects_page() -> str:
    """Every event, command and query on the broker, with its model and its owner."""
    lines = ["# Subjects reference", "",
             "Every message on the broker, from the contracts (`reasonops_contracts`). An "
             "event's type is its subject and version; its JSON Schema is "
             "`libs/contracts/schemas/<type>.json` (`reasonops contracts export DIR`). "
             "Events are stored in their domain's stream and, for a year, in `AUDIT`; "
             "commands and queries are request-reply and never stored. The same, as an "
             "[AsyncAPI 3.0 document](asyncapi.yaml) for code generators and catalogues: "
             "`reasonops contracts asyncapi`.", "",
             "## Events", "", "| subject | type | model | stream | published by |",
             "| --- | --- | --- | --- | --- |"]
    for model in sorted(EVENTS.values(), key=lambda m: m.SUBJECT):
        by = ", ".join(sorted(owners(model.SUBJECT)))
        lines.append(f"| `{model.SUBJECT}` | `{model.TYPE}` | `{model.__name__}` | "
                     f"{stream_for(model.SUBJECT).name} | {by} |")
    for title, models in (("Commands", COMMANDS), ("Queries", QUERIES)):
        lines += ["", f"## {title}", "", "| subject | model | answered by |",
                  "| --- | --- | --- |"]
        for subject, request in sorted(models.items()):
            by = ", ".join(sorted(owners(subject)))
            lines.append(f"| `{subject}` | `{request.__name__}` | {by} |")
    lines += ["", "## Durable consumers", "", "| service | stream | durable |",
              "| --- | --- | --- |"]
    for service, durables in sorted(DURABLES.items()):
        lines += [f"| {service} | {stream} | `{durable}` |" for stream, durable in durables]
    return "\n".join(lines) + "\n"
