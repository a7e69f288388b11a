"""``reasonops streams declare``: create or update every JetStream stream, as the
operator. Services may not manage streams (ADR 0029); ``reasonops up`` does this
itself, a deployment runs it as a job (compose's ``streams``, Kubernetes'
``reasonops-streams``) before the services start."""

from __future__ import annotations

import asyncio

import typer
from nats.aio.client import Client

from reasonops_contracts.streams import ALL_STREAMS
from reasonops_runtime.jetstream import ensure_streams
from reasonops_runtime.settings import ServiceSettings

from .connection import CliError, open_connection

app = typer.Typer(help="JetStream streams: declared by the operator, used by the services.",
                  no_args_is_help=True)


async def declare_all(nc: Client) -> int:
    """Every stream, with this environment's replicas and audit retention; returns the
    replicas (``reasonops up`` and ``streams declare`` both do this as the operator)."""
    settings = ServiceSettings()
    await ensure_streams(nc.jetstream(), replicas=settings.stream_replicas,
                         audit_retention_days=settings.audit_retention_days)
    return settings.stream_replicas


@app.command()
def declare() -> None:
    """Create every stream that is missing and update those whose settings changed
    (replicas: REASONOPS_STREAM_REPLICAS; audit retention: REASONOPS_AUDIT_RETENTION_DAYS)."""
    async def go() -> int:
        try:
            nc = await open_connection(name="reasonops-streams")
        except CliError:
            raise
        except PermissionError as exc:
            raise CliError(f"{exc}; declaring streams needs the operator's key "
                           "(REASONOPS_NATS_CREDS)") from None
        except Exception as exc:
            raise CliError(f"cannot reach NATS ({exc.__class__.__name__}); set NATS_URL"
                           ) from None
        try:
            return await declare_all(nc)
        except Exception as exc:
            raise CliError(f"declaring the streams failed: {exc}") from None
        finally:
            await nc.close()

    replicas = asyncio.run(go())
    typer.echo(f"{len(ALL_STREAMS)} streams declared ({replicas} "
               f"replica(s) each): {', '.join(s.name for s in ALL_STREAMS)}")
