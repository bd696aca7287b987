"""In a real (Debian) chromium at desktop width (1280×800): two congress staff accounts, each in
its own browser, enter the same paper sheet of a closed round; the second reads one candidate
differently, both see 不一致 with that candidate marked, the second corrects their own entry
from the keyboard and both see 一致."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.auth.roles import Role
from tests.ballots.conftest import add_deputies, balloting_cycle, walk_round
from tests.browser.conftest import ARTIFACTS, DESKTOP, log_in, open_page
from tests.helpers import create_user

pytestmark = pytest.mark.browser

@pytest.fixture
def two_staff(browser, live_server):
    pages = [open_page(browser, live_server, **DESKTOP) for _ in range(2)]
    try:
        yield pages
    finally:
        for p in pages:
            p.context.close()


def test_two_staff_enter_a_sheet_see_the_difference_and_correct_it(
        client, world, two_staff, database_url):
    backend = "postgresql" if database_url.startswith("postgres") else "sqlite"
    ARTIFACTS.mkdir(exist_ok=True)
    add_deputies(client, world, 1)
    cycle_id, candidates = balloting_cycle(client, world, candidates=3)
    create_user(client, "staff-b", Role.congress_staff, "lezhi")
    ballot_id = walk_round(client, world, "closed", cycle_id=cycle_id, seats=2,
                           candidate_ids=candidates)
    a, b = two_staff
    url = f"/staff/ballots/{ballot_id}/paper"

    # Staff A comes from the round's control page and records the paper issued.
    log_in(a, "congress-staff")
    a.goto(f"/staff/ballots/{ballot_id}")
    a.locator("#paper-link").get_by_role("link").click()
    expect(a.locator("h1")).to_contain_text("纸质选票与表决器")
    a.fill("#count", "5")
    a.get_by_role("button", name="保存", exact=True).click()
    expect(a.locator("#issued-figure")).to_have_text("5")

    # A types sheet 1 from the keyboard: the number, Tab into candidate 1, ←← to 赞成, Enter.
    expect(a.locator("#sheet")).to_have_value("1")
    a.locator("#sheet").focus()
    a.keyboard.press("Tab")
    a.keyboard.press("ArrowLeft")
    a.keyboard.press("ArrowLeft")
    expect(a.get_by_label("1. 候选项目1：赞成")).to_be_checked()
    a.keyboard.press("Enter")
    expect(a.locator("#entry-result")).to_contain_text("第 1 张选票：待复核")
    expect(a.locator("#count-pending")).to_have_text("1")
    expect(a.locator("#tally-notice")).to_contain_text("计票会被拒绝")
    expect(a.locator("#sheet")).to_have_value("2")

    # Staff B, in another browser, reads candidate 1 as 反对.
    log_in(b, "staff-b")
    b.goto(url)
    expect(b.locator("#sheet")).to_have_value("1")
    b.get_by_label("1. 候选项目1：反对").check()
    b.get_by_role("button", name="提交录入").click()
    result = b.locator("#entry-result")
    expect(result).to_contain_text("第 1 张选票：不一致")
    expect(result.locator("mark")).to_have_text("1. 候选项目1")
    sheet = b.locator("#sheet-1")
    expect(sheet.locator("tr.differs mark")).to_have_text(["赞成", "反对"])
    expect(b.locator("#count-differing")).to_have_text("1")

    # A sees it flagged too (the list filtered to 不一致), both readings side by side.
    # (Screenshots only where a full page load follows: Playwright's injected caret style
    # would otherwise be reported under our CSP when htmx swaps the page.)
    a.goto(f"{url}?status=differs")
    expect(a.locator("#row-1")).to_contain_text("不一致")
    expect(a.locator("#sheet-1 tr.differs")).to_have_count(1)
    expect(a.locator("#sheet-1 thead")).to_contain_text("congress-staff（我）")
    a.screenshot(path=str(ARTIFACTS / f"ballot-paper-differs-{backend}.png"), full_page=True)

    # B corrects their own entry: the form starts from B's reading; back to 赞成.
    b.locator("#sheet-1").get_by_role("link", name="更正我的录入").click()
    expect(b.locator("#correcting")).to_contain_text("更正第 1 张选票")
    expect(b.locator("#sheet")).to_have_value("1")
    expect(b.get_by_label("1. 候选项目1：反对")).to_be_checked()
    b.get_by_label("1. 候选项目1：赞成").check()
    b.get_by_role("button", name="提交录入").click()
    expect(b.locator("#entry-result")).to_contain_text("第 1 张选票：一致")
    expect(b.locator("#count-confirmed")).to_have_text("1")
    expect(b.locator("#differing")).to_have_count(0)
    expect(b.locator("#tally-notice")).to_contain_text("全部核对一致")
    b.screenshot(path=str(ARTIFACTS / f"ballot-paper-confirmed-{backend}.png"), full_page=True)

    a.goto(url)
    expect(a.locator("#row-1")).to_contain_text("一致")
    expect(a.locator("#row-1")).to_contain_text("congress-staff、staff-b")
    for p in (a, b):
        no_sideways = p.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert no_sideways
        assert p.problems == [], "\n".join(p.problems)
