"""Test fixtures: every database test runs on SQLite and on PostgreSQL.

The schema is built by the Alembic migrations (never create_all). PostgreSQL gets a throwaway
database per run, dropped afterwards. Without PostgreSQL those tests are skipped with a notice,
except under CI=true, where that is a failure.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
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
ROOT = Path(__file__).resolve().parents[1]
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
    with pg_database() as url:
        yield url


@contextmanager
def pg_database(prefix: str = "minsheng_test", *, migrated: bool = True) -> Iterator[str]:
    """A fresh PostgreSQL database, migrated (or left empty), dropped afterwards (unavailable:
    skip or fail)."""
    try:
        admin = psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL is not reachable at {PG_SERVER} ({str(exc).strip()[:80]})")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"{PG_SERVER}/{name}"
        if migrated:
            upgrade(url)
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def app_server(database_url: str, log_path: Path, *, workers: int = 1,
               ready_answers: int = 1) -> Iterator[str]:
    """The app under uvicorn (`workers` processes) on a free port; yields its base URL.

    Ready once /healthz has answered `ready_answers` times in a row on fresh connections (with
    several workers, enough answers that each is likely up). Stopped as a process group, so the
    workers go with it.
    """
    with app_process(database_url, log_path, workers=workers,
                     ready_answers=ready_answers) as server:
        yield server.base


@dataclass
class AppProcess:
    """A running app_process: its base URL and uvicorn's process (the leader of its group)."""

    base: str
    proc: subprocess.Popen

    def kill(self) -> None:
        """SIGKILL the whole process group at once (uvicorn and its workers): a crash."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


@contextmanager
def app_process(database_url: str, log_path: Path, *, workers: int = 1,
                ready_answers: int = 1) -> Iterator[AppProcess]:
    """app_server, yielding the AppProcess (for tests that kill it)."""
    port = _free_port()
    env = {**os.environ, "MINSHENG_ENV": "test", "MINSHENG_DATABASE_URL": database_url,
           "MINSHENG_SECRET_KEY": TEST_SECRET, "MINSHENG_RATE_LIMIT_URL": "memory://",
           "MINSHENG_PAGE_CACHE_SECONDS": "0"}
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
             "--no-access-log", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_ready(proc, base, log_path, ready_answers)
        yield AppProcess(base, proc)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _wait_ready(proc: subprocess.Popen, base: str, log_path: Path, answers: int) -> None:
    deadline = time.monotonic() + 30
    answered = 0
    while answered < answers:
        if proc.poll() is not None:
            pytest.fail(f"uvicorn exited with {proc.returncode}:\n"
                        f"{log_path.read_text(errors='replace')[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail("uvicorn did not answer /healthz within 30 s:\n"
                        f"{log_path.read_text(errors='replace')[-3000:]}")
        try:
            ok = httpx.get(f"{base}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            ok = False
        answered = answered + 1 if ok else 0
        if answered < answers:
            time.sleep(0.05 if ok else 0.1)


def make_settings(database_url: str, **overrides) -> Settings:
    # page_cache_seconds=0: tests change the database behind the app's back and read the pages
    # again at once; tests/test_caching.py turns the shared copy on.
    values = dict(env="test", database_url=database_url, secret_key=TEST_SECRET,
                  rate_limit_url="memory://", page_cache_seconds=0)
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


@pytest.fixture
def impatient(client, database_url):
    """A second app on the test database that waits 0.3 s for a connection or a lock (one
    pooled connection): for what happens when the database is busy."""
    app = create_app(make_settings(database_url, db_pool_size=1, db_pool_timeout_s=0.3,
                                   sqlite_busy_timeout_ms=300))
    with TestClient(app) as other:
        yield other
