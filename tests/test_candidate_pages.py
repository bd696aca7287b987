"""The pages of 初定: the candidate builder and editor, the approval chain with the 差额 rule and
the 公示 period, the public list, one candidate with comments, the print view."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.models import Candidate, CandidateRevision, Comment, ResponsibleUnit
from app.timeutil import china_today
from tests.candidates import conftest as candidate_fixtures
from tests.candidates.conftest import candidate_body
from tests.helpers import csrf, page_login, run, seed_reviewed_candidates
from tests.proposals.conftest import API

HX = {"hx-request": "true"}
screening = candidate_fixtures.screening  # (cycle id, 4 accepted proposals), in screening


@pytest.fixture(autouse=True)
def fresh_rate_limits(client):
    client.portal.call(client.app.state.rate_limits.limiter.storage.reset)


# ------------------------------------------------------------------ helpers

def login(client, who: str) -> None:
    client.cookies.clear()
    assert page_login(client, who.replace("_", "-")).status_code == 303


def unit_id(client, name: str = "县交通运输局") -> str:
    return run(client, lambda s: s.scalar(select(ResponsibleUnit.id)
                                          .where(ResponsibleUnit.name == name)))


def count(client, model) -> int:
    return run(client, lambda s: s.scalar(select(func.count()).select_from(model)))


def proposal_state(client, pid: str) -> str:
    return client.get(f"{API}/proposals/{pid}").json()["state"]


def builder_form(client, ids, **overrides) -> dict:
    """The builder as a person fills it in: two funding rows, one target, one blank row each."""
    data = {"csrftoken": csrf(client), "proposal_ids": ids, "title": "古乐路金顺镇至冯店镇段改建",
            "summary": "按三级公路标准改建 7.8 公里，惠及沿线三个村。",
            "responsible_unit": unit_id(client), "budget_wan": "4680",
            "funding_source": ["县级财政", "上级补助", ""], "funding_amount": ["1680", "3000", ""],
            "target": ["新建公路 7.8 公里", ""], "deadline": "2025-12-31",
            "feasibility": "已完成线路踏勘。", "action": "save"}
    data.update(overrides)
    return data


def api_candidate(client, world, cycle_id, ids, **overrides) -> str:
    r = client.post(f"{API}/cycles/{cycle_id}/candidates",
                    json=candidate_body(ids, **overrides), headers=world.headers("gov_staff"))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def api_move(client, world, cid, to, who, reason="") -> None:
    r = client.post(f"{API}/candidates/{cid}/transitions", json={"to": to, "reason": reason},
                    headers=world.headers(who))
    assert r.status_code == 200, r.text


def reviewed(client, world, cycle_id, ids, **overrides) -> str:
    cid = api_candidate(client, world, cycle_id, ids, **overrides)
    api_move(client, world, cid, "gov_approved", "gov_staff")
    api_move(client, world, cid, "reviewed", "congress_staff")
    return cid


def open_publicity(client, world, cycle_id, days_from=0, days_to=7) -> None:
    today = china_today()
    r = client.put(f"{API}/cycles/{cycle_id}/publicity",
                   json={"start": (today + timedelta(days=days_from)).isoformat(),
                         "end": (today + timedelta(days=days_to)).isoformat()},
                   headers=world.headers("gov_staff"))
    assert r.status_code == 200, r.text


# ------------------------------------------------------------------ the builder

def test_gov_staff_build_a_candidate_from_two_accepted_proposals(client, world, screening):
    cycle_id, ids = screening
    login(client, "gov_staff")
    page = client.get(f"/staff/cycles/{cycle_id}/candidates/new")
    assert page.status_code == 200 and "拟定候选项目" in page.text
    assert page.text.count('name="proposal_ids"') == 4 and "人附议" in page.text
    assert "县交通运输局" in page.text and 'name="csrftoken"' in page.text
    r = client.post(f"/staff/cycles/{cycle_id}/candidates/new", data=builder_form(client, ids[:2]),
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    cid = run(client, lambda s: s.scalar(select(Candidate.id)))
    assert r.headers["location"] == f"/staff/cycles/{cycle_id}/candidates?done={cid}#c-{cid}"
    c = client.get(f"{API}/candidates/{cid}", headers=world.headers("gov_staff")).json()
    assert {s["id"] for s in c["source_proposals"]} == set(ids[:2])
    assert c["funding"] == [{"source": "县级财政", "amount_wan": "1680"},
                            {"source": "上级补助", "amount_wan": "3000"}]
    assert c["targets"] == ["新建公路 7.8 公里"] and c["state"] == "drafted"
    assert [proposal_state(client, p) for p in ids] == ["adopted", "adopted", "accepted", "accepted"]
    chain = client.get(r.headers["location"])
    assert "已保存：" in chain.text and "拟定中" in chain.text and "政府常务会议通过" in chain.text


def test_the_builder_search_keeps_the_ticked_proposals(client, world, screening):
    cycle_id, ids = screening
    login(client, "gov_staff")
    r = client.post(f"/staff/cycles/{cycle_id}/candidates/new", headers=HX,
                    data={"csrftoken": csrf(client), "action": "filter", "q": "第3段",
                          "proposal_ids": [ids[0]], "title": "还没写完"})
    assert r.status_code == 200 and r.text.lstrip().startswith('<div id="picker"')
    ticked = re.findall(r'value="(\w+)" checked', r.text)
    assert ticked == [ids[0]]  # kept though the search does not find it
    listed = re.findall(r'name="proposal_ids" value="(\w+)">', r.text)
    assert listed == [ids[2]] and "村道硬化第3段" in r.text
    # Without htmx the whole form comes back, typed values kept.
    r = client.post(f"/staff/cycles/{cycle_id}/candidates/new",
                    data={"csrftoken": csrf(client), "action": "filter", "q": "第3段",
                          "title": "还没写完"})
    assert r.status_code == 200 and 'value="还没写完"' in r.text and "<html" in r.text
    assert count(client, Candidate) == 0


def test_a_unit_is_added_inline_and_chosen(client, world, screening):
    cycle_id, ids = screening
    login(client, "gov_staff")
    url = f"/staff/cycles/{cycle_id}/candidates/new"
    r = client.post(url, headers=HX, data={"csrftoken": csrf(client), "action": "add_unit",
                                           "new_unit": "县水务局", "title": "保留"})
    assert r.status_code == 200 and "已添加责任单位“县水务局”并选中" in r.text
    new_id = unit_id(client, "县水务局")
    assert f'<option value="{new_id}" selected>' in r.text
    r = client.post(url, headers=HX, data={"csrftoken": csrf(client), "action": "add_unit",
                                           "new_unit": "县教育局"})
    assert r.status_code == 409 and "已在责任单位名单中" in r.text
    r = client.post(url, data={"csrftoken": csrf(client), "action": "add_unit", "new_unit": "x",
                               "title": "保留的标题"})
    assert r.status_code == 422 and "「责任单位名称」至少 2 个字" in r.text
    assert 'value="保留的标题"' in r.text
    assert count(client, ResponsibleUnit) == 3


def test_more_rows_for_funding_and_targets(client, world, screening):
    cycle_id, _ = screening
    login(client, "gov_staff")
    url = f"/staff/cycles/{cycle_id}/candidates/new"
    r = client.post(url, headers=HX, data={"csrftoken": csrf(client), "action": "more_targets",
                                           "target": ["一", "二", ""], "target_rows": "3"})
    assert r.status_code == 200 and r.text.count('name="target"') == 5
    assert 'value="二"' in r.text


@pytest.mark.parametrize("change, message", [
    ({"budget_wan": "-5"}, "「预算（万元）」须大于 0"),
    ({"funding_amount": ["1680", "2000", ""]}, "资金来源合计 3680 万元，与预算 4680 万元不符"),
    ({"deadline": "2024-12-31"}, "完成时限须在 2025 年至 2030 年之间"),
    ({"responsible_unit": "县宇宙开发局"}, "责任单位不在本级名单中"),
    ({"title": ""}, "「项目名称」必填"),
    ({"funding_source": ["县级财政", "", ""]}, "「资金来源第 2 行的来源」必填"),
    ({"proposal_ids": []}, "请至少勾选一条已采纳入库的群众建议"),
])
def test_bad_input_reshows_the_form_in_chinese_and_stores_nothing(client, world, screening,
                                                                   change, message):
    cycle_id, ids = screening
    login(client, "gov_staff")
    r = client.post(f"/staff/cycles/{cycle_id}/candidates/new",
                    data=builder_form(client, ids[:2], **change))
    assert r.status_code == 422, r.text
    assert message in r.text and 'role="alert"' in r.text
    if "summary" not in change:
        assert "按三级公路标准改建 7.8 公里" in r.text  # what was typed is kept
    if change.get("title") != "":
        assert 'value="古乐路金顺镇至冯店镇段改建"' in r.text
    assert count(client, Candidate) == 0 and count(client, CandidateRevision) == 0
    assert all(proposal_state(client, p) == "accepted" for p in ids)


def test_a_proposal_not_accepted_is_refused_in_chinese(client, world, screening):
    cycle_id, ids = screening
    login(client, "gov_staff")
    api_candidate(client, world, cycle_id, ids[:1])  # ids[0] is adopted now
    r = client.post(f"/staff/cycles/{cycle_id}/candidates/new",
                    data=builder_form(client, ids[:2], title="另一个项目名称"))
    assert r.status_code == 422
    assert "候选项目只能由本年度已采纳入库的建议生成：“村道硬化第1段”目前是“已列入候选项目”" in r.text
    assert " is " not in r.text.split('role="alert"')[1].split("</p>")[0]
    assert 'value="另一个项目名称"' in r.text
    assert re.findall(r'value="(\w+)" checked', r.text) == ids[:2]
    assert count(client, Candidate) == 1 and proposal_state(client, ids[1]) == "accepted"


@pytest.mark.parametrize("who", ["resident", "deputy", "congress_staff", "unit_staff",
                                 "other_gov_staff"])
def test_only_gov_staff_of_the_jurisdiction_build_candidates(client, world, screening, who):
    cycle_id, ids = screening
    login(client, who)
    url = f"/staff/cycles/{cycle_id}/candidates/new"
    assert client.get(url).status_code == 403
    assert client.post(url, data=builder_form(client, ids[:1])).status_code == 403
    assert count(client, Candidate) == 0


def test_the_builder_asks_anonymous_people_to_log_in(client, world, screening):
    cycle_id, _ = screening
    r = client.get(f"/staff/cycles/{cycle_id}/candidates/new", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


# ------------------------------------------------------------------ editing

def test_a_drafted_candidate_is_edited_and_its_versions_listed(client, world, screening):
    cycle_id, ids = screening
    cid = api_candidate(client, world, cycle_id, ids[:2])
    login(client, "gov_staff")
    page = client.get(f"/staff/candidates/{cid}/edit")
    assert page.status_code == 200 and 'value="古乐路金顺镇至冯店镇段改建"' in page.text
    assert re.findall(r'value="(\w+)" checked', page.text) == sorted(ids[:2], key=ids.index)
    assert 'value="4680"' in page.text and "第 1 版" in page.text and "初次拟定" in page.text
    data = builder_form(client, [ids[0], ids[2]], title="古乐路改建（修改）", budget_wan="5000",
                        funding_source=["县级财政"], funding_amount=["5000"])
    r = client.post(f"/staff/candidates/{cid}/edit", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert [proposal_state(client, p) for p in ids[:3]] == ["adopted", "accepted", "adopted"]
    page = client.get(f"/staff/candidates/{cid}/edit").text
    assert "第 2 版" in page and "gov-staff" in page
    assert "<del>古乐路金顺镇至冯店镇段改建</del> → <ins>古乐路改建（修改）</ins>" in page
    assert "预算（万元）：<del>4680</del> → <ins>5000</ins>" in page
    assert "村道硬化第3段" in page.split('id="revisions"')[1]


def test_a_failed_edit_changes_nothing(client, world, screening):
    cycle_id, ids = screening
    cid = api_candidate(client, world, cycle_id, ids[:2])
    login(client, "gov_staff")
    r = client.post(f"/staff/candidates/{cid}/edit",
                    data=builder_form(client, ids[:2], title="新的名称", budget_wan="9999"))
    assert r.status_code == 422 and "与预算 9999 万元不符" in r.text
    assert 'value="新的名称"' in r.text
    c = client.get(f"{API}/candidates/{cid}", headers=world.headers("gov_staff")).json()
    assert c["title"] == "古乐路金顺镇至冯店镇段改建" and c["version"] == 1
    assert count(client, CandidateRevision) == 1


def test_only_a_drafted_candidate_can_be_edited(client, world, screening):
    cycle_id, ids = screening
    cid = api_candidate(client, world, cycle_id, ids[:1])
    api_move(client, world, cid, "gov_approved", "gov_staff")
    login(client, "gov_staff")
    r = client.get(f"/staff/candidates/{cid}/edit")
    assert r.status_code == 409 and "只有“拟定中”的候选项目可以修改" in r.text
    assert 'id="candidate-form"' not in r.text and "第 1 版" in r.text
    r = client.post(f"/staff/candidates/{cid}/edit", data=builder_form(client, ids[:1]))
    assert r.status_code == 409 and "请先退回" in r.text
    login(client, "congress_staff")
    assert client.get(f"/staff/candidates/{cid}/edit").status_code == 403


def test_nothing_is_built_or_edited_once_the_ballot_phase_began(client, world, screening):
    cycle_id, ids = screening
    cid = api_candidate(client, world, cycle_id, ids[:1])
    seed_reviewed_candidates(client, cycle_id, 12)
    r = client.post(f"{API}/cycles/{cycle_id}/transitions", json={"to": "balloting"},
                    headers=world.headers("congress_staff"))
    assert r.status_code == 200, r.text
    login(client, "gov_staff")
    r = client.get(f"/staff/cycles/{cycle_id}/candidates/new")
    assert r.status_code == 409 and "只有在初定阶段才能拟定或修改候选项目" in r.text
    r = client.post(f"/staff/cycles/{cycle_id}/candidates/new",
                    data=builder_form(client, ids[1:2]))
    assert r.status_code == 409 and count(client, Candidate) == 13
    r = client.post(f"/staff/candidates/{cid}/edit", data=builder_form(client, ids[:1],
                                                                       title="阶段已过还想改"))
    assert r.status_code == 409 and "只有在初定阶段才能拟定或修改候选项目" in r.text
    assert count(client, CandidateRevision) == 1
    page = client.get(f"/staff/cycles/{cycle_id}/candidates").text
    assert "只有在初定阶段才能拟定和审议候选项目" in page and 'name="to"' not in page


# ------------------------------------------------------------------ the approval chain

def test_the_chain_page_offers_each_role_its_own_steps(client, world, screening):
    cycle_id, ids = screening
    cid = api_candidate(client, world, cycle_id, ids[:1])
    login(client, "gov_staff")
    page = client.get(f"/staff/cycles/{cycle_id}/candidates").text
    assert "已有 0 个经审查的候选项目，至少需要 12 个" in page and "quota-short" in page
    assert 'value="gov_approved"' in page and 'value="reviewed"' not in page
    assert 'value="party_approved"' not in page  # the 党委 step is off by default
    r = client.post(f"/staff/candidates/{cid}/transition", follow_redirects=False,
                    data={"csrftoken": csrf(client), "to": "gov_approved",
                          "reason": "县政府第 12 次常务会议"})
    assert r.status_code == 303 and r.headers["location"].endswith(f"?moved={cid}#c-{cid}")
    assert "已办理：政府常务会议已通过" in client.get(r.headers["location"]).text
    login(client, "congress_staff")
    page = client.get(f"/staff/cycles/{cycle_id}/candidates").text
    assert "政府常务会议已通过" in page
    assert 'value="reviewed"' in page and 'value="drafted"' in page
    assert "/staff/candidates/" + cid + "/edit" not in page
    # 退回修改 needs a reason: refused in Chinese, the card keeps what was typed.
    r = client.post(f"/staff/candidates/{cid}/transition",
                    data={"csrftoken": csrf(client), "to": "drafted", "reason": ""})
    assert r.status_code == 422 and "请填写办理理由" in r.text
    # htmx: the card comes back moved, and the 差额 box refreshed out of band.
    r = client.post(f"/staff/candidates/{cid}/transition", headers=HX,
                    data={"csrftoken": csrf(client), "to": "reviewed", "reason": "常委会第 5 次会议"})
    assert r.status_code == 200 and r.text.lstrip().startswith(f'<article class="card cand" id="c-{cid}"')
    assert "已办理：人大审查通过" in r.text
    assert 'id="quota"' in r.text and 'hx-swap-oob="true"' in r.text
    assert "已有 1 个经审查的候选项目，至少需要 12 个" in r.text
    assert client.get(f"{API}/candidates/{cid}").json()["state"] == "reviewed"


def test_a_role_cannot_take_anothers_step(client, world, screening):
    cycle_id, ids = screening
    cid = api_candidate(client, world, cycle_id, ids[:1])
    login(client, "congress_staff")
    r = client.post(f"/staff/candidates/{cid}/transition", headers=HX,
                    data={"csrftoken": csrf(client), "to": "gov_approved", "reason": ""})
    assert r.status_code == 403 and "这一步应由其他角色办理" in r.text
    assert client.get(f"{API}/candidates/{cid}", headers=world.headers("gov_staff")
                      ).json()["state"] == "drafted"


def test_sending_back_with_a_reason_shows_it_and_reopens_editing(client, world, screening):
    cycle_id, ids = screening
    cid = api_candidate(client, world, cycle_id, ids[:1])
    api_move(client, world, cid, "gov_approved", "gov_staff")
    login(client, "congress_staff")
    r = client.post(f"/staff/candidates/{cid}/transition", follow_redirects=False,
                    data={"csrftoken": csrf(client), "to": "drafted", "reason": "预算偏高，请重新核算"})
    assert r.status_code == 303
    login(client, "gov_staff")
    page = client.get(f"/staff/cycles/{cycle_id}/candidates").text
    assert "已退回修改：预算偏高，请重新核算" in page and f"/staff/candidates/{cid}/edit" in page


def test_the_quota_box_turns_ok_with_enough_reviewed_candidates(client, world, screening):
    cycle_id, _ = screening
    seed_reviewed_candidates(client, cycle_id, 12)
    login(client, "congress_staff")
    page = client.get(f"/staff/cycles/{cycle_id}/candidates").text
    assert "已有 12 个经审查的候选项目，至少需要 12 个" in page and "quota-ok" in page
    assert "已满足差额要求" in page


@pytest.mark.parametrize("who", ["resident", "deputy", "other_congress_staff"])
def test_the_chain_page_is_for_the_jurisdictions_staff(client, world, screening, who):
    cycle_id, ids = screening
    cid = api_candidate(client, world, cycle_id, ids[:1])
    login(client, who)
    assert client.get(f"/staff/cycles/{cycle_id}/candidates").status_code == 403
    r = client.post(f"/staff/candidates/{cid}/transition",
                    data={"csrftoken": csrf(client), "to": "gov_approved"})
    assert r.status_code == 403


def test_the_publicity_period_is_set_on_the_chain_page(client, world, screening):
    cycle_id, _ = screening
    login(client, "congress_staff")
    url = f"/staff/cycles/{cycle_id}/publicity"
    r = client.post(url, data={"csrftoken": csrf(client), "start": "2025-03-10",
                               "end": "2025-03-01"})
    assert r.status_code == 422 and "公示截止日期不能早于开始日期" in r.text
    assert 'value="2025-03-10"' in r.text and 'value="2025-03-01"' in r.text
    r = client.post(url, data={"csrftoken": csrf(client), "start": "2025-03-01", "end": ""})
    assert r.status_code == 422 and "「公示截止日期」必填" in r.text
    r = client.post(url, data={"csrftoken": csrf(client), "start": "2025-03-01",
                               "end": "2025-03-10"}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "公示期已保存" in page and "2025-03-01 至 2025-03-10" in page
    login(client, "unit_staff")
    assert client.post(url, data={"csrftoken": csrf(client), "start": "2025-03-01",
                                  "end": "2025-03-02"}).status_code == 403


def test_traditional_pages_get_traditional_refusals(client, world, screening):
    cycle_id, ids = screening
    login(client, "gov_staff")
    client.cookies.set("lang", "zh_Hant")
    r = client.post(f"/staff/cycles/{cycle_id}/publicity",
                    data={"csrftoken": csrf(client), "start": "2025-03-10", "end": "2025-03-01"})
    assert r.status_code == 422 and "公示截止日期不能早於開始日期" in r.text
    assert "候選項目審議" in r.text
    r = client.post(f"/staff/cycles/{cycle_id}/candidates/new",
                    data=builder_form(client, ids[:1], budget_wan="-5"))
    assert r.status_code == 422 and "「預算（萬元）」須大於 0" in r.text


# ------------------------------------------------------------------ the public list, one candidate

def test_the_public_list_shows_reviewed_candidates_only(client, world, screening):
    cycle_id, ids = screening
    client.post(f"{API}/proposals/{ids[1]}/endorsements", headers=world.headers("deputy"))
    done = reviewed(client, world, cycle_id, ids[:2])
    api_candidate(client, world, cycle_id, ids[2:3], title="还在拟定的项目")
    open_publicity(client, world, cycle_id)
    page = client.get(f"/cycles/{cycle_id}/candidates").text
    assert "古乐路金顺镇至冯店镇段改建" in page and "还在拟定的项目" not in page
    assert "县交通运输局" in page and "4680 万元" in page and "上级补助" in page
    assert "新建公路 7.8 公里" in page and "2025 年 12 月 31 日" in page
    assert f'href="/proposals/{ids[0]}"' in page and f'href="/proposals/{ids[1]}"' in page
    assert "回应的群众建议（2 条）" in page and "人附议" in page
    assert "公示期：" in page and "公示期内欢迎发表意见" in page
    assert f'href="/candidates/{done}"' in page


def test_a_draft_is_not_found_by_the_public_but_seen_by_staff(client, world, screening):
    cycle_id, ids = screening
    cid = api_candidate(client, world, cycle_id, ids[:1])
    assert client.get(f"/candidates/{cid}").status_code == 404
    login(client, "resident")
    assert client.get(f"/candidates/{cid}").status_code == 404
    login(client, "other_gov_staff")
    assert client.get(f"/candidates/{cid}").status_code == 404
    login(client, "congress_staff")
    r = client.get(f"/candidates/{cid}")
    assert r.status_code == 200 and "尚未公示，仅工作人员可见" in r.text
    assert client.get("/candidates/nope").status_code == 404


def test_residents_comment_during_publicity_and_staff_hide(client, world, screening):
    cycle_id, ids = screening
    cid = reviewed(client, world, cycle_id, ids[:1])
    login(client, "resident")
    r = client.post(f"/candidates/{cid}/comments", data={"csrftoken": csrf(client),
                                                         "body": "支持修路！"})
    assert r.status_code == 409 and "候选项目只在公示期内接受评论" in r.text
    assert count(client, Comment) == 0
    open_publicity(client, world, cycle_id)
    r = client.post(f"/candidates/{cid}/comments", follow_redirects=False,
                    data={"csrftoken": csrf(client), "body": "支持修路！"})
    assert r.status_code == 303 and r.headers["location"] == f"/candidates/{cid}?commented=1#comments"
    assert "支持修路！" in client.get(f"/candidates/{cid}").text
    comment_id = run(client, lambda s: s.scalar(select(Comment.id)))
    login(client, "deputy")
    r = client.post(f"/candidates/{cid}/comments/{comment_id}/report", headers=HX,
                    data={"csrftoken": csrf(client)})
    assert r.status_code == 200 and "已举报" in r.text
    login(client, "gov_staff")
    r = client.post(f"/staff/candidates/{cid}/comments/{comment_id}/hide", headers=HX,
                    data={"csrftoken": csrf(client), "reason": ""})
    assert r.status_code == 422 and "请填写隐藏理由" in r.text
    r = client.post(f"/staff/candidates/{cid}/comments/{comment_id}/hide", follow_redirects=False,
                    data={"csrftoken": csrf(client), "reason": "含有个人电话"})
    assert r.status_code == 303
    client.cookies.clear()
    page = client.get(f"/candidates/{cid}").text
    assert "该评论已被隐藏：含有个人电话" in page and "支持修路！" not in page
    login(client, "resident")
    r = client.post(f"/staff/candidates/{cid}/comments/{comment_id}/hide",
                    data={"csrftoken": csrf(client), "reason": "x"})
    assert r.status_code == 403


def test_the_print_view_is_the_session_material(client, world, screening):
    cycle_id, ids = screening
    reviewed(client, world, cycle_id, ids[:2])
    reviewed(client, world, cycle_id, ids[2:3], title="金顺镇中心小学运动场改造", budget_wan="300",
             funding=[{"source": "县级财政", "amount_wan": "300"}])
    api_candidate(client, world, cycle_id, ids[3:4], title="草稿不该印出")
    page = client.get(f"/cycles/{cycle_id}/candidates/print").text
    assert "乐至县" in page and "2025 年民生实事项目" in page and "候选项目名单（供代表审议）" in page
    assert "<form" not in page and "<nav" not in page and 'class="print-view"' in page
    assert page.count('class="sheet-item"') == 2 and "草稿不该印出" not in page
    assert "1.</span> 古乐路金顺镇至冯店镇段改建" in page and "2.</span> 金顺镇中心小学运动场改造" in page
    assert "村道硬化第1段" in page and "共 2 个候选项目，拟票决确定 10 个" in page


def test_html_in_a_candidate_is_shown_as_text(client, world, screening):
    cycle_id, ids = screening
    evil = "<script>alert(1)</script>修路"
    cid = reviewed(client, world, cycle_id, ids[:1], title=evil, targets=["<b>7.8</b> 公里"])
    pages = [client.get(f"/cycles/{cycle_id}/candidates").text, client.get(f"/candidates/{cid}").text,
             client.get(f"/cycles/{cycle_id}/candidates/print").text]
    login(client, "gov_staff")
    pages.append(client.get(f"/staff/cycles/{cycle_id}/candidates").text)
    for text in pages:
        assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;修路" in text
    assert "<b>7.8</b>" not in pages[0] and "&lt;b&gt;7.8&lt;/b&gt;" in pages[0]


def test_the_cycle_page_links_to_the_candidate_pages(client, world, screening):
    cycle_id, _ = screening
    assert f'href="/cycles/{cycle_id}/candidates"' in client.get(f"/cycles/{cycle_id}").text
    login(client, "congress_staff")
    assert f'href="/staff/cycles/{cycle_id}/candidates"' in client.get(f"/cycles/{cycle_id}").text
