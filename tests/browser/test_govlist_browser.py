"""In a real (Debian) chromium at 360×740: a resident reads a district government's draft list
(征求意见稿), comments on one item, and government staff answer it on their own page; the answer
then shows beside the comment. No sideways scroll, touch-sized buttons."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, log_in
from tests.govlist.helpers import add_government_places, commenting_cycle

pytestmark = pytest.mark.browser


def fits_the_phone(page: Page) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width


def test_a_resident_comments_on_the_draft_list_and_staff_answer_on_a_phone(
        client, world, phone: Page, database_url):
    add_government_places(client, world)
    cycle_id, items = commenting_cycle(client, world, "yaohai", items=3)
    backend = "postgresql" if database_url.startswith("postgres") else "sqlite"
    page = phone
    ARTIFACTS.mkdir(exist_ok=True)

    log_in(page, "yaohai-resident")
    page.goto(f"/cycles/{cycle_id}")
    page.get_by_role("link", name="征求意见稿及答复").click()
    expect(page.locator("h1")).to_have_text("瑶海区2026年民生实事项目（征求意见稿）")
    expect(page.locator("#days-left")).to_have_text("还剩 30 天")
    expect(page.locator("li.draft-item")).to_have_count(3)
    item = page.locator(f"#item-{items[1]}")
    expect(item).to_contain_text("区住房和城乡建设局")
    expect(item).to_contain_text("850 万元")
    fits_the_phone(page)
    item.locator("textarea[name=body]").fill("背街小巷改造请同步解决排水问题。")
    button = item.get_by_role("button", name="发表意见")
    assert button.bounding_box()["height"] >= 44
    button.click()
    expect(page.get_by_role("status")).to_have_text("意见已发表，政府将逐条答复。")
    expect(page.locator(f"#item-{items[1]} .comment")).to_contain_text("背街小巷改造请同步解决排水问题。")
    fits_the_phone(page)
    page.screenshot(path=str(ARTIFACTS / f"draft-list-comment-360-{backend}.png"),
                    full_page=True)

    log_in(page, "yaohai-gov")
    page.goto(f"/staff/cycles/{cycle_id}/draft-list")
    waiting = page.locator("li.waiting-item")
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text("关于：背街小巷路面改造")
    fits_the_phone(page)
    waiting.locator("textarea[name=text]").fill("采纳。改造同步铺设雨污分流管道。")
    answer = waiting.get_by_role("button", name="答复", exact=True)
    assert answer.bounding_box()["height"] >= 44
    answer.click()
    expect(page.locator("#all-answered")).to_have_text("所有意见均已答复或记录。")
    fits_the_phone(page)
    page.screenshot(path=str(ARTIFACTS / f"draft-list-staff-360-{backend}.png"), full_page=True)

    log_in(page, "yaohai-resident")
    page.goto(f"/cycles/{cycle_id}/draft-list")
    reply = page.locator(f"#item-{items[1]} .answer")
    expect(reply).to_contain_text("政府答复")
    expect(reply).to_contain_text("采纳。改造同步铺设雨污分流管道。")
    expect(reply).to_contain_text("测试yaohai-gov")
    fits_the_phone(page)
    assert page.problems == []


def test_staff_record_the_adopting_meeting_at_desktop_width(client, world, desktop: Page):
    add_government_places(client, world)
    cycle_id, items = commenting_cycle(client, world, "yaohai", items=3)
    page = desktop
    log_in(page, "yaohai-gov")
    page.goto(f"/staff/cycles/{cycle_id}/draft-list")
    today = page.locator("#date").get_attribute("max")
    page.fill("#meeting", "区长办公会")
    page.fill("#date", today)
    page.fill("#document_number", "瑶政[2026]3号")
    page.locator(f"input[name=left_out][value='{items[2]}']").check()
    page.fill(f"input[name='reason_{items[2]}']", "资金需分年安排，调整到下一年度。")
    page.get_by_role("button", name="保存通过记录").click()
    expect(page.get_by_role("status")).to_have_text("通过记录已保存。")
    expect(page.locator("#adoption-record")).to_have_text(
        f"{today} 经区长办公会研究确定，文号 瑶政〔2026〕3号。未列入 1 项。")
    expect(page.locator(f"input[name=left_out][value='{items[2]}']")).to_be_checked()
    page.goto(f"/cycles/{cycle_id}")
    expect(page.locator("#adoption-status")).to_contain_text("区长办公会，瑶政〔2026〕3号")
    assert page.problems == []
