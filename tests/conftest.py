"""Test fixtures: every database test runs on SQLite and on PostgreSQL.

The schema is built by the Alembic migrations (never create_all). PostgreSQL gets a throwaway
database per run, dropped afterwards. Without PostgreSQL those tests are skipped with a notice,
except under CI=true, where that is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import SQLModel

from app.config import Settings
from app.main import create_app
from app.migrate import upgrade
from tests.helpers import World, build_world

IN_CI = os.environ.get("CI") == "true"
PG_SERVER = os.environ.get("MINSHENG_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
TEST_SECRET = "test-secret-" + "x" * 40
BACKENDS = ["sqlite", "postgresql"]
_notices: list[str] = []


def pytest_addoption(parser):
    parser.addoption("--backend", choices=["both", *BACKENDS], default="both",
                     help="run database tests on sqlite, postgresql or both (default)")


def pytest_generate_tests(metafunc):
    if "database_url" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--backend")
        params = BACKENDS if chosen == "both" else [chosen]
        metafunc.parametrize("database_url", params, indirect=True, scope="session")


def unavailable(reason: str) -> None:
    """Skip with a visible notice, or fail under CI=true."""
    if IN_CI:
        pytest.fail(f"{reason} (required under CI=true)", pytrace=False)
    _notices.append(reason)
    pytest.skip(reason)


def pytest_terminal_summary(terminalreporter):
    for notice in sorted(set(_notices)):
        terminalreporter.write_sep("!", f"NOT TESTED: {notice}", yellow=True, bold=True)


@pytest.fixture(scope="session")
def database_url(request, tmp_path_factory) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        upgrade(url)
        yield url
        return
    try:
        admin = psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL is not reachable at {PG_SERVER} ({str(exc).strip()[:80]})")
    name = f"minsheng_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"{PG_SERVER}/{name}"
        upgrade(url)
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def make_settings(database_url: str, **overrides) -> Settings:
    values = dict(env="test", database_url=database_url, secret_key=TEST_SECRET,
                  rate_limit_url="memory://")
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def app_client(database_url) -> Iterator[TestClient]:
    app = create_app(make_settings(database_url))
    with TestClient(app) as client:
        yield client


async def _wipe(app) -> None:
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    async with app.state.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                await conn.execute(text(f"DELETE FROM {name}"))
    await app.state.login_throttle.reset()


@pytest.fixture
def client(app_client) -> Iterator[TestClient]:
    """A client on an empty database (wiped after each test), no cookies."""
    app_client.cookies.clear()
    app_client.headers.clear()
    yield app_client
    app_client.cookies.clear()
    app_client.portal.call(_wipe, app_client.app)


@pytest.fixture
def world(client) -> World:
    """Jurisdictions (two counties, a township, a street) and one account per role."""
    return build_world(client)
