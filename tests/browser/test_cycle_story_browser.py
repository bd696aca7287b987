"""In a real (Debian) chromium at 360×740: a resident reads an announced cycle's story top to
bottom — six stages, 征集 figures, 初定, 票决, 公开 — with no sideways scroll and every target at
least 44 px high, then opens a project and lands on its page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS
from tests.cycles.test_story import CATEGORIES, CHANNELS, STATES, add_proposals
from tests.projects.test_announcement import announced_cycle

pytestmark = pytest.mark.browser

PHONE_WIDTH = 360
MIN_TARGET = 44

# Every visible link, button and form control of the page's main part, with its height.
_TARGETS_JS = """() => [...document.querySelectorAll(
    'main a, main button, main input:not([type=hidden]), main select, main textarea')]
  .filter(el => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
  .map(el => ({what: el.outerHTML.slice(0, 100), height: el.getBoundingClientRect().height}))"""


def test_a_resident_reads_the_cycle_story_on_a_phone_and_opens_a_project(
        client, world, phone: Page, database_url):
    cycle_id, results, _ = announced_cycle(client, world, seats=2)
    add_proposals(client, cycle_id, list(zip(CATEGORIES, CHANNELS, STATES, strict=True)))
    backend = "postgresql" if database_url.startswith("postgres") else "sqlite"
    page = phone

    page.goto(f"/cycles/{cycle_id}")
    expect(page.locator("h1")).to_have_text("乐至县2025年民生实事项目")

    # The six stages, four done (with the day each began), 公开 the current one.
    stages = page.locator("ol.stages li.stage")
    expect(stages).to_have_count(6)
    expect(page.locator("ol.stages li.stage-done")).to_have_count(3)
    now = page.locator("ol.stages li[aria-current=step]")
    expect(now).to_contain_text("公开")
    expect(now.locator("time")).to_have_text(re.compile(r"^\d{4}-\d{2}-\d{2}$"))

    # 征集 figures: 4 linked in the fixture + 7 more; read as a table.
    expect(page.locator("#proposal-total strong")).to_have_text("11")
    traffic = page.locator("#by-category tr[data-key='交通出行'] td.num")
    expect(traffic).to_have_text(str(CATEGORIES.count("交通出行") + 4))
    expect(page.get_by_role("table", name="按渠道")).to_be_visible()

    # 初定, 票决, 公开 in that order down the page.
    tops = [page.locator(f"#{sid}").bounding_box()["y"]
            for sid in ("solicit", "screen", "ballots", "projects", "phase-panel")]
    assert tops == sorted(tops), tops
    expect(page.locator("#candidate-total")).to_contain_text("候选项目 12 个，来自 4 条群众建议")
    expect(page.locator("#ballots").get_by_role("link", name="第 1 轮票决")).to_be_visible()
    projects = page.locator("#projects li.story-project")
    expect(projects).to_have_count(2)
    expect(projects.first).to_contain_text("县交通运输局")
    expect(projects.first.locator(".plan-status")).to_contain_text("尚未公布")

    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1] == PHONE_WIDTH, width
    small = [t for t in page.evaluate(_TARGETS_JS) if t["height"] < MIN_TARGET]
    assert not small, f"touch targets under {MIN_TARGET} px: {small}"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"cycle-story-360-{backend}.png"), full_page=True)

    # Open the first project of the 公告 order.
    titles = {c["id"]: c["title"] for c in results["candidates"]}
    first = titles[results["selected_ids"][0]]
    link = page.locator("#projects").get_by_role("link", name=first, exact=True)
    project_id = link.get_attribute("href").rsplit("/", 1)[1]
    link.click()
    expect(page).to_have_url(re.compile(rf"/projects/{project_id}$"))
    expect(page.locator("h1")).to_contain_text(first)
    assert page.problems == []
