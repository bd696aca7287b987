"""In a real (Debian) chromium on a phone (390×844, touch): a deputy checks in, waits for the round
to open (the page notices by itself), marks the ballot — the 赞成 counter counts and an S+1-th 赞成
is stopped —, confirms and takes the receipt with its QR code. Once staff publish (through the
API), the deputy finds the receipt on 查验回执, computed in the browser: the code is never sent.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.ballots.conftest import (
    add_deputies,
    balloting_cycle,
    check_in,
    create_round,
    move,
    name_scrutineers,
    sign,
    tally,
)
from tests.browser.conftest import ARTIFACTS, PHONE_390, log_in, open_page

pytestmark = pytest.mark.browser

@pytest.fixture
def phone390(browser, live_server):
    """A fresh 390×844 touch context on the live server, recording page problems and requests."""
    page = open_page(browser, live_server, **PHONE_390)
    try:
        yield page
    finally:
        page.context.close()


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"horizontal scroll: {width}"


def small_targets(page: Page, selector: str) -> list[str]:
    """Visible controls under `selector` less than 44 px high (CSS pixels)."""
    return page.locator(selector).evaluate_all(
        """els => els.filter(e => e.offsetParent !== null)
                     .map(e => [e.textContent.trim(), e.getBoundingClientRect().height])
                     .filter(([, h]) => h < 44).map(([t, h]) => t + ': ' + h)""")


def test_a_deputy_votes_on_a_phone_and_checks_the_receipt(client, world, phone390: Page,
                                                          database_url):
    backend = "postgresql" if database_url.startswith("postgres") else "sqlite"
    ARTIFACTS.mkdir(exist_ok=True)
    page = phone390
    extra = add_deputies(client, world, 1)  # T = 2 (deputy, dep-1): quorum 2
    cycle_id, ids = balloting_cycle(client, world, candidates=4)
    ballot_id = create_round(client, world, cycle_id, seats=2, candidate_ids=ids)["id"]
    name_scrutineers(client, world, ballot_id, ["deputy", *extra])
    check_in(client, world, ballot_id, extra)

    # Log in and check in on the round page.
    log_in(page, "deputy")
    page.goto(f"/ballots/{ballot_id}/vote")
    expect(page.locator("h1")).to_have_text("第 1 轮票决")
    expect(page.locator(".secrecy")).to_contain_text("不记名投票：您的选择与您的身份分开保存")
    page.get_by_role("button", name="签到").tap()
    expect(page.locator("main")).to_contain_text("您已签到")
    expect(page.locator(".turnout-figure")).to_contain_text("出席 2 /")
    assert not small_targets(page, "main button, main a.button"), small_targets(
        page, "main button, main a.button")

    # Staff open the round; the polled turnout notices and the ballot appears by itself.
    move(client, world, ballot_id, "open")
    form = page.locator("#ballot-form")
    expect(form).to_be_visible(timeout=15_000)
    items = page.locator("fieldset.ballot-item")
    expect(items).to_have_count(4)
    expect(page.locator("#yes-count")).to_have_text("0")
    expect(page.locator("input[value=abstain]:checked")).to_have_count(4)  # default 弃权

    # 赞成 twice: the counter follows; a third 赞成 is stopped with a message.
    items.nth(0).locator("label.mark-yes").tap()
    expect(page.locator("#yes-count")).to_have_text("1")
    items.nth(1).locator("label.mark-yes").tap()
    items.nth(2).locator("label.mark-no").tap()
    expect(page.locator("#yes-count")).to_have_text("2")
    expect(page.locator(".ballot-bar")).to_contain_text("已投赞成 2 / 2")
    items.nth(3).locator("label.mark-yes").tap()
    expect(page.locator("#yes-limit")).to_be_visible()
    expect(page.locator("#yes-limit")).to_contain_text("赞成最多 2 项")
    expect(page.locator("#yes-count")).to_have_text("2")
    expect(items.nth(3).locator("input[value=yes]")).not_to_be_checked()
    expect(items.nth(3).locator("input[value=abstain]")).to_be_checked()
    # Changing one 赞成 to 反对 makes room again.
    items.nth(1).locator("label.mark-no").tap()
    expect(page.locator("#yes-limit")).to_be_hidden()
    items.nth(3).locator("label.mark-yes").tap()
    expect(page.locator("#yes-count")).to_have_text("2")
    expect(items.nth(3).locator("input[value=yes]")).to_be_checked()

    # Phone checks: no sideways scroll, every choice and button at least 44 px high, and the
    # counter stays on screen at the bottom while the list scrolls.
    no_sideways_scroll(page)
    assert not small_targets(page, "label.mark, #ballot-form button"), small_targets(
        page, "label.mark, #ballot-form button")
    items.nth(0).scroll_into_view_if_needed()
    bar = page.locator(".ballot-bar").bounding_box()
    assert bar and bar["y"] + bar["height"] <= 844 + 1, bar
    page.screenshot(path=str(ARTIFACTS / f"ballot-cast-390-{backend}.png"), full_page=True)

    # 核对 → 确认投票 → the receipt with its QR code.
    page.get_by_role("button", name="下一步：核对选票").tap()
    expect(page.locator("h1")).to_have_text("确认提交？提交后不能更改")
    expect(page.locator(".confirm-counts")).to_have_text("赞成 2 项 · 反对 2 项 · 弃权 0 项")
    no_sideways_scroll(page)
    assert not small_targets(page, ".confirm-buttons button")
    page.get_by_role("button", name="确认投票").tap()
    try:
        expect(page.locator("h1")).to_contain_text("选票已投出")
    except AssertionError:
        raise AssertionError(page.locator("main").inner_text()) from None
    code = page.locator("#receipt-code").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code), code
    box = page.locator("#receipt-code").bounding_box()
    assert box and box["height"] < 60, f"the code should stay on one line: {box}"
    expect(page.locator(".receipt-qr svg")).to_be_visible()
    qr = page.locator(".receipt-qr svg").bounding_box()
    assert qr and qr["width"] >= 150, qr
    no_sideways_scroll(page)
    page.screenshot(path=str(ARTIFACTS / f"ballot-receipt-390-{backend}.png"), full_page=True)
    assert not page.problems, page.problems

    # The round page now says 您已投票 and has no form.
    page.goto(f"/ballots/{ballot_id}/vote")
    expect(page.locator("#voted")).to_contain_text("您已投票")
    expect(page.locator("#ballot-form")).to_have_count(0)

    # Staff close, tally, the scrutineers sign, staff publish — all through the API.
    move(client, world, ballot_id, "closed")
    tally(client, world, ballot_id)
    for key in ("deputy", *extra):
        sign(client, world, ballot_id, key)
    move(client, world, ballot_id, "published")

    # 查验回执: typed loosely (lower case, no dashes), checked in the browser.
    page.sent.clear()
    page.get_by_role("link", name="查验回执").tap()
    expect(page.locator("h1")).to_have_text("查验回执")
    expect(page.locator("#verify-form")).to_be_visible()
    expect(page.locator("#needs-js")).to_be_hidden()
    page.fill("#receipt-input", code.replace("-", "").lower())
    page.get_by_role("button", name="查验").tap()
    expect(page.locator("#verify-result")).to_contain_text("已找到")
    page.fill("#receipt-input", "0000-0000-0000-0000")
    page.get_by_role("button", name="查验").tap()
    expect(page.locator("#verify-result")).to_contain_text("未找到")
    no_sideways_scroll(page)
    page.screenshot(path=str(ARTIFACTS / f"ballot-verify-390-{backend}.png"), full_page=True)
    plain = code.replace("-", "")
    leaked = [s for s in page.sent if code in s.upper() or plain in s.upper()]
    assert not leaked, leaked
    assert not page.problems, page.problems


def test_the_verify_page_without_javascript_explains_and_offers_the_list(
        browser, live_server, client, world):
    """JavaScript off: the check form stays hidden; the page says why and links the bulletin."""
    extra = add_deputies(client, world, 1)
    cycle_id, ids = balloting_cycle(client, world, candidates=4)
    ballot_id = create_round(client, world, cycle_id, seats=2, candidate_ids=ids)["id"]
    name_scrutineers(client, world, ballot_id, ["deputy", *extra])
    check_in(client, world, ballot_id, ["deputy", *extra])
    move(client, world, ballot_id, "open")
    move(client, world, ballot_id, "closed")
    tally(client, world, ballot_id)
    for key in ("deputy", *extra):
        sign(client, world, ballot_id, key)
    move(client, world, ballot_id, "published")
    context = browser.new_context(base_url=live_server, java_script_enabled=False, **PHONE_390)
    try:
        page = context.new_page()
        page.goto(f"/ballots/{ballot_id}/verify")
        expect(page.locator("#verify-form")).to_be_hidden()
        expect(page.locator("main")).to_contain_text("需要启用 JavaScript")
        expect(page.get_by_role("link", name="下载计票清单（JSON）")).to_be_visible()
        no_sideways_scroll(page)
    finally:
        context.close()
