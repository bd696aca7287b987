"""Nothing acknowledged is lost when the server is killed mid-burst (票决, sealed ballots).

Every deputy of a round casts at once against the app under uvicorn (two workers on PostgreSQL,
one on SQLite), from several threads. Once about half of the casts have been answered, the
server's whole process group gets SIGKILL: no shutdown, no flush, casts in flight cut off. A 201
is an acknowledgement (the deputy was shown a receipt code); a request cut off or never sent is
not. The server is started again on the same database, the deputies without an acknowledgement
send the same ballot again (201, or 409 `already_voted` when their first cast had committed
before the kill), and the round is closed, tallied, signed and published.

Then: every acknowledged receipt's hash is on the published bulletin and every acknowledged
ballot is among its ballots; the bulletin holds exactly one ballot and one receipt per
participation row, and exactly the ballots the deputies meant (each deputy's is different); and
the published tally is a recount of the bulletin.
"""

from __future__ import annotations

import itertools
import queue
import random
import threading
import time
from collections import Counter

import httpx
from sqlalchemy import text

from app.ballotbox.forms import canonical
from app.ballotbox.receipts import receipt_digest
from app.ballots.bulletin import recompute
from tests.ballots.conftest import (
    API,
    add_deputies,
    balloting_cycle,
    create_round,
    move,
    name_scrutineers,
    record_attendance,
    sign,
    tally,
)
from tests.conftest import app_process
from tests.helpers import run

DEPUTIES = 240
CANDIDATES, SEATS = 6, 3
THREADS = 8


def distinct_ballots(candidates: list[str], n: int, rng: random.Random) -> list[dict[str, str]]:
    """n different valid ballots (at most SEATS yes), about half with their abstentions left
    out (a candidate not marked is an abstention)."""
    combos = [c for c in itertools.product(("yes", "no", "abstain"), repeat=len(candidates))
              if c.count("yes") <= SEATS]
    rng.shuffle(combos)
    assert len(combos) >= n
    ballots = []
    for combo in combos[:n]:
        marks = dict(zip(candidates, combo, strict=True))
        if rng.random() < 0.5:
            marks = {c: m for c, m in marks.items() if m != "abstain"}
        ballots.append(marks)
    return ballots


class Burst:
    """Casts sent from THREADS threads at once; SIGKILL to the server once `kill_after` have
    been answered. Every cast ends as acknowledged (201 and its receipt code), cut off (the
    request failed: the server went away) or unsent (not sent after the kill)."""

    def __init__(self, server, path: str, kill_after: int) -> None:
        self.server, self.path, self.kill_after = server, path, kill_after
        self.lock = threading.Lock()
        self.killed = threading.Event()
        self.answered = 0
        self.acked: dict[str, str] = {}  # deputy key -> receipt code
        self.cut_off: dict[str, str] = {}  # deputy key -> the error
        self.unsent: list[str] = []
        self.other: list[tuple[str, int, str]] = []  # any other answer: a defect
        self.killed_at = 0.0

    def run(self, casts: list[tuple[str, dict, dict]]) -> None:
        jobs: queue.SimpleQueue = queue.SimpleQueue()
        for job in casts:
            jobs.put(job)
        start = threading.Barrier(THREADS)
        threads = [threading.Thread(target=self._worker, args=(jobs, start)) for _ in
                   range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def _worker(self, jobs: queue.SimpleQueue, start: threading.Barrier) -> None:
        with httpx.Client(base_url=self.server.base, timeout=30) as http:
            start.wait()
            while True:
                try:
                    key, headers, body = jobs.get_nowait()
                except queue.Empty:
                    return
                if self.killed.is_set():
                    with self.lock:
                        self.unsent.append(key)
                    continue
                try:
                    r = http.post(self.path, headers=headers, json=body)
                except httpx.TransportError as exc:
                    with self.lock:
                        self.cut_off[key] = repr(exc)
                    continue
                with self.lock:
                    self.answered += 1
                    if r.status_code == 201:
                        self.acked[key] = r.json()["receipt"]
                    else:
                        self.other.append((key, r.status_code, r.text))
                    if self.answered >= self.kill_after and not self.killed.is_set():
                        self.server.kill()  # the whole process group, SIGKILL
                        self.killed.set()
                        self.killed_at = time.monotonic()


def participation_rows(client, ballot_id: str) -> int:
    async def count(session):
        return (await session.execute(text(
            "SELECT count(*) FROM ballot_participation WHERE round_id = :r"),
            {"r": ballot_id})).scalar_one()
    return run(client, count)


def test_nothing_acknowledged_is_lost_when_the_server_is_killed_mid_burst(
        client, world, database_url, tmp_path):
    started = time.monotonic()
    workers = 1 if database_url.startswith("sqlite") else 2
    keys = add_deputies(client, world, DEPUTIES, prefix="crash")
    cycle_id, candidates = balloting_cycle(client, world, candidates=CANDIDATES)
    ballot_id = create_round(client, world, cycle_id, seats=SEATS,
                             candidate_ids=candidates)["id"]
    assert record_attendance(client, world, ballot_id, keys) == DEPUTIES
    name_scrutineers(client, world, ballot_id, keys[:2])
    move(client, world, ballot_id, "open")

    rng = random.Random(1609)
    meant = dict(zip(keys, distinct_ballots(candidates, DEPUTIES, rng), strict=True))

    def content(marks: dict[str, str]) -> str:  # the ballot as the bulletin shows it
        return canonical({c: marks.get(c, "abstain") for c in candidates})

    assert len({content(m) for m in meant.values()}) == DEPUTIES
    path = f"{API}/ballots/{ballot_id}/votes"
    order = list(keys)
    rng.shuffle(order)
    burst = Burst(None, path, kill_after=DEPUTIES // 2)

    # 1. The burst, and SIGKILL to the server once half of it has been answered.
    with app_process(database_url, tmp_path / "first.log", workers=workers,
                     ready_answers=10 * workers) as server:
        burst.server = server
        burst.run([(k, world.headers(k), {"marks": meant[k]}) for k in order])
        assert server.proc.poll() is not None, "the server was not killed"
    assert not burst.other, f"answers other than 201 before the kill: {burst.other[:5]}"
    assert burst.killed.is_set() and burst.killed_at
    first_acked = dict(burst.acked)  # deputy key -> receipt code shown before the kill
    acked = dict(first_acked)
    not_acked = [k for k in order if k not in acked]
    assert len(acked) + len(burst.cut_off) + len(burst.unsent) == DEPUTIES
    assert 0 < len(acked) < DEPUTIES, len(acked)
    assert not_acked, "the kill came after the last cast"
    assert len(acked) >= DEPUTIES // 2  # answered before the kill were all 201s

    # 2. The server again, on the same database: the deputies without an acknowledgement send
    # their ballot once more, then the round is closed, tallied, signed and published.
    committed_unacked = []  # 409 already_voted: their first cast had committed
    with app_process(database_url, tmp_path / "second.log", workers=workers,
                     ready_answers=10 * workers) as server, \
            httpx.Client(base_url=server.base, timeout=60) as http:
        for key in not_acked:
            r = http.post(path, headers=world.headers(key), json={"marks": meant[key]})
            if r.status_code == 201:
                acked[key] = r.json()["receipt"]
            else:
                assert r.status_code == 409 and r.json()["code"] == "already_voted", (key, r.text)
                committed_unacked.append(key)
        assert participation_rows(client, ballot_id) == DEPUTIES
        closed = move(http, world, ballot_id, "closed")
        assert closed["state"] == "closed"
        results = tally(http, world, ballot_id)
        for key in keys[:2]:
            sign(http, world, ballot_id, key)
        move(http, world, ballot_id, "published")
        r = http.get(f"{API}/ballots/{ballot_id}/bulletin")
        assert r.status_code == 200, r.text
        bulletin = r.json()
        r = http.get(f"{API}/ballots/{ballot_id}/results")
        assert r.status_code == 200 and r.json() == results, r.text
    log = (tmp_path / "second.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]

    # 3. Nothing acknowledged is lost, nothing is counted twice, nothing else is counted.
    receipts = bulletin["receipts"]
    lost = {k: code for k, code in first_acked.items() if receipt_digest(code) not in receipts}
    assert not lost, (f"{len(lost)} of {len(first_acked)} receipts acknowledged before the kill "
                      f"are not on the bulletin: {sorted(lost.items())[:5]}")
    assert all(receipt_digest(code) in receipts for code in acked.values())
    rows = participation_rows(client, ballot_id)
    assert rows == len(bulletin["ballots"]) == len(receipts) == len(set(receipts)) == DEPUTIES, (
        rows, len(bulletin["ballots"]), len(receipts))
    unknown = set(receipts) - {receipt_digest(code) for code in acked.values()}
    assert len(unknown) == len(committed_unacked)  # the receipts never shown: those 409s

    on_bulletin = Counter(canonical(b["marks"]) for b in bulletin["ballots"])
    missing = Counter(content(meant[k]) for k in first_acked) - on_bulletin
    assert not missing, f"acknowledged ballots not on the bulletin: {list(missing)[:5]}"
    assert on_bulletin == Counter(content(m) for m in meant.values())

    assert recompute(bulletin) == (results, results)
    assert results["cast"] == results["valid"] == DEPUTIES, results
    print(f"\n{database_url.split(':')[0]} ({workers} worker(s)): {len(first_acked)} acknowledged "
          f"before the kill, {len(burst.cut_off)} cut off, {len(burst.unsent)} unsent; of those "
          f"{len(committed_unacked)} had committed (409 on retry); "
          f"{time.monotonic() - started:.1f} s")
