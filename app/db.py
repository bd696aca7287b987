"""Engine and the request-scoped session: commit once on success, roll back on error."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVar

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
T = TypeVar("T")


def make_engine(settings: Settings) -> AsyncEngine:
    """Create the async engine; SQLite gets WAL, foreign keys and a busy timeout."""
    url = settings.async_url
    # A fixed pool (no overflow): connections, their PRAGMAs and on SQLite their threads are
    # reused, never opened and closed per request under load.
    pool = {"pool_size": settings.db_pool_size, "max_overflow": 0,
            "pool_timeout": settings.db_pool_timeout_s}
    if not url.startswith("sqlite"):
        # No pre-ping: it costs a round trip per request; recycle idle connections instead.
        return create_async_engine(url, **pool, pool_recycle=1800)

    ensure_sqlite_directory(url)
    if ":memory:" in url:  # an in-memory database keeps its one static connection
        pool = {}
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


async def run_on_sqlite_thread(session: AsyncSession, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run `fn(connection)` on the session's SQLite connection, inside its transaction, in one go.

    aiosqlite runs every statement on the connection's own thread and hands each result back to
    the event loop; a hot path with several statements pays that hand-over once instead (cast
    a ballot: app/ballots/casting.py). It uses aiosqlite's queue of calls (`_execute`) and its
    sqlite3 connection (`_conn`); tests/test_db.py fails if a new aiosqlite changes them.
    """
    connection = await session.connection()  # begins the transaction (BEGIN or BEGIN IMMEDIATE)
    driver = (await connection.get_raw_connection()).driver_connection
    return await driver._execute(fn, driver._conn)


async def sqlite_transaction(state, fn: Callable[[sqlite3.Connection], T]) -> T:
    """BEGIN IMMEDIATE, `fn(connection)`, COMMIT (ROLLBACK if it raises) in one hand-over to a
    pooled connection's thread, in the worker's queue of writers — no ORM session at all.

    For a hot path that is one transaction of its own (cast a ballot through the API).
    """
    async with _sqlite_writer_turn(state, True), state.engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        return await driver._execute(_immediate, driver._conn, fn)


def _immediate(db: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    db.execute("BEGIN IMMEDIATE")
    try:
        result = fn(db)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return result


@asynccontextmanager
async def pg_transaction(state) -> AsyncIterator[Any]:
    """A pooled PostgreSQL connection's driver (psycopg AsyncConnection) inside a transaction of
    its own, committed on leaving (rolled back on an exception) — no ORM session at all."""
    async with state.engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        async with driver.transaction():
            yield driver


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
