"""How long a full-size jurisdictions import takes (app/jurisdictions/imports.py).

A throwaway database (SQLite in a temp dir, or `--database postgresql`: a throwaway PostgreSQL
database, always dropped) is migrated and given an administrator; then a generated province
of `--rows` jurisdictions (20 cities × 10 counties × towns, with division codes, listed
children first so the importer must reorder them) is imported through
`POST /api/v1/jurisdictions/import` twice: the first creates everything, the second finds it
all unchanged. Prints rows, bytes and seconds for each, and for the preview of the same file
on /admin/jurisdictions.

    .venv/bin/python bench/jurisdictions_import_bench.py
    .venv/bin/python bench/jurisdictions_import_bench.py --database postgresql --rows 5000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from app.auth.roles import Role  # noqa: E402
from app.jurisdictions.imports import MAX_IMPORT_ROWS  # noqa: E402
from app.main import create_app  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from tests.conftest import make_settings  # noqa: E402
from tests.helpers import create_user, csrf, page_login, token_headers  # noqa: E402


def province_csv(rows: int) -> bytes:
    """`rows` jurisdictions of one province, each township line before its county and city."""
    lines = ["code,name,level,parent_code,division_code"]
    parents = ["sc,四川省,province,,510000"]
    towns_per_county = max(1, (rows - 1 - 20 - 200) // 200)
    for c in range(20):
        parents.append(f"c{c},市{c},city,sc,51{c + 1:02d}00")
        for k in range(10):
            county = f"c{c}-k{k}"
            parents.append(f"{county},县{c}-{k},county,c{c},51{c + 1:02d}{k + 1:02d}")
            for t in range(towns_per_county):
                lines.append(f"{county}-t{t},镇{t},township,{county},"
                             f"51{c + 1:02d}{k + 1:02d}{t + 100:03d}")
    body = (lines + parents[::-1])[:rows + 1]
    return ("\n".join(body) + "\n").encode()


@contextmanager
def database(kind: str, pg_server: str):
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    name = f"minsheng_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(f"{pg_server}/postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{pg_server}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rows", type=int, default=MAX_IMPORT_ROWS)
    parser.add_argument("--pg-server", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    data = province_csv(min(args.rows, MAX_IMPORT_ROWS))
    rows = data.count(b"\n") - 1
    with database(args.database, args.pg_server) as url:
        upgrade(url)
        with TestClient(create_app(make_settings(url))) as client:
            create_user(client, "root", Role.admin, None)
            headers = token_headers(client, "root")
            files = {"file": ("province.csv", data, "text/csv")}
            for label in ("first import", "second import"):
                started = time.perf_counter()
                r = client.post("/api/v1/jurisdictions/import", headers=headers, files=files)
                elapsed = time.perf_counter() - started
                assert r.status_code == 201, r.text[:300]
                print(f"{args.database:10} {label:14} {rows:6} rows {len(data):8} bytes "
                      f"{elapsed:6.2f} s  {r.json()}")
            page_login(client, "root")
            started = time.perf_counter()
            r = client.post("/admin/jurisdictions/import/preview", files=files,
                            data={"csrftoken": csrf(client)})
            assert r.status_code == 200, r.text[-300:]
            print(f"{args.database:10} {'page preview':14} {rows:6} rows {len(r.content):8} bytes "
                  f"{time.perf_counter() - started:6.2f} s")


if __name__ == "__main__":
    main()
