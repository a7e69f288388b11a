"""A service's side of ADR 0030: who it is (the key it signs its requests with) and whom
it trusts (the identity registry), and the door every request it answers goes through."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from reasonops_contracts import Envelope
from reasonops_contracts.policy import AccessDenied

from . import claims
from .clock import Clock
from .policy import Forbidden
from .settings import ServiceSettings

Record = Callable[[Envelope], Awaitable[None]]
"""Keeps a refusal on record (in a transaction of its own)."""


class Authentication:
    def __init__(self, service: str, signer: claims.Signer | None,
                 registry: claims.Registry | None, clock: Clock, record: Record) -> None:
        self.service = service
        self.signer = signer
        self.registry = registry
        self.clock = clock
        self.record = record

    @classmethod
    def configured(cls, service: str, settings: ServiceSettings, *, answers: bool,
                   clock: Clock, record: Record) -> Authentication:
        """The service's key (``REASONOPS_IDENTITY_KEY``, else its NATS seed) and, when
        it ``answers`` requests, the registry: without one it would have to refuse every
        sender, so it cannot start."""
        signer = None
        if (key := settings.identity_key_file()) is not None:
            signer = claims.Signer.from_file(settings.identity or service, key,
                                             claims.principal_of_identity(service))
        registry = None
        if answers:
            path = settings.identities_file()
            if not path.exists():
                raise ValueError(f"no identity registry at {path}: this service answers only "
                                 "signed requests (`reasonops up` writes the registry; "
                                 "elsewhere set REASONOPS_IDENTITIES, see `reasonops "
                                 "identities`)")
            registry = claims.Registry.load(path)
        return cls(service, signer, registry, clock, record)

    async def __call__(self, subject: str, msg: Any) -> str:
        """The principal a request to ``subject`` proved, or ``Forbidden`` (on record)."""
        assert self.registry is not None
        try:
            return self.registry.verify(subject, msg.headers, msg.body)
        except claims.ClaimRefused as exc:
            await self.record(Envelope.wrap(AccessDenied(
                principal=exc.principal or "(unauthenticated)", action=subject,
                roles=[], reason=str(exc), service_name=self.service,
                denied_at=self.clock.now()), source=self.service,
                subject=exc.principal or subject, time=self.clock.now()))
            raise Forbidden(f"{subject}: {exc}", "actor") from None
