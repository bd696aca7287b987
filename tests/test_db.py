"""app/db.py's hot-path helpers on SQLite: the group-committing writer and the one-hand-over run."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db import SqliteReaders, SqliteWriter, make_engine, run_on_sqlite_thread


def _settings(path) -> Settings:
    return Settings(env="test", database_url=f"sqlite:///{path}", secret_key="x" * 40)


def _table(path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)")


def _rows(path) -> list[int]:
    with sqlite3.connect(path) as db:
        return [n for (n,) in db.execute("SELECT n FROM t ORDER BY n")]


def test_the_writer_commits_a_group_and_rolls_back_only_the_job_that_failed(tmp_path):
    path = tmp_path / "w.db"
    _table(path)
    writer = SqliteWriter(str(path), _settings(path))
    writer.start()

    def insert(n: int, fail: bool = False):
        def job(db: sqlite3.Connection) -> int:
            db.execute("INSERT INTO t (n) VALUES (?)", (n,))
            if fail:
                raise ValueError(f"job {n} refused")
            return n
        return job

    gate = threading.Event()
    batches: list[int] = []

    async def main():
        # the writer is held on a first job until the five are queued: they form one group
        first = asyncio.ensure_future(writer.run(lambda db: gate.wait(5)))
        await asyncio.sleep(0.05)
        five = asyncio.gather(*(writer.run(insert(n, fail=n == 3)) for n in range(1, 6)),
                              return_exceptions=True)
        await asyncio.sleep(0.05)
        batches.append(writer._jobs.qsize())
        gate.set()
        await first
        return await five

    try:
        outcomes = asyncio.run(main())
    finally:
        writer.stop()
    assert batches == [5]
    assert outcomes[:2] == [1, 2] and outcomes[3:] == [4, 5]
    assert isinstance(outcomes[2], ValueError) and str(outcomes[2]) == "job 3 refused"
    assert _rows(path) == [1, 2, 4, 5]


def test_a_failed_commit_reaches_every_request_of_the_group(tmp_path):
    path = tmp_path / "w.db"
    _table(path)
    writer = SqliteWriter(str(path), _settings(path))
    writer.start()

    def job(db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO t (n) VALUES (1)")
        db.execute("COMMIT")  # ends the group's transaction: its RELEASE / COMMIT then fail

    async def main():
        return await asyncio.gather(writer.run(job), return_exceptions=True)

    try:
        (outcome,) = asyncio.run(main())
    finally:
        writer.stop()
    assert isinstance(outcome, sqlite3.Error)


def test_a_stopped_writer_refuses_work(tmp_path):
    writer = SqliteWriter(str(tmp_path / "w.db"), _settings(tmp_path / "w.db"))
    with pytest.raises(RuntimeError):
        asyncio.run(writer.run(lambda db: None))


def test_run_on_sqlite_thread_uses_the_session_transaction(tmp_path):
    """It relies on aiosqlite's `_execute` and `_conn`: this fails if a new aiosqlite drops them."""
    path = tmp_path / "s.db"
    _table(path)
    engine = make_engine(_settings(path))

    async def main():
        async with AsyncSession(engine) as session:
            await run_on_sqlite_thread(session, lambda db: db.execute(
                "INSERT INTO t (n) VALUES (7)"))
            await session.rollback()  # the insert was inside the session's transaction
        async with AsyncSession(engine) as session:
            await run_on_sqlite_thread(session, lambda db: db.execute(
                "INSERT INTO t (n) VALUES (8)"))
            await session.commit()
        await engine.dispose()

    asyncio.run(main())
    assert _rows(path) == [8]


def test_a_reader_runs_a_function_in_one_read_transaction(tmp_path):
    """SqliteReaders.run: several statements in one snapshot, in one hand-over; a function
    that raises leaves no transaction open behind it."""
    path = tmp_path / "r.db"
    _table(path)
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO t (n) VALUES (1)")
    readers = SqliteReaders(str(path), _settings(path), threads=1)

    def two_reads(db: sqlite3.Connection) -> tuple[list[int], list[int]]:
        first = [n for (n,) in db.execute("SELECT n FROM t")]
        with sqlite3.connect(path) as other:  # committed meanwhile by someone else
            other.execute("INSERT INTO t (n) VALUES (2)")
        return first, [n for (n,) in db.execute("SELECT n FROM t ORDER BY n")]

    def fails(db: sqlite3.Connection) -> None:
        db.execute("SELECT n FROM t").fetchall()
        raise ValueError("refused")

    async def main():
        snapshot = await readers.run(two_reads)
        with pytest.raises(ValueError):
            await readers.run(fails)
        return snapshot, await readers.run(lambda db: (db.in_transaction, [
            n for (n,) in db.execute("SELECT n FROM t ORDER BY n")]))

    try:
        snapshot, after = asyncio.run(main())
    finally:
        readers.close()
    assert snapshot == ([1], [1])  # the second read saw the same snapshot
    assert after == (True, [1, 2])  # a new transaction, which sees the row
