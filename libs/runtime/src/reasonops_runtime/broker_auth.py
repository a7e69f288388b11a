"""How a process proves who it is to NATS: an nkey seed or a creds file, TLS, and the
private inbox prefix its identity's permissions allow (see ``permissions``)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .permissions import inbox_prefix

CREDS_MARK = "-----BEGIN NATS USER JWT-----"


@dataclass(frozen=True)
class BrokerAuth:
    """``creds``: a ``.creds`` file (JWT and seed, for accounts set up with nsc) or a file
    holding an nkey seed (``SU...``, what ``make up`` writes). TLS: a CA to trust, and a
    client certificate and key where the server asks for one."""

    creds: Path | None = None
    tls_ca: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None

    def options(self, identity: str | None = None) -> dict[str, Any]:
        """``nats.connect`` keyword arguments (FastStream's broker takes the same ones,
        less ``tls``: see ``ssl_context``)."""
        options: dict[str, Any] = {}
        if identity is not None:
            options["inbox_prefix"] = inbox_prefix(identity)
        if self.creds is not None:
            key = "user_credentials" if CREDS_MARK in _read(self.creds) else "nkeys_seed"
            options[key] = str(self.creds)
        if (context := self.ssl_context()) is not None:
            options["tls"] = context
        return options

    def ssl_context(self) -> ssl.SSLContext | None:
        if self.tls_ca is None and self.tls_cert is None:
            return None
        context = ssl.create_default_context(
            cafile=str(self.tls_ca) if self.tls_ca else None)
        if self.tls_cert is not None:
            context.load_cert_chain(str(self.tls_cert),
                                    str(self.tls_key) if self.tls_key else None)
        return context


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise ValueError(f"NATS credentials {path}: {exc.strerror or exc}") from None
