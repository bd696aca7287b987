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

On SQLite all of it runs on the connection's thread in one hand-over (db.run_on_sqlite_thread);
aiosqlite would hand every statement over four times (cursor, execute, fetch, close). On
PostgreSQL a remembered page is two statements.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import run_on_sqlite_thread
from app.errors import NotFound
from app.models import Cycle, Proposal
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
COLUMNS = ("id", "cycle_id", "title", "category", "location_code", "place", "channel", "state",
           "endorsement_count", "created_at")
_SQL_COLUMNS = ", ".join(COLUMNS)
_T = Proposal.__table__


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
        found_cycle, rows, total = await run_on_sqlite_thread(
            session, lambda conn: _sqlite_page(conn, ask))
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
    An unknown cycle has none.
    """
    found = query_words(text)
    if len(found) > 1 and any(len(w) > 1 for w in found):
        found = [w for w in found if len(w) > 1]
    if not found:
        return []
    typing = not text[-1:].isspace()
    words = search.Words(found, any_word=True,
                         exact=[i < len(found) - 1 or not typing for i in range(len(found))])
    # A few more than asked, so the excluded one and ties on rank leave enough.
    ask = _Ask(search.Scope(cycle_id, list(LIVE_STATES)), words, "similar", 0,
               limit + (1 if exclude_id else 0) + 20, _database(session))
    if session.bind.dialect.name == "sqlite":
        ranked, rows = await run_on_sqlite_thread(session, lambda conn: _sqlite_similar(conn, ask))
    else:
        ranked, rows = await _pg_similar(session, ask)
    rank = dict(ranked)
    rows = [r for r in rows if r.id != exclude_id]
    rows.sort(key=lambda r: (rank[r.id], -r.endorsement_count, r.id))
    return rows[:limit]


def _in_order(rows: Sequence[Listed], ids: Sequence[str]) -> list[Listed]:
    by_id = {r.id: r for r in rows}
    return [by_id[i] for i in ids if i in by_id]


# ----------------------------------------------------------------------------- SQLite

def _sqlite_listed(row: tuple) -> Listed:
    *head, created_at = row
    return Listed(*head, created_at=datetime.fromisoformat(created_at).replace(tzinfo=UTC))


def _sqlite_order(sort: str) -> str:
    return ", ".join(f"{c} DESC" if desc else c for c, desc in SORTS[sort]) + ", id"


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
    where, params = search.sqlite_scope(scope)
    if ask.words is None:
        total = search.sqlite_tally_total(conn, scope)
        if not total:
            return True, [], 0
        rows = conn.execute(
            f"SELECT {_SQL_COLUMNS} FROM proposal WHERE {where} ORDER BY "
            f"{_sqlite_order(ask.sort)} LIMIT ? OFFSET ?",
            [*params, ask.limit, ask.offset]).fetchall()
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
            f"ORDER BY {_sqlite_order(ask.sort)} LIMIT ? OFFSET ?",
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


def _sqlite_similar(conn: sqlite3.Connection, ask: _Ask) -> tuple[list, list[Listed]]:
    at = search.sqlite_version(conn, ask.database, ask.scope.cycle_id)
    match = search.fts5_match(ask.scope, ask.words)
    ranked = search.remembered_sync(at, ask.key("similar", ask.limit), lambda: tuple(
        conn.execute("SELECT p.id, r.rank FROM (SELECT rowid, rank FROM proposal_fts "
                     "WHERE proposal_fts MATCH ? ORDER BY rank LIMIT ?) AS r "
                     "JOIN proposal AS p ON p.rowid = r.rowid ORDER BY r.rank",
                     (match, ask.limit)).fetchall()))
    return list(ranked), _sqlite_by_ids(conn, [i for i, _ in ranked])


# ----------------------------------------------------------------------------- PostgreSQL

def _pg_select():
    return select(*(_T.c[c] for c in COLUMNS))


async def _pg_by_ids(session: AsyncSession, ids: Sequence[str]) -> list[Listed]:
    if not ids:
        return []
    rows = await session.execute(_pg_select().where(_T.c.id.in_(ids)))
    return _in_order([Listed(*r) for r in rows], ids)


async def _pg_page(session: AsyncSession, ask: _Ask) -> tuple[bool, list[Listed], int]:
    scope, words = ask.scope, ask.words
    cycle = exists().where(Cycle.__table__.c.id == scope.cycle_id)
    if words is None:
        found_cycle, total = (await session.execute(select(
            cycle, search.tally_total(scope).scalar_subquery()))).one()
        if not found_cycle or not total:
            return found_cycle, [], int(total or 0)
        where = [_T.c.cycle_id == scope.cycle_id, _T.c.state.in_(scope.states)]
        if scope.category:
            where.append(_T.c.category == scope.category)
        if scope.location_code:
            where.append(_T.c.location_code == scope.location_code)
        order = [_T.c[c].desc() if desc else _T.c[c] for c, desc in SORTS[ask.sort]]
        rows = await session.execute(_pg_select().where(*where).order_by(*order, _T.c.id)
                                     .offset(ask.offset).limit(ask.limit))
        return True, [Listed(*r) for r in rows], int(total)
    found_cycle, number = (await session.execute(select(
        cycle, search.version_number(scope.cycle_id).scalar_subquery()))).one()
    if not found_cycle or not words.words:
        return found_cycle, [], 0
    at = search.Version(ask.database, scope.cycle_id, int(number)) if ask.database else None
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
    return True, await _pg_by_ids(session, ids), total


async def _pg_similar(session: AsyncSession, ask: _Ask) -> tuple[list, list[Listed]]:
    number = await session.scalar(search.version_number(ask.scope.cycle_id))
    at = search.Version(ask.database, ask.scope.cycle_id, int(number)) if ask.database else None

    async def ranked() -> tuple:
        await search.plan_for_memory(session)
        rows = await session.execute(search.pg_ranked(ask.scope, ask.words,
                                                       ask.limit))
        return tuple((key, rank) for key, rank in rows)

    best = await search.remembered(session, at, ask.key("similar", ask.limit), ranked)
    return list(best), await _pg_by_ids(session, [i for i, _ in best])

