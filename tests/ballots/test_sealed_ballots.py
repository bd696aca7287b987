"""Sealed ballots (app/ballotbox/envelopes.py): the envelope, the round key and the close that
opens them (app/ballotbox/opening.py open_box). The storage-level proof is
tests/ballots/test_storage_secrecy.py."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.ballotbox import envelopes
from app.errors import Conflict
from app.main import create_app
from app.models import BallotBoxKey, BallotContent, BallotEnvelope, BallotReceipt
from tests.ballots.conftest import (
    API,
    add_deputies,
    balloting_cycle,
    check_in,
    create_round,
    move,
    name_scrutineers,
    vote,
)
from tests.conftest import make_settings
from tests.helpers import csrf, page_login, run


def test_an_envelope_opens_only_with_its_round_key_and_in_its_round(tmp_path):
    key = envelopes.new_round_key()
    sealed = envelopes.seal(key, "round-a", 3, '{"a":"yes","b":"no","c":"abstain"}', "d" * 64,
                            None)
    opened = envelopes.open_envelope(key, "round-a", sealed)
    assert opened == envelopes.Opened('{"a":"yes","b":"no","c":"abstain"}', "d" * 64, None)
    with pytest.raises(Conflict) as refused:
        envelopes.open_envelope(key, "round-b", sealed)  # copied into another round
    assert refused.value.code == "ballot_envelope_damaged"
    with pytest.raises(Conflict):
        envelopes.open_envelope(envelopes.new_round_key(), "round-a", sealed)
    assert b"yes" not in sealed and b"d" * 8 not in sealed


def test_every_envelope_of_a_round_has_the_same_length():
    key = envelopes.new_round_key()
    ids = [f"{i:032x}" for i in range(30)]
    lengths = {len(envelopes.seal(key, "r", 30, "{" + ",".join(
        f'"{c}":"{mark}"' for c in ids) + "}", "d" * 64, voter))
        for mark in ("yes", "no", "abstain") for voter in (None, "u" * 32)}
    assert len(lengths) == 1


def test_a_round_key_is_unwrapped_only_by_the_ballot_key_that_wrapped_it(tmp_path):
    one = envelopes.Wrapper.of("k" * 40, tmp_path)
    other = envelopes.Wrapper.of("x" * 40, tmp_path)
    key = envelopes.new_round_key()
    wrapped = one.wrap("round-a", key)
    assert one.unwrap("round-a", wrapped, one.key_id) == key and key not in wrapped
    with pytest.raises(Conflict) as refused:
        other.unwrap("round-a", wrapped, one.key_id)
    assert refused.value.code == "ballot_key_mismatch" and one.key_id in refused.value.message
    with pytest.raises(Conflict):
        one.unwrap("round-b", wrapped, one.key_id)  # bound to its round
    with pytest.raises(Conflict):
        one.unwrap("round-a", wrapped[:-1] + bytes([wrapped[-1] ^ 1]), one.key_id)


def test_without_a_configured_key_one_is_made_once_and_kept(tmp_path):
    first = envelopes.ballot_key_material(None, tmp_path)
    assert first == envelopes.ballot_key_material(None, tmp_path) and len(first) >= 32
    assert (tmp_path / "ballot-key").stat().st_mode & 0o077 == 0
    assert envelopes.ballot_key_material("given" * 8, tmp_path) == b"given" * 8


def _open_round(client, world) -> tuple[str, list[str], list[str]]:
    """An open round of five deputies (all present, two scrutineers) over three candidates for
    two seats: its id, the candidates, the deputies' keys."""
    keys = ["deputy", *add_deputies(client, world, 4)]
    cycle_id, candidates = balloting_cycle(client, world, candidates=3)
    ballot_id = create_round(client, world, cycle_id, seats=2, candidate_ids=candidates)["id"]
    check_in(client, world, ballot_id, keys)
    name_scrutineers(client, world, ballot_id, keys[1:3])
    move(client, world, ballot_id, "open")
    return ballot_id, candidates, keys


def _counts(client, ballot_id):
    async def count(session):
        def n(model, *where):
            return session.scalar(select(func.count()).select_from(model).where(*where))
        return (await n(BallotEnvelope, BallotEnvelope.round_id == ballot_id),
                await n(BallotBoxKey, BallotBoxKey.round_id == ballot_id),
                await n(BallotContent, BallotContent.round_id == ballot_id,
                        BallotContent.filled.is_(True)),
                await n(BallotReceipt, BallotReceipt.round_id == ballot_id))
    return run(client, count)


def test_a_close_with_another_ballot_key_is_refused_with_nothing_changed(client, world):
    ballot_id, candidates, keys = _open_round(client, world)
    for key in keys[:3]:
        vote(client, world, ballot_id, key, {candidates[0]: "yes"})
    assert _counts(client, ballot_id) == (3, 1, 0, 0)
    assert client.get(f"{API}/ballots/{ballot_id}").json()["cast"] == 3  # the turnout counts them

    settings = make_settings(client.app.state.settings.database_url, ballot_key="o" * 40)
    with TestClient(create_app(settings)) as other:
        r = other.post(f"{API}/ballots/{ballot_id}/transitions", json={"to": "closed"},
                       headers=world.headers("congress_staff"))
    assert r.status_code == 409 and r.json()["code"] == "ballot_key_mismatch", r.text
    assert "MINSHENG_BALLOT_KEY" in r.json()["detail"]
    assert client.get(f"{API}/ballots/{ballot_id}").json()["state"] == "open"
    assert _counts(client, ballot_id) == (3, 1, 0, 0)

    move(client, world, ballot_id, "closed")  # the key the round was opened with
    assert _counts(client, ballot_id) == (0, 0, 3, 3)


def test_the_control_page_says_what_to_restore_when_the_ballot_key_does_not_open_the_box(
        client, world):
    ballot_id, candidates, keys = _open_round(client, world)
    vote(client, world, ballot_id, "deputy", {candidates[0]: "yes"})

    settings = make_settings(client.app.state.settings.database_url, ballot_key="o" * 40)
    with TestClient(create_app(settings)) as other:
        assert page_login(other, "congress-staff").status_code == 303
        r = other.post(f"/staff/ballots/{ballot_id}/transition",
                       data={"csrftoken": csrf(other), "to": "closed"}, follow_redirects=False)
    assert r.status_code == 409 and "MINSHENG_BALLOT_KEY" in r.text and "选票密钥" in r.text
    assert client.get(f"{API}/ballots/{ballot_id}").json()["state"] == "open"
    assert _counts(client, ballot_id) == (1, 1, 0, 0)


def test_a_key_read_in_a_group_of_casts_that_is_rolled_back_is_not_used_afterwards(client, world):
    """SQLite's writer commits casts in groups: if a group is rolled back, the round key it
    made must not seal later ballots (they would be sealed under a key the box never holds)."""
    import sqlite3
    from functools import partial

    from sqlalchemy.engine import make_url

    from app.ballotbox import casting
    from app.ballotbox.receipts import receipt_digest

    url = client.app.state.settings.database_url
    if not url.startswith("sqlite"):
        pytest.skip("the writer's groups of casts are SQLite's")
    ballot_id, candidates, keys_ = _open_round(client, world)

    wrapper = envelopes.wrapper_for(client.app.state.settings)
    db = sqlite3.connect(make_url(url).database, isolation_level=None, timeout=10)
    try:
        db.execute("BEGIN IMMEDIATE")
        for key in keys_[:2]:  # the first makes the key, the second reads it back
            partial(casting._cast_sqlite, round_id=ballot_id, user_id=world.users[key].id,
                    marks={candidates[0]: "yes"}, token_version=None,
                    digest=receipt_digest(key), wrapper=wrapper)(db)
        db.execute("ROLLBACK")  # the group's commit failed
    finally:
        db.close()
    for key in keys_[2:]:
        vote(client, world, ballot_id, key, {candidates[1]: "yes"})
    move(client, world, ballot_id, "closed")
    assert _counts(client, ballot_id) == (0, 0, 3, 3)


def test_a_box_changed_outside_the_app_refuses_the_close_and_the_round_can_be_voided(
        client, world):
    ballot_id, candidates, keys_ = _open_round(client, world)
    for key in keys_[:3]:
        vote(client, world, ballot_id, key, {candidates[0]: "yes"})

    async def take_one(session):  # whoever can write the database removes a ballot
        one = (await session.scalars(select(BallotEnvelope).where(
            BallotEnvelope.round_id == ballot_id))).first()
        await session.delete(one)
        await session.commit()
    run(client, take_one)

    staff = world.headers("congress_staff")
    r = client.post(f"{API}/ballots/{ballot_id}/transitions", json={"to": "closed"},
                    headers=staff)
    assert r.status_code == 409 and r.json()["code"] == "ballot_box_tampered", r.text
    assert "2 ballots for 3 deputies" in r.json()["detail"]
    assert client.get(f"{API}/ballots/{ballot_id}").json()["state"] == "open"
    assert _counts(client, ballot_id) == (2, 1, 0, 0)
    r = client.post(f"{API}/ballots/{ballot_id}/transitions",
                    json={"to": "void", "reason": "票箱被改动，本轮作废"}, headers=staff)
    assert r.status_code == 200 and r.json()["state"] == "void", r.text
    assert _counts(client, ballot_id) == (0, 0, 0, 0)  # destroyed unopened, the key with them
