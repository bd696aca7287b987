#!/usr/bin/env python3
"""Importing a 12345 hotline export: how long the preview, the import and a re-import take.

One run: a throwaway database (SQLite in a temp dir, or with --database postgresql a throwaway
PostgreSQL database, dropped afterwards) is migrated, given a county with a township, a
government staff account and a cycle in 征集, then a CSV export of --rows records (1,000, the
most a file may hold) goes through app.proposals.hotline.import_file three times — a dry run,
the import, the same file again (every record skipped) — each in one transaction, as a request
would. It prints the seconds each took and checks the audit chain afterwards. An import holds
SQLite's write lock for its whole length: other writers wait (MINSHENG_SQLITE_BUSY_TIMEOUT_MS).

    .venv/bin/python bench/hotline_import_bench.py                        # SQLite
    .venv/bin/python bench/hotline_import_bench.py --database postgresql --rows 1000
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from app.audit.service import verify  # noqa: E402
from app.config import Settings  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.models import Cycle, Jurisdiction, User  # noqa: E402
from app.models.proposal import DEFAULT_CATEGORIES  # noqa: E402
from app.proposals import hotline  # noqa: E402

PG_SERVER_DEFAULT = "postgresql://postgres@127.0.0.1:5432"


def export(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["工单号", "来电时间", "来电人", "联系电话", "标题", "诉求内容", "类别",
                     "所在乡镇（街道）", "地点", "估算金额（万元）"])
    for i in range(rows):
        writer.writerow([f"GD-2025-{i:05d}", "2025-03-15 09:12", f"来电群众{i}", "13800001111",
                         f"第{i}号村道硬化", "村道一下雨就是泥，孩子上学、老人看病都不方便。",
                         DEFAULT_CATEGORIES[i % len(DEFAULT_CATEGORIES)], "金顺镇", "石佛村", "12"])
    return out.getvalue().encode("utf-8-sig")


async def run(url: str, rows: int) -> None:
    upgrade(url)
    settings = Settings(env="test", database_url=url, secret_key="bench-" + "x" * 40)
    engine = make_engine(settings)
    write = engine.execution_options(sqlite_immediate=True) if url.startswith("sqlite") else engine
    async with AsyncSession(write, expire_on_commit=False) as session:
        session.add_all([Jurisdiction(code="lezhi", name="乐至县", level="county"),
                         Jurisdiction(code="jinshun", name="金顺镇", level="township",
                                      parent_code="lezhi")])
        await session.flush()
        staff = User(username="gov", display_name="民生办", role="gov_staff",
                     jurisdiction_code="lezhi", password_hash="x")
        session.add(staff)
        await session.flush()
        cycle = Cycle(jurisdiction_code="lezhi", year=2025, title="乐至县2025年民生实事项目",
                      seats=10, phase="soliciting", categories=list(DEFAULT_CATEGORIES),
                      created_by=staff.id)
        session.add(cycle)
        await session.commit()
    data = export(rows)
    for label, dry_run in (("preview", True), ("import", False), ("re-import", False)):
        async with AsyncSession(write, expire_on_commit=False) as session:
            started = time.perf_counter()
            result = await hotline.import_file(session, actor=staff, cycle=cycle, data=data,
                                               filename="bench.csv", dry_run=dry_run)
            await session.commit()
            took = time.perf_counter() - started
        print(f"{label:10} {rows:5d} rows  {took:6.2f} s  created {result.count('created')}, "
              f"to create {result.count('create')}, skipped {result.count('skip')}")
    async with AsyncSession(engine) as session:
        checked = await verify(session)
    print(f"audit chain: {'ok' if checked.ok else 'BROKEN'} ({checked.checked} entries)")
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--pg-server", default=PG_SERVER_DEFAULT)
    args = parser.parse_args()
    if args.database == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            asyncio.run(run(f"sqlite:///{folder}/bench.db", args.rows))
        return
    name = f"minsheng_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{args.pg_server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            asyncio.run(run(f"{args.pg_server}/{name}", args.rows))
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
