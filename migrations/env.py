"""Alembic environment: runs the migrations on the configured database (async drivers)."""

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import app.models  # noqa: F401  (fills the metadata)
from app.config import async_database_url, get_settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def _url() -> str:
    return async_database_url(config.attributes.get("database_url") or get_settings().database_url)


# Full-text search structures live outside the models (they differ per database): the
# SQLite FTS5 table proposal_fts (and its shadow tables) and PostgreSQL's proposal_search table
# (migrations/versions/2026-11-22-2130_search_facets.py).
def _include_object(obj, name, type_, reflected, compare_to) -> bool:
    if type_ == "table" and name and name.startswith(("proposal_fts", "proposal_search")):
        return False
    if type_ == "index" and name and name.startswith("ix_proposal_search_"):
        return False
    return True


def _configure(connection=None, url=None) -> None:
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        include_object=_include_object,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copes
        compare_type=True,
        literal_binds=connection is None,
    )


def run_migrations_offline() -> None:
    _configure(url=_url())
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = create_async_engine(_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run_sync)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
