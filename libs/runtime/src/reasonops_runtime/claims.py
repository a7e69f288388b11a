"""Who sent a command or query: a principal claimed by a signed header, never the payload.

The sender signs with its identity's nkey (the seed it connects to NATS with):
``Reasonops-Signer`` (the identity), ``Reasonops-Principal`` (who it acts for),
``Reasonops-Signed-At`` and ``Reasonops-Signature``, an ed25519 signature over the
subject, the principal, the time and the SHA-256 of the body. The answering service
checks the signature against the identity registry (``identities.json``: each
identity's public key and the principals it may speak for), the time against its own
clock, and that the identity may speak for the principal. ``group:`` names are never
principals: membership comes from the policy file alone. See ADR 0030.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.signing
import nkeys

SIGNER = "Reasonops-Signer"
PRINCIPAL = "Reasonops-Principal"
SIGNED_AT = "Reasonops-Signed-At"
SIGNATURE = "Reasonops-Signature"
MAX_SKEW_SECONDS = 300.0
"""How old (or how far ahead of the answering service's clock) a claim may be."""

PRINCIPAL_KINDS = ("user", "agent", "service")


class ClaimRefused(Exception):
    """A request whose claim does not hold; the message says why, without secrets."""

    def __init__(self, reason: str, principal: str | None = None) -> None:
        super().__init__(reason)
        self.principal = principal


def principal_of_identity(identity: str) -> str:
    """A service's own principal: ``service:incidents``, ``agent:triage``."""
    if identity.startswith("agent-"):
        return f"agent:{identity.removeprefix('agent-')}"
    return f"service:{identity}"


def principal_problem(principal: str) -> str | None:
    """Why ``principal`` cannot be claimed by anyone, or None."""
    kind, colon, name = principal.partition(":")
    if not colon or not name:
        return f"{principal!r} is not a principal (use user:<name>, agent:<name> or " \
               "service:<name>)"
    if kind == "group":
        return f"{principal!r}: a group is not a principal; membership comes from the " \
               "policy file"
    if kind not in PRINCIPAL_KINDS:
        return f"{principal!r}: unknown kind {kind!r} (user, agent or service)"
    if name == "*" or any(c.isspace() for c in name):
        return f"{principal!r} names no one"
    return None


def _message(subject: str, principal: str, signed_at: str, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join(("reasonops-claim-v1", subject, principal, signed_at, digest)).encode()


@dataclass(frozen=True)
class Signer:
    """One identity's signing key, and the principal it acts as when told nothing else
    (None: the identity's own principal in the registry, left to the receiver)."""

    identity: str
    principal: str | None
    key: nkeys.KeyPair

    @classmethod
    def from_seed(cls, identity: str, seed: bytes, principal: str | None = None) -> Signer:
        return cls(identity, principal, nkeys.from_seed(bytearray(seed.strip())))

    @classmethod
    def from_file(cls, identity: str, path: Path, principal: str | None = None) -> Signer:
        """A seed file (``SU...``) or a ``.creds`` file (its seed block)."""
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise ValueError(f"identity key {path}: {exc.strerror or exc}") from None
        seed = next((line.strip() for line in text.splitlines()
                     if line.strip().startswith(b"SU")), None)
        if seed is None:
            raise ValueError(f"identity key {path}: no user nkey seed (SU...) in it")
        return cls.from_seed(identity, seed, principal)

    @property
    def public_key(self) -> str:
        return bytes(self.key.public_key).decode()

    def headers(self, subject: str, body: bytes, principal: str | None = None,
                now: float | None = None) -> dict[str, str]:
        """The claim headers for sending ``body`` to ``subject`` as ``principal`` ("": the
        identity's own)."""
        who = principal or self.principal or ""
        signed_at = f"{time.time() if now is None else now:.3f}"
        signature = self.key.sign(_message(subject, who, signed_at, body))
        return {SIGNER: self.identity, PRINCIPAL: who, SIGNED_AT: signed_at,
                SIGNATURE: base64.b64encode(signature).decode()}


_SIGNERS: weakref.WeakKeyDictionary[Any, Signer] = weakref.WeakKeyDictionary()


def attach(connection: Any, signer: Signer) -> None:
    """Sign every request ``client.request`` sends over ``connection`` with ``signer``."""
    _SIGNERS[connection] = signer


def signer_of(connection: Any) -> Signer | None:
    return _SIGNERS.get(connection)


@dataclass(frozen=True)
class Identity:
    name: str
    public_key: str
    principal: str
    speaks_for: tuple[str, ...]

    def may_speak_for(self, principal: str) -> bool:
        if principal == self.principal:
            return True
        kind = principal.split(":", 1)[0]
        return any(p == principal or p == f"{kind}:*" for p in self.speaks_for)


def identity_entry(public_key: str, principal: str,
                   speaks_for: Iterable[str] = ()) -> dict[str, Any]:
    """One identity as the registry file holds it."""
    return {"public_key": public_key, "principal": principal,
            "speaks_for": sorted(set(speaks_for))}


def _verify_key(public_key: str) -> nacl.signing.VerifyKey:
    try:
        raw = base64.b32decode(public_key + "=" * (-len(public_key) % 8))
    except (binascii.Error, ValueError):
        raise ValueError(f"{public_key[:8]}...: not an nkey public key") from None
    if len(raw) != 35 or raw[0] != nkeys.PREFIX_BYTE_USER:
        raise ValueError(f"{public_key[:8]}...: not a user nkey public key")
    return nacl.signing.VerifyKey(raw[1:33])


class Registry:
    """The identities a service trusts, read from a JSON file and re-read when it changes
    (``reasonops identities add`` takes effect without restarting anything)."""

    def __init__(self, identities: Mapping[str, Identity], path: Path | None = None) -> None:
        self.identities = dict(identities)
        self.path = path
        self._stamp: float | None = None
        self._keys: dict[str, nacl.signing.VerifyKey] = {}

    @classmethod
    def parse(cls, data: Mapping[str, Any], path: Path | None = None) -> Registry:
        where = str(path) if path else "identity registry"
        entries = data.get("identities")
        if not isinstance(entries, Mapping):
            raise ValueError(f"{where}: no 'identities' object")
        identities: dict[str, Identity] = {}
        for name, entry in entries.items():
            try:
                identity = Identity(str(name), str(entry["public_key"]),
                                    str(entry["principal"]),
                                    tuple(str(p) for p in entry.get("speaks_for", ())))
                _verify_key(identity.public_key)
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{where}: identities.{name}: {exc}") from None
            if (problem := principal_problem(identity.principal)) is not None:
                raise ValueError(f"{where}: identities.{name}.principal: {problem}")
            if any(p.startswith("group:") for p in identity.speaks_for):
                raise ValueError(f"{where}: identities.{name}.speaks_for: a group is not a "
                                 "principal")
            identities[identity.name] = identity
        return cls(identities, path)

    @classmethod
    def load(cls, path: Path) -> Registry:
        registry = cls.parse(_read_json(path), path)
        registry._stamp = _stamp(path)
        return registry

    def _refresh(self) -> None:
        if self.path is None or _stamp(self.path) == self._stamp:
            return
        try:
            fresh = Registry.load(self.path)
        except (OSError, ValueError):
            return  # half-written or gone: keep what was trusted until it reads again
        self.identities, self._stamp, self._keys = fresh.identities, fresh._stamp, {}

    def verify(self, subject: str, headers: Mapping[str, str] | None, body: bytes, *,
               now: float | None = None) -> str:
        """The principal a request was sent as, or ``ClaimRefused`` saying why not."""
        self._refresh()
        headers = headers or {}
        signer, claimed = headers.get(SIGNER), headers.get(PRINCIPAL)
        if not signer or claimed is None:
            raise ClaimRefused("the request carries no signed principal; ReasonOps answers "
                               "only authenticated senders")
        identity = self.identities.get(signer)
        if identity is None:
            raise ClaimRefused(f"identity {signer!r} is not in the registry", claimed or None)
        principal = claimed or identity.principal
        if (problem := principal_problem(principal)) is not None:
            raise ClaimRefused(problem, principal)
        try:
            signature = base64.b64decode(headers.get(SIGNATURE, ""), validate=True)
            signed_at = headers.get(SIGNED_AT, "")
            age = (time.time() if now is None else now) - float(signed_at)
            key = self._keys.get(signer) or _verify_key(identity.public_key)
            self._keys[signer] = key
            key.verify(_message(subject, claimed, signed_at, body), signature)
        except (ValueError, binascii.Error, nacl.exceptions.BadSignatureError):
            raise ClaimRefused(f"the signature of identity {signer!r} does not verify",
                               principal) from None
        if abs(age) > MAX_SKEW_SECONDS:
            when = f"{age:.0f}s ago" if age > 0 else f"{-age:.0f}s ahead of this clock"
            raise ClaimRefused(f"the claim of identity {signer!r} was signed {when} "
                               f"(at most {MAX_SKEW_SECONDS:.0f}s)", principal)
        if not identity.may_speak_for(principal):
            allowed = ", ".join((identity.principal, *identity.speaks_for))
            raise ClaimRefused(f"identity {signer!r} may not speak for {principal} "
                               f"(it speaks for {allowed})", principal)
        return principal


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError as exc:
        raise ValueError(f"{path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}: {exc.msg}") from None


def _stamp(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None
