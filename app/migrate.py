"""Run the Alembic migrations from code (`minsheng db upgrade`, the tests, the demo)."""

from __future__ import annotations

import asyncio
import threading

from alembic import command
from alembic.config import Config

from app.config import ensure_sqlite_directory, get_settings
from app.resources import alembic_ini, migrations_dir


def alembic_config(database_url: str | None = None) -> Config:
    """An Alembic config pointing at our migrations and, optionally, a given database."""
    cfg = Config(str(alembic_ini()))
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["configure_logging"] = False
    if database_url:
        cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    """Apply the migrations up to `revision`; safe to call from inside a running event loop."""
    cfg = alembic_config(database_url)
    ensure_sqlite_directory(database_url or get_settings().database_url)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(cfg, revision)
        return
    # env.py uses asyncio.run(); from inside a loop, run it in a thread of its own.
    errors: list[BaseException] = []

    def target():
        try:
            command.upgrade(cfg, revision)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if errors:
        raise errors[0]
