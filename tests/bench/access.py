"""How the benchmarks reach a stack: with broker authentication on, as ``make up`` runs
it, or off (``--auth off``), chosen once per run; the chain suite runs both."""

from __future__ import annotations

from typing import Any

from nats.aio.client import Client

from reasonops_cli.credentials import OPERATOR, seed_file
from reasonops_cli.supervisor import Supervisor
from reasonops_runtime.broker import connect
from reasonops_runtime.claims import Signer, attach

AUTH = {"on": True}


def supervisor(**options: Any) -> Supervisor:
    """A ``Supervisor`` with this run's authentication (on an external server too: the
    supervisors of one run share a data directory, hence its keys)."""
    return Supervisor(auth=AUTH["on"], **options)


async def operator(sup: Supervisor) -> Client:
    """A connection as the local operator, signing its requests, as the CLI does."""
    nc = await connect(sup.nats_url, "reasonops-bench", auth=sup.operator_auth,
                       identity=OPERATOR)
    attach(nc, Signer.from_file(OPERATOR, seed_file(sup.data_dir, OPERATOR)))
    return nc
