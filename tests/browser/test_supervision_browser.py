"""In a real (Debian) chromium at 360×740: a resident opens the cycle's 督办 board, reads each
project's colour in words with its reason, reddest first, filters one colour with a tap, and
follows a project to its progress — with no sideways scroll."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.models import Project
from tests.ballots.conftest import API
from tests.browser.conftest import ARTIFACTS
from tests.helpers import run
from tests.projects.test_progress_reports import building, report

pytestmark = pytest.mark.browser


def test_a_resident_reads_the_board_on_a_phone(client, world, phone: Page, database_url):
    p1, p2 = building(client, world)
    cycle_id = run(client, lambda s: s.scalar(select(Project.cycle_id).where(Project.id == p1)))
    client.post(f"{API}/projects/{p1}/transitions", json={"to": "in_progress"},
                headers=world.headers("gov_staff"))
    assert report(client, world, p1, "gov_staff", note="路基完成六成").status_code == 201
    backend = "postgresql" if database_url.startswith("postgres") else "sqlite"
    page = phone

    page.goto(f"/cycles/{cycle_id}/supervision")
    items = page.locator("li.board-item")
    expect(items).to_have_count(2)
    expect(items.nth(0).locator(".colour")).to_have_text("红色督办")
    expect(items.nth(0)).to_contain_text("已 100 天未报告进度")
    expect(items.nth(1).locator(".colour")).to_have_text("正常推进")
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"supervision-board-360-{backend}.png"), full_page=True)
    green = page.get_by_role("link", name="正常推进 1")
    assert green.bounding_box()["height"] >= 44  # a finger's target
    green.click()
    expect(items).to_have_count(1)
    items.nth(0).get_by_role("link").click()
    expect(page.locator("#supervision-status")).to_contain_text("正常推进")
    expect(page.locator("#percent")).to_have_text("60%")
    expect(page.locator("#reports")).to_contain_text("路基完成六成")
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width
    page.screenshot(path=str(ARTIFACTS / f"supervision-project-360-{backend}.png"),
                    full_page=True)
    assert page.problems == []


def test_a_unit_reports_progress_from_a_phone(client, world, phone: Page, database_url):
    from tests.browser.conftest import log_in

    p1, _ = building(client, world)
    backend = "postgresql" if database_url.startswith("postgres") else "sqlite"
    page = phone
    log_in(page, world.users["unit_staff"].username)
    page.get_by_role("link", name="我的项目").click()
    page.locator(f"a[href='/staff/projects/{p1}/progress']").click()
    expect(page.locator("#report-h")).to_have_count(0)
    page.locator("#move").click()
    expect(page.locator("#state")).to_have_text("实施中")
    expect(page.get_by_label("完成进度（%）")).to_be_visible()
    page.get_by_label("完成进度（%）").fill("150")
    page.get_by_label("累计支出（万元）").fill("20")
    page.get_by_label("说明").fill("路基完成六成")
    page.locator("#file-report").click()
    expect(page.locator("#form-error")).to_contain_text("完成进度须在 0 到 100 之间")
    expect(page.get_by_label("说明")).to_have_value("路基完成六成")
    page.get_by_label("完成进度（%）").fill("60")
    box = page.locator("#file-report").bounding_box()
    assert box["height"] >= 44
    page.locator("#file-report").click()
    expect(page.locator("#supervision-status")).to_contain_text("正常推进")
    expect(page.locator("#reports")).to_contain_text("路基完成六成")
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"unit-report-360-{backend}.png"), full_page=True)
    # the 422 of the first try is the page's own answer, shown to the person
    assert [p for p in page.problems if "HTTP 422" not in p] == []
