"""`GET /healthz` (the process serves) and `GET /readyz` (its database answers and has the
schema this code expects), for load balancers, orchestrators and the container's health check.

Both are cheap: /healthz touches nothing, /readyz one pooled connection and one row. Neither is
cached (`Cache-Control: no-store`) nor written to the access log while it succeeds.
"""

from __future__ import annotations

import asyncio
import sqlite3
from functools import cache

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from psycopg import errors as pg_errors
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

router = APIRouter()

NO_STORE = {"Cache-Control": "no-store"}
READY_TIMEOUT = 5.0  # seconds the database has to answer /readyz


@cache
def code_heads() -> frozenset[str]:
    """The Alembic head revision(s) of the migrations shipped with this code (read once)."""
    from alembic.script import ScriptDirectory

    from app.migrate import alembic_config

    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def _missing_table(exc: DBAPIError) -> bool:
    original = exc.orig
    return isinstance(original, pg_errors.UndefinedTable) or (
        isinstance(original, sqlite3.OperationalError) and "no such table" in str(original))


async def database_revisions(engine) -> frozenset[str]:
    """The revision(s) recorded in the database's alembic_version (empty: never migrated)."""
    async with engine.connect() as connection:
        try:
            result = await connection.execute(text("SELECT version_num FROM alembic_version"))
        except DBAPIError as exc:
            if _missing_table(exc):
                return frozenset()
            raise
        return frozenset(result.scalars().all())


def _not_ready(code: str, detail: str, **more) -> JSONResponse:
    return JSONResponse({"ok": False, "code": code, "detail": detail, **more}, status_code=503,
                        headers=NO_STORE)


@router.get("/healthz", include_in_schema=False)
async def healthz() -> JSONResponse:
    """Alive: the process answers. Touches no database."""
    return JSONResponse({"ok": True}, headers=NO_STORE)


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> JSONResponse:
    """Ready: the database answers and its migrations are this code's head; else 503 and why."""
    heads = await asyncio.to_thread(code_heads)
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            found = await database_revisions(request.app.state.engine)
    except (TimeoutError, OSError, DBAPIError) as exc:
        kind = type(getattr(exc, "orig", None) or exc).__name__
        return _not_ready("database_unreachable",
                          f"The database did not answer within {READY_TIMEOUT:g} s ({kind}).")
    if found != heads:
        wanted, have = ", ".join(sorted(heads)), ", ".join(sorted(found)) or "none"
        return _not_ready(
            "migrations_not_current",
            f"The database is at revision {have}; this code needs {wanted}. Run `minsheng db "
            "upgrade` (or start the code that matches the database).",
            database_revision=sorted(found), code_revision=sorted(heads))
    return JSONResponse({"ok": True, "revision": ", ".join(sorted(heads))}, headers=NO_STORE)
