"""Chinese text for search: fold traditional to simplified, segment into words (jieba).

The same folding is applied to what is indexed and to what is searched, so 電梯 finds 电梯
and 电梯 finds 電梯; segmentation turns a sentence into words the database's full-text index
(SQLite FTS5, PostgreSQL tsvector) can match.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from functools import lru_cache

import jieba
import opencc

jieba.setLogLevel(logging.WARNING)
_init_lock = threading.Lock()
_initialised = False

# Words too common in proposals to tell one from another (the index keeps them out).
STOPWORDS = frozenset("""
的 了 和 与 及 或 在 是 有 为 对 把 被 让 给 从 向 到 等 也 都 就 还 又 很 更 最 这 那 其 之 以 于 而
并 及其 一个 一些 我们 你们 他们 大家 群众 建议 希望 要求 请求 问题 情况 进行 实施 解决 相关 方面
目前 现在 存在 需要 能够 可以 没有 不能 比较 非常 一下 一直 已经 通过 因为 所以 但是 如果 虽然
""".split())
_WORD = re.compile(r"[\w]", re.UNICODE)


@lru_cache
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def warm_up() -> None:
    """Load jieba's dictionary once (about half a second), before the first request needs it."""
    global _initialised
    with _init_lock:
        if not _initialised:
            jieba.initialize()
            _initialised = True


def fold(text: str) -> str:
    """Normalise width and case, and fold traditional characters to simplified."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _to_simplified().convert(text)


def words(text: str, *, keep_stopwords: bool = False) -> list[str]:
    """The distinct searchable words of `text`, in order of first appearance."""
    warm_up()
    seen: dict[str, None] = {}
    for token in jieba.cut_for_search(fold(text)):
        token = token.strip()
        if not token or not _WORD.search(token) or "\"" in token:
            continue
        if not keep_stopwords and token in STOPWORDS:
            continue
        seen.setdefault(token, None)
    return list(seen)


def index_text(*parts: str) -> str:
    """What goes into the full-text index: the words of every part, space-separated."""
    return " ".join(words(" ".join(p for p in parts if p), keep_stopwords=True))


SEARCH_CHARS = 200  # a search (or a title being typed) is looked up by its first 200 characters


def query_words(query: str, limit: int = 12) -> list[str]:
    """The words to look for; stopwords are kept only if nothing else is left."""
    # Only the first `limit` words count, so the segmenter need not read a pasted page.
    query = query[:SEARCH_CHARS]
    found = words(query)[:limit]
    return found or words(query, keep_stopwords=True)[:limit]
