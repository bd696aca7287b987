"""Candidate projects: built from accepted proposals, the approval chain, the 差额 rule, 公示."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.models import Candidate
from app.schemas import DESCRIPTION
from app.timeutil import china_today
from app.workflows.candidate import required_candidates
from tests.candidates.conftest import candidate_body
from tests.helpers import run, seed_reviewed_candidates, set_jurisdiction_settings
from tests.proposals.conftest import API


def create(client, world, cycle_id, proposal_ids, who="gov_staff", **overrides):
    return client.post(f"{API}/cycles/{cycle_id}/candidates",
                       json=candidate_body(proposal_ids, **overrides), headers=world.headers(who))


def move(client, world, candidate_id, to, who, reason=""):
    return client.post(f"{API}/candidates/{candidate_id}/transitions",
                       json={"to": to, "reason": reason}, headers=world.headers(who))


def candidates(client) -> int:
    return run(client, lambda s: s.scalar(select(func.count()).select_from(Candidate)))


def test_a_candidate_built_from_two_proposals_adopts_them_and_tells_proposers(
        client, world, screening):
    cycle_id, ids = screening
    r = create(client, world, cycle_id, ids[:2])
    assert r.status_code == 201 and r.json()["state"] == "drafted"
    cid = r.json()["id"]
    c = client.get(f"{API}/candidates/{cid}", headers=world.headers("gov_staff")).json()
    assert c["responsible_unit"] == "县交通运输局" and c["budget_wan"] == "4680.00"
    assert {s["id"] for s in c["source_proposals"]} == set(ids[:2])
    assert c["targets"] == ["新建公路 7.8 公里"] and c["funding"][1]["source"] == "上级补助"
    for pid in ids[:2]:
        p = client.get(f"{API}/proposals/{pid}").json()
        assert p["state"] == "adopted" and p["history"][-1]["reason"] == "列入候选项目"
    inbox = client.get(f"{API}/users/me/notifications", headers=world.headers("resident")).json()
    assert any("已列入候选项目" in n["message"] for n in inbox["items"])


def test_drafts_are_the_staffs_until_reviewed(client, world, screening):
    cycle_id, ids = screening
    cid = create(client, world, cycle_id, ids[:1]).json()["id"]
    assert client.get(f"{API}/candidates/{cid}").status_code == 404
    assert client.get(f"{API}/candidates/{cid}", headers=world.headers("resident")).status_code == 404
    assert client.get(f"{API}/cycles/{cycle_id}/candidates").json()["total"] == 0
    staff = client.get(f"{API}/cycles/{cycle_id}/candidates", headers=world.headers("congress_staff"))
    assert staff.json()["total"] == 1


def test_the_approval_chain_and_its_roles(client, world, screening):
    cycle_id, ids = screening
    cid = create(client, world, cycle_id, ids[:1]).json()["id"]
    r = move(client, world, cid, "reviewed", "congress_staff")
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
    assert move(client, world, cid, "gov_approved", "congress_staff").status_code == 403
    assert move(client, world, cid, "gov_approved", "gov_staff", "县政府第12次常务会议").json() == {
        "state": "gov_approved"}
    assert move(client, world, cid, "reviewed", "gov_staff").status_code == 403
    r = move(client, world, cid, "party_approved", "gov_staff")
    assert r.status_code == 409 and r.json()["code"] == "guard_failed"  # no 党委 step here
    assert move(client, world, cid, "reviewed", "congress_staff", "主任会议审查").json() == {
        "state": "reviewed"}
    public = client.get(f"{API}/candidates/{cid}")
    assert public.status_code == 200 and public.json()["state"] == "reviewed"
    assert client.get(f"{API}/cycles/{cycle_id}/candidates").json()["total"] == 1


def test_the_party_committee_step_when_the_jurisdiction_has_it(client, world, screening):
    cycle_id, ids = screening
    set_jurisdiction_settings(client, "lezhi", party_committee_step=True)
    cid = create(client, world, cycle_id, ids[:1]).json()["id"]
    move(client, world, cid, "gov_approved", "gov_staff")
    r = move(client, world, cid, "reviewed", "congress_staff")
    assert r.status_code == 409 and "党委" in r.json()["detail"]
    assert move(client, world, cid, "party_approved", "gov_staff").status_code == 200
    assert move(client, world, cid, "reviewed", "congress_staff").status_code == 200


def test_sending_back_needs_a_reason_and_reopens_editing(client, world, screening):
    cycle_id, ids = screening
    cid = create(client, world, cycle_id, ids[:1]).json()["id"]
    move(client, world, cid, "gov_approved", "gov_staff")
    r = client.patch(f"{API}/candidates/{cid}", json={"budget_wan": "5000",
                     "funding": [{"source": "县级财政", "amount_wan": "5000"}]},
                     headers=world.headers("gov_staff"))
    assert r.status_code == 409 and r.json()["code"] == "not_editable"
    r = move(client, world, cid, "drafted", "congress_staff")
    assert r.status_code == 422 and r.json()["code"] == "reason_required"
    assert move(client, world, cid, "drafted", "congress_staff", "预算依据不足").status_code == 200
    r = client.patch(f"{API}/candidates/{cid}", json={"budget_wan": "5000",
                     "funding": [{"source": "县级财政", "amount_wan": "5000"}]},
                     headers=world.headers("gov_staff"))
    assert r.status_code == 200 and r.json()["version"] == 2


def test_every_edit_is_kept_in_the_candidates_history(client, world, screening):
    cycle_id, ids = screening
    cid = create(client, world, cycle_id, ids[:2]).json()["id"]
    r = client.patch(f"{API}/candidates/{cid}", json={"title": "古乐路改建（修改）",
                     "proposal_ids": [ids[0], ids[2]]}, headers=world.headers("gov_staff"))
    assert r.status_code == 200, r.text
    revisions = client.get(f"{API}/candidates/{cid}/revisions",
                           headers=world.headers("gov_staff")).json()
    assert [r["version"] for r in revisions] == [1, 2]
    assert revisions[0]["data"]["title"] == "古乐路金顺镇至冯店镇段改建"
    assert revisions[1]["data"]["title"] == "古乐路改建（修改）"
    assert revisions[1]["data"]["proposal_ids"] == sorted([ids[0], ids[2]])
    # The proposal left out returns to the reserve; the new one is adopted.
    assert client.get(f"{API}/proposals/{ids[1]}").json()["state"] == "accepted"
    assert client.get(f"{API}/proposals/{ids[2]}").json()["state"] == "adopted"
    assert client.get(f"{API}/candidates/{cid}/revisions",
                      headers=world.headers("resident")).status_code == 403


@pytest.mark.parametrize("patch, code", [
    ({"budget_wan": "-5"}, "invalid_field"),
    ({"budget_wan": "0"}, "invalid_field"),
    ({"budget_wan": "2000000"}, "invalid_field"),
    ({"budget_wan": "12.345"}, "invalid_field"),
    ({"funding": [{"source": "县级财政", "amount_wan": "100"}]}, "funding_mismatch"),
    ({"deadline": "2024-12-31"}, "bad_deadline"),
    ({"deadline": "2040-01-01"}, "bad_deadline"),
    ({"deadline": "not a date"}, "invalid_field"),
    ({"responsible_unit": "县宇宙开发局"}, "unknown_unit"),
    ({"proposal_ids": []}, "invalid_field"),
    ({"proposal_ids": ["nope"]}, "bad_sources"),
    ({"title": ""}, "invalid_field"),
    ({"targets": [""]}, "invalid_field"),
])
def test_bad_input_is_refused_and_nothing_is_half_saved(client, world, screening, patch, code):
    cycle_id, ids = screening
    body = {**candidate_body(ids[:2]), **patch}
    r = client.post(f"{API}/cycles/{cycle_id}/candidates", json=body,
                    headers=world.headers("gov_staff"))
    assert r.status_code == 422 and r.json()["code"] == code, r.text
    assert candidates(client) == 0
    assert all(client.get(f"{API}/proposals/{p}").json()["state"] == "accepted" for p in ids)


def test_only_accepted_proposals_of_this_cycle_can_be_sources(client, world, screening):
    cycle_id, ids = screening
    create(client, world, cycle_id, ids[:1])
    r = create(client, world, cycle_id, ids[:2])  # ids[0] is adopted already
    assert r.status_code == 422 and r.json()["code"] == "bad_sources"
    assert candidates(client) == 1


def test_candidates_only_while_screening_and_by_gov_staff(client, world, screening):
    cycle_id, ids = screening
    for who in ("congress_staff", "resident", "deputy"):
        assert create(client, world, cycle_id, ids[:1], who=who).status_code == 403
    assert create(client, world, cycle_id, ids[:1], who="other_gov_staff").status_code == 403
    seed_reviewed_candidates(client, cycle_id, 12)
    client.post(f"{API}/cycles/{cycle_id}/transitions", json={"to": "balloting"},
                headers=world.headers("congress_staff"))
    r = create(client, world, cycle_id, ids[:1])
    assert r.status_code == 409 and r.json()["code"] == "not_screening"


def test_required_candidates_follow_the_rule():
    assert required_candidates(10, 0.2) == 12
    assert required_candidates(5, 0.2) == 6
    assert required_candidates(1, 0.2) == 2
    assert required_candidates(10, 0.5) == 15


@pytest.mark.parametrize("reviewed, allowed", [(11, False), (12, True)])
def test_the_ballot_phase_needs_enough_reviewed_candidates(client, world, screening, reviewed,
                                                          allowed):
    cycle_id, _ = screening
    seed_reviewed_candidates(client, cycle_id, reviewed)
    quota = client.get(f"{API}/cycles/{cycle_id}/candidates/quota").json()
    assert quota == {"seats": 10, "required": 12, "reviewed": reviewed, "drafted": 0,
                     "enough": allowed}
    r = client.post(f"{API}/cycles/{cycle_id}/transitions", json={"to": "balloting"},
                    headers=world.headers("congress_staff"))
    if allowed:
        assert r.status_code == 200
    else:
        assert r.status_code == 409 and r.json()["code"] == "guard_failed"
        assert "at least 12" in r.json()["detail"] and "11 are reviewed" in r.json()["detail"]


def test_residents_comment_during_the_publicity_period_only(client, world, screening):
    cycle_id, ids = screening
    cid = create(client, world, cycle_id, ids[:1]).json()["id"]
    move(client, world, cid, "gov_approved", "gov_staff")
    move(client, world, cid, "reviewed", "congress_staff")
    r = client.post(f"{API}/candidates/{cid}/comments", json={"body": "支持！"},
                    headers=world.headers("resident"))
    assert r.status_code == 409 and r.json()["code"] == "not_in_publicity"
    today = china_today()
    r = client.put(f"{API}/cycles/{cycle_id}/publicity",
                   json={"start": today.isoformat(), "end": (today + timedelta(days=7)).isoformat()},
                   headers=world.headers("congress_staff"))
    assert r.status_code == 200
    r = client.post(f"{API}/candidates/{cid}/comments", json={"body": "支持！"},
                    headers=world.headers("resident"))
    assert r.status_code == 201
    assert [c["body"] for c in client.get(f"{API}/candidates/{cid}/comments").json()] == ["支持！"]
    r = client.put(f"{API}/cycles/{cycle_id}/publicity",
                   json={"start": today.isoformat(), "end": (today - timedelta(days=1)).isoformat()},
                   headers=world.headers("congress_staff"))
    assert r.status_code == 422
    assert client.put(f"{API}/cycles/{cycle_id}/publicity",
                      json={"start": today.isoformat(), "end": today.isoformat()},
                      headers=world.headers("resident")).status_code == 403


def test_units_are_kept_per_jurisdiction(client, world, screening):
    names = [u["name"] for u in client.get(f"{API}/jurisdictions/lezhi/units").json()]
    assert names == sorted(["县交通运输局", "县教育局"])
    r = client.post(f"{API}/jurisdictions/lezhi/units", json={"name": "县教育局"},
                    headers=world.headers("gov_staff"))
    assert r.status_code == 409
    r = client.post(f"{API}/jurisdictions/lezhi/units", json={"name": "县卫健局"},
                    headers=world.headers("other_gov_staff"))
    assert r.status_code == 403
    assert client.get(f"{API}/jurisdictions/anyue/units").json() == []


def test_a_candidate_may_have_a_two_character_title_and_a_short_summary(client, world, screening):
    cycle_id, ids = screening
    r = client.post(f"{API}/cycles/{cycle_id}/candidates",
                    json=candidate_body(ids[:1], title="修路", summary="硬化村道"),
                    headers=world.headers("gov_staff"))
    assert r.status_code == 201, r.text
    r = client.post(f"{API}/cycles/{cycle_id}/candidates",
                    json=candidate_body(ids[1:2], summary="长" * (DESCRIPTION.max + 1)),
                    headers=world.headers("gov_staff"))
    assert r.status_code == 422 and candidates(client) == 1
