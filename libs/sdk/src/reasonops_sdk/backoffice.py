"""The calls of the back office, for both clients: finance (the ledger, budgets,
periods), workflows (instances and approvals) and administration (integrations,
heartbeats, tokens, the role policy). Mixed into ``ReasonOpsClient`` and
``AsyncReasonOpsClient``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, Protocol, TypeVar

from reasonops_contracts.api import CheckResult, EntryPage, Me, PolicyView
from reasonops_contracts.finance import (
    BudgetList,
    EntryTrace,
    FinanceSummary,
    IncidentCostView,
    LedgerEntryPosted,
    PeriodList,
    PeriodView,
)
from reasonops_contracts.gateway import ApiTokenIssued, ApiTokenList, ApiTokenView
from reasonops_contracts.ingest import HeartbeatList, IntegrationKeyIssued, IntegrationList
from reasonops_contracts.reviews import PostIncidentReviewView
from reasonops_contracts.workflows import (
    WorkflowDefinitionList,
    WorkflowInstanceList,
    WorkflowView,
)

from . import calls
from .calls import Call
from .transport import PAGE, filters_of

T = TypeVar("T")


class Sends(Protocol):
    def send(self, call: Call[T]) -> T: ...


class AsyncSends(Protocol):
    async def send(self, call: Call[T]) -> T: ...


class BackOffice:
    """Finance, workflows and administration, blocking."""

    def finance_summary(self: Sends, month: str | None = None) -> FinanceSummary:
        return self.send(calls.finance_summary(month))

    def list_entries(
        self: Sends,
        *,
        month: str | None = None,
        incident_id: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> EntryPage:
        return self.send(calls.entries(month, incident_id, limit, cursor))

    def iter_entries(
        self: Sends, *, month: str | None = None, incident_id: str | None = None
    ) -> Iterator[LedgerEntryPosted]:
        cursor: str | None = None
        while True:
            page = self.send(calls.entries(month, incident_id, PAGE, cursor))
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def incident_cost(self: Sends, incident_id: str) -> IncidentCostView:
        """What it costs, booked or not (downtime and effort to its resolution or now)."""
        return self.send(calls.incident_cost(incident_id))

    def incident_review(self: Sends, incident_id: str) -> PostIncidentReviewView:
        """Its post-incident review (an ApiError 404 before a major incident resolves)."""
        return self.send(calls.incident_review(incident_id))

    def trace_entry(self: Sends, entry_id: str) -> EntryTrace:
        return self.send(calls.trace_entry(entry_id))

    def budgets(self: Sends, month: str | None = None) -> BudgetList:
        return self.send(calls.budgets(month))

    def periods(self: Sends) -> PeriodList:
        return self.send(calls.periods())

    def close_period(self: Sends, month: str) -> PeriodView:
        return self.send(calls.close_period(month))

    def workflow_definitions(self: Sends) -> WorkflowDefinitionList:
        return self.send(calls.workflow_definitions())

    def workflow_instances(self: Sends, **filters: Any) -> WorkflowInstanceList:
        """Filters: workflow, state, incident_id, limit."""
        return self.send(calls.workflow_instances(**filters_of(**filters)))

    def get_workflow(self: Sends, workflow_id: str) -> WorkflowView:
        return self.send(calls.workflow(workflow_id))

    def approve_step(
        self: Sends, workflow_id: str, step: str, note: str | None = None
    ) -> WorkflowView:
        return self.send(calls.decide_step(workflow_id, step, "approve", note))

    def reject_step(
        self: Sends, workflow_id: str, step: str, note: str | None = None
    ) -> WorkflowView:
        return self.send(calls.decide_step(workflow_id, step, "reject", note))

    def list_integrations(self: Sends, include_revoked: bool = False) -> IntegrationList:
        return self.send(calls.integrations(include_revoked))

    def create_integration(self: Sends, name: str, **fields: Any) -> IntegrationKeyIssued:
        return self.send(calls.create_integration(name=name, **fields))

    def revoke_integration(self: Sends, name: str) -> IntegrationList:
        return self.send(calls.revoke_integration(name))

    def rotate_integration(
        self: Sends, name: str, grace_seconds: int | None = None
    ) -> IntegrationKeyIssued:
        return self.send(calls.rotate_integration(name, grace_seconds))

    def list_heartbeats(self: Sends, integration: str | None = None) -> HeartbeatList:
        return self.send(calls.heartbeats(integration))

    def list_tokens(
        self: Sends, principal: str | None = None, include_revoked: bool = False
    ) -> ApiTokenList:
        return self.send(calls.tokens(principal, include_revoked))

    def create_token(self: Sends, name: str, **fields: Any) -> ApiTokenIssued:
        """Fields: principal, roles, expires_in_days."""
        return self.send(calls.create_token(name=name, **fields))

    def revoke_token(self: Sends, token_id: str) -> ApiTokenView:
        return self.send(calls.revoke_token(token_id))

    def get_policy(self: Sends) -> PolicyView:
        return self.send(calls.policy())

    def check_policy(
        self: Sends,
        action: str,
        principal: str | None = None,
        *,
        team: str | None = None,
        service: str | None = None,
    ) -> CheckResult:
        return self.send(calls.check_policy(action, principal, team, service))

    def me(self: Sends) -> Me:
        return self.send(calls.me())


class AsyncBackOffice:
    """Finance, workflows and administration, awaitable."""

    async def finance_summary(self: AsyncSends, month: str | None = None) -> FinanceSummary:
        return await self.send(calls.finance_summary(month))

    async def list_entries(
        self: AsyncSends,
        *,
        month: str | None = None,
        incident_id: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> EntryPage:
        return await self.send(calls.entries(month, incident_id, limit, cursor))

    async def iter_entries(
        self: AsyncSends, *, month: str | None = None, incident_id: str | None = None
    ) -> AsyncIterator[LedgerEntryPosted]:
        cursor: str | None = None
        while True:
            page = await self.send(calls.entries(month, incident_id, PAGE, cursor))
            for item in page.items:
                yield item
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def incident_cost(self: AsyncSends, incident_id: str) -> IncidentCostView:
        """What it costs, booked or not (downtime and effort to its resolution or now)."""
        return await self.send(calls.incident_cost(incident_id))

    async def incident_review(self: AsyncSends, incident_id: str) -> PostIncidentReviewView:
        """Its post-incident review (an ApiError 404 before a major incident resolves)."""
        return await self.send(calls.incident_review(incident_id))

    async def trace_entry(self: AsyncSends, entry_id: str) -> EntryTrace:
        return await self.send(calls.trace_entry(entry_id))

    async def budgets(self: AsyncSends, month: str | None = None) -> BudgetList:
        return await self.send(calls.budgets(month))

    async def periods(self: AsyncSends) -> PeriodList:
        return await self.send(calls.periods())

    async def close_period(self: AsyncSends, month: str) -> PeriodView:
        return await self.send(calls.close_period(month))

    async def workflow_definitions(self: AsyncSends) -> WorkflowDefinitionList:
        return await self.send(calls.workflow_definitions())

    async def workflow_instances(self: AsyncSends, **filters: Any) -> WorkflowInstanceList:
        return await self.send(calls.workflow_instances(**filters_of(**filters)))

    async def get_workflow(self: AsyncSends, workflow_id: str) -> WorkflowView:
        return await self.send(calls.workflow(workflow_id))

    async def approve_step(
        self: AsyncSends, workflow_id: str, step: str, note: str | None = None
    ) -> WorkflowView:
        return await self.send(calls.decide_step(workflow_id, step, "approve", note))

    async def reject_step(
        self: AsyncSends, workflow_id: str, step: str, note: str | None = None
    ) -> WorkflowView:
        return await self.send(calls.decide_step(workflow_id, step, "reject", note))

    async def list_integrations(self: AsyncSends, include_revoked: bool = False) -> IntegrationList:
        return await self.send(calls.integrations(include_revoked))

    async def create_integration(
        self: AsyncSends, name: str, **fields: Any
    ) -> IntegrationKeyIssued:
        return await self.send(calls.create_integration(name=name, **fields))

    async def revoke_integration(self: AsyncSends, name: str) -> IntegrationList:
        return await self.send(calls.revoke_integration(name))

    async def rotate_integration(
        self: AsyncSends, name: str, grace_seconds: int | None = None
    ) -> IntegrationKeyIssued:
        return await self.send(calls.rotate_integration(name, grace_seconds))

    async def list_heartbeats(self: AsyncSends, integration: str | None = None) -> HeartbeatList:
        return await self.send(calls.heartbeats(integration))

    async def list_tokens(
        self: AsyncSends, principal: str | None = None, include_revoked: bool = False
    ) -> ApiTokenList:
        return await self.send(calls.tokens(principal, include_revoked))

    async def create_token(self: AsyncSends, name: str, **fields: Any) -> ApiTokenIssued:
        return await self.send(calls.create_token(name=name, **fields))

    async def revoke_token(self: AsyncSends, token_id: str) -> ApiTokenView:
        return await self.send(calls.revoke_token(token_id))

    async def get_policy(self: AsyncSends) -> PolicyView:
        return await self.send(calls.policy())

    async def check_policy(
        self: AsyncSends,
        action: str,
        principal: str | None = None,
        *,
        team: str | None = None,
        service: str | None = None,
    ) -> CheckResult:
        return await self.send(calls.check_policy(action, principal, team, service))

    async def me(self: AsyncSends) -> Me:
        return await self.send(calls.me())
