"""In a real (Debian) chromium: government staff import a 12345 export — a file with a bad row
is previewed with its problems, the fixed file is previewed and confirmed — on a 360 px phone
and at desktop width."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from app.models import Proposal
from tests.browser.conftest import ARTIFACTS, log_in
from tests.browser.test_proposal_browser import assert_phone_friendly, soliciting_cycle
from tests.helpers import build_world, run
from tests.proposals.hotline_files import GOOD, csv_bytes, xlsx_bytes

pytestmark = pytest.mark.browser

BAD = [GOOD[0], ["GD-2025-0002", *GOOD[1][1:6], "修路类", *GOOD[1][7:]], GOOD[2]]


def stored(client) -> int:
    return run(client, lambda s: s.scalar(select(func.count()).select_from(Proposal)))


def import_twice(page: Page, client, cycle_id: str, shot: str) -> None:
    """From the triage page: a file with a bad row, then the fixed workbook, confirmed."""
    log_in(page, "gov-staff")
    page.goto(f"/staff/cycles/{cycle_id}/triage")
    page.get_by_role("link", name="导入热线工单").click()
    expect(page.locator("h1")).to_have_text("导入热线工单")
    page.set_input_files("#import-file", files=[{"name": "三月工单.csv", "mimeType": "text/csv",
                                                 "buffer": csv_bytes(BAD, encoding="gbk")}])
    page.get_by_role("button", name="检查并预览").click()
    expect(page.locator("#import-preview")).to_contain_text("文件中有 1 行需要修改")
    bad = page.locator("#line-3")
    expect(bad).to_contain_text("需修改")
    expect(bad.locator("ul.problems")).to_contain_text("“修路类”不是本年度的类别")
    expect(page.locator("#line-2")).to_contain_text("将新建")
    expect(page.locator("#confirm-form")).to_have_count(0)
    phone_checks(page)
    page.screenshot(path=str(ARTIFACTS / f"hotline-preview-problems-{shot}.png"), full_page=True)

    # A screenshot leaves a style attribute on the focused file input, which htmx would carry
    # over to the next page's input of the same id (a CSP refusal): start from a fresh page.
    page.goto(f"/staff/cycles/{cycle_id}/proposals/import")
    page.set_input_files("#import-file", files=[{
        "name": "三月工单.xlsx", "buffer": xlsx_bytes(GOOD),
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}])
    page.get_by_role("button", name="检查并预览").click()
    expect(page.locator("#count-create")).to_have_text("3")
    expect(page.locator("#line-4")).to_contain_text("城区增设老年助餐点")
    page.screenshot(path=str(ARTIFACTS / f"hotline-preview-ok-{shot}.png"), full_page=True)
    phone_checks(page)
    assert stored(client) == 0
    page.get_by_role("button", name="确认导入 3 条").click()
    expect(page.locator("#import-done")).to_contain_text("已导入 3 条建议")
    assert stored(client) == 3
    page.get_by_role("link", name="去审核").click()
    expect(page.locator("article.triage-item").first).to_contain_text("GD-2025-0001")
    assert not page.problems, page.problems


def phone_checks(page: Page) -> None:
    """At phone width nothing scrolls sideways and every control is a comfortable target."""
    if page.viewport_size["width"] <= 360:
        assert_phone_friendly(page)


def test_import_preview_and_confirm_on_a_phone(client, phone: Page, database_url):
    world = build_world(client)
    cycle_id = soliciting_cycle(client, world)
    backend = "postgresql" if database_url.startswith("postgres") else "sqlite"
    import_twice(phone, client, cycle_id, f"360-{backend}")


def test_import_preview_and_confirm_at_desktop_width(client, desktop: Page, database_url):
    world = build_world(client)
    cycle_id = soliciting_cycle(client, world)
    backend = "postgresql" if database_url.startswith("postgres") else "sqlite"
    import_twice(desktop, client, cycle_id, f"desktop-{backend}")
    # At desktop width the preview is a table with its column heads shown.
    desktop.goto(f"/staff/cycles/{cycle_id}/proposals/import")
    desktop.set_input_files("#import-file", files=[{"name": "again.csv", "mimeType": "text/csv",
                                                    "buffer": csv_bytes(GOOD)}])
    desktop.get_by_role("button", name="检查并预览").click()
    expect(desktop.locator("table.import-table thead")).to_be_visible()
    expect(desktop.locator("#count-skip")).to_have_text("3")
    width = desktop.evaluate("document.querySelector('main').getBoundingClientRect().width")
    assert width > 900, width  # the wide staff layout, not the phone column
