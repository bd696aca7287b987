"""In a real (Debian) chromium at 360×740: from an announced cycle's page a resident follows the
公告 link and reads the decided projects as stacked rows, with no sideways scroll."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, log_in
from tests.projects.test_announcement import announced_cycle

pytestmark = pytest.mark.browser


def test_a_resident_reads_the_announcement_on_a_phone(client, world, phone: Page, database_url):
    cycle_id, results, _ = announced_cycle(client, world, seats=2)
    backend = "postgresql" if database_url.startswith("postgres") else "sqlite"
    page = phone

    log_in(page, "resident")
    page.goto(f"/cycles/{cycle_id}")
    page.get_by_role("link", name="票决结果公告").click()
    expect(page.locator("h1")).to_have_text("乐至县人民代表大会关于2025年民生实事项目票决结果的公告")
    rows = page.locator("tr.project")
    expect(rows).to_have_count(2)
    titles = {c["id"]: c["title"] for c in results["candidates"]}
    for i, cid in enumerate(results["selected_ids"]):
        expect(rows.nth(i).locator("th.title")).to_have_text(titles[cid])
        expect(rows.nth(i)).to_contain_text("县交通运输局")
    # Stacked: each cell on its own line, labelled; the table header is out of sight.
    assert rows.nth(0).evaluate("tr => getComputedStyle(tr).display") == "block"
    expect(page.locator("table.projects-table thead")).not_to_be_in_viewport()
    expect(rows.nth(0).locator("td[data-label='责任单位']")).to_be_visible()
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"announcement-360-{backend}.png"), full_page=True)
    assert page.problems == []
