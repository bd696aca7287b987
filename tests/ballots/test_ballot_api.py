"""The ballot API (API.md "Ballot rounds"): a whole round, a run-off, voiding, and secrecy."""

from __future__ import annotations

import hashlib
import itertools
import json
import random

import pytest
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, text

from app.ballotbox.forms import canonical
from app.ballotbox.receipts import receipt_digest
from app.ballots.bulletin import recompute
from app.models import AuditEntry, BallotContent, BallotParticipation
from app.models.ballot import BallotReceipt
from tests.ballots.conftest import (
    API,
    add_deputies,
    balloting_cycle,
    check_in,
    create_round,
    move,
    name_scrutineers,
    sign,
    tally,
    username,
    vote,
)
from tests.helpers import run


def error(r, status: int, code: str) -> dict:
    assert r.status_code == status, f"expected {status} {code}, got {r.status_code} {r.text}"
    body = r.json()
    assert body["code"] == code and body["detail"], body
    return body


@pytest.fixture
def hall(client, world):
    """Lezhi's roster T = 7 (world's deputy and dep-1 … dep-6), a cycle in 票决, 3 candidates."""
    deputies = ["deputy", *add_deputies(client, world, 6)]
    cycle_id, candidates = balloting_cycle(client, world, candidates=3)
    return cycle_id, candidates, deputies


def turnout(client, ballot_id: str) -> dict:
    r = client.get(f"{API}/ballots/{ballot_id}")
    assert r.status_code == 200, r.text
    return r.json()


def test_a_whole_round_from_creation_to_publication(client, world, hall):
    cycle_id, (c0, c1, c2), deputies = hall
    staff = world.headers("congress_staff")

    # created: T fixed now, quorum ⌈2/3 × 7⌉ = 5
    r = client.post(f"{API}/cycles/{cycle_id}/ballots",
                    json={"seats": 2, "candidate_ids": [c0, c1, c2]}, headers=staff)
    assert r.status_code == 201, r.text
    created = r.json()
    ballot_id = created["id"]
    assert created["round"] == 1 and created["state"] == "created"
    assert created["seats"] == 2 and created["total_deputies"] == 7 and created["quorum"] == 5
    assert created["present"] == 0 and created["cast"] == 0 and created["secret"] is True
    assert [c["id"] for c in created["candidates"]] == [c0, c1, c2]
    listed = client.get(f"{API}/cycles/{cycle_id}/ballots").json()
    assert [b["id"] for b in listed["items"]] == [ballot_id] and listed["total"] == 1

    # attendance: two deputies check in (twice is harmless), staff record two more
    assert check_in(client, world, ballot_id, ["deputy", "dep-1", "dep-2", "dep-1"]) == 3
    error(client.post(f"{API}/ballots/{ballot_id}/transitions", json={"to": "open"},
                      headers=staff), 409, "guard_failed")
    r = client.post(f"{API}/ballots/{ballot_id}/attendance", headers=staff,
                    json={"usernames": ["dep-3", "nobody-here"]})
    body = error(r, 422, "unknown_deputy")
    assert "nobody-here" in body["detail"] and "dep-3" not in body["detail"]
    assert turnout(client, ballot_id)["present"] == 3  # all or nothing: dep-3 not stored
    r = client.post(f"{API}/ballots/{ballot_id}/attendance", headers=staff,
                    json={"usernames": ["dep-3", "dep-4"]})
    assert r.status_code == 200 and r.json() == {"present": 5}, r.text

    # quorum met, but no scrutineers yet
    body = error(client.post(f"{API}/ballots/{ballot_id}/transitions", json={"to": "open"},
                             headers=staff), 409, "guard_failed")
    assert "scrutineer" in body["detail"]
    assert name_scrutineers(client, world, ballot_id, ["dep-1", "dep-2"]) == ["dep-1", "dep-2"]

    # not open yet
    error(client.post(f"{API}/ballots/{ballot_id}/votes", json={"marks": {c0: "yes"}},
                      headers=world.headers("deputy")), 409, "round_not_open")
    assert move(client, world, ballot_id, "open")["state"] == "open"
    # scrutineers are named before the round opens
    error(client.post(f"{API}/ballots/{ballot_id}/scrutineers", json={"usernames": ["dep-3"]},
                      headers=staff), 409, "wrong_state")

    votes = [("deputy", {c0: "yes", c1: "yes"}),
             ("dep-1", {c0: "yes", c1: "yes", c2: "no"}),
             ("dep-2", {c0: "yes", c1: "yes", c2: "abstain"}),
             ("dep-3", {c0: "yes", c1: "yes"}),
             ("dep-4", {c0: "yes", c1: "no", c2: "yes"})]
    receipts = []
    for key, marks in votes[:4]:
        receipts.append(vote(client, world, ballot_id, key, marks))
    assert all(len(code.replace("-", "")) == 16 for code in receipts)  # 80 bits in base32
    assert len(set(receipts)) == 4

    # refusals, none of which stores anything
    def cast(key, marks):
        return client.post(f"{API}/ballots/{ballot_id}/votes", json={"marks": marks},
                           headers=world.headers(key))

    error(cast("deputy", {c0: "no"}), 409, "already_voted")
    error(cast("dep-4", {c0: "yes", c1: "yes", c2: "yes"}), 422, "too_many_yes")
    error(cast("dep-4", {c0: "yes", "no-such-candidate": "no"}), 422, "unknown_candidate")
    error(cast("dep-4", {c0: "maybe"}), 422, "invalid_field")
    error(cast("dep-5", {c0: "yes"}), 403, "not_checked_in")
    anyue = add_deputies(client, world, 1, prefix="anyue", jurisdiction="anyue")[0]
    error(cast(anyue, {c0: "yes"}), 403, "outside_jurisdiction")
    error(cast("resident", {c0: "yes"}), 403, "not_a_deputy")
    error(client.post(f"{API}/ballots/{ballot_id}/votes", json={"marks": {c0: "yes"}}),
          401, "not_authenticated")
    seen = turnout(client, ballot_id)
    assert seen["present"] == 5 and seen["cast"] == 4

    receipts.append(vote(client, world, ballot_id, *votes[4]))
    seen = turnout(client, ballot_id)
    assert set(seen) == {"id", "cycle_id", "round", "state", "seats", "total_deputies",
                         "quorum", "secret", "present", "cast", "candidates"}
    assert seen["present"] == 5 and seen["cast"] == 5 and seen["state"] == "open"

    assert move(client, world, ballot_id, "closed")["state"] == "closed"
    error(cast("dep-4", {c0: "yes"}), 409, "round_not_open")
    error(client.post(f"{API}/ballots/{ballot_id}/check-in", headers=world.headers("dep-5")),
          409, "wrong_state")
    error(client.get(f"{API}/ballots/{ballot_id}/results", headers=staff), 409, "not_tallied")

    # tally: threshold ⌊7/2⌋ + 1 = 4
    results = tally(client, world, ballot_id)
    titles = {c["id"]: c["title"] for c in created["candidates"]}
    assert results == {
        "ballot_id": ballot_id, "round": 1, "seats": 2, "total_deputies": 7, "present": 5,
        "issued": 5, "cast": 5, "valid": 5, "invalid": 0, "threshold": 4,
        "candidates": [
            {"id": c0, "title": titles[c0], "yes": 5, "no": 0, "abstain": 0, "passed": True,
             "selected": True, "rank": 1},
            {"id": c1, "title": titles[c1], "yes": 4, "no": 1, "abstain": 0, "passed": True,
             "selected": True, "rank": 2},
            {"id": c2, "title": titles[c2], "yes": 1, "no": 1, "abstain": 3, "passed": False,
             "selected": False, "rank": None}],
        "outcome": "complete", "selected_ids": [c0, c1], "runoff_candidate_ids": [],
        "remaining_seats": 0}
    assert turnout(client, ballot_id)["state"] == "tallied"
    error(client.post(f"{API}/ballots/{ballot_id}/tally", headers=staff), 409, "wrong_state")

    # before publication: congress staff (and admin) see the results, nobody else
    assert client.get(f"{API}/ballots/{ballot_id}/results", headers=staff).json() == results
    assert client.get(f"{API}/ballots/{ballot_id}/results",
                      headers=world.headers("admin")).json() == results
    error(client.get(f"{API}/ballots/{ballot_id}/results"), 403, "not_published")
    error(client.get(f"{API}/ballots/{ballot_id}/results", headers=world.headers("dep-1")),
          403, "not_published")
    error(client.get(f"{API}/ballots/{ballot_id}/results",
                     headers=world.headers("other_congress_staff")), 403, "not_published")
    error(client.get(f"{API}/ballots/{ballot_id}/bulletin"), 403, "not_published")

    # sign-off: named scrutineers only, once each, two before publication
    url = f"{API}/ballots/{ballot_id}/sign-off"
    error(client.post(url, headers=world.headers("dep-3")), 403, "not_a_scrutineer")
    error(client.post(url, headers=staff), 403, "not_a_scrutineer")
    assert sign(client, world, ballot_id, "dep-1") == {"signed": 1, "required": 2}
    error(client.post(url, headers=world.headers("dep-1")), 409, "already_signed")
    error(client.post(f"{API}/ballots/{ballot_id}/transitions", json={"to": "published"},
                      headers=staff), 409, "guard_failed")
    assert sign(client, world, ballot_id, "dep-2") == {"signed": 2, "required": 2}
    assert move(client, world, ballot_id, "published")["state"] == "published"

    # public: results and a bulletin that recomputes to them
    r = client.get(f"{API}/ballots/{ballot_id}/results")
    assert r.status_code == 200 and r.json() == results, r.text
    r = client.get(f"{API}/ballots/{ballot_id}/bulletin")
    assert r.status_code == 200, r.text
    bulletin = r.json()
    assert bulletin["ballot"] == {"id": ballot_id, "round": 1, "seats": 2, "total_deputies": 7,
                                  "present": 5, "issued": 5, "threshold_base": "all",
                                  "secret": True}
    assert bulletin["candidates"] == [{"id": c, "title": titles[c]} for c in (c0, c1, c2)]
    assert recompute(bulletin) == (results, results)
    assert bulletin["receipts"] == sorted(receipt_digest(code) for code in receipts)
    assert bulletin["receipts"] == sorted(hashlib.sha256(code.encode()).hexdigest()
                                          for code in receipts)
    assert len(bulletin["ballots"]) == 5
    keys = [canonical(b["marks"]) for b in bulletin["ballots"]]
    assert keys == sorted(keys)
    full = sorted(canonical({c: m.get(c, "abstain") for c in (c0, c1, c2)}) for _, m in votes)
    assert keys == full
    assert all(b["paper"] is False for b in bulletin["ballots"])
    raw = json.dumps(bulletin, ensure_ascii=False)
    for key in deputies:
        assert world.users[key].id not in raw
    assert "dep-" not in raw and "deputy" not in raw

    # a finished round: the next may be created; a complete one needs no run-off
    error(client.post(f"{API}/ballots/{ballot_id}/runoff", headers=staff), 409,
          "no_runoff_needed")


def test_too_few_candidates_for_the_extra_rule(client, world, hall):
    cycle_id, (c0, c1, _), _ = hall
    r = client.post(f"{API}/cycles/{cycle_id}/ballots", json={"seats": 2, "candidate_ids": [c0, c1]},
                    headers=world.headers("congress_staff"))
    error(r, 409, "too_few_candidates")
    r = client.post(f"{API}/cycles/{cycle_id}/ballots", json={"seats": 2,
                                                             "candidate_ids": [c0, "nope"]},
                    headers=world.headers("congress_staff"))
    error(r, 422, "unknown_candidate")
    error(client.post(f"{API}/cycles/{cycle_id}/ballots", json={},
                      headers=world.headers("other_congress_staff")), 403, "outside_jurisdiction")


def test_a_tie_across_the_last_seat_goes_to_a_runoff(client, world, hall):
    cycle_id, (c0, c1, c2), deputies = hall
    ballot_id = create_round(client, world, cycle_id, seats=2, candidate_ids=[c0, c1, c2])["id"]
    assert check_in(client, world, ballot_id, deputies) == 7
    name_scrutineers(client, world, ballot_id, ["dep-1", "dep-2"])
    move(client, world, ballot_id, "open")
    # c0: 6 yes; c1 and c2: 4 yes each (threshold 4) — tied across the 2nd seat
    marks = [{c0: "yes", c1: "yes"}] * 3 + [{c0: "yes", c2: "yes"}] * 3 + [{c1: "yes",
                                                                             c2: "yes"}]
    for key, m in zip(deputies, marks, strict=True):
        vote(client, world, ballot_id, key, m)
    move(client, world, ballot_id, "closed")
    results = tally(client, world, ballot_id)
    assert [(c["yes"], c["passed"], c["selected"], c["rank"]) for c in results["candidates"]] == [
        (6, True, True, 1), (4, True, False, 2), (4, True, False, 2)]
    assert results["outcome"] == "runoff" and results["selected_ids"] == [c0]
    assert results["runoff_candidate_ids"] == [c1, c2] and results["remaining_seats"] == 1
    staff = world.headers("congress_staff")
    error(client.post(f"{API}/ballots/{ballot_id}/runoff", headers=staff), 409, "wrong_state")
    sign(client, world, ballot_id, "dep-1")
    sign(client, world, ballot_id, "dep-2")
    move(client, world, ballot_id, "published")

    r = client.post(f"{API}/ballots/{ballot_id}/runoff", headers=staff)
    assert r.status_code == 201, r.text
    second = r.json()
    assert second["round"] == 2 and second["state"] == "created" and second["seats"] == 1
    assert second["total_deputies"] == 7 and second["quorum"] == 5
    assert [c["id"] for c in second["candidates"]] == [c1, c2]
    assert second["present"] == turnout(client, ballot_id)["present"] == 7
    assert [b["round"] for b in client.get(f"{API}/cycles/{cycle_id}/ballots").json()["items"]] == [1, 2]
    # attendance and scrutineers carried: the run-off opens at once
    move(client, world, second["id"], "open")
    vote(client, world, second["id"], "dep-3", {c1: "yes"})
    error(client.post(f"{API}/ballots/{second['id']}/votes", json={"marks": {c0: "yes"}},
                      headers=world.headers("dep-4")), 422, "unknown_candidate")


def test_void_needs_a_reason(client, world, hall):
    cycle_id, candidates, deputies = hall
    ballot_id = create_round(client, world, cycle_id, seats=2, candidate_ids=candidates)["id"]
    url = f"{API}/ballots/{ballot_id}/transitions"
    staff = world.headers("congress_staff")
    error(client.post(url, json={"to": "void", "reason": "设备故障"}, headers=staff), 409,
          "illegal_transition")  # not from created
    check_in(client, world, ballot_id, deputies[:5])
    name_scrutineers(client, world, ballot_id, ["dep-1", "dep-2"])
    move(client, world, ballot_id, "open")
    error(client.post(url, json={"to": "void"}, headers=staff), 422, "reason_required")
    error(client.post(url, json={"to": "void", "reason": "   "}, headers=staff), 422,
          "reason_required")
    assert turnout(client, ballot_id)["state"] == "open"
    error(client.post(url, json={"to": "void", "reason": "设备故障"},
                      headers=world.headers("gov_staff")), 403, "permission_denied")
    r = client.post(url, json={"to": "void", "reason": "表决器故障，重新投票"}, headers=staff)
    assert r.status_code == 200 and r.json()["state"] == "void", r.text
    error(client.post(f"{API}/ballots/{ballot_id}/votes", json={"marks": {}},
                      headers=world.headers("deputy")), 409, "round_not_open")
    # a void round does not block the next one
    assert create_round(client, world, cycle_id, seats=2, candidate_ids=candidates)["round"] == 2


# --- secrecy -------------------------------------------------------------------------------------

MARKS = ("yes", "no", "abstain")


def distinct_marks(candidates: list[str], seats: int, n: int) -> list[dict]:
    """n different valid ballots (at most `seats` yes each), every candidate marked."""
    out = []
    for combo in itertools.product(MARKS, repeat=len(candidates)):
        if combo.count("yes") <= seats:
            out.append(dict(zip(candidates, combo, strict=True)))
    assert len(out) >= n
    return out[:n]


def casting_order(ballots: list[dict]) -> list[dict]:
    """The ballots in an order that is neither their sorted order nor its reverse — the box
    stores the contents sorted, so a test casting in (reverse) sorted order could not tell the
    stored order from the casting order. distinct_marks lists them in reverse sorted order
    whenever the candidates' ids happen to be sorted (one run in 24)."""
    rng = random.Random(1)
    in_order = sorted(ballots, key=canonical)
    out = list(ballots)
    while out in (in_order, in_order[::-1]):
        rng.shuffle(out)
    return out


def _schema(session, table: str):
    def read(conn):
        insp = sa_inspect(conn)
        return insp.get_columns(table), insp.get_foreign_keys(table)
    return session.run_sync(lambda s: read(s.connection()))


def test_no_column_or_order_links_a_deputy_to_marks(client, world):
    """Issue: read the schema and the stored rows after a round; nothing links who to what."""
    deputies = ["deputy", *add_deputies(client, world, 23)]  # T = 24
    cycle_id, candidates = balloting_cycle(client, world, candidates=4)
    candidates = sorted(candidates)  # as on one run in 24 (CI, stop 23)
    ballot_id = create_round(client, world, cycle_id, seats=2, candidate_ids=candidates)["id"]
    check_in(client, world, ballot_id, deputies)
    name_scrutineers(client, world, ballot_id, ["dep-1", "dep-2"])
    move(client, world, ballot_id, "open")
    cast_order = casting_order(distinct_marks(candidates, 2, len(deputies)))
    for key, marks in zip(deputies, cast_order, strict=True):
        vote(client, world, ballot_id, key, marks)
    move(client, world, ballot_id, "closed")
    tally(client, world, ballot_id)
    sign(client, world, ballot_id, "dep-1")
    sign(client, world, ballot_id, "dep-2")
    move(client, world, ballot_id, "published")
    in_casting_order = [canonical(m) for m in cast_order]
    user_ids = {world.users[k].id for k in deputies}

    async def look(session):
        content_cols, content_fks = await _schema(session, "ballot_content")
        part_cols, _ = await _schema(session, "ballot_participation")
        dialect = session.bind.dialect.name
        if dialect == "sqlite":
            ddl = dict((await session.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN "
                "('ballot_content', 'ballot_receipt')"))).all())
            physical = None
        else:
            ddl = {}
            physical = (await session.execute(text(
                "SELECT reloptions FROM pg_class WHERE relname = 'ballot_content'"))).scalar()
        unordered = list((await session.execute(text(
            "SELECT marks, voter_id FROM ballot_content WHERE round_id = :r"),
            {"r": ballot_id})).all())
        by_id = list(await session.scalars(select(BallotContent.marks).where(
            BallotContent.round_id == ballot_id).order_by(BallotContent.id)))
        content_ids = set(await session.scalars(select(BallotContent.id)))
        part_ids = set(await session.scalars(select(BallotParticipation.id)))
        voters = set(await session.scalars(select(BallotParticipation.user_id).where(
            BallotParticipation.round_id == ballot_id)))
        receipts = await session.scalar(select(text("count(*)")).select_from(BallotReceipt))
        audit = list(await session.scalars(select(AuditEntry)))
        return (content_cols, content_fks, part_cols, dialect, ddl, physical, unordered, by_id,
                content_ids, part_ids, voters, receipts, audit)

    (content_cols, content_fks, part_cols, dialect, ddl, physical, unordered, by_id, content_ids,
     part_ids, voters, receipts, audit) = run(client, look)

    # the schema: no timestamp on content; its only user column is voter_id
    names = {c["name"] for c in content_cols}
    assert names == {"id", "round_id", "filled", "marks", "paper", "invalid", "voter_id"}
    assert not [c for c in content_cols if "DATE" in str(c["type"]).upper()
                or "TIME" in str(c["type"]).upper()], content_cols
    assert [fk["constrained_columns"] for fk in content_fks
            if fk["referred_table"] == "user_account"] == [["voter_id"]]
    # who voted and what was voted share nothing but the round (and ids of their own)
    assert names & {c["name"] for c in part_cols} == {"id", "round_id"}
    assert content_ids and part_ids and not content_ids & part_ids
    assert voters == user_ids and receipts == 24
    # the rows: no voter on a secret round, and no order that follows casting
    assert len(unordered) == 24 and all(voter is None for _, voter in unordered)
    assert sorted(m for m, _ in unordered) == sorted(in_casting_order)
    assert [m for m, _ in unordered] != in_casting_order
    assert [m for m, _ in unordered] != in_casting_order[::-1]
    assert by_id != in_casting_order and by_id != in_casting_order[::-1]
    # the slots in the order of their random ids hold the contents sorted: an order that is a
    # function of the contents alone
    assert by_id == sorted(in_casting_order)
    if dialect == "sqlite":
        for table in ("ballot_content", "ballot_receipt"):
            assert "WITHOUT ROWID" in ddl[table].upper(), ddl[table]
    else:
        assert "fillfactor=50" in (physical or []), physical
    # the audit trail says that a deputy voted, never how
    cand = set(candidates)

    def marks_inside(value) -> bool:
        if isinstance(value, dict):
            if any(k in cand and v in MARKS for k, v in value.items()):
                return True
            return any(marks_inside(v) for v in value.values())
        if isinstance(value, list):
            return any(marks_inside(v) for v in value)
        return False

    # no entry per ballot; the close seals who voted (a digest of the ids) and the receipts
    assert not [e for e in audit if e.action == "ballot_round.cast"]
    (sealed,) = [json.loads(e.data) for e in audit if e.action == "ballot_round.seal"]
    assert sealed["voted"] == sealed["receipts"] == sealed["electronic_ballots"] == 24, sealed
    assert sealed["participation_sha256"] == hashlib.sha256(
        "\n".join(sorted(user_ids)).encode()).hexdigest()
    for entry in audit:
        assert not marks_inside(json.loads(entry.data)), (entry.action, entry.data)
        assert not any(m in entry.data for m in in_casting_order), entry.action


def test_a_named_round_stores_the_voter(client, world, hall):
    cycle_id, candidates, deputies = hall
    ballot_id = create_round(client, world, cycle_id, seats=2, candidate_ids=candidates,
                             secret=False)["id"]
    assert client.get(f"{API}/ballots/{ballot_id}").json()["secret"] is False
    check_in(client, world, ballot_id, deputies[:5])
    name_scrutineers(client, world, ballot_id, ["dep-1", "dep-2"])
    move(client, world, ballot_id, "open")
    vote(client, world, ballot_id, "dep-3", {candidates[0]: "yes"})
    async def filled(session):
        return (await session.execute(select(BallotContent.voter_id, BallotContent.marks)
                                      .where(BallotContent.filled.is_(True)))).all()

    assert run(client, filled) == []  # sealed while the round is open, named or not
    move(client, world, ballot_id, "closed")
    rows = run(client, filled)
    assert len(rows) == 1 and rows[0][0] == world.users["dep-3"].id
    assert json.loads(rows[0][1]) == {candidates[0]: "yes", candidates[1]: "abstain",
                                      candidates[2]: "abstain"}
    assert username(world, "dep-3") == "dep-3"
