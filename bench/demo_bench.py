"""`minsheng demo` load time on SQLite and PostgreSQL: a fresh database each run.

Each run makes a throwaway database (SQLite in a temp dir; PostgreSQL a throwaway database,
always dropped), runs `minsheng db upgrade` (not timed), then times `minsheng demo` as an
operator runs it — interpreter start-up included — and a second `minsheng demo` (which finds
the demo and changes nothing). It prints wall time and the command's CPU time (user + system;
the database server's own CPU is not in it), and the machine's load average, since the wall
time on a busy machine says more about the machine than about the demo. Target: under 20 s.

    .venv/bin/python bench/demo_bench.py [--runs 3] [--database sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MINSHENG = str(Path(sys.executable).parent / "minsheng")


def run(database_url: str, *args: str) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the child, stdout) of one `minsheng` command."""
    env = {**os.environ, "MINSHENG_DATABASE_URL": database_url, "MINSHENG_ENV": "development"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([MINSHENG, *args], env=env, capture_output=True, text=True,
                          check=True, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


@contextmanager
def database(kind: str, server: str) -> Iterator[str]:
    """A fresh, empty database URL of `kind`, removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/demo.db"
        return
    import psycopg

    name = f"minsheng_demo_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{server}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-server", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    for kind in kinds:
        loads, again = [], []
        for _ in range(args.runs):
            with database(kind, args.pg_server) as url:
                run(url, "db", "upgrade")
                wall, cpu, out = run(url, "demo")
                assert out.startswith("demo data loaded"), out[:200]
                loads.append((wall, cpu, os.getloadavg()[0]))
                wall, cpu, out = run(url, "demo")
                assert out.startswith("demo data already present"), out[:200]
                again.append((wall, cpu))
        print(f"{kind}: minsheng demo, {args.runs} fresh databases")
        for i, (wall, cpu, load) in enumerate(loads, 1):
            print(f"  run {i}: {wall:6.1f} s wall, {cpu:5.1f} s CPU (load average {load:.1f})")
        print(f"  median {statistics.median(w for w, _, _ in loads):.1f} s wall, "
              f"{statistics.median(c for _, c, _ in loads):.1f} s CPU; a second `minsheng demo` "
              f"{statistics.median(w for w, _ in again):.1f} s wall "
              f"(changes nothing)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
