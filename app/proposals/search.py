"""Full-text queries over proposals: SQLite FTS5 or PostgreSQL tsvector, same results.

The index holds the folded, segmented words of each proposal (app/search/text.py) beside its
facets — cycle, state, category, location — and, on PostgreSQL, its sort keys
(migrations/versions/2026-11-22-2130_search_facets.py), so "how many live proposals of this
cycle in 交通出行 mention 道路" never reads the proposals themselves. A query is folded and segmented like the text; each
word is matched as a prefix (so 电 finds 电梯) unless `exact`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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

# The search structures live outside the models (created by the migration).
_FTS = table("proposal_fts", column("rowid"), column("rank"))
_PG = table("proposal_search", *(column(name) for name in (
    "proposal_id", "cycle_id", "state", "category", "location_code", "created_at",
    "endorsement_count", "vector")))


RANK_POOL = 500


@dataclass(frozen=True)
class Scope:
    """Which proposals a search looks at: one cycle, some states, maybe a category or place."""

    cycle_id: str
    states: Sequence[str]
    category: str | None = None
    location_code: str | None = None

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


# ----------------------------------------------------------------------------- SQLite

def _fts5_match(scope: Scope, words: Words | None) -> str:
    facets = " AND ".join("(" + " OR ".join(f'"{t}"' for t in group) + ")"
                          for group in scope.facets())
    match = f"facets : ({facets})"
    if words and words.words:
        terms = [f'"{w}"' + ("" if words._is_exact(i) else "*")
                 for i, w in enumerate(words.words)]
        match += " AND search_text : (" + (" OR " if words.any_word else " AND ").join(terms) + ")"
    return match


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
            literal_column("proposal_fts").op("MATCH")(_fts5_match(scope, words)))
    return select(_PG.c.proposal_id).where(*_pg_where(scope, words))


async def count(session: AsyncSession, scope: Scope, words: Words | None = None) -> int:
    """How many proposals in `scope` match `words`, from the index alone."""
    ids = _ids(session.bind.dialect.name, scope, words).subquery()
    return await session.scalar(select(func.count()).select_from(ids)) or 0


def restrict(query: Select, dialect: str, scope: Scope, words: Words | None) -> Select:
    """`query` (over proposal) narrowed to the proposals in `scope` matching `words`."""
    ids = _ids(dialect, scope, words)
    # On SQLite the unary + keeps the planner from driving the query by the matches (and then
    # sorting all of them): it walks the cycle's index in the order asked for and stops at the
    # page, checking each row against the matches.
    key = literal_column("+proposal.rowid" if dialect == "sqlite" else "proposal.id")
    return query.where(key.in_(ids.scalar_subquery()))


def ranked_ids(dialect: str, scope: Scope, words: Words, limit: int) -> Select:
    """(key, rank) of the best `limit` matches, best first; rank ascending is better."""
    if dialect == "sqlite":
        return (_ids(dialect, scope, words).add_columns(_FTS.c.rank.label("rank"))
                .order_by(_FTS.c.rank).limit(limit))
    # PostgreSQL ranks among the RANK_POOL newest matches: ts_rank reads each vector, and a
    # title being typed ("小区 … 电梯") can share a word with a fifth of the cycle.
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
