"""Audit anchors at scale: how long `minsheng audit anchor` and `minsheng audit verify` take on a
long chain, and how long a concurrent write waits meanwhile (SQLite: the chain is walked without
the write lock).

A throwaway database (SQLite in a temp dir, or --database postgresql, always dropped) gets
`--entries` audit entries (record_many, 1000 at a time); then, timed: the first anchor (walks the
whole chain), an anchor after 100 more entries (walks only those), an anchor with nothing new,
and verify (walks the chain, checks the anchors). During the first anchor and verify, a writer
appends one entry every 20 ms and the longest of its waits is printed.

    .venv/bin/python bench/audit_anchor_bench.py                        # SQLite, 200,000 entries
    .venv/bin/python bench/audit_anchor_bench.py --database postgresql --entries 100000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


async def _append(url: str, n: int, batch: int = 1000) -> None:
    from sqlalchemy.ext.asyncio import AsyncSession

    from app.audit import service as audit
    from app.config import Settings
    from app.db import make_engine

    engine = make_engine(Settings(database_url=url))
    try:
        for start in range(0, n, batch):
            async with AsyncSession(engine.execution_options(sqlite_immediate=True)) as s:
                await audit.record_many(s, [audit.Record("bench", "bench.entry", "bench",
                                                         str(i), {"i": i, "text": "民生实事"})
                                            for i in range(start, min(n, start + batch))])
                await s.commit()
    finally:
        await engine.dispose()


def timed_command(env: dict, *args: str, writer: bool = False, url: str = "") -> tuple[float,
                                                                                      float, str]:
    """Seconds the command took, the longest wait of a concurrent one-entry writer, its output."""
    waits: list[float] = []
    stop = threading.Event()

    def write_loop():
        while not stop.is_set():
            t = time.perf_counter()
            asyncio.run(_append(url, 1))
            waits.append(time.perf_counter() - t)
            time.sleep(0.02)

    thread = threading.Thread(target=write_loop) if writer else None
    if thread:
        thread.start()
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "app.cli", *args], env=env, cwd=ROOT,
                       capture_output=True, text=True)
    took = time.perf_counter() - t
    stop.set()
    if thread:
        thread.join()
    if r.returncode != 0:
        sys.exit(f"{' '.join(args)} exited {r.returncode}: {r.stdout}{r.stderr}")
    return took, max(waits, default=0.0), (r.stdout + r.stderr).strip().splitlines()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--pg-server", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="anchor-bench-"))
    pg_name = None
    if args.database == "postgresql":
        import psycopg

        pg_name = f"anchor_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(f"{args.pg_server}/postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{pg_name}"')
        url = f"{args.pg_server}/{pg_name}"
    else:
        url = f"sqlite:///{tmp / 'bench.db'}"
    env = {**os.environ, "MINSHENG_DATABASE_URL": url, "MINSHENG_ENV": "development",
           "MINSHENG_AUDIT_KEY_FILE": str(tmp / "key.pem"),
           "MINSHENG_AUDIT_ANCHOR_FILE": str(tmp / "anchors.jsonl")}
    try:
        from app.migrate import upgrade

        upgrade(url)
        t = time.perf_counter()
        asyncio.run(_append(url, args.entries))
        print(f"{args.database}: {args.entries:,} entries written in {time.perf_counter() - t:.1f} s")
        subprocess.run([sys.executable, "-m", "app.cli", "audit", "keygen", str(tmp / "key.pem")],
                       env=env, cwd=ROOT, check=True, capture_output=True)
        rows = []
        took, wait, out = timed_command(env, "audit", "anchor", writer=True, url=url)
        rows.append(("first anchor (whole chain)", took, wait, out))
        asyncio.run(_append(url, 100))
        took, _, out = timed_command(env, "audit", "anchor")
        rows.append(("anchor after 100 entries", took, None, out))
        took, _, out = timed_command(env, "audit", "anchor")
        rows.append(("anchor, nothing new", took, None, out))
        took, wait, out = timed_command(env, "audit", "verify", writer=True, url=url)
        rows.append(("verify (chain + anchors)", took, wait, out))
        print(f"{'what':<28} {'seconds':>8} {'writer max wait':>16}")
        for what, took, wait, out in rows:
            w = f"{wait * 1000:.0f} ms" if wait is not None else "-"
            print(f"{what:<28} {took:>8.2f} {w:>16}   {out[:70]}")
        print("(each command includes starting Python and importing the app)")
    finally:
        if pg_name:
            import psycopg

            with psycopg.connect(f"{args.pg_server}/postgres", autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
