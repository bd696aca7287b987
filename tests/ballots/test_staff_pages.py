"""The staff pages of 票决 (rounds, the control page) and the public results page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.ballotbox import opening
from app.ballotbox import rounds as box_rounds
from app.models import BallotAttendance, BallotRound
from app.workflows.ballot import BALLOT_WORKFLOW
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
    vote,
)
from tests.helpers import csrf, page_login, run

HX = {"hx-request": "true"}


@pytest.fixture(autouse=True)
def fresh_rate_limits(client):
    client.portal.call(client.app.state.rate_limits.limiter.storage.reset)


@pytest.fixture
def hall(client, world):
    """Lezhi's roster T = 7 (deputy, dep-1 … dep-6; quorum 5), a cycle in 票决 with 12 reviewed
    candidates (the first three returned)."""
    deputies = ["deputy", *add_deputies(client, world, 6)]
    cycle_id, candidates = balloting_cycle(client, world, candidates=3)
    return cycle_id, candidates, deputies


def login(client, who: str = "congress-staff") -> None:
    client.cookies.clear()
    assert page_login(client, who).status_code == 303


def post(client, url: str, data: dict | None = None, headers: dict | None = None):
    return client.post(url, data={"csrftoken": csrf(client), **(data or {})},
                       headers=headers, follow_redirects=False)


def state(client, ballot_id: str) -> str:
    return client.get(f"{API}/ballots/{ballot_id}").json()["state"]


def present(client, ballot_id: str) -> int:
    return client.get(f"{API}/ballots/{ballot_id}").json()["present"]


def rounds(client) -> int:
    return run(client, lambda s: s.scalar(select(func.count()).select_from(BallotRound)))


def text_of(html: str) -> str:
    """The visible words of a page, tags dropped, runs of white space made one."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def ready_round(client, world, cycle_id, candidates, seats=2) -> str:
    """A round of `candidates`, everyone present, dep-1 and dep-2 named scrutineers."""
    ballot_id = create_round(client, world, cycle_id, seats=seats, candidate_ids=candidates)["id"]
    check_in(client, world, ballot_id, ["deputy", *[f"dep-{i}" for i in range(1, 7)]])
    name_scrutineers(client, world, ballot_id, ["dep-1", "dep-2"])
    return ballot_id


# ------------------------------------------------------------------ creating a round

def test_staff_create_a_round_and_see_the_difference_rule_refusal_on_the_form(
        client, world, hall):
    cycle_id, (c0, c1, c2), _ = hall
    login(client)
    page = client.get(f"/staff/cycles/{cycle_id}/ballots")
    assert page.status_code == 200 and "建立票决轮次" in page.text
    # every reviewed candidate is ticked by default, the cycle's seats filled in, secret chosen
    assert len(re.findall(r'name="candidate_ids" value="\w+" checked', page.text)) == 12
    assert 'name="seats" type="number" min="1" max="200" inputmode="numeric" value="10"' in page.text
    assert re.search(r'name="secret" value="1" checked', page.text)
    assert "10 个名额至少需要 12 个候选项目" in page.text

    r = post(client, f"/staff/cycles/{cycle_id}/ballots",
             {"candidate_ids": [c0, c1, c2], "seats": "10", "secret": "1"})
    assert r.status_code == 409, r.text
    assert "差额票决：10 个项目至少需要 12 个候选项目，目前 3 个。" in r.text
    ticked = re.findall(r'name="candidate_ids" value="(\w+)" checked', r.text)
    assert set(ticked) == {c0, c1, c2} and 'value="10"' in r.text  # the form as it was sent
    assert rounds(client) == 0

    r = post(client, f"/staff/cycles/{cycle_id}/ballots",
             {"candidate_ids": [c0, c1, c2], "seats": "2", "secret": "0"})
    assert r.status_code == 303, r.text
    ballot_id = run(client, lambda s: s.scalar(select(BallotRound.id)))
    assert r.headers["location"] == f"/staff/ballots/{ballot_id}?done=created"
    body = client.get(f"{API}/ballots/{ballot_id}").json()
    assert body["seats"] == 2 and body["secret"] is False and body["total_deputies"] == 7
    assert [c["id"] for c in body["candidates"]] == [c0, c1, c2]
    listing = client.get(f"/staff/cycles/{cycle_id}/ballots")
    assert "第 1 轮" in listing.text and "准备中" in listing.text
    assert "第 1 轮票决尚未结束，请先公布或作废。" in listing.text  # no second form meanwhile

    bad = post(client, f"/staff/cycles/{cycle_id}/ballots", {"seats": "abc"})
    assert bad.status_code in (409, 422) and rounds(client) == 1


# ------------------------------------------------------------------ attendance and quorum

def test_attendance_by_roster_search_bulk_marking_and_the_quorum_figure(client, world, hall):
    cycle_id, candidates, _ = hall
    ballot_id = create_round(client, world, cycle_id, seats=2, candidate_ids=candidates)["id"]
    login(client)
    page = client.get(f"/staff/ballots/{ballot_id}")
    assert page.status_code == 200
    assert "出席 0 / 7，法定人数 5" in page.text
    assert f'hx-get="/ballots/{ballot_id}/turnout?seen=created" hx-trigger="every 3s"' in page.text
    assert page.text.count('name="usernames"') == 7  # the whole roster, none present

    # search without JavaScript (GET ?q=) and live (the roster block alone)
    found = client.get(f"/staff/ballots/{ballot_id}?q=dep-1")
    assert found.text.count('name="usernames"') == 1 and 'value="dep-1"' in found.text
    live = client.get(f"/staff/ballots/{ballot_id}?q=测试dep-2", headers=HX)
    assert live.text.lstrip().startswith('<div id="roster">')
    assert live.text.count('name="usernames"') == 1 and 'value="dep-2"' in live.text
    # the search is a plain substring: LIKE's wildcards match only themselves
    for wildcard in ("%", "_", "dep_1"):
        none = client.get(f"/staff/ballots/{ballot_id}", params={"q": wildcard})
        assert none.status_code == 200 and 'name="usernames"' not in none.text, wildcard

    # tick two (no JavaScript): a redirect, then the figure and the roster say so
    r = post(client, f"/staff/ballots/{ballot_id}/attendance",
             {"usernames": ["dep-1", "dep-2"], "action": "ticked"})
    assert r.status_code == 303 and "done=attendance" in r.headers["location"]
    page = client.get(r.headers["location"])
    assert "已标记 2 名代表出席。" in page.text and "出席 2 / 7，法定人数 5" in page.text
    assert page.text.count("已出席") == 2 and page.text.count('name="usernames"') == 5

    # all or nothing: an unknown account is named and nobody is marked
    r = post(client, f"/staff/ballots/{ballot_id}/attendance",
             {"usernames": ["dep-3", "nobody-here"]}, headers=HX)
    assert r.status_code == 422 and "以下账号不是本级在册代表：nobody-here" in r.text
    assert r.text.lstrip().startswith('<section class="card" id="attendance"')
    assert present(client, ballot_id) == 2

    # every absent deputy the search shows, at once (htmx: the section and the figure)
    r = post(client, f"/staff/ballots/{ballot_id}/attendance", {"q": "dep-", "action": "all"},
             headers=HX)
    assert r.status_code == 200, r.text
    assert "已标记 4 名代表出席。" in r.text
    assert 'hx-swap-oob="true"' in r.text and "出席 6 / 7，法定人数 5" in r.text
    assert present(client, ballot_id) == 6
    recorded = run(client, lambda s: s.scalar(select(func.count()).select_from(BallotAttendance)
                                              .where(BallotAttendance.recorded_by
                                                     == "congress-staff")))
    assert recorded == 6

    # the partial the page polls: counts only
    partial = client.get(f"/ballots/{ballot_id}/turnout")
    assert partial.status_code == 200 and "出席 6 / 7，法定人数 5" in partial.text
    assert "已达到法定人数" in partial.text


def test_opening_is_refused_below_quorum_and_without_scrutineers(client, world, hall):
    cycle_id, candidates, _ = hall
    ballot_id = create_round(client, world, cycle_id, seats=2, candidate_ids=candidates)["id"]
    check_in(client, world, ballot_id, ["dep-1", "dep-2"])
    login(client)
    r = post(client, f"/staff/ballots/{ballot_id}/transition", {"to": "open"})
    assert r.status_code == 409
    assert "出席代表 2 人，未达到法定人数 5 人（全体代表 7 人），不能开始投票。" in r.text
    assert state(client, ballot_id) == "created"

    check_in(client, world, ballot_id, ["dep-3", "dep-4", "dep-5"])
    r = post(client, f"/staff/ballots/{ballot_id}/transition", {"to": "open"})
    assert r.status_code == 409 and "开始投票前须推选至少 2 名监票人，目前 0 名。" in r.text

    # scrutineers by username or by exact name; an unknown one refused, nothing replaced
    r = post(client, f"/staff/ballots/{ballot_id}/scrutineers",
             {"scrutineer": ["测试dep-1", "dep-2", ""]})
    assert r.status_code == 303 and r.headers["location"].endswith("done=scrutineers#scrutineers")
    page = client.get(r.headers["location"])
    assert "监票人已推选。" in page.text
    assert re.search(r'id="scrutineer-1" name="scrutineer" list="deputy-list" value="dep-1"',
                     page.text)
    r = post(client, f"/staff/ballots/{ballot_id}/scrutineers", {"scrutineer": ["nobody"]})
    assert r.status_code == 422 and "以下账号不是本级在册代表：nobody" in r.text
    assert 'value="nobody"' in r.text  # the form keeps what was typed
    scrutineers = run(client, lambda s: box_rounds.scrutineers_of(s, ballot_id))
    assert [u.username for u, _ in scrutineers] == ["dep-1", "dep-2"]

    r = post(client, f"/staff/ballots/{ballot_id}/transition", {"to": "open"})
    assert r.status_code == 303 and state(client, ballot_id) == "open"
    page = client.get(r.headers["location"])
    assert "已开始投票。" in page.text and "结束投票" in page.text
    # scrutineers are fixed once the round is open
    r = post(client, f"/staff/ballots/{ballot_id}/scrutineers", {"scrutineer": ["dep-3"]})
    assert r.status_code == 409 and "监票人须在投票开始前推选。" in r.text


# ------------------------------------------------------------------ the whole round

def test_open_close_tally_and_publish_after_the_sign_offs(client, world, hall, monkeypatch):
    cycle_id, (c0, c1, c2), _ = hall
    ballot_id = ready_round(client, world, cycle_id, [c0, c1, c2])
    login(client)
    assert post(client, f"/staff/ballots/{ballot_id}/transition",
                {"to": "open"}).status_code == 303
    for key in ("deputy", "dep-1", "dep-2", "dep-3"):
        vote(client, world, ballot_id, key, {c0: "yes", c1: "yes", c2: "no"})
    vote(client, world, ballot_id, "dep-4", {c0: "yes", c2: "yes"})

    # the live turnout: counts only, never a mark, while it is still polled
    partial = client.get(f"/ballots/{ballot_id}/turnout")
    assert "已投票 5 人" in partial.text and "hx-trigger" in partial.text
    for word in ("候选项目", "赞成", "反对", "弃权", c0, "yes"):
        assert word not in partial.text
    page = client.get(f"/staff/ballots/{ballot_id}")
    assert "计票结果" not in page.text and 'class="bchart"' not in page.text

    # closing goes through rounds.move as the API does, so the box is opened
    shuffled = []
    real = opening.open_box

    async def spy(session, round_id):
        shuffled.append(round_id)
        return await real(session, round_id)

    monkeypatch.setattr(opening, "open_box", spy)
    r = post(client, f"/staff/ballots/{ballot_id}/transition", {"to": "closed"})
    assert r.status_code == 303 and state(client, ballot_id) == "closed"
    assert shuffled == [ballot_id]
    partial = client.get(f"/ballots/{ballot_id}/turnout")
    assert "已投票 5 人" in partial.text and "hx-trigger" not in partial.text  # polling stops
    assert "投票已结束，可以计票。" in client.get(r.headers["location"]).text

    r = post(client, f"/staff/ballots/{ballot_id}/tally")
    assert r.status_code == 303 and state(client, ballot_id) == "tallied"
    page = client.get(r.headers["location"])
    assert "计票完成，请监票人签字确认。" in page.text and "监票人签字 0 / 2" in page.text
    assert 'class="bchart"' in page.text and "（尚未公布）" in page.text

    r = post(client, f"/staff/ballots/{ballot_id}/transition", {"to": "published"})
    assert r.status_code == 409
    assert "计票结果须经 2 名监票人确认后才能公布，目前 0 名。" in r.text
    assert state(client, ballot_id) == "tallied"
    sign(client, world, ballot_id, "dep-1")
    assert "监票人签字 1 / 2" in client.get(f"/staff/ballots/{ballot_id}").text
    sign(client, world, ballot_id, "dep-2")
    page = client.get(f"/staff/ballots/{ballot_id}")
    assert "监票人签字 2 / 2" in page.text and page.text.count("已签字") == 2
    r = post(client, f"/staff/ballots/{ballot_id}/transition", {"to": "published"})
    assert r.status_code == 303 and state(client, ballot_id) == "published"
    page = client.get(r.headers["location"])
    assert "计票结果已公布。" in page.text and f'href="/ballots/{ballot_id}/results"' in page.text
    assert "安排再次投票" not in page.text  # both seats filled

    # the public results page, for anyone
    client.cookies.clear()
    page = client.get(f"/ballots/{ballot_id}/results")
    assert page.status_code == 200
    words = text_of(page.text)
    for label, n in (("全体代表", 7), ("出席", 7), ("发出选票", 7), ("收回选票", 5),
                     ("有效票", 5), ("无效票", 0), ("名额", 2)):
        assert f"{label} {n}" in words, label
    assert "赞成票须超过全体代表 7 人的半数，即至少 4 票" in words
    assert "2 个名额全部产生。" in words and "当选项目：候选项目1、候选项目2" in words
    svg = re.search(r"<svg class=\"bchart\".*?</svg>", page.text, re.S).group(0)
    assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
    assert svg.count('class="seg-yes"') == 3 and 'class="threshold"' in svg
    assert "通过线 4 票" in svg and svg.count("（当选）") == 2
    assert "候选项目1：赞成 5，反对 0，弃权 0，当选。" in svg
    # the bars are scaled to T: 5 of 7 over 250 units; the line at 4 of 7
    assert 'class="seg-yes" x="0"' in svg and 'width="178.6"' in svg
    assert 'x1="142.9" x2="142.9"' in svg
    table = re.search(r"<table class=\"list results-table\">.*?</table>", page.text, re.S).group(0)
    rows = [text_of(r).split() for r in re.findall(r"<tr class=.*?</tr>", table, re.S)]
    assert rows == [["候选项目1", "5", "0", "0", "当选", "（第", "1", "名）"],
                    ["候选项目2", "4", "0", "1", "当选", "（第", "2", "名）"],
                    ["候选项目3", "1", "4", "0", "未通过"]]
    assert f'href="/api/v1/ballots/{ballot_id}/bulletin"' in page.text
    assert f'href="/ballots/{ballot_id}/verify"' in page.text

    # the cycle page lists the round with a link to its results (and, for staff, the control)
    cycle_page = client.get(f"/cycles/{cycle_id}")
    assert f'href="/ballots/{ballot_id}/results"' in cycle_page.text
    assert f'href="/staff/ballots/{ballot_id}"' not in cycle_page.text
    login(client)
    cycle_page = client.get(f"/cycles/{cycle_id}")
    assert f'href="/staff/ballots/{ballot_id}"' in cycle_page.text
    assert f'href="/staff/cycles/{cycle_id}/ballots"' in cycle_page.text


def test_a_tie_is_put_to_a_runoff_with_the_attendance_carried(client, world, hall):
    cycle_id, (c0, c1, c2), _ = hall
    ballot_id = ready_round(client, world, cycle_id, [c0, c1, c2])
    move(client, world, ballot_id, "open")
    for key, marks in (("deputy", {c0: "yes", c1: "yes"}), ("dep-1", {c0: "yes", c1: "yes"}),
                       ("dep-2", {c0: "yes", c1: "yes"}), ("dep-3", {c0: "yes", c2: "yes"}),
                       ("dep-4", {c0: "yes", c2: "yes"}), ("dep-5", {c1: "yes", c2: "yes"}),
                       ("dep-6", {c2: "yes"})):
        vote(client, world, ballot_id, key, marks)
    move(client, world, ballot_id, "closed")
    tally(client, world, ballot_id)
    sign(client, world, ballot_id, "dep-1")
    sign(client, world, ballot_id, "dep-2")
    move(client, world, ballot_id, "published")

    words = text_of(client.get(f"/ballots/{ballot_id}/results").text)
    assert "第 2 名出现同票，须再次投票。" in words
    assert "以下 2 个项目得票相同，将就剩余 1 个名额再次投票：候选项目2、候选项目3" in words
    assert "同票，再次投票" in words

    login(client)
    page = client.get(f"/staff/ballots/{ballot_id}")
    assert re.search(r'name="carry_attendance" value="1" checked', page.text)
    r = post(client, f"/staff/ballots/{ballot_id}/runoff", {"carry_attendance": "1"})
    assert r.status_code == 303, r.text
    following = client.get(f"{API}/cycles/{cycle_id}/ballots").json()["items"][-1]
    assert r.headers["location"] == f"/staff/ballots/{following['id']}?done=runoff"
    assert following["round"] == 2 and following["seats"] == 1 and following["present"] == 7
    assert [c["id"] for c in following["candidates"]] == [c1, c2]
    page = client.get(r.headers["location"])
    assert "已安排再次投票。" in page.text and "出席 7 / 7，法定人数 5" in page.text
    # a second run-off of the same round is refused on the page, never a 500
    r = post(client, f"/staff/ballots/{ballot_id}/runoff", {"carry_attendance": "1"})
    assert r.status_code == 409 and "第 2 轮票决尚未结束" in r.text


def test_void_needs_a_reason_and_the_results_page_says_why(client, world, hall):
    cycle_id, candidates, _ = hall
    ballot_id = ready_round(client, world, cycle_id, candidates)
    move(client, world, ballot_id, "open")
    login(client)
    r = post(client, f"/staff/ballots/{ballot_id}/transition", {"to": "void", "reason": "  "})
    assert r.status_code == 422 and "请填写办理理由。" in r.text
    assert state(client, ballot_id) == "open"
    r = post(client, f"/staff/ballots/{ballot_id}/transition", {"to": "nonsense"})
    assert r.status_code == 422 and "请从列表中选择" in r.text
    r = post(client, f"/staff/ballots/{ballot_id}/tally")
    assert r.status_code == 409 and "投票结束后才能计票。" in r.text

    r = post(client, f"/staff/ballots/{ballot_id}/transition",
             {"to": "void", "reason": "表决器故障，须重新投票"})
    assert r.status_code == 303 and state(client, ballot_id) == "void"
    page = client.get(r.headers["location"])
    assert "本轮票决已作废。理由：表决器故障，须重新投票" in text_of(page.text)
    public = client.get(f"/ballots/{ballot_id}/results")
    assert "本轮票决已作废。理由：表决器故障，须重新投票" in text_of(public.text)


# ------------------------------------------------------------------ the public page before

def test_results_stay_hidden_until_published(client, world, hall):
    cycle_id, (c0, c1, c2), _ = hall
    ballot_id = ready_round(client, world, cycle_id, [c0, c1, c2])
    page = client.get(f"/ballots/{ballot_id}/results")
    assert page.status_code == 200 and "尚未公布" in page.text
    assert "出席 7 / 7，法定人数 5" in page.text and "hx-trigger" in page.text
    move(client, world, ballot_id, "open")
    vote(client, world, ballot_id, "deputy", {c0: "yes", c1: "yes"})
    move(client, world, ballot_id, "closed")
    tally(client, world, ballot_id)
    for who in (None, "resident", "deputy", "congress-staff"):
        if who:
            login(client, who)
        page = client.get(f"/ballots/{ballot_id}/results")
        assert page.status_code == 200 and "尚未公布" in page.text, who
        assert "bchart" not in page.text and "results-table" not in page.text, who
        assert "已投票 1 人" in page.text and "hx-trigger" not in page.text, who
    assert f'href="/staff/ballots/{ballot_id}"' in page.text  # staff get a link to the control


# ------------------------------------------------------------------ permissions

def test_residents_deputies_other_staff_and_other_jurisdictions_are_refused(client, world, hall):
    cycle_id, candidates, _ = hall
    ballot_id = create_round(client, world, cycle_id, seats=2, candidate_ids=candidates)["id"]
    urls = [("get", f"/staff/cycles/{cycle_id}/ballots", {}),
            ("get", f"/staff/ballots/{ballot_id}", {}),
            ("post", f"/staff/cycles/{cycle_id}/ballots", {"seats": "2"}),
            ("post", f"/staff/ballots/{ballot_id}/attendance", {"usernames": ["dep-1"]}),
            ("post", f"/staff/ballots/{ballot_id}/scrutineers", {"scrutineer": ["dep-1"]}),
            ("post", f"/staff/ballots/{ballot_id}/transition", {"to": "open"}),
            ("post", f"/staff/ballots/{ballot_id}/tally", {}),
            ("post", f"/staff/ballots/{ballot_id}/runoff", {})]
    client.cookies.clear()
    r = client.get(f"/staff/ballots/{ballot_id}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    for who in ("resident", "deputy", "gov-staff", "other-congress-staff",
                "township-congress-staff"):
        login(client, who)
        for method, url, data in urls:
            r = (client.get(url) if method == "get" else post(client, url, data))
            assert r.status_code == 403, (who, url, r.status_code)
    assert present(client, ballot_id) == 0 and rounds(client) == 1
    login(client, "admin")
    assert client.get(f"/staff/ballots/{ballot_id}").status_code == 200
    login(client, "congress-staff")
    assert client.get("/staff/ballots/no-such-round").status_code == 404


# ------------------------------------------------------------------ the steps are the workflow's

def shown_moves(html: str, ballot_id: str) -> list[str]:
    """The moves the control page offers: its transition buttons, and the tally form's."""
    steps = html[html.index('id="steps"'):html.index("</section>", html.index('id="steps"'))]
    moves = re.findall(r'name="to" value="(\w+)"', steps)
    if f'action="/staff/ballots/{ballot_id}/tally"' in steps:
        moves.append("tallied")
    return sorted(moves)


def workflow_moves(client, world, ballot_id: str, who: str = "congress_staff") -> list[str]:
    async def ask(session):
        ballot = await session.get(BallotRound, ballot_id)
        return await BALLOT_WORKFLOW.moves_for(session, ballot, world.users[who])

    return sorted(str(m.target) for m in run(client, ask))


def test_the_control_page_shows_exactly_the_moves_the_workflow_opens(client, world, hall,
                                                                     monkeypatch):
    cycle_id, candidates, _ = hall
    ballot_id = create_round(client, world, cycle_id, seats=2, candidate_ids=candidates)["id"]
    login(client)

    def check(expected: list[str]) -> None:
        page = client.get(f"/staff/ballots/{ballot_id}")
        assert workflow_moves(client, world, ballot_id) == expected
        assert shown_moves(page.text, ballot_id) == expected

    check(["open"])  # refused by its guard (no quorum yet) but shown: pressing it says why
    check_in(client, world, ballot_id, ["deputy", *[f"dep-{i}" for i in range(1, 7)]])
    name_scrutineers(client, world, ballot_id, ["dep-1", "dep-2"])
    check(["open"])
    move(client, world, ballot_id, "open")
    check(["closed", "void"])

    # the page asks the workflow, not a table of its own
    real = BALLOT_WORKFLOW.moves_for

    async def only_void(session, ballot, actor, **kw):
        return [m for m in await real(session, ballot, actor, **kw) if m.target == "void"]

    monkeypatch.setattr(BALLOT_WORKFLOW, "moves_for", only_void)
    assert shown_moves(client.get(f"/staff/ballots/{ballot_id}").text, ballot_id) == ["void"]
    monkeypatch.undo()

    move(client, world, ballot_id, "closed")
    check(["tallied", "void"])
    tally(client, world, ballot_id)
    check(["published", "void"])
    for key in ("dep-1", "dep-2"):
        sign(client, world, ballot_id, key)
    move(client, world, ballot_id, "published")
    check([])
