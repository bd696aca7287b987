"""A ballot round keeps the rules it was created with (DOMAIN.md: Installation and
administration): changing the jurisdiction's settings afterwards changes neither the round nor
its run-off; the next new round follows the new settings."""

from __future__ import annotations

from sqlalchemy import select

from app.models import BallotRound
from tests.ballots.conftest import (
    add_deputies,
    balloting_cycle,
    check_in,
    create_round,
    move,
    name_scrutineers,
    sign,
    tally,
    vote,
)
from tests.helpers import run

API = "/api/v1"
NEW_RULES = {"quorum_numerator": 1, "quorum_denominator": 3, "threshold_base": "cast",
             "scrutineer_signoffs": 3, "shortfall_policy": "leave_empty",
             "secret_ballot": False, "reason": "县人大常委会修改票决办法"}


def rules_of(client, ballot_id: str) -> tuple:
    round_ = run(client, lambda s: s.scalar(select(BallotRound).where(BallotRound.id == ballot_id)))
    return (round_.quorum, round_.threshold_base, round_.signoffs_required,
            round_.shortfall_policy, round_.secret)


def test_a_round_and_its_runoff_keep_the_rules_they_were_created_with(client, world):
    deputies = ["deputy", *add_deputies(client, world, 4)]  # T = 5
    cycle_id, _ = balloting_cycle(client, world)
    ballot = create_round(client, world, cycle_id)
    ballot_id = ballot["id"]
    assert (ballot["total_deputies"], ballot["quorum"], ballot["secret"]) == (5, 4, True)
    kept = rules_of(client, ballot_id)
    assert kept == (4, "all", 2, "further_round", True)

    r = client.put(f"{API}/jurisdictions/lezhi/settings", json=NEW_RULES,
                   headers=world.headers("congress_staff"))
    assert r.status_code == 200, r.text
    assert rules_of(client, ballot_id) == kept

    # Quorum: ⌈2/3 × 5⌉ = 4 present, not the new ⌈1/3 × 5⌉ = 2.
    check_in(client, world, ballot_id, deputies[:2])
    name_scrutineers(client, world, ballot_id, deputies[:2])
    r = client.post(f"{API}/ballots/{ballot_id}/transitions", json={"to": "open"},
                    headers=world.headers("congress_staff"))
    assert r.status_code == 409, r.text
    check_in(client, world, ballot_id, deputies[2:4])
    move(client, world, ballot_id, "open")

    # Threshold base `all`: yes > 5/2, so 3 — not `cast` (3 ballots: yes > 1.5, so 2).
    paper = client.get(f"{API}/ballots/{ballot_id}").json()["candidates"]
    a, b = paper[0]["id"], paper[1]["id"]
    for key, marks in (("deputy", {a: "yes", b: "yes"}), (deputies[1], {a: "yes", b: "yes"}),
                       (deputies[2], {a: "yes"})):
        vote(client, world, ballot_id, key, marks)
    move(client, world, ballot_id, "closed")
    results = tally(client, world, ballot_id)
    assert results["threshold"] == 3
    assert [c["passed"] for c in results["candidates"][:2]] == [True, False]
    assert results["outcome"] == "shortfall"

    # Two sign-offs publish it, not the new three.
    assert sign(client, world, ballot_id, "deputy")["required"] == 2
    sign(client, world, ballot_id, deputies[1])
    move(client, world, ballot_id, "published")
    bulletin = client.get(f"{API}/ballots/{ballot_id}/bulletin").json()
    assert (bulletin["ballot"]["threshold_base"], bulletin["ballot"]["secret"]) == ("all", True)

    # Shortfall: a further round (the round's rule), not "leave empty" (the new setting); the
    # run-off has its first round's rules too.
    r = client.post(f"{API}/ballots/{ballot_id}/runoff", json={},
                    headers=world.headers("congress_staff"))
    assert r.status_code == 201, r.text
    assert r.json()["secret"] is True
    assert rules_of(client, r.json()["id"]) == kept


def test_a_round_created_after_the_change_follows_the_new_rules(client, world):
    add_deputies(client, world, 4)  # T = 5
    r = client.put(f"{API}/jurisdictions/lezhi/settings", json=NEW_RULES,
                   headers=world.headers("congress_staff"))
    assert r.status_code == 200, r.text
    cycle_id, _ = balloting_cycle(client, world)
    ballot = create_round(client, world, cycle_id)
    assert rules_of(client, ballot["id"]) == (2, "cast", 3, "leave_empty", False)
