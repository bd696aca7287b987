"""The public cycle story (年度全景, /cycles/{id}) and the archive (往年档案, /archive): the
figures equal the data, vote counts follow publish_vote_counts, plans are flagged late, and
every page reads with the same number of queries whatever the size of the cycle."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.cycles.story import cycle_story
from app.models import Cycle, Project, Proposal, StateTransition
from app.timeutil import CHINA_TZ, china_today
from tests.ballots.conftest import API, balloting_cycle, publish_round, walk_round
from tests.helpers import count_selects, csrf, page_login, run, set_jurisdiction_settings
from tests.projects.test_announcement import announce, announced_cycle

CATEGORIES = ["交通出行", "教育", "卫生健康", "交通出行", "城乡建设", "交通出行", "教育"]
CHANNELS = ["online", "online", "hotline", "deputy", "letter", "visit", "online"]
STATES = ["submitted", "accepted", "rejected", "merged", "adopted", "accepted", "submitted"]


def new_cycle(client, world, year: int = 2025, seats: int = 2) -> str:
    r = client.post(f"{API}/cycles", headers=world.headers("gov_staff"), json={
        "jurisdiction_code": "lezhi", "year": year, "title": f"乐至县{year}年民生实事项目",
        "seats": seats})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def move(client, world, cycle_id: str, to: str, by: str = "gov_staff") -> None:
    r = client.post(f"{API}/cycles/{cycle_id}/transitions", json={"to": to},
                    headers=world.headers(by))
    assert r.status_code == 200, r.text


def add_proposals(client, cycle_id: str, rows: list[tuple[str, str, str]], *,
                  carried: int = 0) -> None:
    """Proposals straight into the table: (category, channel, state); `carried` of them are
    copies carried in from an earlier year's reserve."""

    async def add(session):
        for i, (category, channel, state) in enumerate(rows):
            session.add(Proposal(cycle_id=cycle_id, title=f"建议{i}", description="说明",
                                 category=category, location_code="lezhi", channel=channel,
                                 state=state))
        await session.flush()
        if carried:
            ids = list(await session.scalars(select(Proposal.id).where(
                Proposal.cycle_id == cycle_id).order_by(Proposal.id).limit(carried + 1)))
            for pid in ids[1:]:
                p = await session.get(Proposal, pid)
                p.carried_from_id = ids[0]
                session.add(p)

    run(client, add)


def story_of(client, cycle_id: str):
    async def read(session):
        return await cycle_story(session, await session.get(Cycle, cycle_id))

    return run(client, read)


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def section(html: str, section_id: str) -> str:
    found = re.search(rf'<section[^>]*id="{section_id}".*?</section>', html, re.S)
    assert found, section_id
    return found.group(0)


def table_rows(html: str, table_id: str) -> dict[str, int]:
    table = re.search(rf'<table class="figures" id="{table_id}">.*?</table>', html, re.S).group(0)
    return {key: int(n) for key, n in re.findall(
        r'<tr data-key="([^"]+)"[^>]*>.*?<td class="num">(\d+)</td>', table, re.S)}


# --- 征集 figures ---------------------------------------------------------------------------


def test_the_proposal_figures_equal_the_data(client, world):
    cycle_id = new_cycle(client, world)
    move(client, world, cycle_id, "soliciting")
    rows = list(zip(CATEGORIES, CHANNELS, STATES, strict=True))
    add_proposals(client, cycle_id, rows, carried=2)
    other = new_cycle(client, world, year=2026)  # another cycle's proposals are not counted
    add_proposals(client, other, [("教育", "online", "submitted")] * 5)

    s = story_of(client, cycle_id)
    f = s.proposals
    assert f.total == len(rows) == 7
    assert {b.key: b.count for b in f.by_category if b.count} == Counter(CATEGORIES)
    assert {b.key: b.count for b in f.by_channel if b.count} == Counter(CHANNELS)
    assert {k: v for k, v in f.by_state.items() if v} == Counter(STATES)
    assert f.carried_in == 2
    assert f.live == sum(1 for st in STATES if st in ("submitted", "accepted", "adopted"))
    # largest first; every category of the cycle and every channel is listed, zeros last
    assert [b.key for b in f.by_category][:3] == ["交通出行", "教育", "卫生健康"]
    assert len(f.by_category) == 10 and f.by_category[-1].count == 0
    assert {b.key for b in f.by_channel} == {"online", "deputy", "hotline", "visit", "letter"}
    assert f.by_category[0].percent == 100 and f.by_category[1].percent == 67

    html = client.get(f"/cycles/{cycle_id}").text
    assert re.search(r'id="proposal-total">共收到建议 <strong>7</strong> 条', html)
    assert {k: v for k, v in table_rows(html, "by-category").items() if v} == Counter(CATEGORIES)
    assert {k: v for k, v in table_rows(html, "by-channel").items() if v} == Counter(CHANNELS)
    states = text_of(section(html, "solicit"))
    assert ("其中列入候选项目 1 条，进入储备库 2 条，未采纳 1 条，合并 1 条，待审核 2 条" in states
            and "含由往年储备库结转的 2 条" in states)
    # the figures are a table a screen reader can read: headers, row headers, bars hidden
    assert '<th scope="row">交通出行</th><td class="num">3</td>' in html
    assert '<td class="bar" aria-hidden="true"><svg' in html
    assert "12345热线" in html and "代表建议" in html
    # categories nobody asked for are named on one line, not drawn as empty bars
    assert "没有建议的类别：就业创业、社会保障、困难群体救助" in html
    assert "结转下一年度" not in states and 'data-key="就业创业"' not in html


def test_a_cycle_not_yet_soliciting_says_so_for_every_stage(client, world):
    cycle_id = new_cycle(client, world)
    html = client.get(f"/cycles/{cycle_id}").text
    assert "本年度正在筹备，尚未开始征集。" in html
    assert "征集尚未开始。" in html and "初定尚未开始" in html and "票决尚未开始" in html
    assert "尚未公开：票决结果公布后" in html and 'id="announcement-link"' not in html
    assert html.count('class="stage stage-todo"') == 6
    assert 'id="phase-panel"' in html and 'data-phase="draft"' in html
    # the breadcrumb leads to the archive and to this jurisdiction's years
    assert 'href="/archive"' in html and 'href="/archive/lezhi"' in html
    assert f'href="/api/v1/cycles/{cycle_id}/open-data.zip"' in html and 'href="/feed.atom"' in html


def test_the_six_stages_show_the_dates_they_began_and_ended(client, world):
    set_jurisdiction_settings(client, "lezhi", soliciting_min_days=0)
    cycle_id = new_cycle(client, world)
    move(client, world, cycle_id, "soliciting")
    move(client, world, cycle_id, "screening")
    started = {"soliciting": datetime(2025, 2, 28, 17, 0, tzinfo=UTC),  # 3月1日 北京
               "screening": datetime(2025, 4, 10, 2, 0, tzinfo=UTC)}

    async def backdate(session):
        for phase, at in started.items():
            await session.execute(update(StateTransition).where(
                StateTransition.entity_id == cycle_id, StateTransition.to_state == phase)
                .values(at=at))

    run(client, backdate)
    stages = story_of(client, cycle_id).stages
    assert [(st.phase, st.status) for st in stages] == [
        ("soliciting", "done"), ("screening", "now"), ("balloting", "todo"),
        ("announced", "todo"), ("supervising", "todo"), ("evaluating", "todo")]
    assert stages[0].began == date(2025, 3, 1) and stages[0].ended == date(2025, 4, 10)
    assert stages[1].began == date(2025, 4, 10) and stages[1].ended is None
    assert stages[2].began is None

    html = client.get(f"/cycles/{cycle_id}").text
    done = re.search(r'<li class="stage stage-done">.*?</li>', html, re.S).group(0)
    assert "征集" in done and "已完成" in done
    assert ('<time datetime="2025-03-01">2025-03-01</time> 开始' in done
            and '<time datetime="2025-04-10">2025-04-10</time> 结束' in done)
    now = re.search(r'<li class="stage stage-now" aria-current="step">.*?</li>', html, re.S)
    assert "初定" in now.group(0) and "进行中" in now.group(0)


# --- 初定, 票决 and 公开 -------------------------------------------------------------------------


def test_candidates_show_how_many_proposals_fed_them_and_which_were_selected(client, world):
    cycle_id, results, sources = announced_cycle(client, world, seats=2)
    s = story_of(client, cycle_id)
    assert len(s.candidates) == 12  # the reviewed list, in its order
    by_id = {c.id: c for c in s.candidates}
    for cid in results["selected_ids"]:
        assert by_id[cid].proposals == len(sources[cid]) == 2 and by_id[cid].selected
    assert sum(c.selected for c in s.candidates) == 2
    assert s.adopted_into_candidates == 4

    html = client.get(f"/cycles/{cycle_id}").text
    screen = text_of(section(html, "screen"))
    assert "经人大审查的候选项目 12 个，来自 4 条群众建议" in screen
    assert screen.count("来自 2 条建议") == 2 and screen.count("当选") == 2
    assert f'href="/candidates/{results["selected_ids"][0]}"' in html


def test_the_ballot_and_the_projects_are_told_with_their_plans(client, world):
    cycle_id, results, sources = announced_cycle(client, world, seats=2)
    html = client.get(f"/cycles/{cycle_id}").text
    ballots = section(html, "ballots")
    assert f'href="/ballots/{results["ballot_id"]}/results"' in ballots
    titles = {c["id"]: c["title"] for c in results["candidates"]}
    yes = {c["id"]: c["yes"] for c in results["candidates"]}
    for cid in results["selected_ids"]:
        assert titles[cid] in ballots and f"赞成 {yes[cid]} 票" in ballots
    assert (f"全体代表 {results['total_deputies']} 名，出席 {results['present']} 名"
            in text_of(ballots))

    s = story_of(client, cycle_id)
    assert [line.project.title for line in s.projects] == [titles[c]
                                                           for c in results["selected_ids"]]
    projects = section(html, "projects")
    for line in s.projects:
        p = line.project
        assert f'href="/projects/{p.id}"' in projects and f'href="/projects/{p.id}"' in ballots
        assert line.proposals == 2 and line.plan is not None and line.plan.saved_at is None
    text = text_of(projects)
    assert "共 2 个民生实事项目，预算合计 200 万元" in text
    assert "县交通运输局" in text and "100 万元" in text and "2025-12-31" in text
    assert "已公告" in text
    due = s.projects[0].plan.due
    assert due == china_today() + timedelta(days=30)
    assert f"尚未公布，应于 {due.isoformat()} 前公布" in text and "逾期" not in text.replace(
        "逾期 0 个", "")
    assert "实施方案：已公布 0 个，尚未公布 2 个，逾期 0 个。" in text
    assert 'id="announcement-link"' in projects

    client.cookies.set("lang", "zh_Hant")  # the traditional-character page reads as well
    hant = client.get(f"/cycles/{cycle_id}")
    assert hant.status_code == 200 and '<html lang="zh-TW">' in hant.text


def test_a_plan_not_published_in_time_is_flagged_late(client, world):
    cycle_id, _, _ = announced_cycle(client, world, seats=2)
    long_ago = datetime.now(CHINA_TZ) - timedelta(days=40)

    async def backdate(session):
        await session.execute(update(StateTransition).where(
            StateTransition.entity_id == cycle_id, StateTransition.to_state == "announced")
            .values(at=long_ago))

    run(client, backdate)
    s = story_of(client, cycle_id)
    assert all(line.plan.late for line in s.projects) and s.late_plans == 2
    projects = section(client.get(f"/cycles/{cycle_id}").text, "projects")
    assert projects.count('<strong class="late">逾期</strong>') == 2
    assert "逾期 2 个" in text_of(projects)
    assert "plans-dashboard-link" not in projects  # the staff dashboard: staff only
    for who, shown in (("gov_staff", True), ("congress_staff", True), ("unit_staff", False)):
        client.cookies.clear()
        assert page_login(client, world.users[who].username).status_code == 303
        projects = section(client.get(f"/cycles/{cycle_id}").text, "projects")
        assert (f'href="/staff/cycles/{cycle_id}/plans"' in projects) is shown, who
    client.cookies.clear()
    page_login(client, world.users["gov_staff"].username)
    dashboard = client.get(f"/staff/cycles/{cycle_id}/plans")
    assert dashboard.status_code == 200 and dashboard.text.count("逾期") >= 2


def test_vote_counts_are_left_out_when_the_jurisdiction_does_not_publish_them(client, world):
    cycle_id, results, _ = announced_cycle(client, world, seats=2)
    set_jurisdiction_settings(client, "lezhi", publish_vote_counts=False)
    s = story_of(client, cycle_id)
    assert not s.publish_vote_counts
    assert [sel.yes for sel in s.rounds[0].selected] == [None, None]
    assert [sel.candidate_id for sel in s.rounds[0].selected] == results["selected_ids"]
    ballots = section(client.get(f"/cycles/{cycle_id}").text, "ballots")
    assert "赞成 " not in ballots and "各项目得票数不予公布" in ballots

    set_jurisdiction_settings(client, "lezhi", publish_vote_counts=True)
    ballots = section(client.get(f"/cycles/{cycle_id}").text, "ballots")
    assert "赞成 2 票" in ballots and "不予公布" not in ballots


def test_a_cycle_whose_seats_all_stayed_empty_says_no_project_was_decided(client, world):
    ballot_id = walk_round(client, world, "published")  # nobody voted: every seat empty
    cycle_id = client.get(f"{API}/ballots/{ballot_id}").json()["cycle_id"]
    r = client.post(f"{API}/cycles/{cycle_id}/transitions",
                    json={"to": "announced", "reason": "候选项目均未过半数，名额空缺"},
                    headers=world.headers("congress_staff"))
    assert r.status_code == 200, r.text
    html = client.get(f"/cycles/{cycle_id}").text
    assert "本轮没有项目当选。" in section(html, "ballots")
    assert "本年度票决未产生民生实事项目。" in section(html, "projects")


# --- the number of queries ------------------------------------------------------------------


def test_the_story_takes_the_same_queries_for_a_small_and_a_large_cycle(client, world):
    small, _, _ = announced_cycle(client, world, seats=2, year=2025)
    large, _, _ = announced_cycle(client, world, seats=6, year=2026)
    add_proposals(client, large, list(zip(CATEGORIES, CHANNELS, STATES, strict=True)) * 20)
    n_small = count_selects(client, f"/cycles/{small}")
    n_large = count_selects(client, f"/cycles/{large}")
    assert n_small == n_large <= 7, (n_small, n_large)
    page_login(client, "congress-staff")  # staff see the same story, with their links
    assert count_selects(client, f"/cycles/{small}") == count_selects(client, f"/cycles/{large}")


def test_the_results_page_takes_two_queries_however_many_voted(client, world):
    """The round with its cycle, then present and cast counted in one statement."""
    empty = walk_round(client, world, "published")
    paper = client.get(f"{API}/ballots/{empty}", headers=world.headers("deputy")).json()
    first = paper["candidates"][0]["id"]
    voted = walk_round(client, world, "published", cycle_id=paper["cycle_id"],
                       ballots=[("deputy", {first: "yes"}), ("dep-1", {first: "yes"})])
    assert count_selects(client, f"/ballots/{empty}/results") == 2
    assert count_selects(client, f"/ballots/{voted}/results") == 2
    html = client.get(f"/ballots/{voted}/results").text
    assert paper["candidates"][0]["title"] in html


@pytest.mark.parametrize("url", ["/archive", "/archive/lezhi"])
def test_the_archive_takes_the_same_queries_for_one_or_many_cycles(client, world, url):
    announced_cycle(client, world, seats=2, year=2023)
    few = count_selects(client, url)
    announced_cycle(client, world, seats=3, year=2024)
    new_cycle(client, world, year=2025)
    assert count_selects(client, url) == few <= 3, few


# --- the archive ----------------------------------------------------------------------------


def test_the_archive_lists_every_jurisdiction_with_its_cycles_newest_first(client, world):
    old, _, _ = announced_cycle(client, world, seats=2, year=2023)
    new = new_cycle(client, world, year=2025)
    township = client.post(f"{API}/cycles", headers=world.headers("admin"), json={
        "jurisdiction_code": "jinshun", "year": 2024, "title": "金顺镇2024年民生实事项目",
        "seats": 3})
    assert township.status_code == 201, township.text

    html = client.get("/archive").text
    for name in ("乐至县", "金顺镇", "南塔街道", "安岳县"):
        assert name in html
    lezhi = section(html, "j-lezhi")
    assert lezhi.index(f'href="/cycles/{new}"') < lezhi.index(f'href="/cycles/{old}"')
    assert "2025年" in lezhi and "筹备" in lezhi and "民生实事项目 0 个" in lezhi
    assert "公开" in lezhi and "民生实事项目 2 个" in lezhi
    assert "金顺镇2024年民生实事项目" in section(html, "j-jinshun")
    assert "不设人大" in section(html, "j-nanta")
    assert 'href="/archive/anyue"' in html

    page = client.get("/archive/lezhi").text
    years = re.findall(r'<section class="card archive-year-card" id="y-(\d+)"', page)
    assert years == ["2025", "2023"]
    assert "民生实事项目 2 个" in section(page, "y-2023")
    assert "金顺镇2024年民生实事项目" in section(page, "j-jinshun")  # the places inside it
    assert "安岳县" not in page

    assert 'href="/archive"' in client.get("/").text


def test_an_unknown_jurisdiction_in_the_archive_is_a_404_page(client, world):
    r = client.get("/archive/nowhere")
    assert r.status_code == 404
    assert "找不到该行政区域" in r.text and "<html" in r.text
    street = client.get("/archive/nanta")
    assert street.status_code == 200 and "街道不设人大" in street.text


# --- the staff panel below the story ---------------------------------------------------------


def test_a_staff_move_by_htmx_reloads_the_page_so_the_story_follows(client, world):
    cycle_id = new_cycle(client, world)
    page_login(client, "gov-staff")
    r = client.post(f"/cycles/{cycle_id}/transition", data={"to": "soliciting"},
                    headers={"hx-request": "true", "x-csrftoken": csrf(client)})
    assert r.status_code == 200 and r.headers.get("hx-refresh") == "true"
    assert r.text.lstrip().startswith('<section id="phase-panel"')
    story = client.get(f"/cycles/{cycle_id}").text
    assert 'class="stage stage-now" aria-current="step"' in story and "征集尚未开始" not in story


def test_announcing_makes_the_projects_appear_on_the_story(client, world):
    cycle_id, ids = balloting_cycle(client, world, seats=2)
    publish_round(client, world, cycle_id)
    assert "尚未公开" in client.get(f"/cycles/{cycle_id}").text
    announce(client, world, cycle_id)

    async def titles(session):
        return list(await session.scalars(select(Project.title).where(
            Project.cycle_id == cycle_id)))

    projects = section(client.get(f"/cycles/{cycle_id}").text, "projects")
    assert len(ids) == 12
    for title in run(client, titles):
        assert title in projects
