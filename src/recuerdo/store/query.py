"""Storage operations written once, run by either engine.

An operation is a generator that yields :class:`Query` (or :class:`NextId`, :class:`NextIds`)
requests and receives
their results. The SQLite engine drives it synchronously inside its single writer's transaction;
the PostgreSQL engine drives it with ``await`` on a pooled connection. The business rules of
storage (which conversation a message belongs to, counters, idempotency) therefore exist once.

SQL is SQLAlchemy ``text()`` or Core constructs with named parameters; each engine compiles a
statement once for its dialect and caches the result.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator, Mapping, Sequence
from itertools import chain
from typing import Any, Generic, Literal, NamedTuple, TypeVar

from sqlalchemy import TextClause, text
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

T = TypeVar("T")
P = TypeVar("P")
Row = Mapping[str, Any]
Mode = Literal["one", "all", "exec", "many"]


class Query(NamedTuple):
    """Run ``stmt`` with ``params``; ``mode`` says what comes back.

    one: the first row or ``None``; all: every row; exec: the row count; many: ``executemany`` over
    a list of parameter dicts (returns the rows written, summed, where the driver tells it —
    SQLite — else ``None``).

    The steps are named tuples, not frozen dataclasses: a message makes several, and a frozen
    dataclass costs several times more to build.
    """

    stmt: ClauseElement
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    mode: Mode = "exec"


class NextId(NamedTuple):
    """Ask the engine for a new id of ``table`` (a sequence on PostgreSQL, a counter on SQLite)."""

    table: str


class NextIds(NamedTuple):
    """Ask for ``number`` new ids of ``table`` at once, increasing (a batch that uses fewer
    leaves a gap: ids are unique and increasing, not dense)."""

    table: str
    number: int


Step = Query | NextId | NextIds
Op = Generator[Step, Any, T]


def sql(statement: str) -> TextClause:
    """A portable SQL statement with ``:named`` parameters (compiled per dialect)."""
    return text(statement)


@functools.lru_cache(maxsize=512)
def with_rows(template: str, types: tuple[str, ...], count: int) -> TextClause:
    """``template`` with ``{rows}`` replaced by ``count`` row values, one typed parameter per
    column (``CAST(:p0_0 AS BIGINT), :p0_1``, …): built once per size instead of per call, and
    typed because PostgreSQL cannot infer the type of a parameter in VALUES."""
    rows = ", ".join(
        "("
        + ", ".join(f"CAST(:p{i}_{j} AS {t})" if t else f":p{i}_{j}" for j, t in enumerate(types))
        + ")"
        for i in range(count)
    )
    return sql(template.format(rows=rows))


def row_params(values: Sequence[tuple[Any, ...]]) -> dict[str, Any]:
    """The parameters of :func:`with_rows` for ``values`` (rows of one width)."""
    if not values:
        return {}
    names = _row_names(len(values), len(values[0]))
    return dict(zip(names, chain.from_iterable(values), strict=True))


@functools.lru_cache(maxsize=512)
def _row_names(count: int, width: int) -> tuple[str, ...]:
    return tuple(f"p{i}_{j}" for i in range(count) for j in range(width))


class StatementCache(Generic[P]):
    """Compiles statements per dialect into ``(sql_text, prepared, bound_values)``, where
    ``prepared`` is what the engine makes of the positional parameter names once per statement
    (``prepare(names)``: the names themselves, or SQLite's binder for them).

    Text statements are module constants and are compiled (and prepared) once; Core statements
    built per call (filters, paging) carry their values and are compiled each time.
    """

    def __init__(self, dialect: Dialect, prepare: Callable[[tuple[str, ...] | None], P]) -> None:
        self._dialect = dialect
        self._prepare = prepare
        self._cache: dict[int, tuple[str, P, ClauseElement]] = {}

    def compile(self, stmt: ClauseElement) -> tuple[str, P, Mapping[str, Any] | None]:
        if isinstance(stmt, TextClause):
            hit = self._cache.get(id(stmt))
            if hit is not None and hit[2] is stmt:
                return hit[0], hit[1], None
        compiled = stmt.compile(dialect=self._dialect, compile_kwargs={"render_postcompile": True})
        positions = getattr(compiled, "positiontup", None)
        prepared = self._prepare(tuple(positions) if positions else None)
        if not isinstance(stmt, TextClause):
            return compiled.string, prepared, compiled.params
        # Keep a reference to the statement so its id() cannot be reused while cached.
        self._cache[id(stmt)] = (compiled.string, prepared, stmt)
        return compiled.string, prepared, None
