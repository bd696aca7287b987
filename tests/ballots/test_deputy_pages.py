"""The deputy's ballot pages (代表票决页面) with JavaScript off: check in, mark, confirm, receipt;
the scrutineer's sign-off; the public 查验回执 page. Every step is a plain form POST."""

from __future__ import annotations

import base64
import re

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel

from app.ballotbox.receipts import receipt_digest
from app.models import AuditEntry, BallotParticipation, BallotReceipt
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
    walk_round,
)
from tests.helpers import csrf, page_login, run

CODE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")
HX = {"hx-request": "true"}


def login(client, username: str) -> None:
    client.cookies.clear()
    assert page_login(client, username).status_code == 303


def count(client, model) -> int:
    return run(client, lambda s: s.scalar(select(func.count()).select_from(model)))


def candidates_of(client, ballot_id: str) -> list[str]:
    return [c["id"] for c in client.get(f"{API}/ballots/{ballot_id}").json()["candidates"]]


def marks_form(client, ballot_id: str, yes: int, step: str = "review", **more) -> dict:
    """The ballot form as posted: the first `yes` candidates 赞成, the next one 反对."""
    ids = candidates_of(client, ballot_id)
    data = {"csrftoken": csrf(client), "step": step}
    for i, cid in enumerate(ids):
        data[f"mark-{cid}"] = "yes" if i < yes else "no" if i == yes else "abstain"
    data.update(more)
    return data


def receipt_of(html: str) -> str | None:
    """The receipt code as the page shows it (groups of four in their own spans)."""
    m = re.search(r'<p class="receipt-code" id="receipt-code">(.*?)</p>', html)
    return m and CODE.fullmatch(re.sub(r"<[^>]+>", "", m[1])) and re.sub(r"<[^>]+>", "", m[1])


def checked(html: str, cid: str) -> str | None:
    """Which choice the page shows ticked for candidate `cid`."""
    m = re.search(rf'name="mark-{cid}" value="(\w+)" checked', html)
    return m and m[1]


@pytest.fixture
def open_round(client, world):
    """An open secret round for 2 seats (12 candidates); `deputy` and dep-1 checked in."""
    return walk_round(client, world, "open", seats=2)


def test_a_deputy_checks_in_on_the_round_page(client, world):
    ballot_id = walk_round(client, world, "created")
    login(client, "deputy")
    r = client.get(f"/ballots/{ballot_id}/vote")
    assert r.status_code == 200, r.text
    assert "第 1 轮票决" in r.text and "准备中" in r.text
    assert "不记名投票：您的选择与您的身份分开保存" in r.text
    assert f'action="/ballots/{ballot_id}/check-in"' in r.text
    assert f'hx-get="/ballots/{ballot_id}/turnout?seen=created"' in r.text  # live turnout
    r = client.post(f"/ballots/{ballot_id}/check-in", data={"csrftoken": csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/ballots/{ballot_id}/vote?checked_in=1"
    r = client.get(r.headers["location"])
    assert "您已签到" in r.text and "check-in" not in r.text
    assert "出席 1 / " in r.text
    assert client.get(f"{API}/ballots/{ballot_id}").json()["present"] == 1
    # htmx: the button asks for the page again as a whole (HX-Redirect), no error
    r = client.post(f"/ballots/{ballot_id}/check-in", data={"csrftoken": csrf(client)},
                    headers=HX, follow_redirects=False)
    assert r.status_code == 204 and r.headers["hx-redirect"].startswith(f"/ballots/{ballot_id}")


def test_turnout_partial_polls_and_reloads_the_page_when_the_round_opens(client, world):
    extra = add_deputies(client, world, 1)
    cycle_id, _ = balloting_cycle(client, world)
    ballot_id = create_round(client, world, cycle_id)["id"]
    r = client.get(f"/ballots/{ballot_id}/turnout?seen=created", headers=HX)
    assert r.status_code == 200 and "hx-refresh" not in r.headers
    assert 'hx-trigger="every 3s"' in r.text and "<html" not in r.text
    check_in(client, world, ballot_id, ["deputy", *extra])
    name_scrutineers(client, world, ballot_id, ["deputy", *extra])
    move(client, world, ballot_id, "open")
    r = client.get(f"/ballots/{ballot_id}/turnout?seen=created", headers=HX)
    assert r.headers["hx-refresh"] == "true"
    r = client.get(f"/ballots/{ballot_id}/turnout?seen=open", headers=HX)
    assert "hx-refresh" not in r.headers and "已投票 0 人" in r.text
    move(client, world, ballot_id, "closed")
    r = client.get(f"/ballots/{ballot_id}/turnout?seen=closed", headers=HX)
    assert "hx-trigger" not in r.text  # polling stops once the round is closed


def test_too_many_yes_is_refused_and_the_form_comes_back_with_the_marks_kept(
        client, world, open_round):
    login(client, "deputy")
    r = client.get(f"/ballots/{open_round}/vote")
    assert 'id="ballot-form"' in r.text and 'data-seats="2"' in r.text
    assert "已投赞成" in r.text and r.text.count('value="abstain" checked') == 12  # default 弃权
    data = marks_form(client, open_round, yes=3)
    r = client.post(f"/ballots/{open_round}/vote", data=data)
    assert r.status_code == 422, r.text
    assert "赞成票不能超过应选项目数 2 个，您选了 3 个" in r.text
    ids = candidates_of(client, open_round)
    assert [checked(r.text, cid) for cid in ids[:5]] == ["yes", "yes", "yes", "no", "abstain"]
    assert re.search(r'id="yes-count">3<', r.text)
    assert r.headers["cache-control"] == "no-store"
    # Straight to 确认投票 with too many: the service refuses too, nothing is stored.
    r = client.post(f"/ballots/{open_round}/vote", data={**data, "step": "confirm"})
    assert r.status_code == 422 and "赞成票不能超过" in r.text
    assert checked(r.text, ids[2]) == "yes"
    assert count(client, BallotParticipation) == 0 and count(client, BallotReceipt) == 0
    # A made-up mark is refused in Chinese, not a 500.
    r = client.post(f"/ballots/{open_round}/vote", data={**data, f"mark-{ids[0]}": "maybe"})
    assert r.status_code == 422 and "每个项目只能选择赞成、反对或弃权" in r.text


def test_confirmation_then_receipt_shown_once_and_stored_nowhere(client, world, open_round):
    login(client, "deputy")
    ids = candidates_of(client, open_round)
    r = client.post(f"/ballots/{open_round}/vote", data=marks_form(client, open_round, yes=2))
    assert r.status_code == 200, r.text
    assert "确认提交？提交后不能更改" in r.text
    assert "赞成 2 项 · 反对 1 项 · 弃权 9 项" in r.text
    assert "返回修改" in r.text and "确认投票" in r.text
    assert f'name="mark-{ids[0]}" value="yes"' in r.text and r.headers["cache-control"] == "no-store"
    assert count(client, BallotParticipation) == 0  # nothing cast yet

    # 返回修改: the form again, the marks as they were.
    r = client.post(f"/ballots/{open_round}/vote",
                    data=marks_form(client, open_round, yes=2, step="edit"))
    assert r.status_code == 200 and 'id="ballot-form"' in r.text
    assert [checked(r.text, cid) for cid in ids[:4]] == ["yes", "yes", "no", "abstain"]

    # 确认投票: the receipt in the answer itself, not behind a redirect.
    r = client.post(f"/ballots/{open_round}/vote",
                    data=marks_form(client, open_round, yes=2, step="confirm"),
                    follow_redirects=False)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    assert 'hx-history="false"' in r.text
    code = receipt_of(r.text)
    assert code and "-".join(f"<span>{g}</span>" for g in code.split("-")) in r.text
    assert "<svg" in r.text and 'class="segno"' in r.text and "http" not in r.text.split(
        "<svg", 1)[1].split("</svg>", 1)[0]
    assert "选票已投出，不能更改。请记下回执码，公布结果后可在“查验回执”页核对" in r.text
    assert f'href="/ballots/{open_round}/verify"' in r.text
    assert count(client, BallotParticipation) == 1

    # Only its SHA-256 is kept, sealed with the ballot until the close: no table row, no audit
    # entry, no session cookie holds the code.
    assert list(run(client, lambda s: s.scalars(select(BallotReceipt.digest)))) == []

    async def every_row(session):
        rows = []
        for table in SQLModel.metadata.sorted_tables:
            rows.extend(repr(tuple(row)) for row in (await session.execute(table.select())).all())
        return rows

    dump = "\n".join(run(client, every_row))
    for form in (code, code.replace("-", ""), code.lower()):
        assert form not in dump
    session_cookie = client.cookies.get("minsheng_session", "")
    payload = session_cookie.split(".")[0]
    decoded = base64.b64decode(payload + "=" * (-len(payload) % 4)).decode(errors="replace")
    assert code not in decoded and code not in session_cookie
    audit = run(client, lambda s: s.scalars(select(AuditEntry.data)))
    assert not [data for data in audit if code in data]

    # Afterwards: 您已投票, no form; a second ballot is refused on the page.
    r = client.get(f"/ballots/{open_round}/vote")
    assert "您已投票" in r.text and 'id="ballot-form"' not in r.text
    r = client.post(f"/ballots/{open_round}/vote",
                    data=marks_form(client, open_round, yes=1, step="confirm"))
    assert r.status_code == 409 and "您已在本轮投票，选票投出后不能更改" in r.text
    assert receipt_of(r.text) is None
    r = client.post(f"/ballots/{open_round}/vote", data=marks_form(client, open_round, yes=1))
    assert r.status_code == 409 and "确认提交" not in r.text
    assert count(client, BallotParticipation) == 1 and count(client, BallotReceipt) == 0

    move(client, world, open_round, "closed")  # the close opens the envelopes: the hash is kept
    assert list(run(client, lambda s: s.scalars(select(BallotReceipt.digest)))) == [
        receipt_digest(code)]


def test_a_deputy_not_checked_in_cannot_reach_the_confirmation(client, world):
    extra = add_deputies(client, world, 3)  # T = 4, quorum 3
    ballot_id = walk_round(client, world, "open", present=["deputy", *extra[:2]],
                           scrutineers=["deputy", extra[0]], seats=2)
    login(client, extra[2])
    r = client.get(f"/ballots/{ballot_id}/vote")
    assert 'id="ballot-form"' not in r.text and "签到" in r.text
    r = client.post(f"/ballots/{ballot_id}/vote", data=marks_form(client, ballot_id, yes=1))
    assert r.status_code == 403 and "请先签到，再投票" in r.text and "确认提交" not in r.text


def test_a_deputy_of_another_jurisdiction_is_refused(client, world, open_round):
    anyue = add_deputies(client, world, 1, prefix="anyue", jurisdiction="anyue")[0]
    login(client, anyue)
    for r in (client.get(f"/ballots/{open_round}/vote"),
              client.post(f"/ballots/{open_round}/check-in", data={"csrftoken": csrf(client)}),
              client.post(f"/ballots/{open_round}/vote",
                          data=marks_form(client, open_round, yes=1, step="confirm")),
              client.get(f"/ballots/{open_round}/sign-off")):
        assert r.status_code == 403, r.text
        assert "您不是本级人大代表" in r.text
    assert count(client, BallotParticipation) == 0
    # Staff are no deputies either; nobody logged out gets past the log-in page.
    login(client, "congress-staff")
    r = client.get(f"/ballots/{open_round}/vote")
    assert r.status_code == 403 and "只有人大代表可以签到和投票" in r.text
    client.cookies.clear()
    r = client.get(f"/ballots/{open_round}/vote", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_a_named_round_says_so_on_every_page(client, world):
    ballot_id = walk_round(client, world, "open", seats=2, secret=False)
    login(client, "deputy")
    named = "本轮为记名投票，您的姓名将与您的选择一起记录并公开"
    r = client.get(f"/ballots/{ballot_id}/vote")
    assert named in r.text and "不记名投票" not in r.text
    r = client.post(f"/ballots/{ballot_id}/vote", data=marks_form(client, ballot_id, yes=1))
    assert "确认提交" in r.text and named in r.text
    r = client.post(f"/ballots/{ballot_id}/vote",
                    data=marks_form(client, ballot_id, yes=1, step="confirm"))
    assert receipt_of(r.text) and named in r.text
    r = client.get(f"/ballots/{ballot_id}/sign-off")
    assert named in r.text
    r = client.get("/ballots/mine")
    assert "记名投票" in r.text and "已投票" in r.text


def test_verify_page_before_and_after_publication(client, world):
    ballot_id = walk_round(client, world, "open", seats=2)
    login(client, "deputy")
    r = client.post(f"/ballots/{ballot_id}/vote",
                    data=marks_form(client, ballot_id, yes=2, step="confirm"))
    code = receipt_of(r.text)
    client.cookies.clear()
    r = client.get(f"/ballots/{ballot_id}/verify")
    assert r.status_code == 200 and "本轮结果尚未公布" in r.text
    assert "receipts-data" not in r.text and "verify-form" not in r.text

    move(client, world, ballot_id, "closed")
    tally(client, world, ballot_id)
    for key in ("deputy", "dep-1"):
        sign(client, world, ballot_id, key)
    move(client, world, ballot_id, "published")
    r = client.get(f"/ballots/{ballot_id}/verify")
    assert r.status_code == 200
    assert "核对在您的设备上完成，回执码不会发送到服务器" in r.text
    data = re.search(r'<script type="application/json" id="receipts-data">(.*?)</script>',
                     r.text)[1]
    assert f'"{receipt_digest(code)}"' in data
    form = re.search(r'<form id="verify-form".*?</form>', r.text, re.S)[0]
    assert 'id="receipt-input"' in form and "name=" not in form.split("<input", 1)[1].split(">")[0]
    assert 'id="needs-js"' in r.text and "需要启用 JavaScript" in r.text
    assert f'href="/api/v1/ballots/{ballot_id}/bulletin"' in r.text
    assert '<script src="/static/ballot.js"' in r.text


def test_a_scrutineer_signs_off_the_tally_on_the_page(client, world):
    extra = add_deputies(client, world, 2)  # T = 3, quorum 2
    ballot_id = walk_round(client, world, "created", present=[], scrutineers=[], seats=2)
    c0, c1, *_ = candidates_of(client, ballot_id)
    check_in(client, world, ballot_id, ["deputy", *extra])
    name_scrutineers(client, world, ballot_id, ["deputy", extra[0]])

    login(client, "deputy")
    r = client.get(f"/ballots/{ballot_id}/sign-off")
    assert r.status_code == 200 and "计票完成后，监票人可在此查看计票结果并签字确认" in r.text
    assert "确认签字" not in r.text
    r = client.get(f"/ballots/{ballot_id}/vote")
    assert f'href="/ballots/{ballot_id}/sign-off"' in r.text

    move(client, world, ballot_id, "open")
    for key in ("deputy", *extra):
        client.post(f"{API}/ballots/{ballot_id}/votes", json={"marks": {c0: "yes", c1: "no"}},
                    headers=world.headers(key))
    move(client, world, ballot_id, "closed")
    tally(client, world, ballot_id)

    r = client.get(f"/ballots/{ballot_id}/sign-off")
    assert r.status_code == 200, r.text
    assert "候选项目1" in r.text and "当选（第 1 名）" in r.text
    assert re.search(r"赞成 <strong>3</strong> · 反对 <strong>0</strong> · 弃权 <strong>0</strong>",
                     r.text)
    assert "已签 0 / 需 2 人" in r.text and "确认签字" in r.text
    r = client.post(f"/ballots/{ballot_id}/sign-off", data={"csrftoken": csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    r = client.get(r.headers["location"])
    assert "您已签字确认本轮计票结果" in r.text and "已签 1 / 需 2 人" in r.text
    assert "确认签字</button>" not in r.text
    r = client.post(f"/ballots/{ballot_id}/sign-off", data={"csrftoken": csrf(client)})
    assert r.status_code == 409 and "您已签字确认过本轮计票结果" in r.text

    # A deputy who is no scrutineer sees no tally.
    login(client, extra[1])
    r = client.get(f"/ballots/{ballot_id}/sign-off")
    assert r.status_code == 403 and "只有本轮推选的监票人可以签字确认" in r.text
    assert "当选" not in r.text


def test_my_ballots_lists_the_rounds_of_the_deputys_jurisdiction(client, world, open_round):
    login(client, "deputy")
    r = client.get("/ballots/mine")
    assert r.status_code == 200 and f'href="/ballots/{open_round}/vote"' in r.text
    assert "投票中" in r.text and "已签到" in r.text
    login(client, "resident")
    assert client.get("/ballots/mine").status_code == 403
