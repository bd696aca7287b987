"""What server-side page sessions cost a page request: the account lookup before (the user by
primary key) and now (the user joined to its login_session row), on a table of many sessions.

A throwaway database (SQLite in a temp dir, or `--database postgresql`: a throwaway PostgreSQL
database, always dropped) gets the migrations, `--users` accounts and `--sessions` login sessions
(a third of them expired, a third ended); then each lookup runs `--runs` times, each in a session
of its own as a request would, and the clean-up a log-in does (deleting the expired rows) and a
log-out everywhere are timed. Prints p50 and p95 per operation.

    .venv/bin/python bench/login_sessions_bench.py
    .venv/bin/python bench/login_sessions_bench.py --database postgresql --sessions 200000
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, insert  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from app.auth import login_sessions  # noqa: E402
from app.config import Settings  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.models import LoginSession, User, utcnow  # noqa: E402


@contextmanager
def database(kind: str, pg_server: str):
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite+aiosqlite:///{tmp}/bench.db"
        return
    import psycopg

    name = f"minsheng_bench_sessions_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{pg_server.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def figures(name: str, times: list[float]) -> None:
    times = sorted(times)
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"  {name:<40} p50 {statistics.median(times) * 1e6:8.0f} µs   p95 {p95 * 1e6:8.0f} µs")


async def run(url: str, args) -> None:
    # The app's engine: on SQLite WAL, synchronous=NORMAL and the busy timeout, as served.
    engine = make_engine(Settings(env="test", database_url=url, secret_key="bench-" + "x" * 40,
                                  rate_limit_url="memory://"))
    rng = random.Random(1)
    now = utcnow()
    users = [uuid.uuid4().hex for _ in range(args.users)]
    secrets_of: dict[str, str] = {}
    async with engine.begin() as conn:
        await conn.execute(insert(User), [
            {"id": u, "username": f"u{i}", "display_name": "某", "role": "resident",
             "password_hash": "!", "token_version": 1, "must_change_password": False,
             "is_active": True, "created_at": now} for i, u in enumerate(users)])
        rows = []
        for i in range(args.sessions):
            secret = uuid.uuid4().hex
            kind = i % 3  # running, expired, ended
            user = users[i % len(users)]
            if kind == 0:
                secrets_of.setdefault(user, secret)
            rows.append({
                "id": login_sessions.session_key(secret), "user_id": user,
                "created_at": now - timedelta(hours=13 if kind == 1 else 1),
                "last_seen_at": now - timedelta(minutes=1),
                "expires_at": now + (timedelta(hours=-1) if kind == 1 else timedelta(hours=11)),
                "device": "Chrome Mobile · Android 13", "address": "10.0.0.1",
                "ended_at": now if kind == 2 else None,
                "ended_reason": "logout" if kind == 2 else None})
            if len(rows) == 5000:
                await conn.execute(insert(LoginSession), rows)
                rows = []
        if rows:
            await conn.execute(insert(LoginSession), rows)
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).exec_driver_sql(
                "VACUUM ANALYZE login_session")
    picks = [rng.choice(list(secrets_of)) for _ in range(args.runs)]

    async def timed(*fns) -> list[list[float]]:
        """Each function once per pick, in turn (so load on the machine hits them alike)."""
        times = [[] for _ in fns]
        for uid in picks:
            for fn, kept in zip(fns, times, strict=True):
                async with AsyncSession(engine, expire_on_commit=False) as s:
                    start = time.perf_counter()
                    await fn(s, uid)
                    kept.append(time.perf_counter() - start)
                    await s.commit()
        return times

    async def before(s, uid):  # what optional_user did: the account by primary key
        assert await s.get(User, uid) is not None

    async def after(s, uid):  # what it does now: the account joined to the running session
        request = SimpleNamespace(session={"uid": uid, "v": 1, "sid": secrets_of[uid]})
        assert await login_sessions.user_of(s, request) is not None

    await timed(before, after)  # warm-up (connections, statement caches)
    print(f"{engine.dialect.name}: {args.users} accounts, {args.sessions} login sessions "
          f"({args.sessions // 3} running), {args.runs} lookups each")
    old, new = await timed(before, after)
    figures("page lookup before (user by id)", old)
    figures("page lookup now (user ⋈ login_session)", new)

    async with AsyncSession(engine) as s:
        start = time.perf_counter()
        gone = (await s.execute(delete(LoginSession).where(
            LoginSession.expires_at < utcnow()))).rowcount
        await s.commit()
        print(f"  first log-in's clean-up: {gone} expired rows deleted in "
              f"{(time.perf_counter() - start) * 1000:.0f} ms (later log-ins: see below)")
    cleanup = []
    for _ in range(50):
        async with AsyncSession(engine) as s:
            start = time.perf_counter()
            await s.execute(delete(LoginSession).where(LoginSession.expires_at < utcnow()))
            await s.commit()
            cleanup.append(time.perf_counter() - start)
    figures("log-in clean-up, nothing expired", cleanup)
    everywhere = []
    for uid in picks[:50]:
        async with AsyncSession(engine) as s:
            user = await s.get(User, uid)
            start = time.perf_counter()
            await login_sessions.log_out_everywhere(s, user)
            await s.commit()
            everywhere.append(time.perf_counter() - start)
    figures("log out everywhere (commit included)", everywhere)
    await engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--sessions", type=int, default=60_000)
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    with database(args.database, args.pg_server) as url:
        upgrade(url)
        asyncio.run(run(url, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
