"""The staff page of 纸质选票 / 表决器: issued figure, double entry by two accounts, differences
shown and corrected, withdrawal, the device import and who may use it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.auth.roles import Role
from app.models import BallotContent, DeviceBallot, PaperEntry
from tests.ballots.conftest import API, add_deputies, balloting_cycle, walk_round
from tests.helpers import create_user, csrf, page_login, run

HX = {"hx-request": "true"}


@pytest.fixture(autouse=True)
def fresh_rate_limits(client):
    client.portal.call(client.app.state.rate_limits.limiter.storage.reset)


@pytest.fixture
def hall(client, world):
    """A lezhi cycle in 票决 with 3 candidates on the paper, and a second congress staff account."""
    add_deputies(client, world, 1)
    cycle_id, candidates = balloting_cycle(client, world, candidates=3)
    create_user(client, "staff-b", Role.congress_staff, "lezhi")
    return cycle_id, candidates


def a_round(client, world, hall, to: str) -> str:
    cycle_id, candidates = hall
    return walk_round(client, world, to, cycle_id=cycle_id, seats=2, candidate_ids=candidates)


def login(client, who: str = "congress-staff") -> None:
    client.cookies.clear()
    assert page_login(client, who).status_code == 303


def post(client, url: str, data: dict | None = None, headers: dict | None = None, files=None):
    return client.post(url, data={"csrftoken": csrf(client), **(data or {})}, files=files,
                       headers=headers, follow_redirects=False)


def text_of(html: str) -> str:
    """The visible words of a page, tags dropped, runs of white space made one."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def page(client, ballot_id: str, query: str = ""):
    r = client.get(f"/staff/ballots/{ballot_id}/paper{query}")
    assert r.status_code == 200, r.text
    return r


def marks_form(candidates, marks: dict | None = None, sheet: int | str = 1,
               spoilt: bool = False) -> dict:
    data = {"sheet": str(sheet), **{f"mark-{c}": (marks or {}).get(c, "abstain")
                                    for c in candidates}}
    return {**data, "spoilt": "1"} if spoilt else data


def enter(client, ballot_id, candidates, marks=None, sheet=1, spoilt=False, headers=None):
    return post(client, f"/staff/ballots/{ballot_id}/paper/sheets",
                marks_form(candidates, marks, sheet, spoilt), headers=headers)


def follow(client, r):
    assert r.status_code == 303, r.text
    return client.get(r.headers["location"])


def prefilled_sheet(html: str) -> str:
    return re.search(r'id="sheet" name="sheet" type="number"[^>]* value="(\d*)"', html).group(1)


def checked(html: str, candidate: str) -> str:
    return re.search(rf'name="mark-{candidate}" value="(\w+)"[^>]*checked', html).group(1)


def counts(html: str) -> dict:
    return {k: int(v) for k, v in re.findall(r'<dd id="count-(\w+)">(\d+)</dd>', html)}


def stored(client, ballot_id: str) -> tuple[int, int, int]:
    """(paper entries, paper content rows, device rows) of the round."""
    async def look(session):
        entries = await session.scalar(select(func.count()).select_from(PaperEntry).where(
            PaperEntry.round_id == ballot_id))
        paper = await session.scalar(select(func.count()).select_from(BallotContent).where(
            BallotContent.round_id == ballot_id, BallotContent.paper.is_(True)))
        device = await session.scalar(select(func.count()).select_from(DeviceBallot).where(
            DeviceBallot.round_id == ballot_id))
        return entries, paper, device
    return run(client, look)


# ------------------------------------------------------------------ issued, and before the close

def test_issued_figure_is_recorded_and_entry_opens_only_after_the_close(client, world, hall):
    ballot_id = a_round(client, world, hall, "created")
    login(client)
    control = client.get(f"/staff/ballots/{ballot_id}")
    assert f'href="/staff/ballots/{ballot_id}/paper"' in control.text
    assert "已登记发出纸质选票 0 张。" in control.text

    r = page(client, ballot_id)
    assert "投票结束后才能录入纸质选票：在本轮票决页点击“结束投票”后，录入随即开放。" in r.text
    assert 'id="entry-form"' not in r.text and 'id="devices-form"' not in r.text
    assert "投票结束后才能导入表决器结果。" in r.text

    r = follow(client, post(client, f"/staff/ballots/{ballot_id}/paper/issued", {"count": "40"}))
    assert "已登记发出的纸质选票数。" in r.text and '<strong id="issued-figure">40</strong>' in r.text
    assert counts(r.text)["issued"] == 40
    assert client.get(f"{API}/ballots/{ballot_id}/paper-ballots",
                      headers=world.headers("congress_staff")).json()["issued"] == 40

    # bad input: the form again with the sentence and the typed value; nothing changed
    for typed, sentence in (("abc", "「发出的纸质选票数」须为整数"), ("-3", "「发出的纸质选票数」不能小于 0"),
                            ("", "「发出的纸质选票数」必填")):
        bad = post(client, f"/staff/ballots/{ballot_id}/paper/issued", {"count": typed})
        assert bad.status_code == 422, (typed, bad.status_code)
        assert sentence in bad.text and f'value="{typed}"' in bad.text
    assert '<strong id="issued-figure">40</strong>' in page(client, ballot_id).text

    # still settable while open; the control page's card follows
    ballot_id_open = ballot_id
    client.post(f"{API}/ballots/{ballot_id_open}/transitions", json={"to": "open"},
                headers=world.headers("congress_staff"))
    follow(client, post(client, f"/staff/ballots/{ballot_id}/paper/issued", {"count": "42"}))
    assert "已登记发出纸质选票 42 张。" in client.get(f"/staff/ballots/{ballot_id}").text


def test_after_the_tally_the_page_is_read_only(client, world, hall):
    ballot_id = a_round(client, world, hall, "tallied")
    login(client)
    r = page(client, ballot_id)
    assert "本轮已计票，纸质选票不能再录入或修改。" in r.text
    assert 'id="entry-form"' not in r.text and 'id="issued-form"' not in r.text
    assert 'id="paper-link"' not in client.get(f"/staff/ballots/{ballot_id}").text
    refused = post(client, f"/staff/ballots/{ballot_id}/paper/issued", {"count": "3"})
    assert refused.status_code == 409 and "计票前才能登记发出的纸质选票数。" in refused.text


# ------------------------------------------------------------------ double entry

def test_two_staff_accounts_entering_the_same_sheet_confirm_it(client, world, hall):
    _, (c0, c1, c2) = hall
    ballot_id = a_round(client, world, hall, "closed")
    login(client)
    r = page(client, ballot_id)
    assert prefilled_sheet(r.text) == "1" and checked(r.text, c0) == "abstain"
    assert "尚未录入纸质选票。" in r.text

    r = follow(client, enter(client, ballot_id, (c0, c1, c2), {c0: "yes", c1: "no"}, sheet=1))
    assert "第 1 张选票： 待复核 ，请另一名工作人员录入同一张选票。" in text_of(r.text)
    assert counts(r.text) == {"issued": 0, "entered": 1, "confirmed": 0, "pending": 1,
                              "differing": 0}
    assert "尚有 1 张待复核、0 张两次录入不一致：全部核对一致之前，计票会被拒绝。" in r.text
    assert prefilled_sheet(r.text) == "2"  # the next one this account has not entered

    # the same account again: refused with the service's sentence, the typed marks kept
    again = enter(client, ballot_id, (c0, c1, c2), {c0: "no", c2: "yes"}, sheet=1)
    assert again.status_code == 409
    assert "第 1 张选票已由您录入，须由另一名工作人员复核录入。" in again.text
    assert prefilled_sheet(again.text) == "1"
    assert (checked(again.text, c0), checked(again.text, c2)) == ("no", "yes")
    assert stored(client, ballot_id) == (1, 0, 0)

    # the tally on the control page is refused meanwhile
    tally = post(client, f"/staff/ballots/{ballot_id}/tally")
    assert tally.status_code == 409 and "纸质选票尚未全部核对一致" in tally.text

    login(client, "staff-b")
    r = page(client, ballot_id)
    assert prefilled_sheet(r.text) == "1"  # sheet 1 awaits this account's entry
    assert re.search(r'<tr id="row-1" data-status="pending">', r.text)
    assert "撤回我的录入" not in r.text  # not this account's entry
    r = follow(client, enter(client, ballot_id, (c0, c1, c2), {c0: "yes", c1: "no"}, sheet=1))
    assert "第 1 张选票： 一致 ，两次录入相同，已计入。" in text_of(r.text)
    assert counts(r.text) == {"issued": 0, "entered": 1, "confirmed": 1, "pending": 0,
                              "differing": 0}
    assert "已录入的纸质选票全部核对一致，可以到本轮票决页计票。" in r.text
    assert "congress-staff、staff-b" in r.text
    assert stored(client, ballot_id) == (2, 1, 0)

    # a confirmed sheet is final
    final = enter(client, ballot_id, (c0, c1, c2), {c0: "no"}, sheet=1)
    assert final.status_code == 409 and "第 1 张选票已核对一致，不能再修改。" in final.text
    # bad input is explained, never a 500
    bad = enter(client, ballot_id, (c0, c1, c2), {c0: "maybe"}, sheet="x")
    assert bad.status_code == 422 and "「选票编号」须为整数" in bad.text
    assert 'value="x"' in bad.text
    bad = enter(client, ballot_id, (c0, c1, c2), {c0: "maybe"}, sheet=3)
    assert bad.status_code == 422 and "标记只能是赞成、反对或弃权。" in bad.text
    assert stored(client, ballot_id) == (2, 1, 0)


def test_a_difference_is_shown_side_by_side_and_corrected_by_its_entrant(client, world, hall):
    _, (c0, c1, c2) = hall
    ballot_id = a_round(client, world, hall, "closed")
    login(client)
    follow(client, enter(client, ballot_id, (c0, c1, c2), {c0: "yes", c1: "yes"}, sheet=4))
    login(client, "staff-b")
    # with htmx: only the work block comes back
    r = enter(client, ballot_id, (c0, c1, c2), {c0: "no", c1: "yes"}, sheet=4, headers=HX)
    assert r.status_code == 200 and r.text.lstrip().startswith('<div id="paper-work">')
    assert "<html" not in r.text
    words = text_of(r.text)
    assert "第 4 张选票： 不一致 ，请核对原始选票。" in words
    assert "两次录入不同的候选项目：<mark>1. 候选项目1</mark>" in r.text
    assert counts(r.text)["differing"] == 1
    assert "0 张待复核、1 张两次录入不一致" in r.text

    # the differing sheet, both readings side by side, the difference marked
    full = page(client, ballot_id, "?status=differs")
    block = full.text.split('id="sheet-4"')[1].split("</table>")[0]
    assert "congress-staff" in block and "staff-b（我）" in block
    row = re.search(r'<tr class="differs">(.*?)</tr>', block, re.S).group(1)
    assert "1. 候选项目1" in row and "<mark>赞成</mark>" in row and "<mark>反对</mark>" in row
    assert block.count('class="differs"') == 1  # 候选项目2 and 3 read alike
    assert re.findall(r'<tr id="row-(\d+)" data-status="(\w+)"', full.text) == [("4", "differs")]
    assert re.findall(r'<tr id="row-(\d+)"', page(client, ballot_id, "?status=pending").text) == []

    # an admin keeps the system but sees no ballot content: which candidates, not the marks
    login(client, "admin")
    admin = page(client, ballot_id)
    assert "读法不同的候选项目：1. 候选项目1" in admin.text and "<mark>赞成</mark>" not in admin.text

    # a third account cannot settle it
    create_user(client, "staff-c", Role.congress_staff, "lezhi")
    login(client, "staff-c")
    assert "更正我的录入" not in page(client, ballot_id).text
    third = enter(client, ballot_id, (c0, c1, c2), {c0: "yes", c1: "yes"}, sheet=4)
    assert third.status_code == 409 and "应由原录入人之一更正自己的录入" in third.text

    # staff-b corrects: the form starts from their own reading
    login(client, "staff-b")
    r = page(client, ballot_id, "?correct=4")
    assert prefilled_sheet(r.text) == "4" and checked(r.text, c0) == "no"
    assert checked(r.text, c1) == "yes" and "更正第 4 张选票" in r.text
    r = follow(client, enter(client, ballot_id, (c0, c1, c2), {c0: "yes", c1: "yes"}, sheet=4))
    assert "第 4 张选票： 一致 ，两次录入相同，已计入。" in text_of(r.text)
    assert counts(r.text)["confirmed"] == 1 and 'id="differing"' not in r.text
    assert stored(client, ballot_id) == (2, 1, 0)


def test_spoilt_sheets_and_withdrawing_ones_own_entry(client, world, hall):
    _, (c0, c1, c2) = hall
    ballot_id = a_round(client, world, hall, "closed")
    login(client)
    follow(client, enter(client, ballot_id, (c0, c1, c2), sheet=1, spoilt=True))
    follow(client, enter(client, ballot_id, (c0, c1, c2), {c0: "yes"}, sheet=70))
    login(client, "staff-b")
    r = follow(client, enter(client, ballot_id, (c0, c1, c2), {c2: "no"}, sheet=1))
    assert "一次录为废票，一次没有。" in r.text
    assert re.search(r'<th scope="row"><strong>≠</strong> 废票</th>', r.text)
    # not staff-b's entry of sheet 70
    refused = post(client, f"/staff/ballots/{ballot_id}/paper/sheets/70/withdraw")
    assert refused.status_code == 404 and "您没有录入过第 70 张选票。" in refused.text
    r = follow(client, enter(client, ballot_id, (c0, c1, c2), sheet=1, spoilt=True))
    assert "第 1 张选票： 一致" in text_of(r.text)

    login(client)
    r = page(client, ballot_id)
    assert f'action="/staff/ballots/{ballot_id}/paper/sheets/70/withdraw"' in r.text
    assert "/paper/sheets/1/withdraw" not in r.text  # confirmed: final
    r = follow(client, post(client, f"/staff/ballots/{ballot_id}/paper/sheets/70/withdraw"))
    assert "已撤回您对第 70 张选票的录入。" in r.text
    assert re.findall(r'<tr id="row-(\d+)"', r.text) == ["1"]
    assert counts(r.text)["pending"] == 0
    # with htmx, the work block; withdrawing a confirmed sheet is refused there too
    r = post(client, f"/staff/ballots/{ballot_id}/paper/sheets/1/withdraw", headers=HX)
    assert r.status_code == 409 and r.text.lstrip().startswith('<div id="paper-work">')
    assert "第 1 张选票已核对一致，不能再修改。" in r.text
    assert stored(client, ballot_id) == (2, 1, 0)


# ------------------------------------------------------------------ devices

def test_device_import_lists_every_problem_then_imports_a_good_file(client, world, hall):
    _, (c0, c1, c2) = hall
    ballot_id = a_round(client, world, hall, "closed")
    login(client)
    assert 'id="devices-form"' in page(client, ballot_id).text
    url = f"/staff/ballots/{ballot_id}/paper/devices"
    bad = "ballot,1,2,3\nA1,赞成,反对,\nA2,maybe,yes,no\nA1,yes,,,\n"
    r = post(client, url, {"issued": "3"},
             files={"file": ("devices.csv", bad.encode(), "text/csv")})
    assert r.status_code == 422, r.text
    problems = re.search(r'<ul id="device-problems">(.*?)</ul>', r.text, re.S).group(1)
    items = re.findall(r"<li>(.*?)</li>", problems)
    assert "第 3 行第 2 列：“maybe”不是赞成、反对或弃权" in items
    assert any(i.startswith("第 4 行") for i in items) and len(items) == 2
    assert "未导入任何选票，请修改以下问题后重新上传：" in r.text
    assert 'id="device-issued" name="issued" type="number" min="0" max="10000" ' \
           'inputmode="numeric" value="3"' in r.text
    header = post(client, url, {"issued": "3"},
                  files={"file": ("d.csv", b"number,1,2\nA1,yes,no\n", "text/csv")})
    assert header.status_code == 422
    assert "第 1 行第 1 列：第一列应为 ballot（票号）" in header.text
    assert "缺少票面第 3 个候选项目的列" in header.text
    assert post(client, url, {"issued": "3"}).status_code == 422  # no file
    nofile = post(client, url, {"issued": "x"},
                  files={"file": ("d.csv", b"ballot,1,2,3\nA,yes,,\n", "text/csv")})
    assert nofile.status_code == 422 and "请填写发出的表决器数（整数）。" in nofile.text
    assert stored(client, ballot_id) == (0, 0, 0)

    good = "\ufeffballot,1,2,3\nA1,赞成,反对,\nA2,yes,yes,no\n"
    r = follow(client, post(client, url, {"issued": "3"},
                            files={"file": ("devices.csv", good.encode(), "text/csv")}))
    assert "已导入 2 张表决器选票。" in r.text
    assert "已导入 2 张表决器选票（发出表决器 3 台）。" in r.text
    assert 'id="devices-form"' not in r.text
    assert stored(client, ballot_id) == (0, 0, 2)
    again = post(client, url, {"issued": "3"},
                 files={"file": ("devices.csv", good.encode(), "text/csv")})
    assert again.status_code == 409 and "本轮已导入过表决器结果，每轮只能导入一次。" in again.text


# ------------------------------------------------------------------ permissions

def test_residents_deputies_and_other_jurisdictions_are_refused(client, world, hall):
    _, (c0, c1, c2) = hall
    ballot_id = a_round(client, world, hall, "closed")
    base = f"/staff/ballots/{ballot_id}/paper"
    urls = [("get", base, {}), ("post", f"{base}/issued", {"count": "5"}),
            ("post", f"{base}/sheets", marks_form((c0, c1, c2), {c0: "yes"})),
            ("post", f"{base}/sheets/1/withdraw", {}),
            ("post", f"{base}/devices", {"issued": "1"})]
    client.cookies.clear()
    r = client.get(base, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    for who in ("resident", "deputy", "gov-staff", "other-congress-staff",
                "township-congress-staff"):
        login(client, who)
        for method, url, data in urls:
            r = client.get(url) if method == "get" else post(client, url, data)
            assert r.status_code == 403, (who, url, r.status_code)
    assert stored(client, ballot_id) == (0, 0, 0)
    login(client)
    assert client.get("/staff/ballots/no-such-round/paper").status_code == 404
