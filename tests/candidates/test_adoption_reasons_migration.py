"""The migration that takes draft candidates' titles out of stored proposal histories."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from app.migrate import alembic_config, upgrade
from tests.conftest import pg_database

BEFORE = "7a3f9c2e6b18"  # the revision before it
ROWS = [("a", "adopted", "列入候选项目“古乐路改建”"),
        ("b", "accepted", "不再列入候选项目“古乐路改建”，回到储备库"),
        ("c", "rejected", "列入候选项目“x” 不是理由，但不是本次要改的"),
        ("d", "accepted", "")]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_stored_adoption_reasons_lose_the_draft_title(backend, tmp_path, request):
    chosen = request.config.getoption("--backend")
    if chosen not in ("both", backend):
        pytest.skip(f"--backend {chosen}")
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.db'}"
        upgrade(url)
        _check(url)
    else:
        with pg_database("minsheng_migration") as url:  # at the head already
            _check(url)


def _check(url: str) -> None:
    command.downgrade(alembic_config(url), BEFORE)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        for entity, to_state, reason in ROWS:
            conn.execute(text(
                "INSERT INTO state_transition (id, entity_type, entity_id, from_state, to_state,"
                " actor_username, at, reason) VALUES (:id, 'proposal', :id, 'accepted', :to,"
                " 'gov', CURRENT_TIMESTAMP, :reason)"), {"id": entity, "to": to_state,
                                                          "reason": reason})
    upgrade(url)
    with engine.connect() as conn:
        reasons = dict(conn.execute(text("SELECT entity_id, reason FROM state_transition")).all())
    engine.dispose()
    assert reasons == {"a": "列入候选项目", "b": "不再列入候选项目，回到储备库",
                       "c": ROWS[2][2], "d": ""}
