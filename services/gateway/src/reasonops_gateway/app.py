"""Composition root of the gateway: the REST API on the service's HTTP port, the token
commands on NATS (for ``reasonops tokens``), one table of tokens."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from reasonops_contracts.changes import CancelChange, CompleteChange, RequestChange, StartChange
from reasonops_contracts.deadletter import DiscardDeadLetter, ReplayDeadLetter
from reasonops_contracts.finance import ClosePeriod
from reasonops_contracts.gateway import CreateApiToken, ListApiTokens, RevokeApiToken
from reasonops_contracts.incidents import (
    AcknowledgeIncident,
    AssignIncident,
    ChangeIncidentPriority,
    CloseIncident,
    CommentIncident,
    CreateIncident,
    CreateSilence,
    DeclareMajorIncident,
    ExpireSilence,
    HoldIncident,
    ReopenIncident,
    ResolveIncident,
    ResumeIncident,
    UpdateProblem,
)
from reasonops_contracts.ingest import CreateIntegration, RevokeIntegration, RotateIntegrationKey
from reasonops_contracts.oncall import CreateOverride, RemoveOverride
from reasonops_contracts.servicenow import ResyncServiceNow, ServiceNowInbound
from reasonops_contracts.workflows import ApproveStep, RejectStep
from reasonops_runtime import Clock, Service, ServiceSettings, policy_file
from reasonops_runtime.catalog_file import load_catalog
from reasonops_runtime.enforcement import Enforcer

from .api import build_api
from .api.context import Gateway
from .commands import TokenCommands
from .console import Sso
from .domain import RateLimiter
from .faces import Faces
from .oidc import OidcVerifier
from .queries import TokenQueries
from .store import metadata

ACTIONS: dict[type, str] = {
    CreateIncident: "incident.create",
    ChangeIncidentPriority: "incident.change_priority",
    AcknowledgeIncident: "incident.acknowledge", ResolveIncident: "incident.resolve",
    CloseIncident: "incident.close", ReopenIncident: "incident.reopen",
    HoldIncident: "incident.hold", ResumeIncident: "incident.resume",
    AssignIncident: "incident.assign", CommentIncident: "incident.comment",
    DeclareMajorIncident: "incident.declare_major", UpdateProblem: "problem.update",
    CreateSilence: "silence.create", ExpireSilence: "silence.expire",
    ClosePeriod: "finance.close_period", CreateIntegration: "integration.create",
    RevokeIntegration: "integration.revoke", RotateIntegrationKey: "integration.rotate",
    ApproveStep: "workflow.approve", RejectStep: "workflow.reject",
    CreateApiToken: "token.create", RevokeApiToken: "token.revoke",
    CreateOverride: "oncall.override", RemoveOverride: "oncall.override",
    ReplayDeadLetter: "deadletter.replay", DiscardDeadLetter: "deadletter.discard",
    ResyncServiceNow: "servicenow.resync", ServiceNowInbound: "servicenow.inbound",
    RequestChange: "change.request", CancelChange: "change.request",
    StartChange: "change.implement", CompleteChange: "change.implement",
}
"""The policy action of each command the API sends: what a narrowed token is checked
against before the command leaves the gateway."""


class GatewaySettings(ServiceSettings):
    service_name: str = "gateway"
    rate_limit_per_second: float = Field(
        default=20.0, gt=0, description="REASONOPS_RATE_LIMIT_PER_SECOND: requests a second "
        "each API token may make (per gateway replica)")
    rate_limit_burst: int = Field(default=40, ge=1, description="Requests above the rate a "
                                  "token may make at once")
    max_body_bytes: int = Field(default=1 << 20, ge=1024, description="REASONOPS_MAX_BODY_"
                                "BYTES: larger request bodies get 413")
    request_timeout_seconds: float = Field(default=5.0, gt=0, description="How long a "
                                           "request waits for a service before 503")
    bootstrap_token_file: Path | None = Field(
        default=None, description="REASONOPS_BOOTSTRAP_TOKEN_FILE: issue the local "
        "operator (user:admin) a token on first start and keep it in this file")
    oidc_issuer: str | None = Field(
        default=None, description="REASONOPS_OIDC_ISSUER: accept bearer JWTs from this "
        "OIDC issuer (its keys from /.well-known/openid-configuration), beside API tokens")
    slack_signing_secret_file: Path | None = Field(
        default=None, description="REASONOPS_SLACK_SIGNING_SECRET_FILE: the Slack app's "
        "signing secret; when set, /slack/interactivity takes the buttons of pages posted "
        "in Slack (acknowledge, resolve, escalate)")
    oidc_client_id: str | None = Field(
        default=None, description="REASONOPS_OIDC_CLIENT_ID: the console's client at the "
        "OIDC issuer (a public client: authorization code with PKCE, no secret); when set, "
        "the console offers single sign-on. Register <gateway URL>/login/oidc/callback "
        "as its redirect URI")
    oidc_audience: str = Field(default="reasonops", description="The audience (aud) a JWT "
                               "must name")
    oidc_jwks_url: str | None = Field(default=None, description="The issuer's keys, when "
                                      "not found by discovery")
    oidc_principal_claim: str = Field(default="email", description="The claim naming the "
                                      "person: user:<value>")
    oidc_groups_claim: str = Field(default="groups", description="The claim listing the "
                                   "person's groups, for oidc_role_map")
    oidc_role_map: dict[str, str] = Field(
        default_factory=dict, description='REASONOPS_OIDC_ROLE_MAP: JSON {"group": "role"}; '
        "when set, a JWT acts only with the roles its groups map to (the role policy still "
        "decides which of them the person holds)")
    service_catalog: Path | None = Field(
        default=None, description="REASONOPS_SERVICE_CATALOG: the services the dashboard "
        "counts, and their owners")

    @field_validator("service_catalog", "bootstrap_token_file", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


def _oidc(settings: GatewaySettings) -> OidcVerifier | None:
    if not settings.oidc_issuer:
        return None
    return OidcVerifier(issuer=settings.oidc_issuer, audience=settings.oidc_audience,
                        jwks_url=settings.oidc_jwks_url,
                        principal_claim=settings.oidc_principal_claim,
                        groups_claim=settings.oidc_groups_claim,
                        role_map=dict(settings.oidc_role_map))


def build_service(settings: GatewaySettings | None = None, *,
                  clock: Clock | None = None) -> Service:
    settings = settings or GatewaySettings()
    service = Service("gateway", settings, metadata=(metadata,), clock=clock)
    enforcer = Enforcer(policy_file.configured(settings.policy), "gateway")
    commands = TokenCommands(service.transaction, service.clock, enforcer)
    queries = TokenQueries(service.store, service.clock, enforcer)
    service.respond(CreateApiToken, commands.create)
    service.respond(RevokeApiToken, commands.revoke)
    service.respond(ListApiTokens, queries.tokens)
    service.startup_hooks.append(lambda: commands.ensure_bootstrap(
        settings.bootstrap_token_file))
    gateway = Gateway(
        connection=lambda: service.nc, db=service.store, clock=service.clock,
        enforcer=enforcer,
        limiter=RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst),
        timeout=settings.request_timeout_seconds, actions=ACTIONS,
        record=service.record_refusal, transaction=service.transaction,
        catalog=load_catalog(settings.service_catalog), oidc=_oidc(settings),
        slack_signing_secret=(settings.slack_signing_secret_file.read_text().strip() or None
                              if settings.slack_signing_secret_file else None))
    sso = (Sso(settings.oidc_issuer, settings.oidc_client_id)
           if settings.oidc_issuer and settings.oidc_client_id else None)
    faces = Faces(build_api(gateway, max_body_bytes=settings.max_body_bytes), gateway, sso)
    service.fallback_app = faces
    service.startup_hooks.append(faces.start)
    service.shutdown_hooks.append(faces.stop)
    return service
