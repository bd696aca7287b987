"""Full-text queries over proposals: SQLite FTS5 or PostgreSQL tsvector, same results.

The index holds the folded, segmented words of each proposal (app/search/text.py); a query is
folded and segmented the same way, each word matched as a prefix (so 电 finds 电梯).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, column, literal_column, table, text
from sqlalchemy.sql import Select

from app.search.text import query_words

# The SQLite FTS5 table (created by the migration, outside the models).
_FTS = table("proposal_fts", column("rowid"), column("rank"))


def _fts5_query(words: list[str], any_word: bool) -> str:
    return (" OR " if any_word else " AND ").join(f'"{w}"*' for w in words)


def _tsquery(words: list[str], any_word: bool) -> str:
    # Words come from jieba and contain no quotes; strip tsquery syntax characters anyway.
    safe = ["".join(ch for ch in w if ch not in "&|!():*'\\<>") for w in words]
    return (" | " if any_word else " & ").join(f"'{w}':*" for w in safe if w)


def matching(query: Select, dialect: str, q: str, *, any_word: bool = False,
             ranked: bool = False) -> Select | None:
    """`query` narrowed to proposals matching `q`; None when `q` has no searchable word."""
    words = query_words(q)
    if not words:
        return None
    if dialect == "sqlite":
        query = query.join(_FTS, _FTS.c.rowid == literal_column("proposal.rowid")).where(
            literal_column("proposal_fts").op("MATCH")(_fts5_query(words, any_word)))
        if ranked:
            query = query.order_by(_FTS.c.rank)
        return query
    tsq = _tsquery(words, any_word)
    if not tsq:
        return None
    condition: ColumnElement = literal_column("proposal.search_vector").op("@@")(
        text("to_tsquery('simple', :tsq)").bindparams(tsq=tsq))
    query = query.where(condition)
    if ranked:
        query = query.order_by(text("ts_rank(proposal.search_vector, "
                                    "to_tsquery('simple', :tsq_rank)) DESC")
                               .bindparams(tsq_rank=tsq))
    return query
