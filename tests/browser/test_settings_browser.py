"""In a real (Debian) chromium, on a 360 px phone and at desktop width: congress staff open the
settings page from the navigation, change settings with a reason, see a refusal with the form
kept, and see the change in the history."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, log_in
from tests.browser.test_cycle_phase_browser import assert_phone_friendly
from tests.helpers import build_world

pytestmark = pytest.mark.browser

API = "/api/v1/jurisdictions/lezhi/settings"


def refused_once(page: Page) -> None:
    """The one refusal was answered 422 (the form shown again); nothing else went wrong."""
    assert [p for p in page.problems if not p.startswith("HTTP 422: POST ")] == [], page.problems
    assert len(page.problems) == 1, page.problems


def screenshot(page: Page, name: str, database_url: str) -> None:
    backend = "postgresql" if database_url.startswith("postgres") else "sqlite"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{backend}.png"), full_page=True)


def test_congress_staff_change_the_rules_on_a_phone(client, phone: Page, database_url):
    build_world(client)
    page = phone
    log_in(page, "congress-staff")
    page.get_by_role("link", name="参数设置").click()
    expect(page).to_have_url(re.compile(r"/staff/jurisdictions/lezhi/settings$"))
    expect(page.locator("h1")).to_have_text("乐至县参数设置")
    assert_phone_friendly(page)

    # A refusal: the yellow line is not below the red one. The form comes back as typed.
    page.fill("#f-yellow_gap_points", "25")
    page.fill("#reason", "县人大常委会决定调整督办线")
    page.get_by_role("button", name="保存修改").click()
    expect(page.locator("#form-error")).to_contain_text("没有保存任何修改")
    expect(page.locator("#e-yellow_gap_points")).to_have_text(
        "黄色督办线（25）须低于红色督办线（20）")
    expect(page.locator("#f-yellow_gap_points")).to_have_value("25")
    expect(page.locator("#reason")).to_have_value("县人大常委会决定调整督办线")
    assert client.get(API).json()["yellow_gap_points"] == 10
    assert_phone_friendly(page)

    # Put it right, change two more settings (a number and a choice) and save.
    page.fill("#f-yellow_gap_points", "15")
    page.fill("#f-soliciting_min_days", "20")
    page.locator("#s-threshold_base label.choice", has_text="出席代表").click()
    page.get_by_role("button", name="保存修改").click()
    expect(page.get_by_role("status")).to_contain_text("已保存，修改了 3 项参数")
    settings = client.get(API).json()
    assert (settings["yellow_gap_points"], settings["soliciting_min_days"],
            settings["threshold_base"]) == (15, 20, "present")
    expect(page.locator("#s-soliciting_min_days .current")).to_have_text("20 天")
    expect(page.locator("#s-soliciting_min_days .tag.changed")).to_have_text("已修改")
    expect(page.locator("#s-threshold_base .current")).to_have_text("出席代表")

    entry = page.locator("ol.settings-history > li").first
    expect(entry).to_contain_text("县人大常委会决定调整督办线")
    expect(entry).to_contain_text("测试congress-staff")
    expect(entry).to_contain_text("征集期最短天数：30 天 → 20 天")
    expect(entry).to_contain_text("通过票数的基数：全体代表 → 出席代表")
    assert_phone_friendly(page)
    screenshot(page, "settings-360", database_url)
    refused_once(page)


def test_congress_staff_edit_the_categories_at_desktop_width(client, desktop: Page,
                                                               database_url):
    build_world(client)
    page = desktop
    log_in(page, "congress-staff")
    page.goto("/staff/jurisdictions/lezhi/settings")

    # Two columns: each setting's words on the left, its control on the right.
    words = page.locator("#s-plan_due_days .setting-text").bounding_box()
    control = page.locator("#s-plan_due_days .setting-control").bounding_box()
    assert control["x"] > words["x"] + words["width"] - 1, (words, control)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280

    boxes = page.locator("#s-categories input[name=categories]")
    expect(boxes).to_have_count(13)  # the ten and three empty ones
    boxes.nth(0).fill("")  # 就业创业 removed
    boxes.nth(10).fill("养老服务")  # added
    page.locator("#s-publish_vote_counts label.choice", has_text="不公布").click()
    page.get_by_role("button", name="保存修改").click()
    expect(page.locator("#reason-error")).to_have_text("请填写修改原因（将记入修改记录）")
    assert client.get(API).json()["publish_vote_counts"] is True
    # What was typed is still there.
    expect(page.locator("#s-categories input[name=categories]").nth(9)).to_have_value("养老服务")
    expect(page.locator("#s-publish_vote_counts input[value=false]")).to_be_checked()

    page.fill("#reason", "县人大常委会第十二次会议决定")
    page.get_by_role("button", name="保存修改").click()
    expect(page.get_by_role("status")).to_contain_text("已保存，修改了 2 项参数")
    settings = client.get(API).json()
    assert settings["categories"][-1] == "养老服务" and "就业创业" not in settings["categories"]
    assert settings["publish_vote_counts"] is False
    entry = page.locator("ol.settings-history > li").first
    expect(entry).to_contain_text("公布得票数：公布 → 不公布")
    expect(entry).to_contain_text("县人大常委会第十二次会议决定")
    screenshot(page, "settings-desktop", database_url)
    refused_once(page)
