"""The public list of a cycle's proposals (建议) and the similar-proposals lookup, read in one go.

Both faces ask here: the JSON API gets `Listed` rows (the list's columns, no ORM objects), the
pages get them as Proposals through service.list_page / service.similar. Which proposals and how
many is decided here once:

- a list without words is counted on proposal_tally and walks the index of its sort order (or
  ix_proposal_cycle_facets) to its page;
- a search is counted by the search index alone, and its page walks the cycle in the order asked
  for, keeping what the index matched (search.py);
- a read-only request remembers a search's total, the ids of its newest or oldest pages and the
  ranked ids of a similar lookup under the cycle's version (search.Memo): until a proposal of the
  cycle changes, the next request only reads the version and its 20 rows.

A read-only request reads outside its session: on SQLite all of it in one hand-over to one of
the worker's reader threads (db.SqliteReaders.run: one read transaction; through aiosqlite every
statement would be handed over four times — cursor, execute, fetch, close — plus BEGIN and
COMMIT), on PostgreSQL on the hot pool's autocommit connections (a remembered page: two round
trips, no BEGIN or COMMIT). A writing request reads the same way on its session's connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, TypeVar

from psycopg_pool import PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import run_on_sqlite_thread
from app.errors import NotFound
from app.proposals import search
from app.search.text import query_words
from app.workflows.proposal import ProposalState

# States shown to the public by default; merged ones live on inside the proposal they joined.
LIVE_STATES = (ProposalState.submitted, ProposalState.accepted, ProposalState.adopted)
Sort = Literal["newest", "oldest", "endorsed"]
# Each sort order has its index within a cycle (ix_proposal_cycle_created / _endorsed); ties
# are broken by id. (column, descending)
SORTS: dict[str, tuple[tuple[str, bool], ...]] = {
    "newest": (("created_at", True),),
    "oldest": (("created_at", False),),
    "endorsed": (("endorsement_count", True), ("created_at", True)),
}
HOT_POOL_WAIT_S = 0.005  # how long a read waits for a free hot connection (PostgreSQL)
COLUMNS = ("id", "cycle_id", "title", "category", "location_code", "place", "channel", "state",
           "endorsement_count", "created_at")
_SQL_COLUMNS = ", ".join(COLUMNS)
T = TypeVar("T")


@dataclass
class ListFilter:
    """What the public list may be narrowed by."""

    q: str = ""
    category: str | None = None
    state: str | None = None
    location_code: str | None = None
    sort: Sort = "newest"


@dataclass(frozen=True, slots=True)
class Listed:
    """One proposal as the public list shows it (the columns of ProposalSummary)."""

    id: str
    cycle_id: str
    title: str
    category: str
    location_code: str
    place: str
    channel: str
    state: str
    endorsement_count: int
    created_at: datetime


@dataclass(frozen=True)
class _Ask:
    """One page (or similar lookup) to read: everything the reading thread needs."""

    scope: search.Scope
    words: search.Words | None
    sort: str
    offset: int
    limit: int
    database: str | None  # set for a read-only request: results may be remembered

    def key(self, *rest) -> tuple:
        return (self.scope.key(), self.words.key() if self.words else None, *rest)


def _unknown_cycle() -> NotFound:
    return NotFound("There is no such cycle.", code="unknown_cycle", zh="找不到该年度周期。")


def _database(session: AsyncSession) -> str | None:
    return str(session.bind.url) if session.info.get("read_only") else None


async def page(session: AsyncSession, cycle_id: str, f: ListFilter, *, page: int,
               per_page: int) -> tuple[list[Listed], int]:
    """A page of the cycle's proposals, filtered, searched and sorted, and the total (404 if
    the cycle is unknown)."""
    scope = search.Scope(cycle_id, [f.state] if f.state else list(LIVE_STATES),
                         category=f.category, location_code=f.location_code)
    words: search.Words | None = None
    if f.q.strip():
        found = query_words(f.q)
        # Nothing searchable left (punctuation, quotes): nothing found.
        words = search.Words(found) if found else search.Words(())
    ask = _Ask(scope, words, f.sort if f.sort in SORTS else "newest", (page - 1) * per_page,
               per_page, _database(session))
    if session.bind.dialect.name == "sqlite":
        found_cycle, rows, total = await _on_sqlite(session, lambda conn: _sqlite_page(conn, ask))
    else:
        found_cycle, rows, total = await _pg_page(session, ask)
    if not found_cycle:
        raise _unknown_cycle()
    return rows, total


async def similar(session: AsyncSession, cycle_id: str, text: str, *, limit: int = 5,
                  exclude_id: str | None = None) -> list[Listed]:
    """The cycle's live proposals most like `text` (any shared word, best match first).

    `text` is a title being typed: its last word is matched as a prefix, the others whole;
    one-character words are dropped when longer ones are left (路 alone matches thousands).
    404 if the cycle is unknown.
    """
    found = query_words(text)
    if len(found) > 1 and any(len(w) > 1 for w in found):
        found = [w for w in found if len(w) > 1]
    typing = not text[-1:].isspace()
    # Nothing searchable: no words, nothing similar (the cycle is still checked).
    words = search.Words(found, any_word=True,
                         exact=[i < len(found) - 1 or not typing for i in range(len(found))])
    # A few more than asked, so the excluded one and ties on rank leave enough.
    ask = _Ask(search.Scope(cycle_id, list(LIVE_STATES)), words, "similar", 0,
               limit + (1 if exclude_id else 0) + 20, _database(session))
    if session.bind.dialect.name == "sqlite":
        found_cycle, ranked, rows = await _on_sqlite(session,
                                                     lambda conn: _sqlite_similar(conn, ask))
    else:
        found_cycle, ranked, rows = await _pg_similar(session, ask)
    if not found_cycle:
        raise _unknown_cycle()
    rank = dict(ranked)
    rows = [r for r in rows if r.id != exclude_id]
    rows.sort(key=lambda r: (rank[r.id], -r.endorsement_count, r.id))
    return rows[:limit]


def _in_order(rows: Sequence[Listed], ids: Sequence[str]) -> list[Listed]:
    by_id = {r.id: r for r in rows}
    return [by_id[i] for i in ids if i in by_id]


# ----------------------------------------------------------------------------- SQLite

async def _on_sqlite(session: AsyncSession, fn: Callable[[sqlite3.Connection], T]) -> T:
    """`fn(connection)` in one hand-over: on a reader thread of the worker for a read-only
    request (its session then never begins), else on the session's connection."""
    readers = session.info.get("sqlite_readers")
    if readers is not None:
        return await readers.run(fn)
    await session.flush()  # the raw statements see what the session holds, as a query would
    return await run_on_sqlite_thread(session, fn)


def _sqlite_listed(row: tuple) -> Listed:
    *head, created_at = row
    return Listed(*head, created_at=datetime.fromisoformat(created_at).replace(tzinfo=UTC))


def _sql_order(sort: str) -> str:
    return ", ".join(f"{c} DESC" if desc else c for c, desc in SORTS[sort]) + ", id"


def filtered_page_sql(scope: search.Scope, sort: str, mark: str) -> tuple[str, list]:
    """The page of a list without words: the statement (its parameters end with LIMIT and
    OFFSET, to be appended) and its scope's parameters; `mark` is the driver's marker."""
    where, params = search.scope_sql(scope, mark)
    return (f"SELECT {_SQL_COLUMNS} FROM proposal WHERE {where} ORDER BY {_sql_order(sort)} "
            f"LIMIT {mark} OFFSET {mark}", params)


def _sqlite_by_ids(conn: sqlite3.Connection, ids: Sequence[str]) -> list[Listed]:
    if not ids:
        return []
    rows = conn.execute(f"SELECT {_SQL_COLUMNS} FROM proposal WHERE id IN "
                        f"({', '.join('?' * len(ids))})", list(ids)).fetchall()
    return _in_order([_sqlite_listed(r) for r in rows], ids)


def _sqlite_page(conn: sqlite3.Connection, ask: _Ask) -> tuple[bool, list[Listed], int]:
    scope = ask.scope
    if conn.execute("SELECT 1 FROM cycle WHERE id = ?", (scope.cycle_id,)).fetchone() is None:
        return False, [], 0
    if ask.words is not None and not ask.words.words:
        return True, [], 0
    if ask.words is None:
        total = search.sqlite_tally_total(conn, scope)
        if not total:
            return True, [], 0
        sql, params = filtered_page_sql(scope, ask.sort, "?")
        rows = conn.execute(sql, [*params, ask.limit, ask.offset]).fetchall()
        return True, [_sqlite_listed(r) for r in rows], total
    match = search.fts5_match(scope, ask.words)
    at = search.sqlite_version(conn, ask.database, scope.cycle_id)
    total = search.remembered_sync(at, ask.key("total"), lambda: conn.execute(
        "SELECT count(*) FROM proposal_fts WHERE proposal_fts MATCH ?", (match,)).fetchone()[0])
    if not total:
        return True, [], 0

    def walk() -> list[Listed]:
        # The unary + keeps the planner from driving the query by the matches (and then sorting
        # all of them): it walks the cycle's index in the order asked for and stops at the
        # page, checking each row against the matches.
        return [_sqlite_listed(r) for r in conn.execute(
            f"SELECT {_SQL_COLUMNS} FROM proposal WHERE cycle_id = ? AND +rowid IN "
            "(SELECT rowid FROM proposal_fts WHERE proposal_fts MATCH ?) "
            f"ORDER BY {_sql_order(ask.sort)} LIMIT ? OFFSET ?",
            (scope.cycle_id, match, ask.limit, ask.offset))]

    if ask.sort == "endorsed":  # changes with every 附议, which moves no version
        return True, walk(), total
    key = ask.key("page", ask.sort, ask.offset, ask.limit)
    ids = search.MEMO.get((at, *key)) if at else None
    if ids is None:
        rows = walk()
        if at:
            search.MEMO.put((at, *key), tuple(r.id for r in rows))
        return True, rows, total
    return True, _sqlite_by_ids(conn, ids), total


def _sqlite_similar(conn: sqlite3.Connection, ask: _Ask) -> tuple[bool, list, list[Listed]]:
    if conn.execute("SELECT 1 FROM cycle WHERE id = ?", (ask.scope.cycle_id,)).fetchone() is None:
        return False, [], []
    if not ask.words.words:
        return True, [], []
    at = search.sqlite_version(conn, ask.database, ask.scope.cycle_id)
    # The words alone are matched and ranked (bm25), the scope is the proposal's own columns:
    # with the facets in the query bm25 first counted the rows of every facet — the cycle's
    # and each live state's, 100,000 and more — for each lookup, and the states' weights put
    # accepted proposals before submitted ones of the same words.
    where, params = search.scope_sql(ask.scope, "?")
    ranked = search.remembered_sync(at, ask.key("similar", ask.limit), lambda: tuple(
        conn.execute("SELECT proposal.id, proposal_fts.rank FROM proposal_fts "
                     "JOIN proposal ON proposal.rowid = proposal_fts.rowid "
                     f"WHERE proposal_fts MATCH ? AND {where} ORDER BY proposal_fts.rank LIMIT ?",
                     [search.fts5_words(ask.words), *params, ask.limit]).fetchall()))
    return True, list(ranked), _sqlite_by_ids(conn, [i for i, _ in ranked])


# ----------------------------------------------------------------------------- PostgreSQL

class _PgReads:
    """Driver-level statements (`%s` parameters) of one PostgreSQL read: on a connection of the
    hot pool (autocommit: one round trip each, no BEGIN or COMMIT) for a read-only request,
    else on the session's connection."""

    def __init__(self, session: AsyncSession, connection=None) -> None:
        self.session = session
        self.connection = connection

    async def rows(self, sql: str, params: Sequence) -> list[tuple]:
        if self.connection is not None:
            return await (await self.connection.execute(sql, params)).fetchall()
        return list((await (await self.session.connection()).exec_driver_sql(
            sql, tuple(params))).all())

    async def by_ids(self, ids: Sequence[str]) -> list[Listed]:
        if not ids:
            return []
        rows = await self.rows(f"SELECT {_SQL_COLUMNS} FROM proposal WHERE id = ANY(%s)",
                               [list(ids)])
        return _in_order([_pg_listed(r) for r in rows], ids)

    async def cycle_and(self, cycle_id: str, sql: str, params: Sequence) -> tuple[bool, int]:
        """Whether the cycle exists, and the number `sql` (a scalar subquery) gives."""
        (found, number), = await self.rows(
            f"SELECT EXISTS (SELECT 1 FROM cycle WHERE id = %s), ({sql})", [cycle_id, *params])
        return found, int(number or 0)


@asynccontextmanager
async def _pg_reads(session: AsyncSession) -> AsyncIterator[_PgReads]:
    pool = session.info.get("pg_hot_pool")
    connection = None
    if pool is not None:
        # The hot pool is the casts' first (app/ballotbox/casting.py): a read takes a connection
        # only if one is free at once, else it reads through the session.
        try:
            connection = await pool.getconn(timeout=HOT_POOL_WAIT_S)
        except PoolTimeout:
            connection = None
    if connection is None:
        await session.flush()  # the raw statements see what the session holds, as a query would
        yield _PgReads(session)
        return
    try:
        yield _PgReads(session, connection)
    finally:
        await pool.putconn(connection)


def _pg_listed(row: tuple) -> Listed:
    *head, created_at = row
    return Listed(*head, created_at=created_at.astimezone(UTC))


_PG_VERSION = "SELECT coalesce(sum(changes), 0) FROM proposal_tally WHERE cycle_id = %s"


async def _pg_page(session: AsyncSession, ask: _Ask) -> tuple[bool, list[Listed], int]:
    scope, words = ask.scope, ask.words
    async with _pg_reads(session) as db:
        if words is None:
            where, params = search.scope_sql(scope, "%s")
            found_cycle, total = await db.cycle_and(
                scope.cycle_id, f"SELECT coalesce(sum(proposals), 0) FROM proposal_tally "
                                f"WHERE {where}", params)
            if not found_cycle or not total:
                return found_cycle, [], total
            sql, params = filtered_page_sql(scope, ask.sort, "%s")
            rows = await db.rows(sql, [*params, ask.limit, ask.offset])
            return True, [_pg_listed(r) for r in rows], total
        found_cycle, number = await db.cycle_and(scope.cycle_id, _PG_VERSION, [scope.cycle_id])
        if not found_cycle or not words.words:
            return found_cycle, [], 0
        at = search.Version(ask.database, scope.cycle_id, number) if ask.database else None
        total = await search.remembered(session, at, ask.key("total"),
                                        lambda: search.count(session, scope, words))
        if not total:
            return True, [], 0

        async def page_ids() -> tuple[str, ...]:
            await search.plan_for_memory(session)
            return tuple((await session.scalars(search.pg_page(
                scope, words, ask.sort, offset=ask.offset, limit=ask.limit))).all())

        # The endorsed order changes with every 附议, which moves no version: read each time.
        ids = await search.remembered(session, at if ask.sort != "endorsed" else None,
                                      ask.key("page", ask.sort, ask.offset, ask.limit), page_ids)
        return True, await db.by_ids(ids), total


async def _pg_similar(session: AsyncSession, ask: _Ask) -> tuple[bool, list, list[Listed]]:
    cycle_id = ask.scope.cycle_id
    async with _pg_reads(session) as db:
        found_cycle, number = await db.cycle_and(cycle_id, _PG_VERSION, [cycle_id])
        if not found_cycle or not ask.words.words:
            return found_cycle, [], []
        at = search.Version(ask.database, cycle_id, number) if ask.database else None

        async def ranked() -> tuple:
            await search.plan_for_memory(session)
            rows = await session.execute(search.pg_ranked(ask.scope, ask.words, ask.limit))
            return tuple((key, rank) for key, rank in rows)

        best = await search.remembered(session, at, ask.key("similar", ask.limit), ranked)
        return True, list(best), await db.by_ids([i for i, _ in best])
