"""State columns are typed by their workflow's enum, while the database keeps the VARCHAR the
migrations made (no migration: the schema the models describe equals the migrated one)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, select
from sqlmodel import SQLModel

import app.models  # noqa: F401  (every table in the metadata)
from app.models import Candidate, Project, Proposal
from app.workflows.states import CandidateState, ProjectState, ProposalState

TYPED = [(Candidate, CandidateState), (Project, ProjectState), (Proposal, ProposalState)]


def _engine(url: str):
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def _made_by_raw_sql(diff) -> bool:
    if diff[0] == "remove_table":
        return diff[1].name.startswith("proposal_fts") or diff[1].name == "proposal_search"
    if diff[0] == "remove_index":
        return diff[1].table.name == "proposal_search" or diff[1].name == "ix_ballot_content_empty"
    return False


def test_the_models_describe_the_migrated_schema(database_url):
    """Only what migrations make by raw SQL is not in the models: the full-text tables
    (SQLite `proposal_fts*`, PostgreSQL `proposal_search` and its indexes) and one partial index."""
    engine = _engine(database_url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    finally:
        engine.dispose()
    unexpected = [d for d in diffs if not _made_by_raw_sql(d)]
    assert unexpected == []


def test_a_state_column_gives_back_its_enum():
    for model, enum in TYPED:
        column = model.__table__.c.state
        assert column.type.enum is enum
        assert column.type.process_result_value(next(iter(enum)).value, None) is next(iter(enum))
        assert type(column.type.process_bind_param(next(iter(enum)), None)) is str


def test_a_state_filter_with_an_unknown_value_matches_nothing(database_url):
    engine = _engine(database_url)
    try:
        with engine.connect() as conn:
            value = conn.execute(select(Project.__table__.c.state).where(
                Project.__table__.c.state == ProjectState.announced).limit(1)).scalar()
            assert value is None or value is ProjectState.announced
            # Bound as a plain string: an unknown filter value matches nothing, never fails.
            assert conn.execute(select(Project.__table__.c.id).where(
                Project.__table__.c.state == "no-such-state")).first() is None
    finally:
        engine.dispose()
