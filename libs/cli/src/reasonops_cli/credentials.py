"""The credentials ``reasonops up`` creates: an nkey for every service and one for the
local operator, kept in the data directory; the registry services check signed
requests against (``identities.json``: public keys, principals, who speaks for whom);
and the embedded server's authorization configuration, built from the registry and
the contracts (``reasonops_runtime.permissions``).

Seeds are made once and kept (mode 0600 in a 0700 folder). The registry keeps the
operators added with ``reasonops identities add``; the server configuration is written
anew from it at every start and every change, so permissions follow the running code.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import nkeys

from reasonops_contracts.ownership import SERVICES, SPEAKS_FOR
from reasonops_runtime.claims import identity_entry, principal_of_identity, principal_problem
from reasonops_runtime.permissions import ADMIN, operator_permissions, service_permissions
from reasonops_runtime.policy import LOCAL_OPERATOR

from .natsd import SERVER_NAME

OPERATOR = "operator"
"""The local operator's identity: the CLI run by whoever started ``reasonops up``; an
admin on the broker, acting as ``user:admin`` and able to speak for any user."""
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


def credentials_dir(data_dir: Path) -> Path:
    return data_dir / "credentials"


def seed_file(data_dir: Path, identity: str) -> Path:
    return credentials_dir(data_dir) / f"{identity}.nk"


def registry_file(data_dir: Path) -> Path:
    return data_dir / "identities.json"


def server_config_file(data_dir: Path) -> Path:
    return data_dir / "nats-server.conf"


def server_pid_file(data_dir: Path) -> Path:
    return data_dir / "nats-server.pid"


def reload_server(data_dir: Path) -> bool:
    """Ask the embedded nats-server of ``data_dir`` (if running) to re-read its
    configuration; True if one was signalled."""
    try:
        pid = int(server_pid_file(data_dir).read_text().strip())
        os.kill(pid, signal.SIGHUP)
    except (OSError, ValueError):
        return False
    return True


def ensure_seeds(data_dir: Path, identities: Iterable[str]) -> dict[str, str]:
    """Create a seed for each identity that has none; return identity -> public key."""
    folder = credentials_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    public: dict[str, str] = {}
    for identity in identities:
        path = seed_file(data_dir, identity)
        if not path.exists():
            seed = nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER)
            _write_private(path, seed.decode() + "\n")
        public[identity] = nkeys.from_seed(path.read_bytes().strip()).public_key.decode()
    return public


def read_registry(data_dir: Path) -> dict[str, dict[str, Any]]:
    """The registry's identities (empty before the first ``up``)."""
    path = registry_file(data_dir)
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text()).get("identities", {}))


def ensure_identities(data_dir: Path, services: Iterable[str] = SERVICES) -> dict[str, Any]:
    """Seeds for ``services`` and the operator; the registry (keeping added operators)
    and the server configuration written from them. Returns the registry's entries."""
    services = list(services)
    public = ensure_seeds(data_dir, [OPERATOR, *services])
    entries = {name: entry for name, entry in read_registry(data_dir).items()
               if entry.get("kind") == "operator" and seed_file(data_dir, name).exists()}
    for name in services:
        principal = principal_of_identity(name)
        entries[name] = identity_entry(public[name], principal, SPEAKS_FOR.get(name, ())) | {
            "kind": "service"}
    entries[OPERATOR] = identity_entry(public[OPERATOR], LOCAL_OPERATOR, ["user:*"]) | {
        "kind": "admin"}
    write_registry(data_dir, entries)
    return entries


def add_operator(data_dir: Path, name: str, principal: str,
                 speaks_for: Iterable[str] = ()) -> dict[str, Any]:
    """A less privileged operator: its own seed, acting as ``principal`` (and the
    principals in ``speaks_for``), sending commands and queries only."""
    if not NAME.match(name):
        raise ValueError(f"name {name!r}: lower-case letters, digits, '-' and '_'")
    entries = read_registry(data_dir)
    if not entries:
        raise ValueError(f"no identity registry in {data_dir}; run `reasonops up` once first")
    if name in entries:
        raise ValueError(f"name {name!r}: an identity of that name exists")
    for who in (principal, *speaks_for):
        if who != f"{who.split(':', 1)[0]}:*" and (problem := principal_problem(who)):
            raise ValueError(f"principal: {problem}")
        if who.startswith(("service:", "agent:")):
            raise ValueError(f"principal: {who!r}: an operator acts for people; services "
                             "and agents have their own identities")
    public = ensure_seeds(data_dir, [name])[name]
    entries[name] = identity_entry(public, principal, speaks_for) | {"kind": "operator"}
    write_registry(data_dir, entries)
    return entries[name]


def remove_operator(data_dir: Path, name: str) -> None:
    entries = read_registry(data_dir)
    if entries.get(name, {}).get("kind") != "operator":
        raise ValueError(f"name {name!r}: no operator of that name (services and the "
                         "local operator cannot be removed)")
    del entries[name]
    write_registry(data_dir, entries)
    seed_file(data_dir, name).unlink(missing_ok=True)


def write_registry(data_dir: Path, entries: dict[str, Any]) -> None:
    """The registry (public, read by every service) and the server configuration."""
    path = registry_file(data_dir)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"identities": entries}, indent=1, sort_keys=True))
    temporary.replace(path)  # services re-read it on change: never half-written
    _write_private(server_config_file(data_dir), json.dumps(server_config(entries), indent=1))


def server_config(entries: dict[str, Any]) -> dict[str, Any]:
    """The ``authorization`` section: each identity's public key and permissions (NATS
    reads JSON as its own syntax); and the server's name, which a reload must keep."""
    def permissions(name: str, kind: str) -> dict[str, Any]:
        if kind == "admin":
            return ADMIN
        return operator_permissions(name) if kind == "operator" else service_permissions(name)
    users = [{"nkey": entry["public_key"],
              "permissions": permissions(name, str(entry.get("kind", "service")))}
             for name, entry in sorted(entries.items())]
    return {"server_name": SERVER_NAME, "authorization": {"users": users}}


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(text)
    path.chmod(0o600)



def export(folder: Path, *, routes: int = 0, owner: tuple[int, int] | None = None,
           services: Iterable[str] = SERVICES) -> list[Path]:
    """Identities for a deployment (compose, Kubernetes) in ``folder``: what ``up`` keeps
    in its data directory (keys, registry; kept when present), plus ``nats-auth.conf``,
    the server's users to ``include``, and with ``routes`` > 0 ``nats-cluster.conf``:
    the cluster's route user, a random password and the routes to ``nats-0``..
    ``nats-<routes-1>`` of the headless service. ``owner`` (uid, gid) gets every file."""
    entries = ensure_identities(folder, services)
    server_config_file(folder).unlink()  # an embedded server's; a deployment includes:
    auth = folder / "nats-auth.conf"
    _write_private(auth, "# Written by `reasonops identities export`; do not edit.\n"
                         f"authorization: {json.dumps(server_config(entries)['authorization'])}\n")
    written = [auth, registry_file(folder), *sorted(credentials_dir(folder).glob("*.nk"))]
    if routes:
        cluster = folder / "nats-cluster.conf"
        secret = _route_password(cluster)
        urls = [f"nats-route://route:{secret}@nats-{i}.nats-headless:6222"
                for i in range(routes)]
        _write_private(cluster, "# Written by `reasonops identities export`; do not edit.\n"
                       f"authorization: {json.dumps({'user': 'route', 'password': secret})}\n"
                       f"routes: {json.dumps(urls)}\n")
        written.append(cluster)
    if owner is not None:
        for path in (*written, credentials_dir(folder)):
            os.chown(path, *owner)
        registry_file(folder).chmod(0o644)
    return written


def _route_password(cluster: Path) -> str:
    """The routes' password: the one already written, else a new random one."""
    if cluster.exists():
        found = re.search(r'"password": "([A-Za-z0-9_-]+)"', cluster.read_text())
        if found:
            return found.group(1)
    return base64.urlsafe_b64encode(os.urandom(24)).decode().rstrip("=")
