"""One box for 票决 and 测评 (app/ballotbox): a round of the evaluation's form goes through the
same rounds, attendance, scrutineers, sealed casting, paper and device entry, close and bulletin
as a deputies' ballot, its form deciding the marks — with nothing of the 测评 stage built yet."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.ballotbox import casting, devices, paper, rounds
from app.ballotbox.forms import EVALUATION
from app.ballotbox.receipts import receipt_digest
from app.errors import Invalid, NotFound
from app.models import (
    BallotContent,
    BallotEnvelope,
    BallotItem,
    BallotRound,
    Cycle,
    User,
    new_id,
)
from tests.ballots.conftest import (
    add_deputies,
    balloting_cycle,
    create_round,
)
from tests.helpers import run, set_jurisdiction_settings


def _evaluation_round(client, world, cycle_id: str, items: list[str]) -> str:
    async def make(session):
        actor = await session.get(User, world.users["congress_staff"].id)
        cycle = await session.get(Cycle, cycle_id)
        made = await rounds.create_round(session, actor=actor, cycle=cycle, new=rounds.NewRound(
            form=EVALUATION.name, item_ids=items, seats=0))
        return made.id

    return run(client, make)


def _as(client, world, round_id: str, key: str, step):
    """`await step(session, round, user)` for the round and world's `key`, committed."""
    async def call(session):
        ballot = await session.get(BallotRound, round_id)
        user = await session.get(User, world.users[key].id)
        return await step(session, ballot, user)

    return run(client, call)


def _cast(client, world, round_id: str, key: str, marks: dict, form: str = "evaluation") -> str:
    user = world.users[key]

    async def cast():
        return await casting.cast_in_own_transaction(
            client.app.state, round_id, user.id, marks, token_version=user.token_version,
            form=form)

    return client.portal.call(cast)


def test_an_evaluation_round_goes_through_the_same_box(client, world):
    deputies = ["deputy", *add_deputies(client, world, 3)]
    cycle_id, _ = balloting_cycle(client, world, candidates=3)
    projects = [new_id() for _ in range(3)]
    round_id = _evaluation_round(client, world, cycle_id, projects)
    stored = run(client, lambda s: s.get(BallotRound, round_id))
    assert (stored.form, stored.round, stored.total_deputies) == ("evaluation", 1, 4)
    # the round keeps the evaluation's own settings, not the ballot's
    assert (stored.secret, stored.threshold_base) == (True, "all")
    set_jurisdiction_settings(client, "lezhi", evaluation_secret=False, evaluation_base="present",
                              threshold_base="cast")
    other = _evaluation_round(client, world, balloting_cycle(client, world, year=2026)[0],
                              projects)
    kept = run(client, lambda s: s.get(BallotRound, other))
    assert (kept.secret, kept.threshold_base) == (False, "present")
    assert run(client, lambda s: s.scalars(select(BallotItem.item_id).where(
        BallotItem.round_id == round_id).order_by(BallotItem.position))).all() == projects
    # one unfinished round per cycle, whichever its form; the refusal names the form
    r = client.post(f"/api/v1/cycles/{cycle_id}/ballots", json={},
                    headers=world.headers("congress_staff"))
    assert r.status_code == 409 and r.json()["code"] == "round_in_progress"
    assert "evaluation" in r.json()["detail"]

    # attendance, scrutineers and the workflow are the box's, whatever the form
    for key in deputies:
        present = _as(client, world, round_id, key, rounds.check_in)
    assert present == 4
    _as(client, world, round_id, "congress_staff", lambda s, b, u: rounds.name_scrutineers(
        s, b, u, [world.users[k].username for k in deputies[:2]]))
    _as(client, world, round_id, "congress_staff", lambda s, b, u: rounds.move(
        s, b, "open", actor=u))
    # the 票决 API and pages see only their own form's rounds
    for path in ("", "/results", "/bulletin"):
        r = client.get(f"/api/v1/ballots/{round_id}{path}", headers=world.headers("congress_staff"))
        assert r.status_code == 404 and r.json()["code"] == "unknown_ballot", (path, r.text)
    assert client.get(f"/ballots/{round_id}/results").status_code == 404
    r = client.post(f"/api/v1/ballots/{round_id}/votes", json={"marks": {}},
                    headers=world.headers(deputies[3]))
    assert r.status_code == 404 and r.json()["code"] == "unknown_ballot"
    with pytest.raises(NotFound):
        _cast(client, world, round_id, deputies[3], {}, form="deputies_ballot")
    p0, p1, p2 = projects
    receipt = _cast(client, world, round_id, "deputy", {p0: "satisfied", p1: "unsatisfied"})
    _cast(client, world, round_id, deputies[1], {p0: "basically_satisfied"})
    for marks, code in (({p0: "yes"}, "invalid_mark"), ({"elsewhere": "satisfied"},
                                                         "unknown_project")):
        with pytest.raises(Invalid) as refused:
            _cast(client, world, round_id, deputies[2], marks)
        assert refused.value.code == code
    # sealed while open: envelopes, no content
    assert run(client, lambda s: s.scalar(select(func.count()).select_from(BallotEnvelope)
                                          .where(BallotEnvelope.round_id == round_id))) == 2
    turnout = _as(client, world, round_id, "congress_staff",
                  lambda s, b, u: rounds.turnout(s, b))
    assert turnout == {"present": 4, "cast": 2}

    async def paper_issued(session):
        ballot = await session.get(BallotRound, round_id)
        actor = await session.get(User, world.users["congress_staff"].id)
        return await paper.set_paper_issued(session, ballot, actor, 1)

    run(client, paper_issued)
    _as(client, world, round_id, "congress_staff", lambda s, b, u: rounds.move(
        s, b, "closed", actor=u))

    # paper: two marks for one project count as abstain for it; entered twice, by two staff
    two_marks = {p0: ["满意", "不满意"], p1: "基本满意", p2: "不满意"}

    async def enter(session, who: str):
        ballot = await session.get(BallotRound, round_id)
        actor = await session.get(User, world.users[who].id)
        return await paper.enter_sheet(session, ballot, actor, sheet=1, marks=two_marks)

    assert run(client, enter, "congress_staff").status == "pending"
    assert run(client, enter, "admin").status == "confirmed"

    # devices: the form's words
    export = (f"ballot,{p0},{p1},{p2}\nA-1,满意,基本满意,\nA-2,unsatisfied,弃权,SATISFIED\n"
              .encode())

    async def import_devices(session):
        ballot = await session.get(BallotRound, round_id)
        actor = await session.get(User, world.users["congress_staff"].id)
        return await devices.import_devices(session, ballot, actor, data=export, issued=2)

    assert run(client, import_devices) == 2
    refused = pytest.raises(devices.DeviceFileInvalid)
    with refused as bad:
        devices.parse_device_csv(f"ballot,{p0}\n1,赞成\n".encode(), [p0], EVALUATION)
    assert "满意、基本满意、不满意或弃权" in bad.value.zh

    async def bulletin(session):
        ballot = await session.get(BallotRound, round_id)
        return await rounds.bulletin_parts(session, ballot)

    receipts, ballots = run(client, bulletin)
    assert receipts == sorted(receipts) and receipt_digest(receipt) in receipts
    assert len(receipts) == 2 and len(ballots) == 5
    assert all(set(b) <= {"scores", "paper", "source"} for b in ballots)
    full = {p: "abstain" for p in projects}
    assert {p0: "abstain", p1: "basically_satisfied", p2: "unsatisfied"} in [
        b["scores"] for b in ballots if b["paper"]]
    assert [b["scores"] for b in ballots if not b["paper"] and "source" not in b] == sorted(
        [{**full, p0: "satisfied", p1: "unsatisfied"}, {**full, p0: "basically_satisfied"}],
        key=lambda m: json.dumps(m, sort_keys=True, separators=(",", ":")))
    assert sorted(json.dumps(b["scores"], sort_keys=True) for b in ballots if "source" in b) == \
        sorted(json.dumps(m, sort_keys=True) for m in (
            {p0: "satisfied", p1: "basically_satisfied", p2: "abstain"},
            {p0: "unsatisfied", p1: "abstain", p2: "satisfied"}))
    left = run(client, lambda s: s.scalar(select(func.count()).select_from(BallotEnvelope)))
    assert left == 0
    assert not run(client, lambda s: s.scalar(select(func.count()).select_from(BallotContent)
                                              .where(BallotContent.invalid.is_(True))))


def test_the_deputies_ballot_is_a_round_of_its_form(client, world):
    cycle_id, candidates = balloting_cycle(client, world, candidates=12)
    ballot_id = create_round(client, world, cycle_id)["id"]
    stored = run(client, lambda s: s.get(BallotRound, ballot_id))
    assert stored.form == "deputies_ballot"
    assert run(client, lambda s: s.scalars(select(BallotItem.item_id).where(
        BallotItem.round_id == ballot_id).order_by(BallotItem.position))).all() == candidates
