"""Engine and the request-scoped session: commit once on success, roll back on error."""

from __future__ import annotations

import asyncio
import logging
import queue
import re
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    create_async_engine,
)

from app.config import Settings, ensure_sqlite_directory

log = logging.getLogger("minsheng")

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
        _sqlite_setup(dbapi_connection, settings)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn):  # pragma: no cover - exercised by every test
        # A writing request takes the write lock up front (BEGIN IMMEDIATE), so it waits for
        # the busy timeout instead of failing when its read snapshot turns stale.
        if conn.get_execution_options().get("sqlite_immediate"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


def _sqlite_setup(connection, settings: Settings) -> None:
    """WAL, foreign keys, the busy timeout; we issue BEGIN ourselves, so sqlite3's own
    transaction handling is off."""
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={settings.sqlite_busy_timeout_ms}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # What is deleted is overwritten with zeros, not left in free space: a ballot box's sealed
    # envelopes and key once the round has closed (app/ballotbox/envelopes.py).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


@asynccontextmanager
async def request_session(state, writing: bool) -> AsyncIterator[AsyncSession]:
    """One session and one transaction for a request (its SessionDep, or a fast path's answer
    outside the router): committed at the end, rolled back on an error."""
    engine = state.write_engine if writing else state.engine
    async with _sqlite_writer_turn(state, writing):
        session = AsyncSession(engine, expire_on_commit=False)
        # A read-only request may remember what it read under the data's version (a search:
        # app/proposals/search.py), a writing one's version may yet be rolled back; it may read
        # outside its session, on the worker's SQLite reader threads or PostgreSQL's hot pool
        # (app/proposals/listing.py).
        session.info["read_only"] = not writing
        session.info["settings"] = state.settings  # the ballot key: app/ballotbox/envelopes.py
        session.info["sqlite_readers"] = (None if writing
                                          else getattr(state, "sqlite_readers", None))
        session.info["pg_hot_pool"] = None if writing else getattr(state, "hot_pool", None)
        # A session the request never used (it read elsewhere) has nothing to commit or close:
        # skipping them saves 0.2 ms of a small read.
        try:
            yield session
            if session.in_transaction():
                await session.commit()
            await run_after_commit(session)
        except BaseException:
            if session.in_transaction():
                await session.rollback()
            raise
        finally:
            if session.in_transaction() or session.identity_map:
                await session.close()


def after_commit(session: AsyncSession, fn: Callable[[], Awaitable[None]]) -> None:
    """Have `fn()` run once the session's transaction has committed (by request_session and the
    command line): work that cannot run inside a transaction, such as PostgreSQL's VACUUM. It
    does not run if the transaction is rolled back; what it raises is logged, not answered."""
    session.info.setdefault("after_commit", []).append(fn)


async def run_after_commit(session: AsyncSession) -> None:
    for fn in session.info.pop("after_commit", []):
        try:
            await fn()
        except Exception as exc:  # noqa: BLE001 - the committed work stands
            log.warning("after commit: %s failed: %s: %s", getattr(fn, "__name__", fn),
                        exc.__class__.__name__, exc)


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session and one transaction per request; committed before the response is sent."""
    async with request_session(request.app.state, request.method not in SAFE_METHODS) as session:
        yield session


async def run_on_sqlite_thread(session: AsyncSession, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run `fn(connection)` on the session's SQLite connection, inside its transaction, in one go.

    aiosqlite runs every statement on the connection's own thread and hands each result back to
    the event loop; a hot path with several statements pays that hand-over once instead (cast
    a ballot: app/ballotbox/casting.py). It uses aiosqlite's queue of calls (`_execute`) and its
    sqlite3 connection (`_conn`); tests/test_db.py fails if a new aiosqlite changes them.
    """
    connection = await session.connection()  # begins the transaction (BEGIN or BEGIN IMMEDIATE)
    driver = (await connection.get_raw_connection()).driver_connection
    return await driver._execute(fn, driver._conn)


class SqliteWriter:
    """A worker's thread for hot SQLite write transactions, committed several at a time.

    SQLite takes one writer at a time, and through aiosqlite every statement is a hand-over to a
    connection's thread and back. A session hall's casts instead queue here: the thread takes
    every job waiting, runs each in a SAVEPOINT of one BEGIN IMMEDIATE transaction (a job that
    raises is rolled back alone and its request gets the error) and commits them together; each
    request is answered only after that COMMIT. The event loop meanwhile goes on parsing
    requests. Writers elsewhere (sessions, other workers) meet it in SQLite's busy handler.
    """

    BATCH = 64

    def __init__(self, database: str, settings: Settings) -> None:
        self._database = database
        self._settings = settings
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._serve, name="sqlite-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn(connection)` in the next group transaction; its result once that commits."""
        if self._thread is None:
            raise RuntimeError("the SQLite writer is not running")
        future = asyncio.get_running_loop().create_future()
        self._jobs.put((fn, future))
        return await future

    def _serve(self) -> None:
        db = sqlite3.connect(self._database, timeout=self._settings.sqlite_busy_timeout_ms / 1000,
                             check_same_thread=False)
        _sqlite_setup(db, self._settings)
        try:
            while (job := self._jobs.get()) is not None:
                batch = [job]
                while len(batch) < self.BATCH:
                    try:
                        job = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if job is None:
                        self._jobs.put(None)  # stop after this batch
                        break
                    batch.append(job)
                for (_, future), outcome in zip(batch, self._commit(db, batch), strict=True):
                    future.get_loop().call_soon_threadsafe(_settle, future, outcome)
        finally:
            db.close()

    @staticmethod
    def _commit(db: sqlite3.Connection, batch: list) -> list[tuple[bool, object]]:
        outcomes: list[tuple[bool, object]] = []
        try:
            db.execute("BEGIN IMMEDIATE")
            for fn, _ in batch:
                db.execute("SAVEPOINT job")
                try:
                    outcomes.append((True, fn(db)))
                except Exception as exc:  # noqa: BLE001 - handed to the job's request
                    db.execute("ROLLBACK TO job")
                    outcomes.append((False, exc))
                db.execute("RELEASE job")
            db.execute("COMMIT")
        except Exception as exc:  # noqa: BLE001 - the whole group failed: every request learns it
            if db.in_transaction:
                db.execute("ROLLBACK")
            return [(False, exc)] * len(batch)
        return outcomes


async def sqlite_write(state, fn: Callable[[sqlite3.Connection], T]) -> T:
    """`fn(connection)` in a write transaction of its own: through the worker's SqliteWriter, or
    (an in-memory database, which only the engine's one connection sees) a session."""
    writer: SqliteWriter | None = getattr(state, "sqlite_writer", None)
    if writer is not None:
        return await writer.run(fn)
    async with _sqlite_writer_turn(state, True), AsyncSession(state.write_engine) as session:
        result = await run_on_sqlite_thread(session, fn)
        await session.commit()
        return result


def _settle(future: asyncio.Future, outcome: tuple[bool, object]) -> None:
    if future.done():  # the request went away
        return
    ok, value = outcome
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


def make_hot_pool(settings: Settings) -> AsyncConnectionPool | None:
    """PostgreSQL: a few driver connections in autocommit mode for the hot path (casting), apart
    from the ORM's pool, so a cast is one round trip with nothing around it. Opened in the
    lifespan; None on SQLite."""
    if settings.is_sqlite:
        return None
    conninfo = settings.async_url.replace("postgresql+psycopg://", "postgresql://", 1)
    return AsyncConnectionPool(conninfo, min_size=1, max_size=max(2, settings.db_pool_size // 2),
                               timeout=settings.db_pool_timeout_s, open=False,
                               kwargs={"autocommit": True}, name="minsheng-hot")


@asynccontextmanager
async def pg_autocommit(state) -> AsyncIterator[Any]:
    """A PostgreSQL driver connection (psycopg AsyncConnection) of the app's hot pool
    (make_hot_pool, opened in the lifespan), in autocommit mode: each statement is its own
    transaction, one round trip — no ORM session at all."""
    async with state.hot_pool.connection() as connection:
        yield connection


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


class SqliteReaders:
    """A worker's threads for small read-only statements outside any request's session (the
    cached pages' identity lookup, app/auth/page_identity.py): each thread keeps its own sqlite3
    connection, so a statement costs one hand-over to a thread and back, with no ORM or pool."""

    def __init__(self, database: str, settings: Settings, threads: int = 2) -> None:
        self._database = database
        self._settings = settings
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="sqlite-reader")

    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self._database, check_same_thread=False,
                                 timeout=self._settings.sqlite_busy_timeout_ms / 1000)
            _sqlite_setup(db, self._settings)
            self._local.db = db
        return db

    def _fetch_one(self, sql: str, params: dict) -> tuple | None:
        return self._connection().execute(sql, params).fetchone()

    def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        db = self._connection()
        db.execute("BEGIN")
        try:
            return fn(db)
        finally:
            db.execute("ROLLBACK")  # a read: nothing to keep, the snapshot ends

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn(connection)` on a reader thread in one read transaction (one snapshot): a read
        of several statements in one hand-over (the public proposal list, app/proposals/
        listing.py). `fn` must not write."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._run, fn)

    async def fetch_one(self, sql: str, params: dict) -> tuple | None:
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, self._fetch_one, sql, params)

    def close(self) -> None:
        self._pool.shutdown(wait=False)


HOT_POOL_WAIT_S = 0.005  # how long a small read waits for a free hot connection (PostgreSQL)
_NAMED = re.compile(r"(?<!:):([a-z_]+)")


async def fetch_one(state, sql: str, params: dict) -> tuple | None:
    """One row of a small read-only statement (`:name` parameters), outside the request's
    session, in as few hand-overs as each database allows: a reader thread of a SQLite file
    (SqliteReaders), one round trip on PostgreSQL's hot pool, else a session of the engine."""
    readers: SqliteReaders | None = getattr(state, "sqlite_readers", None)
    if readers is not None:
        return await readers.fetch_one(sql, params)
    hot_pool = getattr(state, "hot_pool", None)
    if hot_pool is not None:
        # The hot pool is the casts' first: a read takes a connection only if one is free at
        # once, else it goes through the engine below.
        try:
            connection = await hot_pool.getconn(timeout=HOT_POOL_WAIT_S)
        except PoolTimeout:
            connection = None
        if connection is not None:
            try:
                cursor = await connection.execute(_NAMED.sub(r"%(\1)s", sql), params)
                return await cursor.fetchone()
            finally:
                await hot_pool.putconn(connection)
    from sqlalchemy import text

    async with AsyncSession(state.engine) as session:
        return (await session.execute(text(sql), params)).first()


# scope="function": the commit happens before the response goes out, so a failed commit
# becomes an error response instead of a success that was never stored.
SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]
