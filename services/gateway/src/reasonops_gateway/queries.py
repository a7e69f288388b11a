"""Token queries: one's own tokens; everybody's with ``token.revoke``."""

from __future__ import annotations

from reasonops_contracts.gateway import ApiTokenList, ListApiTokens
from reasonops_runtime import Clock, Store
from reasonops_runtime.enforcement import Enforcer
from reasonops_runtime.policy import principal_of

from . import store


class TokenQueries:
    def __init__(self, db: Store, clock: Clock, enforcer: Enforcer) -> None:
        self.db = db
        self.clock = clock
        self.enforcer = enforcer

    async def tokens(self, query: ListApiTokens) -> ApiTokenList:
        actor = principal_of(query.actor)
        principal = query.principal or actor
        if principal != actor or (query.principal is None and self._may_see_all(actor)):
            self.enforcer.require(actor, "token.revoke", at=self.clock.now(),
                                  target=f"tokens of {query.principal or 'everyone'}")
            principal = query.principal or ""
        else:
            self.enforcer.visibility(actor, at=self.clock.now(), reading="its own tokens")
        async with self.db.read() as session:
            found = await store.find_tokens(session, principal=principal or None,
                                            include_revoked=query.include_revoked)
        return ApiTokenList(items=[t.view() for t in found])

    def _may_see_all(self, actor: str) -> bool:
        return self.enforcer.decide(actor, "token.revoke").allowed
