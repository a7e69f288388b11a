"""How CLI commands reach ReasonOps: NATS request-reply, with typed errors shown plainly."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from pathlib import Path
from typing import NoReturn, TypeVar

import typer
from nats.aio.client import Client
from pydantic import BaseModel

from reasonops_contracts import Command, Query, ReplyError
from reasonops_runtime.broker import connect
from reasonops_runtime.broker_auth import BrokerAuth
from reasonops_runtime.claims import Signer, attach
from reasonops_runtime.client import request
from reasonops_runtime.policy import LOCAL_OPERATOR
from reasonops_runtime.settings import nats_url_from_env

from .credentials import OPERATOR, seed_file

T = TypeVar("T")
V = TypeVar("V", bound=BaseModel)

# The global ``--as`` (or REASONOPS_ACTOR): the principal every command is sent as.
ACTING_AS: ContextVar[str | None] = ContextVar("acting_as", default=None)


def principal(explicit: str = "", *, default: str | None = None) -> str:
    """Who a command is sent as: the command's own ``--actor``, else ``--as`` /
    REASONOPS_ACTOR, else ``default``, else "" (the CLI identity's own principal: for the
    operator ``reasonops up`` creates, ``user:admin``). The answering service accepts it
    only if this CLI's identity may speak for it."""
    return explicit or ACTING_AS.get() or default or ""


def nats_url() -> str:
    return nats_url_from_env()


def broker_auth(data_dir: Path | None = None) -> BrokerAuth:
    """The CLI's NATS identity: ``REASONOPS_NATS_CREDS`` (and ``REASONOPS_NATS_TLS_*``),
    else the local operator's credentials that ``reasonops up`` keeps in the data
    directory (``data_dir``, else ``REASONOPS_DATA_DIR``, else ``.reasonops``), if any."""
    env = os.environ
    creds = env.get("REASONOPS_NATS_CREDS")
    local = seed_file(data_dir or Path(env.get("REASONOPS_DATA_DIR") or ".reasonops"),
                      OPERATOR)
    found = Path(creds) if creds else local if local.exists() else None
    tls = {name: Path(env[f"REASONOPS_NATS_TLS_{name.upper()}"])
           for name in ("ca", "cert", "key") if env.get(f"REASONOPS_NATS_TLS_{name.upper()}")}
    return BrokerAuth(found, tls.get("ca"), tls.get("cert"), tls.get("key"))


def signer(data_dir: Path | None = None) -> Signer | None:
    """The key this CLI signs its requests with: ``REASONOPS_IDENTITY_KEY``, else
    ``REASONOPS_NATS_CREDS``, else the local operator's seed in the data directory; its
    identity is ``REASONOPS_IDENTITY``, else the key file's name (``bob.nk``: bob)."""
    env = os.environ
    local = seed_file(data_dir or Path(env.get("REASONOPS_DATA_DIR") or ".reasonops"),
                      OPERATOR)
    named = env.get("REASONOPS_IDENTITY_KEY") or env.get("REASONOPS_NATS_CREDS")
    key = Path(named) if named else local if local.exists() else None
    if key is None:
        return None
    try:
        return Signer.from_file(env.get("REASONOPS_IDENTITY") or key.stem, key)
    except ValueError as exc:
        raise CliError(str(exc)) from None


def who_am_i() -> str:
    """The principal this CLI acts as: ``--as``, else its identity's own in the registry
    (the local operator: ``user:admin``)."""
    if acting := ACTING_AS.get():
        return acting
    key = signer()
    if key is None:
        return LOCAL_OPERATOR
    env = os.environ
    registry = Path(env.get("REASONOPS_IDENTITIES") or Path(
        env.get("REASONOPS_DATA_DIR") or ".reasonops") / "identities.json")
    try:
        entries = json.loads(registry.read_text()).get("identities", {})
    except (OSError, ValueError):
        entries = {}
    return str(entries.get(key.identity, {}).get("principal") or f"user:{key.identity}")


async def open_connection(url: str | None = None, *, name: str = "reasonops-cli",
                          data_dir: Path | None = None) -> Client:
    """A NATS connection as this CLI's identity, signing every request it sends."""
    key = signer(data_dir)
    nc = await connect(url or nats_url(), name=name, auth=broker_auth(data_dir),
                       identity=key.identity if key else None)
    if key is not None:
        attach(nc, key)
    return nc


def with_nats(fn: Callable[[Client], Awaitable[T]]) -> T:
    async def go() -> T:
        try:
            nc = await open_connection()
        except CliError:
            raise
        except PermissionError as exc:
            raise CliError(f"{exc}; give this CLI an identity with REASONOPS_NATS_CREDS, or "
                           "run it where `make up` keeps its data (.reasonops, or "
                           "REASONOPS_DATA_DIR)") from None
        except Exception as exc:
            raise CliError(f"cannot reach NATS at {nats_url()} ({exc.__class__.__name__}); "
                           "start ReasonOps with `make up` or set NATS_URL") from None
        try:
            return await fn(nc)
        finally:
            await nc.close()
    return asyncio.run(go())


def ask(message: Command | Query, result: type[V], *, timeout: float = 5.0) -> V:
    """Send a command or query and return its typed result; exit 1 with the error otherwise."""
    async def go(nc: Client) -> V:
        return await request(nc, message, result, timeout=timeout)
    try:
        return with_nats(go)
    except ReplyError as exc:
        # A refusal's message already names who, what and why.
        where = f" (field: {exc.detail.field})" if exc.detail.field \
            and exc.detail.code != "forbidden" else ""
        raise CliError(f"{exc.detail.code}: {exc.detail.message}{where}") from None


class CliError(Exception):
    """A failure to show the user without a traceback."""


def fail(message: str, code: int = 1) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    sys.exit(code)
