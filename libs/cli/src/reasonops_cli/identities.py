"""The NATS identities ``reasonops up`` creates: an nkey for every service and one for the
local operator, kept in the data directory, and the embedded server's authorization
configuration built from them and from the contracts (``reasonops_runtime.permissions``).

Seeds are made once and kept (mode 0600 in a 0700 folder); the server configuration is
written anew at every start, so permissions follow the code that is running.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import nkeys

from reasonops_runtime.permissions import ADMIN, service_permissions

OPERATOR = "operator"
"""The local operator's identity: the CLI run by whoever started ``reasonops up``."""


def credentials_dir(data_dir: Path) -> Path:
    return data_dir / "credentials"


def seed_file(data_dir: Path, identity: str) -> Path:
    return credentials_dir(data_dir) / f"{identity}.nk"


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
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(seed + b"\n")
        public[identity] = nkeys.from_seed(path.read_bytes().strip()).public_key.decode()
    return public


def server_config(public_keys: dict[str, str]) -> dict[str, Any]:
    """The ``authorization`` section: each identity's public key and permissions."""
    users = [{"nkey": key, "permissions": ADMIN if identity == OPERATOR
              else service_permissions(identity)}
             for identity, key in sorted(public_keys.items())]
    return {"authorization": {"users": users}}


def write_server_config(data_dir: Path, services: Iterable[str]) -> Path:
    """Seeds for ``services`` and the operator, and the server configuration for them."""
    public = ensure_seeds(data_dir, [OPERATOR, *services])
    path = data_dir / "nats-server.conf"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        json.dump(server_config(public), out, indent=1)  # NATS reads JSON as its own syntax
    path.chmod(0o600)
    return path
