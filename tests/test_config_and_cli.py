"""Settings refuse an insecure production; the `minsheng` command's set-up subcommands."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from app.cli import main as cli_main
from app.config import Settings, async_database_url, get_settings
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
        Settings(env="production", secret_key="s" * 40)
    Settings(env="production", secret_key="s" * 40, rate_limit_url="redis://127.0.0.1:6379/0")


def test_serve_refuses_to_start_without_a_secret_in_production():
    env = {"MINSHENG_ENV": "production", "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-m", "app.cli", "serve", "--port", "1"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "MINSHENG_SECRET_KEY" in r.stderr


def test_plain_database_urls_map_to_the_async_drivers():
    assert async_database_url("sqlite:///var/x.db") == "sqlite+aiosqlite:///var/x.db"
    assert async_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert async_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"


@pytest.fixture
def cli_env(monkeypatch, database_url):
    monkeypatch.setenv("MINSHENG_DATABASE_URL", database_url)
    monkeypatch.setenv("MINSHENG_ENV", "development")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_db_upgrade_is_idempotent(client, cli_env, capsys):
    assert cli_main(["db", "upgrade"]) == 0
    assert "revision head" in capsys.readouterr().out


def test_create_admin_reads_the_password_from_stdin(client, world, cli_env, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("admin-pass-123\n"))
    assert cli_main(["create-admin", "--username", "root-admin", "--password-stdin"]) == 0
    role = run(client, lambda s: s.scalar(select(User.role).where(User.username == "root-admin")))
    assert role == "admin"
    r = client.post("/api/v1/auth/token", json={"username": "root-admin",
                                                "password": "admin-pass-123"})
    assert r.status_code == 200 and r.json()["role"] == "admin"


def test_create_admin_refuses_a_weak_password_or_a_taken_name(client, world, cli_env,
                                                              monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("123\n"))
    assert cli_main(["create-admin", "--username", "root-admin", "--password-stdin"]) == 2
    monkeypatch.setattr(sys, "stdin", io.StringIO("admin-pass-123\n"))
    assert cli_main(["create-admin", "--username", "admin", "--password-stdin"]) == 1


def test_help_lists_every_command():
    r = subprocess.run([sys.executable, "-m", "app.cli", "--help"], capture_output=True,
                       text=True, timeout=60)
    for command in ("db", "create-admin", "demo", "serve", "audit"):
        assert command in r.stdout
