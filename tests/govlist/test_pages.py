"""The pages and the 公告 of a government list: the notice speaks for the 人民政府 and names the
adopting meeting; the cycle story, home timeline and archive show the comment period instead of
the ballot (the story in the same fixed number of queries); the public draft list and the staff
page work through their forms."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.models import Comment, Proposal, User
from app.timeutil import china_today
from tests.cycles.test_story import section, text_of
from tests.govlist.helpers import (
    API,
    add_government_places,
    announced_cycle,
    comment,
    commenting_cycle,
    move,
    ok,
    screening_cycle,
)
from tests.helpers import count_selects, csrf, page_login, run, set_jurisdiction_settings


def test_the_announcement_json_speaks_for_the_government_without_votes(client, world):
    add_government_places(client, world)
    cycle_id, items = announced_cycle(client, world, "yaohai", items=3, left_out=1)
    a = ok(client.get(f"{API}/cycles/{cycle_id}/announcement"))
    assert a["decided_by"] == "government" and a["ballots"] == []
    assert a["cycle"]["issued_by"] == "瑶海区人民政府" and a["cycle"]["decided_by"] == "government"
    assert a["adoption"]["meeting"] == "区长办公会"
    assert a["adoption"]["date"] == china_today().isoformat()
    assert a["adoption"]["document_number"] == "瑶政〔2026〕3号"
    assert a["adoption"]["left_out"] == [{"candidate_id": items[1], "title": "背街小巷路面改造",
                                          "reason": "资金需分年安排，调整到下一年度。"}]
    assert [p["title"] for p in a["projects"]] == ["新建社区养老服务站", "中小学校园照明改造"]
    assert all(p["yes"] is None and len(p["source_proposal_ids"]) == 1 for p in a["projects"])
    assert a["comments"] == {"total": 2, "answered": 2, "noted": 0, "hidden": 0,
                             "unanswered": 0, "on_list": 1}


def test_the_announcement_page_names_the_meeting_date_and_document(client, world):
    add_government_places(client, world)
    cycle_id, _ = commenting_cycle(client, world, "yaohai", items=2)
    waiting = client.get(f"/cycles/{cycle_id}/announcement").text
    assert "尚未公告" in waiting and "政府公开征求意见并研究确定后" in waiting
    r = client.get(f"{API}/cycles/{cycle_id}/announcement")
    assert (r.status_code, r.json()["code"]) == (409, "not_announced")

    cycle_id, _ = announced_cycle(client, world, "yaohai", items=3, left_out=2, year=2027)
    html = client.get(f"/cycles/{cycle_id}/announcement").text
    notice = text_of(re.search(r'<article class="announcement".*?</article>', html, re.S)[0])
    today = china_today()
    day = f"{today.year}年{today.month}月{today.day}日"
    assert "瑶海区人民政府关于2027年民生实事项目的公告" in notice
    assert f"（{day}经区长办公会研究确定，瑶政〔2026〕3号）" in notice
    assert "确定2027年民生实事项目2项" in notice
    assert "共收到意见2条，已逐条答复2条、记录0条" in notice
    assert "中小学校园照明改造 ：资金需分年安排" in notice  # the item left out, with why
    assert notice.endswith(f"特此公告。 瑶海区人民政府 {day}")
    assert "赞成票" not in html and "票决" not in notice and "主席团" not in notice
    assert f'href="/cycles/{cycle_id}/draft-list"' in html


def test_the_story_tells_the_comment_period_instead_of_the_ballot(client, world):
    add_government_places(client, world)
    cycle_id, items = announced_cycle(client, world, "yaohai", items=3, left_out=2)
    html = client.get(f"/cycles/{cycle_id}").text
    stages = re.findall(r'<span class="stage-name">([^<]+)</span>', html)
    assert stages == ["征集", "初定", "征求意见", "公开", "监督", "测评"]
    assert 'id="ballots"' not in html and "票决尚未开始" not in html
    assert 'id="decided-by">政府研究确定' in html
    screen = text_of(section(html, "screen"))
    assert "政府拟定的项目草案 3 项，来自 3 条群众建议" in screen
    assert screen.count("列入") == 3 and "未列入" in screen  # two in, one left out
    period = text_of(section(html, "commenting"))
    assert "已收到意见 2 条：已答复 2 条" in period and "已结束" in period
    assert f"{china_today().isoformat()} 经区长办公会研究确定（瑶政〔2026〕3号）" in period
    assert "征求意见稿中 1 项未列入" in period
    assert "共 2 个民生实事项目" in text_of(section(html, "projects"))
    assert ">民生实事项目公告</a>" in html

    # in screening the government's own staff see the comment period, never the ballot
    other, _, _ = screening_cycle(client, world, "yaohai", items=1, year=2027)
    page_login(client, "yaohai-gov")
    panel = client.get(f"/cycles/{other}").text
    assert "进入「征求意见」" in panel and "进入「票决」" not in panel
    assert "初定" in panel and "项目草案经政府审议后公开征求意见" in panel


def test_a_balloted_cycle_in_screening_offers_no_comment_period(client, world):
    add_government_places(client, world)
    r = client.post(f"{API}/cycles", headers=world.headers("admin"), json={
        "jurisdiction_code": "lezhi", "year": 2026, "title": "乐至县2026年民生实事项目",
        "seats": 3})
    cycle_id = r.json()["id"]
    set_jurisdiction_settings(client, "lezhi", soliciting_min_days=0)
    for to in ("soliciting", "screening"):
        ok(move(client, world, cycle_id, to, "gov_staff"))
    page_login(client, "admin")
    panel = client.get(f"/cycles/{cycle_id}").text
    assert "进入「票决」" in panel and "征求意见" not in panel


def test_the_cycle_page_reads_a_small_and_a_large_government_list_in_the_same_queries(
        client, world):
    add_government_places(client, world)
    small, _ = announced_cycle(client, world, "yaohai", items=1, comments=0, year=2026)
    large, ids = announced_cycle(client, world, "yaohai", items=4, left_out=3, comments=3,
                                 year=2027)

    async def pile_on(session):  # many more proposals and comments on the large one
        author = await session.scalar(select(User.id).limit(1))
        for i in range(40):
            session.add(Proposal(cycle_id=large, title=f"建议{i}", description="说明",
                                 category="教育", location_code="yaohai", channel="online",
                                 state="accepted"))
            session.add(Comment(cycle_id=large, candidate_id=ids[i % 4] if i % 2 else None,
                                author_id=author, body=f"意见{i}", answer_kind="noted",
                                answered_by="测试"))

    run(client, pile_on)
    n_small = count_selects(client, f"/cycles/{small}")
    n_large = count_selects(client, f"/cycles/{large}")
    assert n_small == n_large <= 7, (n_small, n_large)
    page_login(client, "yaohai-gov")
    assert count_selects(client, f"/cycles/{small}") == count_selects(client, f"/cycles/{large}")
    # in the comment period too
    a, _ = commenting_cycle(client, world, "yaohai", items=1, year=2028)
    b, _ = commenting_cycle(client, world, "yaohai", items=4, year=2029)
    for i in range(3):
        comment(client, world, b, ["yaohai_resident", "deputy", "resident"][i], f"意见{i}")
    assert count_selects(client, f"/cycles/{a}") == count_selects(client, f"/cycles/{b}")


def test_home_and_archive_show_the_comment_period(client, world):
    add_government_places(client, world)
    cycle_id, _ = commenting_cycle(client, world, "hefei", items=1)
    home = client.get("/").text
    timeline = re.search(r'<ol class="timeline".*?</ol>', home[home.index("合肥市"):], re.S)[0]
    assert re.findall(r'<span class="label">([^<]+)</span>', timeline) == [
        "征集", "初定", "征求意见", "公开", "监督", "测评"]
    assert re.search(r'aria-current="step">\s*<span class="dot"[^>]*>3</span>\s*'
                     r'<span class="label">征求意见', timeline)
    archive = client.get("/archive/hefei").text
    assert "征求意见" in archive and "政府研究确定" in archive


# --- the public draft list ------------------------------------------------------------------


def test_the_draft_list_page_shows_each_item_with_its_facts_proposals_and_answered_comments(
        client, world):
    add_government_places(client, world)
    cycle_id, items = commenting_cycle(client, world, "yaohai", items=2)
    c = comment(client, world, cycle_id, "yaohai_resident", "建议延长服务时间。", items[0])
    ok(client.post(f"{API}/comments/{c['id']}/answer", headers=world.headers("yaohai_gov"),
                   json={"kind": "answered", "text": "采纳，服务时间延长至晚八点。"}))
    comment(client, world, cycle_id, "deputy", "整体支持。")
    html = client.get(f"/cycles/{cycle_id}/draft-list").text
    assert "瑶海区2026年民生实事项目（征求意见稿）" in html
    period = text_of(section(html, "period"))
    began = china_today()
    assert f"自 {began.isoformat()} 起公开征求意见，不少于 30 天" in period
    assert f"至少至 {(began + timedelta(days=30)).isoformat()}" in period
    assert "还剩 30 天" in period and "已收到意见 2 条：已答复 1 条" in period
    item = text_of(re.search(rf'<li class="card cand draft-item" id="item-{items[0]}".*?</li>\s*'
                             rf'(?=<li class="card cand draft-item"|</ol>)', html, re.S)[0])
    assert "新建社区养老服务站" in item and "在三个社区各建一个养老服务站" in item
    assert "区民政局" in item and "300 万元" in item and "2026-12-31" in item
    assert "回应的群众建议（1 条）" in item
    assert "建议延长服务时间。" in item and "政府答复" in item
    assert "采纳，服务时间延长至晚八点。" in item and "测试yaohai-gov" in item
    assert "整体支持。" in text_of(section(html, "list-comments"))
    assert "登录后发表意见" in html and 'name="body"' not in html  # anonymous: no form


def test_a_resident_comments_through_the_page_and_a_bad_comment_is_reshown(client, world):
    add_government_places(client, world)
    cycle_id, items = commenting_cycle(client, world, "yaohai", items=2)
    page_login(client, "yaohai-resident")
    r = client.post(f"/cycles/{cycle_id}/draft-list/comments", follow_redirects=False,
                    data={"body": "照明改造请优先农村学校。", "candidate_id": items[1],
                          "csrftoken": csrf(client)})
    assert r.status_code == 303 and "commented=1#c-" in r.headers["location"]
    saved = ok(client.get(f"{API}/cycles/{cycle_id}/draft-list/comments"))["items"][0]
    assert (saved["candidate_id"], saved["body"]) == (items[1], "照明改造请优先农村学校。")
    html = client.get(r.headers["location"]).text
    assert "意见已发表，政府将逐条答复。" in html
    r = client.post(f"/cycles/{cycle_id}/draft-list/comments",
                    data={"body": "", "candidate_id": items[0], "csrftoken": csrf(client)})
    assert r.status_code == 422
    assert f'id="error-{items[0]}"' in r.text and "「意见」必填" in r.text
    r = client.post(f"/cycles/{cycle_id}/draft-list/comments",
                    data={"body": "x", "candidate_id": "nope", "csrftoken": csrf(client)})
    assert r.status_code == 422 and "所选事项不在本征求意见稿中" in r.text
    assert ok(client.get(f"{API}/cycles/{cycle_id}/draft-list/comments"))["total"] == 1


# --- the staff page -------------------------------------------------------------------------


def test_staff_answer_note_and_record_the_adoption_through_their_page(client, world):
    add_government_places(client, world)
    cycle_id, items = commenting_cycle(client, world, "yaohai", items=2)
    first = comment(client, world, cycle_id, "yaohai_resident", "希望增加助餐点。")
    second = comment(client, world, cycle_id, "deputy", "建议公开招标。", items[1])
    page_login(client, "yaohai-gov")
    html = client.get(f"/staff/cycles/{cycle_id}/draft-list").text
    waiting = text_of(section(html, "unanswered"))
    assert "待答复的意见（2 条）" in waiting and "关于：征求意见稿整体" in waiting
    assert "关于： 背街小巷路面改造" in waiting
    r = client.post(f"/staff/comments/{first['id']}/answer", follow_redirects=False,
                    data={"kind": "answered", "text": "", "csrftoken": csrf(client)})
    assert r.status_code == 422 and "请填写答复内容" in r.text
    r = client.post(f"/staff/comments/{first['id']}/answer", follow_redirects=False,
                    data={"kind": "answered", "text": "已增加两个助餐点。",
                          "csrftoken": csrf(client)})
    assert r.status_code == 303
    r = client.post(f"/staff/comments/{second['id']}/answer", follow_redirects=False,
                    data={"kind": "noted", "text": "", "csrftoken": csrf(client)})
    assert r.status_code == 303
    html = client.get(r.headers["location"]).text
    assert "所有意见均已答复或记录。" in html and "已办理，答复已公开。" in html

    bad = {"meeting": "区长办公会", "date": china_today().isoformat(),
           "document_number": "三号文", "left_out": [items[1]], "reason_" + items[1]: "资金不足",
           "csrftoken": csrf(client)}
    r = client.post(f"/staff/cycles/{cycle_id}/adoption", data=bad)
    assert r.status_code == 422 and "请按发文字号格式填写文号" in r.text
    assert 'value="三号文"' in r.text and f'value="{items[1]}" checked' in r.text
    r = client.post(f"/staff/cycles/{cycle_id}/adoption", follow_redirects=False,
                    data=bad | {"document_number": "瑶政〔2026〕3号"})
    assert r.status_code == 303
    record = ok(client.get(f"{API}/cycles/{cycle_id}"))["adoption"]
    assert record["left_out"] == [{"candidate_id": items[1], "title": "背街小巷路面改造",
                                   "reason": "资金不足"}]
    panel = client.get(f"/cycles/{cycle_id}").text
    assert "待答复意见 0 条" in panel and "区长办公会，瑶政〔2026〕3号" in panel


def test_the_staff_page_is_for_staff_of_the_jurisdiction(client, world):
    add_government_places(client, world)
    cycle_id, _ = commenting_cycle(client, world, "yaohai", items=1)
    c = comment(client, world, cycle_id, "deputy", "意见")
    page_login(client, "yaohai-resident")
    assert client.get(f"/staff/cycles/{cycle_id}/draft-list").status_code == 403
    r = client.post(f"/staff/comments/{c['id']}/answer",
                    data={"kind": "noted", "csrftoken": csrf(client)})
    assert r.status_code == 403
    page_login(client, "gov-staff")  # another county's
    assert client.get(f"/staff/cycles/{cycle_id}/draft-list").status_code == 403
    page_login(client, "yaohai-congress")  # reads it, answers nothing
    html = client.get(f"/staff/cycles/{cycle_id}/draft-list").text
    assert "待答复的意见（1 条）" in html and "/answer" not in html


def test_the_candidate_pages_of_a_government_list_speak_of_the_draft_not_the_ballot(client,
                                                                                   world):
    add_government_places(client, world)
    cycle_id, items, _ = screening_cycle(client, world, "yaohai", items=2, approve=1)
    page_login(client, "yaohai-congress")
    chain = client.get(f"/staff/cycles/{cycle_id}/candidates").text
    assert "本年度民生实事项目由政府研究确定" in chain and "差额要求" not in chain
    assert "人大审查通过</button>" not in chain  # no congress review of a government list
    # before the comment period the public sees no draft; then the whole approved draft
    assert "候选项目名单尚未公示" in client.get(f"/cycles/{cycle_id}/candidates").text
    ok(move(client, world, cycle_id, "commenting", "yaohai_gov"))
    listed = client.get(f"/cycles/{cycle_id}/candidates").text
    assert "政府拟定的民生实事项目草案（征求意见稿）" in listed and "提交人大代表票决" not in listed
    assert f'id="c-{items[0]}"' in listed and f'id="c-{items[1]}"' not in listed
    detail = client.get(f"/candidates/{items[0]}").text
    assert "在征求意见稿中查看和发表意见" in detail and "尚未公示" not in detail
