"""Casting under concurrency (票决): a real 2-worker server on PostgreSQL, every deputy at once.

One ballot per deputy must hold when requests race in two processes and several connections:
every deputy casts at the same moment, half of them from two or three "devices" at once. Each
deputy gets exactly one 201, every other answer is 409 `already_voted`, nothing is a 500, and
the database agrees: participation rows == 201s == sealed envelopes while the round is open, and
after the close == filled content slots == receipts (whose hashes are exactly those of the
receipt codes handed out), the audit chain is intact, and the tally of the closed round counts
exactly the accepted ballots.

PostgreSQL only (SQLite serialises every write, so there is no race to prove there); a database
of its own, created and dropped here.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from app.audit import service as audit
from app.main import create_app
from tests.ballots.conftest import (
    API,
    add_deputies,
    balloting_cycle,
    create_round,
    move,
    name_scrutineers,
    username,
)
from tests.conftest import app_server, make_settings, pg_database
from tests.helpers import build_world, run

DEPUTIES = 60
CANDIDATES = 12
SEATS = 10


@pytest.fixture(scope="module")
def pg_url(request) -> Iterator[str]:
    """A fresh PostgreSQL database for this module, migrated, dropped afterwards."""
    if request.config.getoption("--backend") == "sqlite":
        pytest.skip("casting races are proven on PostgreSQL (SQLite serialises every write)")
    with pg_database("minsheng_test_race") as url:
        yield url


@pytest.fixture(scope="module")
def seeder(pg_url) -> Iterator[TestClient]:
    """An in-process app on the same database, to seed through the API and the helpers."""
    with TestClient(create_app(make_settings(pg_url))) as client:
        yield client


@pytest.fixture(scope="module")
def server(pg_url, tmp_path_factory) -> Iterator[str]:
    """The app under uvicorn with two worker processes on the database; its base URL."""
    log_path = tmp_path_factory.mktemp("race-server") / "uvicorn.log"
    with app_server(pg_url, log_path, workers=2, ready_answers=20) as base:
        yield base
    log_text = log_path.read_text(errors="replace")
    assert "Traceback" not in log_text, log_text[-3000:]


def _marks(rng: random.Random, candidates: list[str]) -> dict[str, str]:
    """A valid ballot: at most SEATS 'yes', some candidates left out (abstain)."""
    marks = {c: rng.choice(("yes", "yes", "no", "abstain")) for c in candidates
             if rng.random() < 0.9}
    for c in [c for c, m in marks.items() if m == "yes"][SEATS:]:
        marks[c] = "no"
    return marks


async def _fire(base: str, requests: list[tuple[str, dict, dict]],
                path: str) -> list[tuple[str, dict, httpx.Response]]:
    """Send every (key, headers, body) at once, each on its own connection."""
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
        start = asyncio.Event()

        async def one(key, headers, body):
            await start.wait()
            return key, body, await http.post(path, headers=headers, json=body)

        tasks = [asyncio.create_task(one(*r)) for r in requests]
        await asyncio.sleep(0)  # every task is waiting at the gate
        start.set()
        return await asyncio.gather(*tasks)


def _db_counts(pg_url: str, ballot_id: str) -> dict:
    with psycopg.connect(pg_url) as conn:
        def one(sql: str):
            return conn.execute(sql, {"r": ballot_id}).fetchone()[0]

        return {
            "participation": one("SELECT count(*) FROM ballot_participation WHERE round_id = %(r)s"),
            "participants": one("SELECT count(DISTINCT user_id) FROM ballot_participation "
                                "WHERE round_id = %(r)s"),
            "filled": one("SELECT count(*) FROM ballot_content WHERE round_id = %(r)s "
                          "AND filled"),
            "slots": one("SELECT count(*) FROM ballot_content WHERE round_id = %(r)s"),
            "envelopes": one("SELECT count(*) FROM ballot_envelope WHERE round_id = %(r)s"),
            "receipts": one("SELECT count(*) FROM ballot_receipt WHERE round_id = %(r)s"),
            "digests": {d for (d,) in conn.execute(
                "SELECT digest FROM ballot_receipt WHERE round_id = %(r)s", {"r": ballot_id})},
            "seals": [json.loads(data) for (data,) in conn.execute(
                "SELECT data FROM audit_entry WHERE entity_id = %(r)s "
                "AND action = 'ballot_round.seal'", {"r": ballot_id})],
        }


def test_every_deputy_at_once_from_two_devices_gets_exactly_one_ballot(seeder, server, pg_url):
    client = seeder
    world = build_world(client)
    voters = add_deputies(client, world, DEPUTIES)
    cycle_id, candidates = balloting_cycle(client, world, candidates=CANDIDATES, seats=SEATS)
    ballot_id = create_round(client, world, cycle_id)["id"]
    r = client.post(f"{API}/ballots/{ballot_id}/attendance", headers=world.headers("congress_staff"),
                    json={"usernames": [username(world, k) for k in ["deputy", *voters]]})
    assert r.status_code == 200 and r.json() == {"present": DEPUTIES + 1}, r.text
    name_scrutineers(client, world, ballot_id, voters[:2])
    assert move(client, world, ballot_id, "open")["state"] == "open"
    path = f"{API}/ballots/{ballot_id}/votes"

    # Every deputy at once; half of them from two or three devices, each with its own ballot.
    rng = random.Random(2026)
    requests = []
    for i, key in enumerate(voters):
        devices = 1 if i % 2 else rng.choice((2, 3))
        requests += [(key, world.headers(key), {"marks": _marks(rng, candidates)})
                     for _ in range(devices)]
    rng.shuffle(requests)
    started = time.monotonic()
    answers = asyncio.run(_fire(server, requests, path))
    elapsed = time.monotonic() - started

    statuses = Counter(resp.status_code for _, _, resp in answers)
    assert set(statuses) <= {201, 409}, {s: [resp.text for _, _, resp in answers
                                             if resp.status_code == s][:3] for s in statuses}
    accepted: dict[str, tuple[dict, str]] = {}
    for key, body, resp in answers:
        if resp.status_code == 201:
            assert key not in accepted, f"{key} got two 201s"
            accepted[key] = (body["marks"], resp.json()["receipt"])
        else:
            assert resp.json()["code"] == "already_voted", resp.text
    assert sorted(accepted) == sorted(voters), "a deputy got no 201"
    assert statuses[201] == DEPUTIES and statuses[409] == len(requests) - DEPUTIES
    assert len({receipt for _, receipt in accepted.values()}) == DEPUTIES
    assert elapsed < 20, f"{len(requests)} simultaneous casts took {elapsed:.1f}s"

    # A replayed request (the same body, the same token, twice) is refused the second time.
    replay = {"marks": _marks(rng, candidates)}
    first = httpx.post(server + path, headers=world.headers("deputy"), json=replay, timeout=30)
    again = httpx.post(server + path, headers=world.headers("deputy"), json=replay, timeout=30)
    assert first.status_code == 201, first.text
    assert again.status_code == 409 and again.json()["code"] == "already_voted", again.text
    accepted["deputy"] = (replay["marks"], first.json()["receipt"])
    key, body, _ = answers[0]  # and so is any request of the race sent once more
    late = httpx.post(server + path, headers=world.headers(key), json=body, timeout=30)
    assert late.status_code == 409 and late.json()["code"] == "already_voted", late.text

    # The database: one participation and one sealed envelope per accepted ballot; nothing
    # in the clear until the close.
    cast = DEPUTIES + 1
    counts = _db_counts(pg_url, ballot_id)
    assert counts["participation"] == counts["participants"] == counts["envelopes"] == cast, counts
    assert counts["filled"] == counts["receipts"] == 0, counts
    assert counts["slots"] == cast, counts  # one slot per deputy present, none made by casting
    assert counts["seals"] == [], counts  # nothing per ballot in the audit chain

    # Close and tally on the server: the counts add up to exactly the accepted ballots, and the
    # close seals who voted and the receipts in the audit chain.
    staff = world.headers("congress_staff")
    r = httpx.post(f"{server}{API}/ballots/{ballot_id}/transitions", headers=staff,
                   json={"to": "closed"}, timeout=30)
    assert r.status_code == 200 and r.json()["cast"] == cast, r.text
    counts = _db_counts(pg_url, ballot_id)  # opened: one filled slot, one receipt each
    assert counts["filled"] == counts["receipts"] == counts["slots"] == cast, counts
    assert counts["envelopes"] == 0, counts
    assert counts["digests"] == {hashlib.sha256(code.encode()).hexdigest()
                                 for _, code in accepted.values()}
    (sealed,) = counts["seals"]
    assert sealed["voted"] == sealed["receipts"] == sealed["electronic_ballots"] == cast, sealed
    verified = run(client, audit.verify)
    assert verified.ok, verified.problem
    r = httpx.post(f"{server}{API}/ballots/{ballot_id}/tally", headers=staff, timeout=30)
    assert r.status_code == 200, r.text
    results = r.json()
    assert results["cast"] == results["valid"] == results["issued"] == cast, results
    assert results["present"] == cast and results["invalid"] == 0, results
    expected = {c: Counter() for c in candidates}
    for marks, _ in accepted.values():
        for c in candidates:
            expected[c][marks.get(c, "abstain")] += 1
    for row in results["candidates"]:
        want = expected[row["id"]]
        assert (row["yes"], row["no"], row["abstain"]) == (
            want["yes"], want["no"], want["abstain"]), row
        assert row["yes"] + row["no"] + row["abstain"] == cast
