"""Every guard of a government list's path refuses with what is missing (409), every wrong role
is refused (403), and the adopting meeting's record is checked before anything is stored."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.timeutil import china_today
from tests.ballots.conftest import balloting_cycle
from tests.govlist.helpers import (
    API,
    add_government_places,
    adoption,
    answer,
    comment,
    commenting_cycle,
    move,
    ok,
    period_began,
    screening_cycle,
)
from tests.helpers import set_jurisdiction_settings

TODAY = china_today


def refused(r, status: int, code: str) -> str:
    assert r.status_code == status, r.text
    assert r.json()["code"] == code, r.text
    return r.json()["detail"]


# --- entering the comment period -----------------------------------------------------------


def test_the_comment_period_needs_a_candidate_approved_by_the_government(client, world):
    add_government_places(client, world)
    cycle_id, items, _ = screening_cycle(client, world, "hefei", items=2, approve=0)
    detail = refused(move(client, world, cycle_id, "commenting", "hefei_gov"), 409,
                     "guard_failed")
    assert "draft list is empty" in detail
    ok(client.post(f"{API}/candidates/{items[0]}/transitions", json={"to": "gov_approved"},
                   headers=world.headers("hefei_gov")))
    ok(move(client, world, cycle_id, "commenting", "hefei_gov"))
    # the drafted one stays the staff's: not on the public draft list
    listed = ok(client.get(f"{API}/cycles/{cycle_id}/draft-list"))
    assert [i["id"] for i in listed["items"]] == [items[0]]
    assert client.get(f"{API}/candidates/{items[1]}").status_code == 404


def test_with_a_party_step_the_draft_waits_for_the_party_committee(client, world):
    add_government_places(client, world, party_committee_step=True)
    cycle_id, items, _ = screening_cycle(client, world, "yaohai", items=2)
    detail = refused(move(client, world, cycle_id, "commenting", "yaohai_gov"), 409,
                     "guard_failed")
    assert "2 candidate(s) passed the government meeting but not yet the 党委 step" in detail
    for cid in items:
        ok(client.post(f"{API}/candidates/{cid}/transitions", json={"to": "party_approved"},
                       headers=world.headers("yaohai_gov")))
    ok(move(client, world, cycle_id, "commenting", "yaohai_gov"))
    assert len(ok(client.get(f"{API}/cycles/{cycle_id}/draft-list"))["items"]) == 2


def test_the_congress_does_not_review_a_list_it_does_not_decide(client, world):
    add_government_places(client, world)
    cycle_id, items, _ = screening_cycle(client, world, "hefei", items=1)
    detail = refused(client.post(f"{API}/candidates/{items[0]}/transitions",
                                 json={"to": "reviewed"}, headers=world.headers("hefei_congress")),
                     409, "guard_failed")
    assert "decided by the government" in detail


def test_a_government_list_is_refused_the_ballot(client, world):
    add_government_places(client, world)
    cycle_id, _, _ = screening_cycle(client, world, "hefei", items=1)
    detail = refused(move(client, world, cycle_id, "balloting", "hefei_congress"), 409,
                     "guard_failed")
    assert "decided by the government" in detail
    r = client.post(f"{API}/cycles/{cycle_id}/ballots", headers=world.headers("hefei_congress"),
                    json={})
    assert r.status_code == 409, r.text


def test_a_balloted_cycle_is_refused_the_comment_period(client, world):
    add_government_places(client, world)
    cycle_id, _ = balloting_cycle(client, world, candidates=12)
    # from 票决 there is no comment period at all
    refused(move(client, world, cycle_id, "commenting", "gov_staff"), 409, "illegal_transition")
    set_jurisdiction_settings(client, "lezhi", soliciting_min_days=0)
    other = client.post(f"{API}/cycles", headers=world.headers("gov_staff"), json={
        "jurisdiction_code": "lezhi", "year": 2027, "title": "乐至县2027年民生实事项目",
        "seats": 2}).json()["id"]
    for to in ("soliciting", "screening"):
        ok(move(client, world, other, to, "gov_staff"))
    detail = refused(move(client, world, other, "commenting", "gov_staff"), 409, "guard_failed")
    assert "decided by the deputies' ballot" in detail
    for path in ("draft-list", "draft-list/comments"):
        refused(client.get(f"{API}/cycles/{other}/{path}"), 409, "decided_by_ballot")
    refused(client.put(f"{API}/cycles/{other}/adoption", headers=world.headers("gov_staff"),
                       json=adoption(TODAY().isoformat())), 409, "decided_by_ballot")
    refused(client.post(f"{API}/cycles/{other}/draft-list/comments",
                        headers=world.headers("resident"), json={"body": "意见"}),
            409, "decided_by_ballot")


@pytest.mark.parametrize("who, code", [("hefei_congress", "role_not_allowed"),
                                       ("congress_staff", "outside_jurisdiction"),
                                       ("gov_staff", "outside_jurisdiction"),
                                       ("resident", "permission_denied"),
                                       ("deputy", "permission_denied")])
def test_only_government_staff_of_the_jurisdiction_open_the_period(client, world, who, code):
    add_government_places(client, world)
    cycle_id, _, _ = screening_cycle(client, world, "hefei", items=1)
    refused(move(client, world, cycle_id, "commenting", who), 403, code)
    assert ok(client.get(f"{API}/cycles/{cycle_id}"))["phase"] == "screening"


# --- leaving it: 征求意见 → 公开 --------------------------------------------------------------


def test_announcing_too_early_is_refused_with_the_days_to_go(client, world):
    add_government_places(client, world)
    cycle_id, _ = commenting_cycle(client, world, "hefei", items=1)
    period_began(client, cycle_id, days_ago=25.5)
    ok(client.put(f"{API}/cycles/{cycle_id}/adoption", headers=world.headers("hefei_gov"),
                  json=adoption(TODAY().isoformat())))
    detail = refused(move(client, world, cycle_id, "announced", "hefei_gov"), 409, "guard_failed")
    assert "at least 30 days" in detail and "5 more day(s)" in detail
    period_began(client, cycle_id, days_ago=30.01)
    ok(move(client, world, cycle_id, "announced", "hefei_gov"))


def test_announcing_with_unanswered_comments_or_no_record_names_everything_missing(client,
                                                                                     world):
    add_government_places(client, world)
    cycle_id, items = commenting_cycle(client, world, "hefei", items=2)
    first = comment(client, world, cycle_id, "resident", "建议增加助餐点。")
    comment(client, world, cycle_id, "deputy", "建议公开招标。", items[1])
    r = move(client, world, cycle_id, "announced", "hefei_gov")
    detail = refused(r, 409, "guard_failed")
    assert "30 more day(s)" in detail and "2 public comment(s)" in detail
    assert "record the meeting that adopted the list" in detail
    period_began(client, cycle_id, days_ago=31)
    ok(answer(client, world, first["id"], "hefei_gov"))
    detail = refused(move(client, world, cycle_id, "announced", "hefei_gov"), 409,
                     "guard_failed")
    assert "1 public comment(s)" in detail and "more day" not in detail
    # a hidden comment needs no answer
    rest = ok(client.get(f"{API}/cycles/{cycle_id}/draft-list/comments?unanswered=true"))
    ok(client.post(f"{API}/comments/{rest['items'][0]['id']}/hide",
                   json={"reason": "含有广告"}, headers=world.headers("hefei_gov")))
    detail = refused(move(client, world, cycle_id, "announced", "hefei_gov"), 409,
                     "guard_failed")
    assert "comment" not in detail and "record the meeting" in detail
    ok(move(client, world, cycle_id, "announced", "hefei_gov",
            adoption=adoption(TODAY().isoformat())))


@pytest.mark.parametrize("who, move_code, record_code", [
    ("hefei_congress", "role_not_allowed", "permission_denied"),  # the adoption is the
    ("congress_staff", "outside_jurisdiction", "permission_denied"),  # government's
    ("gov_staff", "outside_jurisdiction", "outside_jurisdiction"),
    ("resident", "permission_denied", "permission_denied")])
def test_only_government_staff_of_the_jurisdiction_announce_the_list(client, world, who,
                                                                       move_code, record_code):
    add_government_places(client, world)
    cycle_id, _ = commenting_cycle(client, world, "hefei", items=1)
    period_began(client, cycle_id, days_ago=31)
    ok(client.put(f"{API}/cycles/{cycle_id}/adoption", headers=world.headers("hefei_gov"),
                  json=adoption(TODAY().isoformat())))
    refused(move(client, world, cycle_id, "announced", who), 403, move_code)
    refused(client.put(f"{API}/cycles/{cycle_id}/adoption", headers=world.headers(who),
                       json=adoption(TODAY().isoformat())), 403, record_code)
    assert ok(client.get(f"{API}/cycles/{cycle_id}"))["phase"] == "commenting"


# --- the adoption record -------------------------------------------------------------------


@pytest.fixture
def commenting(client, world):
    add_government_places(client, world)
    cycle_id, items = commenting_cycle(client, world, "yaohai", items=2)
    period_began(client, cycle_id, days_ago=10)
    return cycle_id, items


@pytest.mark.parametrize("change, code", [
    ({"date": (china_today() + timedelta(days=1)).isoformat()}, "invalid_adoption_date"),
    ({"date": (china_today() - timedelta(days=11)).isoformat()}, "invalid_adoption_date"),
    ({"document_number": "3号"}, "invalid_document_number"),
    ({"document_number": "瑶政〔26〕3号"}, "invalid_document_number"),
    ({"document_number": "瑶政〔2026〕03号"}, "invalid_document_number"),
    ({"meeting": "研究"}, "invalid_meeting"),
    ({"left_out": [{"candidate_id": "nope", "reason": "不列入"}]}, "invalid_left_out"),
])
def test_a_bad_adoption_record_is_refused_and_nothing_is_stored(client, world, commenting,
                                                               change, code):
    cycle_id, _ = commenting
    body = adoption(china_today().isoformat()) | change
    r = client.put(f"{API}/cycles/{cycle_id}/adoption", headers=world.headers("yaohai_gov"),
                   json=body)
    assert (r.status_code, r.json()["code"]) == (422, code), r.text
    assert ok(client.get(f"{API}/cycles/{cycle_id}"))["adoption"] is None


def test_items_left_out_each_need_a_reason_once_and_one_item_must_stay(client, world,
                                                                       commenting):
    cycle_id, items = commenting
    put = lambda left: client.put(  # noqa: E731
        f"{API}/cycles/{cycle_id}/adoption", headers=world.headers("yaohai_gov"),
        json=adoption(china_today().isoformat(), left_out=left))
    twice = [{"candidate_id": items[0], "reason": "a"}, {"candidate_id": items[0], "reason": "b"}]
    assert "twice" in refused(put(twice), 422, "invalid_left_out")
    blank = [{"candidate_id": items[0], "reason": "  "}]
    assert put(blank).status_code == 422
    everything = [{"candidate_id": c, "reason": "资金不足"} for c in items]
    assert "every item" in refused(put(everything), 422, "invalid_left_out")
    saved = ok(put([{"candidate_id": items[1], "reason": "资金不足，下一年度统筹"}]))
    assert saved["left_out"][0]["title"] == "背街小巷路面改造"
    # a second PUT corrects it until the 公告; the same record again changes nothing
    ok(put([]))
    assert ok(client.get(f"{API}/cycles/{cycle_id}"))["adoption"]["left_out"] == []


def test_the_adoption_is_recorded_only_during_the_comment_period(client, world):
    add_government_places(client, world)
    cycle_id, _, _ = screening_cycle(client, world, "hefei", items=1)
    r = client.put(f"{API}/cycles/{cycle_id}/adoption", headers=world.headers("hefei_gov"),
                   json=adoption(china_today().isoformat()))
    assert (r.status_code, r.json()["code"]) == (409, "not_commenting")


def test_an_adoption_given_with_a_refused_move_is_not_kept(client, world, commenting):
    cycle_id, _ = commenting  # 10 days of 30
    r = move(client, world, cycle_id, "announced", "yaohai_gov",
             adoption=adoption(china_today().isoformat()))
    assert "more day(s)" in refused(r, 409, "guard_failed")
    assert ok(client.get(f"{API}/cycles/{cycle_id}"))["adoption"] is None
    r = move(client, world, cycle_id, "supervising", "yaohai_gov",
             adoption=adoption(china_today().isoformat()))
    refused(r, 422, "adoption_not_expected")
