"""The gateway's own records: API tokens, the way people and programs prove who they are
to the REST API and the MCP server.

A token acts for one principal (a person, ``user:<name>``), never a service or agent.
It may be narrowed to some of that principal's roles: then the gateway lets it run only
the commands those roles allow. Its secret is shown once, in the reply that created it;
only its SHA-256 is kept.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from . import subjects
from .messages import Actor, Command, Event, Query, View

TOKEN_ID_PATTERN = r"^tok_[a-z0-9]{12}$"
TOKEN_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$"
PRINCIPAL_PATTERN = r"^user:[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$"


class ApiTokenCreated(Event):
    """A token was issued (its secret is not in any event)."""

    SUBJECT = subjects.GATEWAY_TOKEN_CREATED

    token_id: str
    name: str
    principal: str
    roles: list[str] = Field(default_factory=list, description="Empty: all of its roles")
    created_by: str
    created_at: datetime
    expires_at: datetime | None = None


class ApiTokenRevoked(Event):
    SUBJECT = subjects.GATEWAY_TOKEN_REVOKED

    token_id: str
    principal: str
    revoked_by: str
    revoked_at: datetime


class AgentConfigured(Event):
    """A person set an agent's provider chain through the gateway (kept on record; the
    agents apply it from their bucket)."""

    SUBJECT = subjects.GATEWAY_AGENT_CONFIGURED

    agent: str
    chain: str
    temperature: float
    actor: str
    configured_at: datetime


class CreateApiToken(Command):
    """Issue a token acting for ``principal`` (default: the sender itself). Issuing one
    for somebody else takes ``token.create``; a token of one's own only needs a role."""

    SUBJECT = subjects.GATEWAY_CMD_CREATE_TOKEN

    actor: Actor = ""  # set by the answering service to the proven principal
    name: str = Field(pattern=TOKEN_NAME_PATTERN, description="What it is for, for people")
    principal: str | None = Field(default=None, pattern=PRINCIPAL_PATTERN,
                                  description="Who it acts for; default: the sender")
    roles: list[str] = Field(default_factory=list, max_length=32, description=(
        "Only these of the principal's roles (commands other roles allow are refused); "
        "empty: all of them"))
    expires_in_days: int | None = Field(default=90, ge=1, le=3650,
                                        description="None: never expires")


class RevokeApiToken(Command):
    """Revoke a token: refused at once by every gateway replica."""

    SUBJECT = subjects.GATEWAY_CMD_REVOKE_TOKEN

    actor: Actor = ""  # set by the answering service to the proven principal
    token_id: str = Field(pattern=TOKEN_ID_PATTERN)


class ListApiTokens(Query):
    """Tokens: one's own; everybody's with ``token.revoke``."""

    SUBJECT = subjects.GATEWAY_QUERY_TOKENS

    actor: Actor = ""  # set by the answering service to the proven principal
    principal: str | None = Field(default=None, pattern=PRINCIPAL_PATTERN)
    include_revoked: bool = False


class ApiTokenView(View):
    token_id: str
    name: str
    principal: str
    roles: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class ApiTokenIssued(ApiTokenView):
    """The reply to ``CreateApiToken``: the only place the secret ever appears."""

    token: str = Field(description="Send as 'Authorization: Bearer <token>'; shown once")


class ApiTokenList(View):
    items: list[ApiTokenView]
