"""In a real (Debian) chromium at desktop width (1280×800): congress staff run a ballot round
from its control page — create it, mark attendance through the roster search, watch the live
出席 figure move as deputies check in, name scrutineers, open, watch the turnout while deputies
vote (through the API), close, tally and, once the scrutineers have signed (API), publish. Then
the public results page on a 360 px phone: no sideways scroll, the SVG chart with its 通过线.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.ballots.conftest import add_deputies, balloting_cycle, check_in, sign, vote
from tests.browser.conftest import ARTIFACTS, log_in

pytestmark = pytest.mark.browser

POLL_WAIT = 15_000  # ms: the turnout is polled every 3 s; room for a busy machine

def test_staff_run_a_round_and_the_public_reads_the_results_on_a_phone(
        client, world, desktop: Page, phone: Page, database_url):
    backend = "postgresql" if database_url.startswith("postgres") else "sqlite"
    ARTIFACTS.mkdir(exist_ok=True)
    add_deputies(client, world, 6)  # T = 7 with world's deputy; quorum 5
    cycle_id, (c0, c1, c2) = balloting_cycle(client, world, candidates=3)
    page = desktop

    # From the cycle page to 票决管理; a round of all 12 reviewed candidates for 2 seats.
    log_in(page, "congress-staff")
    page.goto(f"/cycles/{cycle_id}")
    page.locator("#ballots").get_by_role("link", name="票决管理").click()
    expect(page.locator("h1")).to_have_text("票决管理")
    page.fill("#seats", "2")
    page.get_by_role("button", name="建立票决轮次").click()
    expect(page.locator("h1")).to_contain_text("第 1 轮票决")
    ballot_id = page.url.split("/staff/ballots/")[1].split("?")[0]
    figure = page.locator(f"#turnout-{ballot_id} .turnout-figure")
    expect(figure).to_have_text("出席 0 / 7，法定人数 5")

    # The roster search narrows live; tick four and mark them present in one go.
    page.fill("#q", "dep-")
    expect(page.locator("#roster input[name=usernames]")).to_have_count(6)
    for i in range(1, 5):
        page.get_by_label(f"测试dep-{i}").check()
    page.get_by_role("button", name="标记所选代表出席").click()
    expect(page.locator("#attendance")).to_contain_text("已标记 4 名代表出席。")
    expect(figure).to_have_text("出席 4 / 7，法定人数 5")
    expect(page.locator("#roster .present")).to_have_count(4)

    # Two deputies check in on their phones: the figure follows by polling.
    check_in(client, world, ballot_id, ["deputy", "dep-5"])
    expect(figure).to_have_text("出席 6 / 7，法定人数 5", timeout=POLL_WAIT)
    expect(page.locator(f"#turnout-{ballot_id}")).to_contain_text("已达到法定人数")
    page.screenshot(path=str(ARTIFACTS / f"ballot-staff-attendance-1280-{backend}.png"),
                    full_page=True)

    # Scrutineers, then open.
    page.fill("#scrutineer-1", "dep-1")
    page.fill("#scrutineer-2", "测试dep-2")
    page.get_by_role("button", name="保存监票人").click()
    expect(page.locator("#page-message")).to_have_text("监票人已推选。")
    expect(page.locator("ul.scrutineers li")).to_have_count(2)
    page.get_by_role("button", name="开始投票").click()
    expect(page.locator("#page-message")).to_have_text("已开始投票。")
    expect(page.locator("h1 .state")).to_have_text("投票中")

    # Deputies vote; the turnout moves, and shows no content.
    turnout = page.locator(f"#turnout-{ballot_id}")
    for key, marks in (("deputy", {c0: "yes", c1: "yes"}), ("dep-1", {c0: "yes", c1: "yes"}),
                       ("dep-2", {c0: "yes", c1: "yes", c2: "no"}),
                       ("dep-3", {c0: "yes", c2: "yes"}), ("dep-4", {c0: "yes", c1: "yes"})):
        vote(client, world, ballot_id, key, marks)
    expect(turnout).to_contain_text("已投票 5 人", timeout=POLL_WAIT)
    expect(page.locator("#results")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / f"ballot-staff-open-1280-{backend}.png"), full_page=True)

    # Close (confirmed), tally; publication waits for the scrutineers.
    page.get_by_role("button", name="结束投票").click()
    expect(page.locator("#page-message")).to_have_text("投票已结束，可以计票。")
    page.get_by_role("button", name="计票").click()
    expect(page.locator(".signoffs")).to_have_text("监票人签字 0 / 2")
    expect(page.locator("#results svg.bchart")).to_be_visible()
    sign(client, world, ballot_id, "dep-1")
    sign(client, world, ballot_id, "dep-2")
    page.reload()
    expect(page.locator(".signoffs")).to_have_text("监票人签字 2 / 2")
    page.get_by_role("button", name="公布结果").click()
    expect(page.locator("#page-message")).to_have_text("计票结果已公布。")
    expect(page.locator("h1 .state")).to_have_text("已公布")
    page.screenshot(path=str(ARTIFACTS / f"ballot-staff-published-1280-{backend}.png"),
                    full_page=True)
    assert page.problems == []

    # The public results page on a phone: one column, the chart and its threshold line.
    phone.goto(f"/ballots/{ballot_id}/results")
    expect(phone.locator("h1")).to_have_text("第 1 轮票决结果")
    expect(phone.locator(".outcome")).to_contain_text("2 个名额全部产生。")
    chart = phone.locator("svg.bchart")
    expect(chart).to_be_visible()
    # A vertical line has no width, which Playwright calls hidden: check its box and stroke.
    line = chart.locator("line.threshold")
    expect(line).to_have_count(1)
    assert line.bounding_box()["height"] > 200
    assert line.evaluate("el => getComputedStyle(el).stroke") == "rgb(11, 87, 208)"
    expect(chart.locator("text.threshold-label")).to_have_text("通过线 4 票")
    expect(chart.locator(".brow")).to_have_count(12)
    expect(phone.locator("table.results-table tbody tr")).to_have_count(12)
    box = chart.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360, box
    widths = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] == 360, f"the results page scrolls sideways: {widths}"
    label = chart.locator("text.threshold-label").bounding_box()
    assert label["x"] >= box["x"] and label["x"] + label["width"] <= box["x"] + box["width"]
    phone.screenshot(path=str(ARTIFACTS / f"ballot-results-360-{backend}.png"), full_page=True)
    assert phone.problems == []
