"""`GET /healthz` (alive) and `GET /readyz` (the database answers and has this code's
migrations; 503 with the reason otherwise), on both databases (app/monitoring/health.py).
"""

from __future__ import annotations

from contextlib import contextmanager

from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.main import create_app
from app.migrate import alembic_config
from tests.conftest import make_settings

# ------------------------------------------------------------------ /healthz and /readyz

def test_healthz_answers_without_the_database_and_is_never_cached(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"ok": True}
    assert r.headers["cache-control"] == "no-store" and "etag" not in r.headers


def test_readyz_is_ok_when_the_database_has_the_codes_migrations(client):
    r = client.get("/readyz")
    assert r.status_code == 200, r.text
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert r.json() == {"ok": True, "revision": head}
    assert r.headers["cache-control"] == "no-store" and "etag" not in r.headers


@contextmanager
def database_at(client, revision: str):
    """The test database's alembic_version set to `revision` until the block ends."""
    engine = client.app.state.engine

    async def put(value):
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": value})

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    client.portal.call(put, revision)
    try:
        yield head
    finally:
        client.portal.call(put, head)


def test_readyz_is_503_when_the_database_is_behind_the_codes_migrations(client):
    script = ScriptDirectory.from_config(alembic_config())
    previous = script.get_revision(script.get_current_head()).down_revision
    with database_at(client, previous) as head:
        r = client.get("/readyz")
    assert r.status_code == 503, r.text
    body = r.json()
    assert body["ok"] is False and body["code"] == "migrations_not_current"
    assert body["database_revision"] == [previous] and body["code_revision"] == [head]
    assert "minsheng db upgrade" in body["detail"]
    assert client.get("/readyz").status_code == 200  # upgraded again: ready


def test_readyz_is_503_when_the_database_is_ahead_of_the_code(client):
    with database_at(client, "f00dfeedbeef"):
        r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["code"] == "migrations_not_current"
    assert r.json()["database_revision"] == ["f00dfeedbeef"]


def test_readyz_is_503_when_the_database_cannot_be_reached():
    app = create_app(make_settings("postgresql://postgres@127.0.0.1:1/nowhere"))
    with TestClient(app) as other:
        r = other.get("/readyz")
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "database_unreachable" and r.json()["ok"] is False
        assert other.get("/healthz").status_code == 200  # alive all the same
