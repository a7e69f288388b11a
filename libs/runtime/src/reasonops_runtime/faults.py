"""Whose fault a failed delivery is: the message's, or the world's.

A message that cannot be handled because the database is down, locked or failing over,
or because the broker timed out, is not a poison message: it is retried with back-off
for as long as that lasts and never counts towards dead-lettering. Only errors the
message itself causes (a bug it triggers, a value the database refuses) do.
"""

from __future__ import annotations

import nats.errors
from sqlalchemy import exc as sa

# PostgreSQL SQLSTATE classes and codes that say "try again later", whatever the message:
# 08 connection exception, 40 transaction rollback (serialization failure, deadlock),
# 53 insufficient resources, 57P operator intervention (shutdown, cannot connect now),
# 55P03 lock not available, 57014 query cancelled (a statement or lock timeout).
_TRANSIENT_SQLSTATES = ("08", "40", "53", "57P", "55P03", "57014")


class Failures:
    """Failures each message caused, by inbox key. In memory: a restart (or another
    replica) counts again, which can only mean more tries, never fewer; the oldest keys
    are forgotten first beyond ``remembered``."""

    def __init__(self, remembered: int = 10_000) -> None:
        self.remembered = remembered
        self._counts: dict[str, int] = {}

    def add(self, key: str) -> int:
        """One more failure of ``key``'s message; how many it has caused."""
        count = self._counts.pop(key, 0) + 1
        self._counts[key] = count  # newest last
        while len(self._counts) > self.remembered:
            del self._counts[next(iter(self._counts))]
        return count

    def forget(self, key: str) -> None:
        self._counts.pop(key, None)


def operational(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) is the environment's, not the message's."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _transient(current):
            return True
        # What SQLAlchemy wrapped, what was raised ``from``; not an exception that was
        # merely being handled when this one happened.
        current = getattr(current, "orig", None) or current.__cause__
    return False


def _transient(error: BaseException) -> bool:
    if isinstance(error, OSError | nats.errors.TimeoutError
                  | nats.errors.ConnectionClosedError | nats.errors.NoRespondersError):
        return True  # OSError covers refused connections and TimeoutError
    if getattr(error, "transient", False) is True:
        return True  # the kit's publisher: no stream leader answered, JetStream was away
    if isinstance(error, sa.OperationalError | sa.InterfaceError | sa.DisconnectionError
                  | sa.TimeoutError):
        return True  # SQLite "database is locked", a pool with no free connection
    if isinstance(error, sa.DBAPIError) and error.connection_invalidated:
        return True
    state = getattr(error, "sqlstate", None)
    return isinstance(state, str) and state.startswith(_TRANSIENT_SQLSTATES)
