"""``reasonops streams declare``: create or update every JetStream stream, as the
operator. Services may not manage streams (ADR 0029); ``reasonops up`` does this
itself, a deployment runs it as a job (compose's ``streams``, Kubernetes'
``reasonops-streams``) before the services start."""

from __future__ import annotations

import asyncio

import typer

from reasonops_contracts.streams import ALL_STREAMS
from reasonops_runtime.jetstream import ensure_streams
from reasonops_runtime.settings import ServiceSettings

from .connection import CliError, open_connection

app = typer.Typer(help="JetStream streams: declared by the operator, used by the services.",
                  no_args_is_help=True)


@app.command()
def declare() -> None:
    """Create every stream that is missing and update those whose settings changed
    (replicas: REASONOPS_STREAM_REPLICAS; audit retention: REASONOPS_AUDIT_RETENTION_DAYS)."""
    settings = ServiceSettings()

    async def go() -> None:
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
            await ensure_streams(nc.jetstream(), replicas=settings.stream_replicas,
                                 audit_retention_days=settings.audit_retention_days)
        except Exception as exc:
            raise CliError(f"declaring the streams failed: {exc}") from None
        finally:
            await nc.close()

    asyncio.run(go())
    typer.echo(f"{len(ALL_STREAMS)} streams declared ({settings.stream_replicas} "
               f"replica(s) each): {', '.join(s.name for s in ALL_STREAMS)}")
