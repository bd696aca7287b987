"""Closing a round while ballots are being cast (PostgreSQL, where casts run side by side).

A cast holds the round's advisory lock shared until it commits; the close takes it exclusively
first. So a close waits for the casts under way and counts them, and a cast that comes while a
close is under way is refused once the close commits, with nothing written. SQLite needs none of
this: its writers take turns.
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from app.ballotbox import casting, envelopes
from app.ballotbox.forms import canonical
from app.ballotbox.queries import ROUND_LOCK_CLASS
from app.ballotbox.receipts import receipt_digest
from app.models import new_id
from tests.ballots.conftest import API, walk_round


def _marks(client, world, ballot_id: str) -> dict:
    r = client.get(f"{API}/ballots/{ballot_id}")
    return {c["id"]: "yes" for c in r.json()["candidates"][:1]}


def _sealed_cast(client, pg: str, ballot_id: str, deputy: str, marks: dict) -> dict:
    """minsheng_cast_sealed's parameters for `deputy`'s ballot, sealed as the app seals it (the
    round's key stored first, as the app's first cast would)."""
    ids = [c["id"] for c in client.get(f"{API}/ballots/{ballot_id}").json()["candidates"]]
    wrapper = envelopes.wrapper_for(client.app.state.settings)
    key = envelopes.new_round_key()
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("INSERT INTO ballot_box_key (round_id, wrapped, key_id) VALUES (%s, %s, %s)",
                     (ballot_id, wrapper.wrap(ballot_id, key), wrapper.key_id))
    content = canonical({c: marks.get(c, "abstain") for c in ids})
    return {"rid": ballot_id, "uid": deputy, "version": None, "pid": new_id(), "eid": new_id(),
            "sealed": envelopes.seal(key, ballot_id, len(ids), content, receipt_digest("TEST"),
                                     None),
            "lock_class": ROUND_LOCK_CLASS}


def _in_thread(fn):
    out: dict = {}
    thread = threading.Thread(target=lambda: out.setdefault("r", fn()), daemon=True)
    thread.start()
    return thread, out


def _counts(url: str, ballot_id: str) -> tuple[int, int, int]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT (SELECT count(*) FROM ballot_participation WHERE round_id = %(r)s), "
            "(SELECT count(*) FROM ballot_content WHERE round_id = %(r)s AND filled), "
            "(SELECT count(*) FROM ballot_receipt WHERE round_id = %(r)s)",
            {"r": ballot_id}).fetchone()


@pytest.fixture
def pg(client):
    url = client.app.state.settings.database_url
    if not url.startswith("postgresql"):
        pytest.skip("casts run side by side on PostgreSQL only (SQLite serialises every write)")
    return url.replace("postgresql+psycopg://", "postgresql://")


def test_a_close_waits_for_a_cast_under_way_and_counts_it(client, world, pg):
    ballot_id = walk_round(client, world, "open")
    marks = _marks(client, world, ballot_id)
    deputy = world.users["deputy"].id
    with psycopg.connect(pg) as cast_conn:  # a cast under way: called, not yet committed
        (outcome,) = cast_conn.execute(casting._PG_CAST, _sealed_cast(
            client, pg, ballot_id, deputy, marks)).fetchone()
        assert outcome == "ok"
        closing, answer = _in_thread(lambda: client.post(
            f"{API}/ballots/{ballot_id}/transitions", json={"to": "closed"},
            headers=world.headers("congress_staff")))
        time.sleep(1.0)
        assert closing.is_alive(), "the close did not wait for the cast under way"
        cast_conn.commit()
    closing.join(timeout=30)
    r = answer["r"]
    assert r.status_code == 200 and r.json()["state"] == "closed", r.text
    assert r.json()["cast"] == 1  # the ballot that was under way is in the box
    assert _counts(pg, ballot_id) == (1, 1, 1)


def test_a_cast_during_a_close_is_refused_with_nothing_written(client, world, pg):
    ballot_id = walk_round(client, world, "open")
    marks = _marks(client, world, ballot_id)
    with psycopg.connect(pg) as close_conn:  # a close under way: lock taken, state changed
        close_conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                           (ROUND_LOCK_CLASS, ballot_id))
        close_conn.execute("UPDATE ballot_round SET state = 'closed' WHERE id = %s", (ballot_id,))
        voting, answer = _in_thread(lambda: client.post(
            f"{API}/ballots/{ballot_id}/votes", json={"marks": marks},
            headers=world.headers("deputy")))
        time.sleep(1.0)
        assert voting.is_alive(), "the cast did not wait for the close under way"
        close_conn.commit()
    voting.join(timeout=30)
    r = answer["r"]
    assert r.status_code == 409 and r.json()["code"] == "round_not_open", r.text
    assert _counts(pg, ballot_id) == (0, 0, 0)
