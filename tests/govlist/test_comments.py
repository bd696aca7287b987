"""Public comments on a government's draft list (征求意见): anyone logged in comments on the list
or one item, public at once; government staff answer or note each, once, publicly with who and
when; report and hide work as for every comment; each answer is an audit entry."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.models import AuditEntry
from app.timeutil import china_today
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
from tests.helpers import run


@pytest.fixture
def draft(client, world):
    add_government_places(client, world)
    return commenting_cycle(client, world, "yaohai", items=2)


def comments_of(client, cycle_id: str, who: str | None = None, world=None, **params) -> list:
    headers = world.headers(who) if who else {}
    return ok(client.get(f"{API}/cycles/{cycle_id}/draft-list/comments", params=params,
                         headers=headers))["items"]


def test_anyone_logged_in_comments_on_the_list_or_an_item_and_it_is_public_at_once(
        client, world, draft):
    cycle_id, items = draft
    on_list = comment(client, world, cycle_id, "yaohai_resident", "希望项目覆盖城郊社区。")
    assert on_list["candidate_id"] is None and on_list["candidate_title"] is None
    assert on_list["author"] == "测试yaohai-resident" and on_list["answer"] is None
    on_item = comment(client, world, cycle_id, "deputy", "路面改造请避开雨季。", items[1])
    assert on_item["candidate_title"] == "背街小巷路面改造"
    # a resident of another place may comment too: the list is public
    comment(client, world, cycle_id, "resident", "支持。")

    public = comments_of(client, cycle_id)  # no account
    assert [c["id"] for c in public][:2] == [on_list["id"], on_item["id"]] and len(public) == 3
    assert [c["id"] for c in comments_of(client, cycle_id, candidate_id=items[1])] == [
        on_item["id"]]
    assert len(comments_of(client, cycle_id, whole_list="true")) == 2
    counted = ok(client.get(f"{API}/cycles/{cycle_id}/draft-list"))
    assert [i["comments"] for i in counted["items"]] == [0, 1]
    assert counted["comments"] == {"total": 3, "answered": 0, "noted": 0, "hidden": 0,
                                   "unanswered": 3, "on_list": 2}
    # the item's own page shows it too
    assert "路面改造请避开雨季。" in client.get(f"/candidates/{items[1]}").text


def test_commenting_needs_an_account_an_item_of_the_list_and_the_period(client, world):
    add_government_places(client, world)
    cycle_id, items, _ = screening_cycle(client, world, "hefei", items=2, approve=1)
    r = client.post(f"{API}/cycles/{cycle_id}/draft-list/comments",
                    headers=world.headers("resident"), json={"body": "意见"})
    assert (r.status_code, r.json()["code"]) == (409, "not_commenting")
    assert client.get(f"{API}/cycles/{cycle_id}/draft-list").json()["code"] == "not_published"
    ok(move(client, world, cycle_id, "commenting", "hefei_gov"))
    r = client.post(f"{API}/cycles/{cycle_id}/draft-list/comments", json={"body": "意见"})
    assert r.status_code == 401
    r = client.post(f"{API}/cycles/{cycle_id}/draft-list/comments",
                    headers=world.headers("resident"),
                    json={"body": "意见", "candidate_id": items[1]})  # drafted: not on the list
    assert (r.status_code, r.json()["code"]) == (422, "not_on_draft_list")
    r = client.post(f"{API}/cycles/{cycle_id}/draft-list/comments",
                    headers=world.headers("resident"), json={"body": ""})
    assert r.status_code == 422
    r = client.post(f"{API}/cycles/{cycle_id}/draft-list/comments",
                    headers=world.headers("resident"), json={"body": "长" * 2001})
    assert r.status_code == 422
    # after the 公告 the period is over
    period_began(client, cycle_id, days_ago=31)
    ok(move(client, world, cycle_id, "announced", "hefei_gov",
            adoption=adoption(china_today().isoformat())))
    r = client.post(f"{API}/cycles/{cycle_id}/draft-list/comments",
                    headers=world.headers("resident"), json={"body": "意见"})
    assert (r.status_code, r.json()["code"]) == (409, "not_commenting")


def test_staff_answer_or_note_each_comment_once_publicly_with_who_and_when(client, world,
                                                                         draft):
    cycle_id, items = draft
    first = comment(client, world, cycle_id, "yaohai_resident", "希望增加助餐点。")
    second = comment(client, world, cycle_id, "yaohai_deputy", "建议公开招标。", items[0])
    replied = ok(answer(client, world, first["id"], "yaohai_gov",
                        text="已在实施方案中增加两个助餐点。"))
    assert replied["answer"]["kind"] == "answered"
    assert replied["answer"]["text"] == "已在实施方案中增加两个助餐点。"
    assert replied["answer"]["by"] == "测试yaohai-gov" and replied["answer"]["at"]
    noted = ok(answer(client, world, second["id"], "yaohai_gov", kind="noted", text=""))
    assert noted["answer"]["kind"] == "noted" and noted["answer"]["text"] == ""

    public = {c["id"]: c for c in comments_of(client, cycle_id)}
    assert public[first["id"]]["answer"]["text"] == "已在实施方案中增加两个助餐点。"
    assert public[second["id"]]["answer"]["kind"] == "noted"
    assert comments_of(client, cycle_id, unanswered="true") == []
    r = answer(client, world, first["id"], "yaohai_gov", text="再答一次")
    assert (r.status_code, r.json()["code"]) == (409, "already_answered")
    entries = run(client, lambda s: s.scalars(select(AuditEntry.data).where(
        AuditEntry.action == "comment.answer")))
    assert sorted(json.loads(d)["kind"] for d in entries) == ["answered", "noted"]


def test_an_answer_needs_its_text_and_the_right_person(client, world, draft):
    cycle_id, _ = draft
    c = comment(client, world, cycle_id, "yaohai_resident", "意见")
    r = answer(client, world, c["id"], "yaohai_gov", kind="answered", text="  ")
    assert (r.status_code, r.json()["code"]) == (422, "answer_required")
    r = answer(client, world, c["id"], "yaohai_gov", kind="maybe")
    assert r.status_code == 422
    for who, code in (("yaohai_resident", "permission_denied"), ("yaohai_deputy",
                                                                 "permission_denied"),
                      ("yaohai_congress", "permission_denied"),
                      ("gov_staff", "outside_jurisdiction"), ("hefei_gov", "outside_jurisdiction")):
        r = answer(client, world, c["id"], who)
        assert (r.status_code, r.json()["code"]) == (403, code), who
    r = client.post(f"{API}/comments/{c['id']}/answer", json={"kind": "noted"})
    assert r.status_code == 401
    assert comments_of(client, cycle_id)[0]["answer"] is None


def test_a_comment_on_a_proposal_is_not_answered_here(client, world, draft):
    cycle_id, _ = draft
    pid = ok(client.post(f"{API}/cycles", headers=world.headers("gov_staff"), json={
        "jurisdiction_code": "lezhi", "year": 2026, "title": "乐至县2026年民生实事项目",
        "seats": 3}), 201)["id"]
    ok(move(client, world, pid, "soliciting", "gov_staff"))
    proposal = ok(client.post(f"{API}/cycles/{pid}/proposals", headers=world.headers("resident"),
                              json={"title": "古乐路改造", "description": "路面破损严重，出行不便。",
                                    "category": "交通出行", "location_code": "lezhi"}), 201)
    remark = ok(client.post(f"{API}/proposals/{proposal['id']}/comments",
                            headers=world.headers("deputy"), json={"body": "支持"}), 201)
    r = answer(client, world, remark["id"], "gov_staff")
    assert (r.status_code, r.json()["code"]) == (409, "not_answerable")
    assert answer(client, world, "nope", "gov_staff").status_code == 404


def test_report_and_hide_work_and_a_hidden_comment_needs_no_answer(client, world, draft):
    cycle_id, _ = draft
    c = comment(client, world, cycle_id, "yaohai_resident", "加微信领补贴 xxx")
    ok(client.post(f"{API}/comments/{c['id']}/reports", json={"reason": "广告"},
                   headers=world.headers("yaohai_deputy")), 201)
    r = client.post(f"{API}/comments/{c['id']}/reports", json={"reason": "广告"},
                    headers=world.headers("yaohai_deputy"))
    assert (r.status_code, r.json()["code"]) == (409, "already_reported")
    r = client.post(f"{API}/comments/{c['id']}/hide", json={"reason": "广告信息"},
                    headers=world.headers("gov_staff"))  # another county's staff
    assert (r.status_code, r.json()["code"]) == (403, "outside_jurisdiction")
    hidden = ok(client.post(f"{API}/comments/{c['id']}/hide", json={"reason": "广告信息"},
                            headers=world.headers("yaohai_congress")))
    assert hidden["hidden"] is True
    public = comments_of(client, cycle_id)[0]
    assert public["hidden"] and public["body"] is None and public["hidden_reason"] == "广告信息"
    staff = comments_of(client, cycle_id, "yaohai_gov", world)[0]
    assert staff["body"] == "加微信领补贴 xxx"
    assert comments_of(client, cycle_id, unanswered="true") == []
    r = answer(client, world, c["id"], "yaohai_gov")
    assert (r.status_code, r.json()["code"]) == (409, "comment_hidden")
    figures = ok(client.get(f"{API}/cycles/{cycle_id}/draft-list"))["comments"]
    assert (figures["total"], figures["hidden"], figures["unanswered"]) == (1, 1, 0)
