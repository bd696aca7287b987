"""Settings refuse an insecure production; the `minsheng` command's set-up subcommands."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from app.config import Settings, async_database_url
from app.models import User
from tests.helpers import run


def test_a_missing_secret_is_refused_outside_development(monkeypatch):
    monkeypatch.delenv("MINSHENG_SECRET_KEY", raising=False)
    for env in ("test", "production"):
        with pytest.raises(ValidationError, match="MINSHENG_SECRET_KEY"):
            Settings(env=env, rate_limit_url="redis://127.0.0.1:6379/0")
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(env="production", secret_key="short", rate_limit_url="redis://x")
    assert Settings(env="development").effective_secret


def test_production_needs_a_shared_rate_limit_store():
    with pytest.raises(ValidationError, match="MINSHENG_RATE_LIMIT_URL"):
        Settings(env="production", secret_key="s" * 40, ballot_key="b" * 40)
    Settings(env="production", secret_key="s" * 40, rate_limit_url="redis://127.0.0.1:6379/0",
             sms_outbox_in_production=True, ballot_key="b" * 40)


def test_production_needs_its_own_ballot_key():
    base = dict(env="production", secret_key="s" * 40, rate_limit_url="redis://127.0.0.1:6379/0",
                sms_outbox_in_production=True)
    for wrong in (None, "short"):
        with pytest.raises(ValidationError, match="MINSHENG_BALLOT_KEY must be set"):
            Settings(**base, ballot_key=wrong)
    with pytest.raises(ValidationError, match="must differ from MINSHENG_SECRET_KEY"):
        Settings(**base, ballot_key="s" * 40)


def test_serve_refuses_to_start_without_a_secret_in_production():
    env = {"MINSHENG_ENV": "production", "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-m", "app.cli", "serve", "--port", "1"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "MINSHENG_SECRET_KEY" in r.stderr


def test_plain_database_urls_map_to_the_async_drivers():
    assert async_database_url("sqlite:///var/x.db") == "sqlite+aiosqlite:///var/x.db"
    assert async_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert async_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"


def minsheng(database_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """Run the `minsheng` command in its own process, as an operator would."""
    env = {**os.environ, "MINSHENG_DATABASE_URL": database_url, "MINSHENG_ENV": "development"}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=120)


def test_db_upgrade_is_idempotent(client, database_url):
    r = minsheng(database_url, "db", "upgrade")
    assert r.returncode == 0 and "revision head" in r.stdout


def test_a_command_that_writes_moves_the_data_version_on(client, database_url, tmp_path):
    """The workers' kept pages (app/caching.py) must not outlive a change made by a command."""
    from app.dataversion import FileVersion

    path = tmp_path / "data-version"
    env = {**os.environ, "MINSHENG_DATABASE_URL": database_url, "MINSHENG_ENV": "development",
           "MINSHENG_DATA_VERSION_URL": path.as_uri()}
    r = subprocess.run([sys.executable, "-m", "app.cli", "create-admin", "--username",
                        "version-admin", "--password-stdin"], input="admin-pass-123\n", env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert FileVersion(path).read() == 1
    r = subprocess.run([sys.executable, "-m", "app.cli", "db", "upgrade"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert FileVersion(path).read() == 2


def test_create_admin_reads_the_password_from_stdin(client, world, database_url):
    r = minsheng(database_url, "create-admin", "--username", "root-admin", "--password-stdin",
                 stdin="admin-pass-123\n")
    assert r.returncode == 0, r.stderr
    role = run(client, lambda s: s.scalar(select(User.role).where(User.username == "root-admin")))
    assert role == "admin"
    r = client.post("/api/v1/auth/token", json={"username": "root-admin",
                                                "password": "admin-pass-123"})
    assert r.status_code == 200 and r.json()["role"] == "admin"


def test_create_admin_refuses_a_weak_password_or_a_taken_name(client, world, database_url):
    r = minsheng(database_url, "create-admin", "--username", "root-admin", "--password-stdin",
                 stdin="123\n")
    assert r.returncode == 2 and "at least 8" in r.stderr
    r = minsheng(database_url, "create-admin", "--username", "admin", "--password-stdin",
                 stdin="river-pass-123\n")
    assert r.returncode == 1 and "taken" in r.stderr


def test_cli_explains_an_unreachable_database(tmp_path):
    r = minsheng(f"sqlite:///{tmp_path}/no/such/dir/../x.db", "audit", "verify")
    assert r.returncode == 2 and "database error" in r.stderr and "Traceback" not in r.stderr


def test_help_lists_every_command():
    r = subprocess.run([sys.executable, "-m", "app.cli", "--help"], capture_output=True,
                       text=True, timeout=60)
    for command in ("db", "create-admin", "demo", "serve", "audit", "jurisdictions"):
        assert command in r.stdout
