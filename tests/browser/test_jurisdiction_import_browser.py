"""In a real (Debian) chromium, on a 360 px phone and at desktop width: the administrator
uploads a jurisdictions CSV on /admin/jurisdictions, reads the preview (every row new,
unchanged or an error with its message, nothing sideways off the screen), fixes the file,
uploads it again and confirms; the new jurisdictions are listed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE, log_in, open_page

pytestmark = pytest.mark.browser

BAD = """code,name,level,parent_code,division_code
tianchi,天池镇,township,anyue2,512021100
anyue2,安岳县（导入）,county,ziyang,512021
ziyang,资阳市,city,sichuan,512000
sichuan,四川省,province,,510000
lezhi,乐至县,county,,
baoshan-zhen-long-code-example,宝山镇（名称很长的一个乡镇用来检查手机上的换行）,township,jinshun,5120211019
"""
GOOD = BAD.replace(
    "baoshan-zhen-long-code-example,宝山镇（名称很长的一个乡镇用来检查手机上的换行）,township,jinshun,5120211019",
    "baoshan,宝山镇,township,anyue2,512021101")


def upload(page, content: str, name: str = "资阳市区划.csv") -> None:
    page.set_input_files("#file", {"name": name, "mimeType": "text/csv",
                                   "buffer": content.encode("gbk")})
    page.get_by_role("button", name="上传并预览").click()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_admin_previews_fixes_and_confirms_an_import(client, world, browser, live_server,
                                                         database_url, size):
    backend = "postgresql" if database_url.startswith("postgres") else "sqlite"
    page = open_page(browser, live_server, **(PHONE if size == "phone" else DESKTOP))
    try:
        log_in(page, "admin")
        page.goto("/admin/jurisdictions")
        expect(page.locator("h1")).to_have_text("行政区域")

        upload(page, BAD)
        summary = page.locator("#preview-summary")
        expect(summary).to_contain_text("共 6 行：新增 4，已存在不变 1，有错误 1。")
        expect(summary).to_contain_text("GB18030")
        bad = page.locator("#line-7")
        expect(bad).to_contain_text("有错误")
        expect(bad).to_contain_text("乡镇区域的上级应为县级区域，而“jinshun”是乡镇。")
        expect(bad).to_be_visible()
        expect(page.locator("#line-2")).to_contain_text("新增")
        expect(page.locator("#line-6")).to_contain_text("已存在，不变")
        expect(page.locator("#confirm-import")).to_have_count(0)
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], widths
        card = page.evaluate("(c => [c.scrollWidth, c.clientWidth])("
                             "document.querySelector('#import'))")
        assert card[0] <= card[1], card  # nothing cut off or scrolled inside the card either
        if size == "phone":  # each row is a card of labelled lines, the first its line number
            expect(bad.locator("td").first).to_be_visible()
            label = bad.locator("td").first.evaluate(
                "td => getComputedStyle(td, '::before').content")
            assert "行" in label, label
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"jurisdiction-import-{size}-{backend}.png"),
                        full_page=True)
        assert page.problems == [f"HTTP 422: POST {live_server}/admin/jurisdictions/import/"
                                 "preview"], page.problems
        page.problems.clear()

        upload(page, GOOD)
        expect(summary).to_contain_text("共 6 行：新增 5，已存在不变 1，有错误 0。")
        confirm = page.get_by_role("button", name="确认导入 5 个新区域")
        box = confirm.bounding_box()
        assert box and box["height"] >= 44, box
        confirm.click()
        expect(page.locator("#import-done")).to_have_text("导入完成：新增 5 个，已存在不变 1 个。")
        for name in ("四川省", "资阳市", "安岳县（导入）", "天池镇", "宝山镇"):
            expect(page.locator("table.list").last).to_contain_text(name)
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], widths
        assert page.problems == [], page.problems
    finally:
        page.context.close()
