"""Engine and the request-scoped session: commit once on success, roll back on error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.config import Settings, ensure_sqlite_directory

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def make_engine(settings: Settings) -> AsyncEngine:
    """Create the async engine; SQLite gets WAL, foreign keys and a busy timeout."""
    url = settings.async_url
    if not url.startswith("sqlite"):
        # No pre-ping: it costs a round trip per request; recycle idle connections instead.
        return create_async_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800)

    ensure_sqlite_directory(url)
    # A pool large enough for the usual concurrency, so connections (and their PRAGMAs) are
    # reused rather than reopened (an in-memory database keeps its one static connection).
    pool = {} if ":memory:" in url else {"pool_size": 20, "max_overflow": 44}
    engine = create_async_engine(url, **pool,
                                 connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised by every test
        # We issue BEGIN ourselves (below), so sqlite3's own transaction handling is off.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={settings.sqlite_busy_timeout_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn):  # pragma: no cover - exercised by every test
        # A writing request takes the write lock up front (BEGIN IMMEDIATE), so it waits for
        # the busy timeout instead of failing when its read snapshot turns stale.
        if conn.get_execution_options().get("sqlite_immediate"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session and one transaction per request; committed before the response is sent."""
    state = request.app.state
    writing = request.method not in SAFE_METHODS
    engine = state.write_engine if writing else state.engine
    async with _sqlite_writer_turn(state, writing), AsyncSession(
            engine, expire_on_commit=False) as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


@asynccontextmanager
async def _sqlite_writer_turn(state, writing: bool) -> AsyncIterator[None]:
    """On SQLite, a worker's writing requests take turns in the order they came.

    SQLite lets one writer in at a time; the others wait in its busy handler, which sleeps up to
    100 ms between tries, so under load most of a write's time was sleeping (p99 6–9 s at 64
    concurrent casts). A queue in the worker hands the write lock on at once. Writers of other
    processes still meet in SQLite's busy handler; after the busy timeout a request goes ahead
    and lets SQLite decide, as before.
    """
    lock: asyncio.Lock | None = getattr(state, "sqlite_write_turn", None)
    if not writing or lock is None:
        yield
        return
    try:
        async with asyncio.timeout(state.settings.sqlite_busy_timeout_ms / 1000):
            await lock.acquire()
    except TimeoutError:
        yield
        return
    try:
        yield
    finally:
        lock.release()


# scope="function": the commit happens before the response goes out, so a failed commit
# becomes an error response instead of a success that was never stored.
SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]
