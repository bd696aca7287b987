"""Full-text queries over proposals: SQLite FTS5 or PostgreSQL tsvector, same results.

The index holds the folded, segmented words of each proposal (app/search/text.py) beside its
facets — cycle, state, category, location — and, on PostgreSQL, its sort keys
(migrations/versions/2026-11-22-2130_search_facets.py), so "how many live proposals of this
cycle in 交通出行 mention 道路" never reads the proposals themselves. A query is folded and segmented like the text; each
word is matched as a prefix (so 电 finds 电梯) unless `exact`.

A list without words is counted on proposal_tally (kept by triggers). What a search finds is
remembered per worker (MEMO), keyed by the cycle's version — the sum of proposal_tally.changes,
which grows in the very transaction that adds, removes or changes a proposal's state, category,
place, words or time — so a change made through any worker is seen by the next request anywhere.
Only read-only requests use it (a write's uncommitted version must not name a result).
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ProposalTally

T = TypeVar("T")

# The search structures live outside the models (created by the migration).
_FTS = table("proposal_fts", column("rowid"), column("rank"))
_PG = table("proposal_search", *(column(name) for name in (
    "proposal_id", "cycle_id", "state", "category", "location_code", "created_at",
    "endorsement_count", "vector")))
_TALLY = ProposalTally.__table__


RANK_POOL = 500


@dataclass(frozen=True)
class Scope:
    """Which proposals a search looks at: one cycle, some states, maybe a category or place."""

    cycle_id: str
    states: Sequence[str]
    category: str | None = None
    location_code: str | None = None

    def key(self) -> tuple:
        return (self.cycle_id, tuple(str(s) for s in self.states), self.category,
                self.location_code)

    def facets(self) -> list[list[str]]:
        """The facet tokens as a conjunction of alternatives."""
        groups = [[f"cy{self.cycle_id}"], [f"st{s}" for s in self.states]]
        if self.category:
            groups.append([f"ca{self.category.encode().hex()}"])
        if self.location_code:
            groups.append([f"lo{self.location_code.encode().hex()}"])
        return groups


@dataclass(frozen=True)
class Words:
    """What to look for in the text: words, any or all of them, as prefixes or exact."""

    words: Sequence[str]
    any_word: bool = False
    exact: Sequence[bool] = ()  # per word; missing → prefix

    def _is_exact(self, i: int) -> bool:
        return i < len(self.exact) and self.exact[i]

    def key(self) -> tuple:
        return (tuple(self.words), self.any_word,
                tuple(self._is_exact(i) for i in range(len(self.words))))


# ----------------------------------------------------------------------------- SQLite

def fts5_match(scope: Scope, words: Words | None) -> str:
    """The FTS5 query: `scope`'s facets and, if given, the words."""
    facets = " AND ".join("(" + " OR ".join(f'"{t}"' for t in group) + ")"
                          for group in scope.facets())
    match = f"facets : ({facets})"
    if words and words.words:
        match += " AND " + fts5_words(words)
    return match


def fts5_words(words: Words) -> str:
    """The FTS5 query of the words alone, in the text's column."""
    terms = [f'"{w}"' + ("" if words._is_exact(i) else "*") for i, w in enumerate(words.words)]
    return "search_text : (" + (" OR " if words.any_word else " AND ").join(terms) + ")"


def scope_sql(scope: Scope, mark: str) -> tuple[str, list]:
    """The WHERE clause (over proposal or proposal_tally) and its parameters for the proposals
    in `scope`; `mark` is the driver's parameter marker (sqlite3 `?`, psycopg `%s`)."""
    where = f"cycle_id = {mark} AND state IN ({', '.join([mark] * len(scope.states))})"
    params: list = [scope.cycle_id, *(str(s) for s in scope.states)]
    for name, value in (("category", scope.category), ("location_code", scope.location_code)):
        if value:
            where += f" AND {name} = {mark}"
            params.append(value)
    return where, params


def sqlite_tally_total(conn: sqlite3.Connection, scope: Scope) -> int:
    """How many proposals are in `scope`, from proposal_tally."""
    where, params = scope_sql(scope, "?")
    return conn.execute(f"SELECT coalesce(sum(proposals), 0) FROM proposal_tally WHERE {where}",
                        params).fetchone()[0]


def sqlite_version(conn: sqlite3.Connection, database: str | None,
                   cycle_id: str) -> Version | None:
    """The cycle's version, read on the connection's thread (None: nothing to remember)."""
    if database is None:
        return None
    number = conn.execute("SELECT coalesce(sum(changes), 0) FROM proposal_tally "
                          "WHERE cycle_id = ?", (cycle_id,)).fetchone()[0]
    return Version(database, cycle_id, number)


# ----------------------------------------------------------------------------- PostgreSQL

def _pg_words(words: Words) -> str:
    # Words come from jieba and contain no quotes; strip tsquery syntax characters anyway.
    safe = ["".join(ch for ch in w if ch not in "&|!():*'\\<>") for w in words.words]
    return (" | " if words.any_word else " & ").join(
        f"'{w}'" + ("" if words._is_exact(i) else ":*") for i, w in enumerate(safe) if w)


def _pg_where(scope: Scope, words: Words | None) -> list[ColumnElement]:
    where = [_PG.c.cycle_id == scope.cycle_id, _PG.c.state.in_(scope.states)]
    if scope.category:
        where.append(_PG.c.category == scope.category)
    if scope.location_code:
        where.append(_PG.c.location_code == scope.location_code)
    if words and words.words and (w := _pg_words(words)):
        where.append(_PG.c.vector.op("@@")(_pg_tsquery(w)))
    return where


def _pg_tsquery(w: str) -> ColumnElement:
    # unique=True: the same query may appear twice in one statement (match and rank).
    return func.to_tsquery(literal_column("'simple'"), bindparam("words", w, unique=True))


# ----------------------------------------------------------------------------- the queries

def _ids(dialect: str, scope: Scope, words: Words | None) -> Select:
    """The rowids (SQLite) or ids (PostgreSQL) of the matching proposals."""
    if dialect == "sqlite":
        return select(_FTS.c.rowid).where(
            literal_column("proposal_fts").op("MATCH")(fts5_match(scope, words)))
    return select(_PG.c.proposal_id).where(*_pg_where(scope, words))


async def count(session: AsyncSession, scope: Scope, words: Words | None = None) -> int:
    """How many proposals in `scope` match `words`, from the index alone."""
    ids = _ids(session.bind.dialect.name, scope, words).subquery()
    return await session.scalar(select(func.count()).select_from(ids)) or 0


def pg_ranked(scope: Scope, words: Words, limit: int) -> Select:
    """PostgreSQL: (proposal id, rank) of the best `limit` matches, best first (rank ascending).

    It ranks among the RANK_POOL newest matches: ts_rank reads each vector, and a title being
    typed ("小区 … 电梯") can share a word with a fifth of the cycle.
    """
    pool = (select(_PG.c.proposal_id, _PG.c.vector).where(*_pg_where(scope, words))
            .order_by(_PG.c.created_at.desc()).limit(RANK_POOL).subquery())
    rank = (-func.ts_rank(pool.c.vector, _pg_tsquery(_pg_words(words)))).label("rank")
    return select(pool.c.proposal_id, rank).order_by(rank).limit(limit)


async def plan_for_memory(session: AsyncSession) -> None:
    """PostgreSQL: plan this transaction's searches for a data set held in memory.

    With the default random_page_cost (4, for spinning disks) the planner reads every vector
    of proposal_search in a sequential scan (74 ms at 100,000 proposals) rather than visiting
    the 26,000 rows the GIN index names (38 ms). SSD deployments set 1.1 server-wide anyway.
    """
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SET LOCAL random_page_cost = 1.1"))


def pg_page(scope: Scope, words: Words, sort: str, *, offset: int, limit: int) -> Select:
    """PostgreSQL: the proposal ids of one page of matches in `sort` order.

    ix_proposal_search_newest / _endorsed let the planner walk the cycle in the order asked
    for and check each row against the words: the first page of a common word stops after a
    few dozen rows. A rare word is found through the GIN index and sorted instead.
    """
    order = {"oldest": (_PG.c.created_at,),
             "endorsed": (_PG.c.endorsement_count.desc(), _PG.c.created_at.desc())}.get(
        sort, (_PG.c.created_at.desc(),))
    return (select(_PG.c.proposal_id).where(*_pg_where(scope, words))
            .order_by(*order, _PG.c.proposal_id).offset(offset).limit(limit))


# ----------------------------------------------------------------------------- totals, memo

def version_number(cycle_id: str) -> Select:
    """The cycle's version: how often its proposals changed (see the module's docstring)."""
    return select(func.coalesce(func.sum(_TALLY.c.changes), 0)).where(
        _TALLY.c.cycle_id == cycle_id)


class Memo:
    """The latest search results of one worker process, least recently used forgotten first.

    A key starts with (database, cycle, version): once a proposal of the cycle changes, the
    version moves on and older entries are never asked for again.
    """

    def __init__(self, entries: int = 4096) -> None:
        self.entries = entries
        self._data: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()  # SQLite reads it on the connections' threads

    def get(self, key: Hashable) -> object | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: Hashable, value: object) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


MEMO = Memo()


@dataclass(frozen=True)
class Version:
    """Where a read-only request's search results may be remembered: database, cycle, version."""

    database: str
    cycle_id: str
    number: int


async def remembered(session: AsyncSession, at: Version | None, key: tuple,
                     compute: Callable[[], Awaitable[T]]) -> T:
    """PostgreSQL: `compute()`'s result, remembered under `key` at version `at` (no version:
    computed each time).

    Each statement reads a new snapshot (READ COMMITTED): a result is kept only if the version
    is still `at` after computing it.
    """
    if at is None:
        return await compute()
    full = (at, *key)
    value = MEMO.get(full)
    if value is None:
        value = await compute()
        if int(await session.scalar(version_number(at.cycle_id)) or 0) == at.number:
            MEMO.put(full, value)
    return value  # type: ignore[return-value]


def remembered_sync(at: Version | None, key: tuple, compute: Callable[[], T]) -> T:
    """`compute()`'s result, remembered under `key` at version `at`; on SQLite's thread, whose
    transaction reads one snapshot throughout."""
    if at is None:
        return compute()
    full = (at, *key)
    value = MEMO.get(full)
    if value is None:
        value = compute()
        MEMO.put(full, value)
    return value  # type: ignore[return-value]

