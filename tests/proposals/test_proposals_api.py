"""Filing proposals, reading them, the public list with filters and sort."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import Proposal
from tests.helpers import create_user, run, token_headers
from tests.proposals.conftest import API, proposal_body, propose


def count(client) -> int:
    return run(client, lambda s: s.scalar(select(func.count()).select_from(Proposal)))


def test_a_resident_files_a_proposal_online(client, world, cycle_id):
    r = client.post(f"{API}/cycles/{cycle_id}/proposals", json=proposal_body(),
                    headers=world.headers("resident"))
    assert r.status_code == 201 and r.json()["state"] == "submitted"
    p = client.get(f"{API}/proposals/{r.json()['id']}").json()
    assert p["channel"] == "online" and p["title"] == "古乐路金顺镇段改造"
    assert p["endorsements"] == 0 and p["estimated_cost_wan"] == "4680.00"
    assert p["history"][0]["to"] == "submitted" and p["history"][0]["by"] == ""
    assert p["proposer"].startswith("测") and "resident" not in p["proposer"]


def test_a_deputys_proposal_is_channel_deputy_and_named(client, world, cycle_id):
    pid = propose(client, world, cycle_id, who="deputy")
    p = client.get(f"{API}/proposals/{pid}").json()
    assert p["channel"] == "deputy" and "人大代表" in p["proposer"]


def test_staff_record_a_hotline_proposal_with_its_channel_and_proposer(client, world, cycle_id):
    r = client.post(f"{API}/cycles/{cycle_id}/proposals",
                    json=proposal_body(channel="hotline", proposer_name="王大妈"),
                    headers=world.headers("gov_staff"))
    assert r.status_code == 201
    p = client.get(f"{API}/proposals/{r.json()['id']}").json()
    # The caller's name is for staff only: the public sees the channel's people.
    assert p["channel"] == "hotline" and p["proposer"] == "12345热线群众"
    assert "王" not in r.text and "王" not in client.get(f"{API}/proposals/{p['id']}").text
    r = client.post(f"{API}/cycles/{cycle_id}/proposals", json=proposal_body(),
                    headers=world.headers("gov_staff"))
    assert r.status_code == 422 and r.json()["code"] == "channel_required"
    r = client.post(f"{API}/cycles/{cycle_id}/proposals", json=proposal_body(channel="letter"),
                    headers=world.headers("gov_staff"))
    assert r.status_code == 422 and r.json()["code"] == "proposer_name_required"


def test_a_resident_cannot_claim_another_channel(client, world, cycle_id):
    r = client.post(f"{API}/cycles/{cycle_id}/proposals", json=proposal_body(channel="hotline"),
                    headers=world.headers("resident"))
    assert r.status_code == 422 and r.json()["code"] == "channel_not_allowed"


def test_proposals_only_while_soliciting(client, world):
    r = client.post(f"{API}/cycles", json={"jurisdiction_code": "lezhi", "year": 2026,
                                           "title": "t", "seats": 3},
                    headers=world.headers("gov_staff"))
    r = client.post(f"{API}/cycles/{r.json()['id']}/proposals", json=proposal_body(),
                    headers=world.headers("resident"))
    assert r.status_code == 409 and r.json()["code"] == "not_soliciting"
    assert count(client) == 0


def test_other_roles_and_anonymous_cannot_propose(client, world, cycle_id):
    for who, status in (("unit_staff", 403), ("congress_staff", 403), ("anonymous", 401)):
        r = client.post(f"{API}/cycles/{cycle_id}/proposals", json=proposal_body(),
                        headers=world.headers(who))
        assert r.status_code == status, who


def test_a_resident_of_another_county_cannot_propose_here(client, world, cycle_id):
    create_user(client, "anyue-resident", "resident", "anyue")
    r = client.post(f"{API}/cycles/{cycle_id}/proposals", json=proposal_body(),
                    headers=token_headers(client, "anyue-resident"))
    assert r.status_code == 403 and r.json()["code"] == "outside_jurisdiction"


def test_a_township_resident_may_propose_to_the_county_cycle(client, world, cycle_id):
    create_user(client, "jinshun-resident", "resident", "jinshun")
    r = client.post(f"{API}/cycles/{cycle_id}/proposals", json=proposal_body(),
                    headers=token_headers(client, "jinshun-resident"))
    assert r.status_code == 201


def test_bad_fields_are_refused_and_nothing_is_stored(client, world, cycle_id):
    cases = [
        ({"title": ""}, 422, "invalid_field"), ({"title": "长" * 101}, 422, "invalid_field"),
        ({"title": "修"}, 422, "invalid_field"), ({"description": "太短"}, 422, "invalid_field"),
        ({"description": "长" * 5001}, 422, "invalid_field"),
        ({"category": "吃喝玩乐"}, 422, "unknown_category"),
        ({"location_code": "anyue"}, 422, "unknown_location"),
        ({"location_code": "atlantis"}, 422, "unknown_location"),
        ({"estimated_cost_wan": "-5"}, 422, "invalid_field"),
        ({"estimated_cost_wan": "abc"}, 422, "invalid_field"),
        ({"estimated_cost_wan": "99999999999"}, 422, "invalid_field"),
        ({"place": "地" * 101}, 422, "invalid_field"),
        ({"surprise": 1}, 422, "invalid_field"),
        ({"title": "a\u0000b 真的"}, 422, None),
    ]
    for patch, status, code in cases:
        r = client.post(f"{API}/cycles/{cycle_id}/proposals", json=proposal_body(**patch),
                        headers=world.headers("resident"))
        assert r.status_code == status, (patch, r.text)
        if code:
            assert r.json()["code"] == code, (patch, r.text)
    assert count(client) == 0


def test_script_in_text_is_stored_as_text(client, world, cycle_id):
    pid = propose(client, world, cycle_id, title="<script>alert(1)</script>路灯",
                  description="<img src=x onerror=alert(1)> 路灯不亮，晚上出行不安全。")
    assert client.get(f"{API}/proposals/{pid}").json()["title"] == "<script>alert(1)</script>路灯"


def test_submissions_per_person_are_rate_limited(client, world, cycle_id):
    for i in range(5):
        propose(client, world, cycle_id, title=f"第{i}条路灯建议")
    r = client.post(f"{API}/cycles/{cycle_id}/proposals", json=proposal_body(),
                    headers=world.headers("resident"))
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    # Another person is not affected.
    propose(client, world, cycle_id, who="deputy")


def test_list_filters_sorts_and_paginates(client, world, cycle_id):
    a = propose(client, world, cycle_id, title="村道硬化", category="交通出行", location_code="jinshun")
    b = propose(client, world, cycle_id, title="老年助餐点", category="社会保障", location_code="lezhi")
    c = propose(client, world, cycle_id, who="deputy", title="学校照明改造", category="教育",
                location_code="jinshun")
    client.post(f"{API}/proposals/{b}/endorsements", headers=world.headers("deputy"))
    newest = client.get(f"{API}/cycles/{cycle_id}/proposals").json()
    assert [p["id"] for p in newest["items"]] == [c, b, a] and newest["total"] == 3
    endorsed = client.get(f"{API}/cycles/{cycle_id}/proposals?sort=endorsed").json()
    assert endorsed["items"][0]["id"] == b and endorsed["items"][0]["endorsements"] == 1
    by_cat = client.get(f"{API}/cycles/{cycle_id}/proposals?category=教育").json()
    assert [p["id"] for p in by_cat["items"]] == [c]
    by_place = client.get(f"{API}/cycles/{cycle_id}/proposals?location_code=jinshun").json()
    assert {p["id"] for p in by_place["items"]} == {a, c}
    page2 = client.get(f"{API}/cycles/{cycle_id}/proposals?per_page=2&page=2").json()
    assert [p["id"] for p in page2["items"]] == [a] and page2["total"] == 3
    client.post(f"{API}/proposals/{a}/review", json={"decision": "reject", "reason": "属于上级事权"},
                headers=world.headers("gov_staff"))
    live = client.get(f"{API}/cycles/{cycle_id}/proposals").json()
    assert a not in [p["id"] for p in live["items"]]
    rejected = client.get(f"{API}/cycles/{cycle_id}/proposals?state=rejected").json()
    assert [p["id"] for p in rejected["items"]] == [a]
    assert client.get(f"{API}/cycles/{cycle_id}/proposals?state=nonsense").status_code == 422
    assert client.get(f"{API}/cycles/{cycle_id}/proposals?sort=random").status_code == 422


def test_unknown_proposal_is_404(client, world):
    r = client.get(f"{API}/proposals/nope")
    assert r.status_code == 404 and r.json()["code"] == "unknown_proposal"


def test_staff_export_csv_with_bom_and_no_formula_injection(client, world, cycle_id):
    propose(client, world, cycle_id, title="=HYPERLINK(\"x\")路灯")
    r = client.get(f"{API}/cycles/{cycle_id}/proposals.csv", headers=world.headers("gov_staff"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    text = r.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("id,created_at,title")
    assert "'=HYPERLINK" in text and "网上提交" in text
    assert "13800" not in text  # no phone numbers
    assert client.get(f"{API}/cycles/{cycle_id}/proposals.csv",
                      headers=world.headers("resident")).status_code == 403
    assert client.get(f"{API}/cycles/{cycle_id}/proposals.csv",
                      headers=world.headers("other_gov_staff")).status_code == 403
