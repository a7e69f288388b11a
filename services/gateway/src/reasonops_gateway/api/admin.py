"""Administration: integrations (senders and their keys), heartbeats, the role policy
(who may do what), API tokens, and who the caller is."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel

from reasonops_contracts.api import CheckResult, Me, PolicyView, RoleView
from reasonops_contracts.gateway import (
    TOKEN_ID_PATTERN,
    ApiTokenIssued,
    ApiTokenList,
    ApiTokenView,
    CreateApiToken,
    ListApiTokens,
    RevokeApiToken,
)
from reasonops_contracts.ingest import (
    INTEGRATION_NAME_PATTERN,
    CreateIntegration,
    HeartbeatList,
    IntegrationKeyIssued,
    IntegrationList,
    ListHeartbeats,
    ListIntegrations,
    RevokeIntegration,
    RotateIntegrationKey,
)
from reasonops_runtime.actions import ACTIONS, action_pattern_problem

from .bodies import body_of
from .context import CallerDep, GatewayDep
from .errors import Problem

router = APIRouter(prefix="/api", tags=["administration"])
if TYPE_CHECKING:  # the bodies are made at import; to mypy, any model
    CreateIntegrationBody = BaseModel
    RotateBody = BaseModel
    CreateTokenBody = BaseModel
else:
    CreateIntegrationBody = body_of(CreateIntegration)
    RotateBody = body_of(RotateIntegrationKey, without=("name",))
    CreateTokenBody = body_of(CreateApiToken)

IntegrationName = Annotated[str, Path(pattern=INTEGRATION_NAME_PATTERN)]


def _shown_once(response: Response) -> None:
    """A secret in the answer: no cache, and no copy kept for a repeated request."""
    response.headers["Cache-Control"] = "no-store"


@router.get("/integrations", response_model=IntegrationList, tags=["integrations"],
            summary="Integrations (senders)")
async def integrations(caller: CallerDep, gateway: GatewayDep,
                       include_revoked: bool = False) -> IntegrationList:
    return await gateway.ask(caller, ListIntegrations(include_revoked=include_revoked),
                             IntegrationList)


@router.post("/integrations", response_model=IntegrationKeyIssued, status_code=201,
             tags=["integrations"], summary="Register a sender; its key is shown once")
async def create_integration(caller: CallerDep, gateway: GatewayDep,
                             body: CreateIntegrationBody, response: Response
                             ) -> IntegrationKeyIssued:
    _shown_once(response)
    return await gateway.ask(caller, CreateIntegration(**body.model_dump()),
                             IntegrationKeyIssued)


@router.delete("/integrations/{name}", response_model=IntegrationList, tags=["integrations"],
               summary="Revoke a sender's key")
async def revoke_integration(caller: CallerDep, gateway: GatewayDep,
                             name: IntegrationName) -> IntegrationList:
    return await gateway.ask(caller, RevokeIntegration(name=name), IntegrationList)


@router.post("/integrations/{name}/rotate", response_model=IntegrationKeyIssued,
             tags=["integrations"], summary="Issue a new key for a sender")
async def rotate_integration(caller: CallerDep, gateway: GatewayDep, name: IntegrationName,
                             response: Response, body: RotateBody | None = None
                             ) -> IntegrationKeyIssued:
    _shown_once(response)
    extra: dict[str, object] = body.model_dump() if body is not None else {}
    return await gateway.ask(caller, RotateIntegrationKey(name=name, **extra),
                             IntegrationKeyIssued)


@router.get("/heartbeats", response_model=HeartbeatList, tags=["integrations"],
            summary="Senders that must ping within an interval")
async def heartbeats(caller: CallerDep, gateway: GatewayDep,
                     integration: str | None = None) -> HeartbeatList:
    return await gateway.ask(caller, ListHeartbeats(integration=integration), HeartbeatList)


# -- Tokens -----------------------------------------------------------------------------------

@router.get("/tokens", response_model=ApiTokenList, tags=["tokens"], summary="API tokens")
async def tokens(caller: CallerDep, gateway: GatewayDep, principal: str | None = None,
                 include_revoked: bool = False) -> ApiTokenList:
    """One's own; everybody's (or ``principal``'s) with ``token.revoke``."""
    return await gateway.ask(caller, ListApiTokens(principal=principal,
                                                   include_revoked=include_revoked),
                             ApiTokenList)


@router.post("/tokens", response_model=ApiTokenIssued, status_code=201, tags=["tokens"],
             summary="Issue a token; its secret is shown once")
async def create_token(caller: CallerDep, gateway: GatewayDep,
                       body: CreateTokenBody, response: Response
                       ) -> ApiTokenIssued:
    _shown_once(response)
    fields = body.model_dump()
    if caller.roles and not fields["roles"]:
        fields["roles"] = list(caller.roles)  # a narrowed token issues no wider one
    if caller.roles and not set(fields["roles"]) <= set(caller.roles):
        raise Problem(403, "forbidden", f"roles: token {caller.token_id} is narrowed to "
                      f"{', '.join(caller.roles)} and cannot issue a wider one",
                      field="body.roles")
    return await gateway.ask(caller, CreateApiToken(**fields), ApiTokenIssued)


@router.delete("/tokens/{token_id}", response_model=ApiTokenView, tags=["tokens"],
               summary="Revoke a token")
async def revoke_token(caller: CallerDep, gateway: GatewayDep,
                       token_id: Annotated[str, Path(pattern=TOKEN_ID_PATTERN)]
                       ) -> ApiTokenView:
    return await gateway.ask(caller, RevokeApiToken(token_id=token_id), ApiTokenView)


# -- Who may do what -------------------------------------------------------------------------


@router.get("/policy", response_model=PolicyView, tags=["policy"], summary="The role policy")
async def policy(caller: CallerDep, gateway: GatewayDep) -> PolicyView:
    await gateway.visibility(caller, "the role policy")
    found = gateway.enforcer.policy
    return PolicyView(
        source=found.source,
        roles=[RoleView(name=r.name, description=r.description, scope=r.scope.label(),
                        allows=[a + ("" if rule.approval == "auto" else " (approval)")
                                for rule in r.rules for a in rule.actions])
               for r in found.roles.values()],
        principals={k: list(v) for k, v in found.bindings().items()},
        groups={g: sorted(m) for g, m in found.groups.items()})


@router.get("/policy/check", response_model=CheckResult, tags=["policy"],
            summary="Would this principal be allowed this action?")
async def check(caller: CallerDep, gateway: GatewayDep,
                action: Annotated[str, Query(max_length=64)],
                principal: Annotated[str | None, Query(max_length=160)] = None,
                team: str | None = None, service: str | None = None) -> CheckResult:
    await gateway.visibility(caller, "the role policy")
    if (problem := action_pattern_problem(action)) is not None or action.endswith("*"):
        raise Problem(422, "invalid_request", f"action: {problem or 'name one action'}",
                      field="query.action")
    verdict = gateway.enforcer.policy.check(principal or caller.principal, action,
                                            team=team, service=service)
    return CheckResult(allowed=verdict.allowed, principal=verdict.principal,
                       action=verdict.action, roles=list(verdict.roles), reason=verdict.reason,
                       requires_approval=verdict.requires_approval)


@router.get("/me", response_model=Me, tags=["policy"], summary="Who the token acts for")
async def me(caller: CallerDep, gateway: GatewayDep) -> Me:
    found = gateway.enforcer.policy
    effective = found.narrowed(caller.principal, caller.roles) if caller.roles else found
    return Me(principal=caller.principal, token_id=caller.token_id,
              token_roles=list(caller.roles), roles=list(found.roles_of(caller.principal)),
              can={a: effective.check(caller.principal, a).allowed for a in sorted(ACTIONS)
                   if not a.startswith("proposal.")})
