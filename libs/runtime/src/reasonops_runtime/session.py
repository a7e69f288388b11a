"""What a unit of work's statements run on (ADR 0053).

Handlers and stores only ``execute`` statements and look at the ``dialect``: on
PostgreSQL that is SQLAlchemy's ``AsyncConnection`` (asyncpg), on a SQLite file a
``SyncSession``, a plain connection whose statements run where they are awaited, with
no greenlet and no thread between the caller and SQLite.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    ParamSpec,
    Protocol,
    TypeVar,
    TypeVarTuple,
    overload,
)

from sqlalchemy.engine.cursor import FullyBufferedCursorFetchStrategy

if TYPE_CHECKING:
    from sqlalchemy import Connection, CursorResult, Dialect, Executable, Result
    from sqlalchemy.sql.selectable import TypedReturnsRows
    from sqlalchemy.util.typing import TupleAny

__all__ = ["Session", "SyncSession"]

_Ts = TypeVarTuple("_Ts")
_T = TypeVar("_T")
_P = ParamSpec("_P")


class Session(Protocol):
    """A unit of work's handle: one connection, inside its transaction."""

    @property
    def dialect(self) -> Dialect: ...

    @overload
    async def execute(self, statement: TypedReturnsRows[*_Ts],
                      parameters: Any = None, *,
                      execution_options: Any = None) -> Result[*_Ts]: ...

    @overload
    async def execute(self, statement: Executable, parameters: Any = None, *,
                      execution_options: Any = None) -> Result[*TupleAny]: ...

    async def execute(self, statement: Executable, parameters: Any = None, *,
                      execution_options: Any = None) -> Result[*TupleAny]: ...

    async def run_sync(self, fn: Callable[Concatenate[Connection, _P], _T], *args: _P.args,
                       **kwargs: _P.kwargs) -> _T:
        """``fn(connection, ...)`` with the synchronous connection underneath."""
        ...


class SyncSession:
    """A synchronous SQLAlchemy connection behind ``Session``'s awaitable ``execute``.

    Its rows are read in full as the statement runs, as the async driver did: a result
    read after another statement, or after the unit of work ended, is still whole.
    """

    __slots__ = ("connection", "dialect")

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect

    @overload
    async def execute(self, statement: TypedReturnsRows[*_Ts],
                      parameters: Any = None, *,
                      execution_options: Any = None) -> CursorResult[*_Ts]: ...

    @overload
    async def execute(self, statement: Executable, parameters: Any = None, *,
                      execution_options: Any = None) -> CursorResult[*TupleAny]: ...

    async def execute(self, statement: Executable, parameters: Any = None, *,
                      execution_options: Any = None) -> CursorResult[*TupleAny]:
        result = self.connection.execute(statement, parameters,
                                         execution_options=execution_options)
        if result.returns_rows and result.cursor is not None \
                and not isinstance(result.cursor_strategy, FullyBufferedCursorFetchStrategy):
            # (an insert of many rows with RETURNING comes buffered already)
            result.cursor_strategy = FullyBufferedCursorFetchStrategy(result.cursor)
        return result

    async def run_sync(self, fn: Callable[Concatenate[Connection, _P], _T], *args: _P.args,
                       **kwargs: _P.kwargs) -> _T:
        return fn(self.connection, *args, **kwargs)
