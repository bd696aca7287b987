"""State columns are typed by their workflow's enum, while the database keeps the VARCHAR the
migrations made (no migration: the schema the models describe equals the migrated one)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, select, update
from sqlalchemy.exc import StatementError
from sqlmodel import Session, SQLModel

import app.models  # noqa: F401  (every table in the metadata)
from app.models import BallotRound, Candidate, Cycle, Jurisdiction, Project, Proposal, User
from app.workflows.states import (
    BallotState,
    CandidateState,
    CyclePhase,
    ProjectState,
    ProposalState,
)

# (model, its state column, the enum typing it)
TYPED = [(BallotRound, "state", BallotState), (Candidate, "state", CandidateState),
         (Cycle, "phase", CyclePhase), (Project, "state", ProjectState),
         (Proposal, "state", ProposalState)]


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
    for model, name, enum in TYPED:
        column = model.__table__.c[name]
        first = next(iter(enum))
        assert column.type.enum is enum
        assert column.type.process_result_value(first.value, None) is first
        assert type(column.type.process_bind_param(first, None)) is str
        assert column.type.process_bind_param(first.value, None) == first.value
        with pytest.raises(ValueError):
            column.type.process_bind_param("no-such-state", None)


@pytest.mark.parametrize(("model", "name", "enum"), TYPED, ids=[m.__name__ for m, _, _ in TYPED])
def test_a_state_filter_with_an_unknown_value_matches_nothing(database_url, model, name, enum):
    column = model.__table__.c[name]
    engine = _engine(database_url)
    try:
        with engine.connect() as conn:
            for member in enum:
                value = conn.execute(select(column).where(column == member).limit(1)).scalar()
                assert value is None or value is member
            # Bound as a plain string: an unknown filter value matches nothing, never fails.
            assert conn.execute(select(column).where(column == "no-such-state")).first() is None
            assert conn.execute(select(column).where(
                column.in_(["no-such-state"]))).first() is None
    finally:
        engine.dispose()


def _round_in(session: Session) -> tuple[Cycle, BallotRound]:
    """A cycle in 票决 with a round open, written and flushed (in the caller's transaction)."""
    session.add(Jurisdiction(code="state-test", name="状态测试县", level="county"))
    session.flush()
    staff = User(username="state-test", display_name="状态测试", role="congress_staff",
                 jurisdiction_code="state-test", password_hash="x")
    session.add(staff)
    session.flush()
    cycle = Cycle(jurisdiction_code="state-test", year=2031, title="状态测试", seats=1,
                  phase=CyclePhase.balloting, created_by=staff.id)
    session.add(cycle)
    session.flush()
    ballot = BallotRound(cycle_id=cycle.id, round=1, seats=1, total_deputies=3, quorum=2,
                         state="open", created_by=staff.id)
    session.add(ballot)
    session.flush()
    return cycle, ballot


def test_cycle_phase_and_ballot_state_read_back_as_members(database_url):
    """Written as a member or as its plain value, read back (from the database, not the
    session's copy) as the enum's member."""
    engine = _engine(database_url)
    try:
        with engine.connect() as conn, conn.begin() as tx:
            with Session(bind=conn) as session:
                cycle, ballot = _round_in(session)
                session.expire_all()
                assert session.get(Cycle, cycle.id).phase is CyclePhase.balloting
                assert session.get(BallotRound, ballot.id).state is BallotState.open
                assert conn.execute(select(Cycle.__table__.c.phase).where(
                    Cycle.__table__.c.id == cycle.id)).scalar() is CyclePhase.balloting
                assert conn.execute(select(BallotRound.__table__.c.state).where(
                    BallotRound.__table__.c.id == ballot.id)).scalar() is BallotState.open
            tx.rollback()
    finally:
        engine.dispose()


@pytest.mark.parametrize("how", ["orm", "core"])
def test_a_bad_phase_or_ballot_state_is_refused(database_url, how):
    """A value that is not one of the enum's never reaches the database: the statement fails
    with a ValueError, and the row keeps its state."""
    engine = _engine(database_url)
    try:
        with engine.connect() as conn, conn.begin() as tx:
            with Session(bind=conn) as session:
                cycle, ballot = _round_in(session)
                for model, name, row in ((Cycle, "phase", cycle), (BallotRound, "state", ballot)):
                    column = model.__table__.c[name]
                    with pytest.raises(StatementError) as refused, session.begin_nested():
                        if how == "orm":
                            setattr(row, name, "no-such-state")
                            session.flush()
                        else:
                            session.execute(update(model).where(model.id == row.id)
                                            .values({name: "no-such-state"}))
                    assert isinstance(refused.value.orig, ValueError)
                    session.expire_all()
                    assert conn.execute(select(column).where(
                        model.__table__.c.id == row.id)).scalar() in set(column.type.enum)
            tx.rollback()
    finally:
        engine.dispose()
