"""In a real (Debian) chromium at 360×740: gov staff fill in a plan on the form without any
script help, get it back with the message and their input on a wrong total, fix it, and the
public project page shows the plan; no sideways scroll, touch targets of 44 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, browser, live_server, log_in, phone  # noqa: F401
from tests.projects.helpers import announced_projects

pytestmark = pytest.mark.browser


def _no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width


def test_gov_staff_write_a_plan_on_a_phone(client, world, phone: Page,  # noqa: F811
                                           database_url):
    cycle_id, (pid, _) = announced_projects(client, world)
    backend = "postgresql" if database_url.startswith("postgres") else "sqlite"
    page = phone
    log_in(page, "gov-staff")
    page.goto(f"/staff/cycles/{cycle_id}/plans")
    expect(page.locator(f"#p-{pid} .late")).to_have_text("逾期")
    _no_sideways_scroll(page)
    page.locator(f"#p-{pid}").get_by_role("link", name="填写实施方案").click()
    expect(page.locator("h1")).to_have_text("填写实施方案")

    page.fill("#milestones", "完成招标 | 2025-03-21\n竣工验收 | 2025-12-31")
    page.fill("#funding", "县级财政 | 80")
    page.fill("#targets", "新建道路 7.8 公里")
    button = page.get_by_role("button", name="保存并公开")
    assert button.bounding_box()["height"] >= 44
    button.click()
    expect(page.locator("#form-error")).to_contain_text("须先经人大决定")
    expect(page.locator("#milestones")).to_have_value("完成招标 | 2025-03-21\n竣工验收 | 2025-12-31")
    expect(page.locator("#funding")).to_have_value("县级财政 | 80")
    _no_sideways_scroll(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"plan-form-360-{backend}.png"), full_page=True)

    page.fill("#funding", "县级财政 | 60\n上级补助 | 40")
    page.get_by_role("button", name="保存并公开").click()
    expect(page.locator("p.ok")).to_contain_text("实施方案已保存并公开")
    page.goto(f"/projects/{pid}")
    expect(page.locator("#milestones li")).to_have_count(2)
    expect(page.locator("#funding")).to_contain_text("上级补助")
    expect(page.locator("#late-flag")).to_have_text("逾期")  # first published long after due
    _no_sideways_scroll(page)
    page.screenshot(path=str(ARTIFACTS / f"project-plan-360-{backend}.png"), full_page=True)
    # the 422 of the first try is the form coming back, as designed
    assert [p for p in page.problems if "HTTP 422" not in p] == []
