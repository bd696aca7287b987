"""In a real (Debian) chromium on two 360 px phones: a deputy logged in on both opens 登录设备
from the account page on one, sees both phones listed, logs out everywhere, and the other phone
is logged out at its next click; the API token of before is refused too."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, log_in, open_page
from tests.browser.test_cycle_phase_browser import assert_phone_friendly
from tests.browser.test_settings_browser import screenshot
from tests.helpers import build_world, token_headers

pytestmark = pytest.mark.browser

ANDROID = ("Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/120.0.0.0 Mobile Safari/537.36")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")


def test_log_out_everywhere_from_one_phone_logs_out_the_other(client, browser, live_server,
                                                              database_url):
    world = build_world(client)
    token = token_headers(client, world.users["deputy"].username)
    other = open_page(browser, live_server, **PHONE, user_agent=IPHONE)
    page = open_page(browser, live_server, **PHONE, user_agent=ANDROID)
    try:
        log_in(other, "deputy")
        log_in(page, "deputy")

        page.locator("header.site a.who").click()
        expect(page).to_have_url(re.compile(r"/account/password$"))
        page.get_by_role("link", name="查看登录设备").click()
        expect(page).to_have_url(re.compile(r"/account/sessions$"))
        items = page.locator("li.session-item")
        expect(items).to_have_count(2)
        expect(page.locator("li.session-item.current")).to_contain_text("当前设备")
        expect(page.locator("li.session-item.current")).to_contain_text("Android 13 · Pixel 7")
        expect(page.locator("li.session-item:not(.current)")).to_contain_text("Mobile Safari · iOS 17")
        assert_phone_friendly(page)
        screenshot(page, "sessions-360", database_url)

        page.get_by_role("button", name="退出所有设备").click()
        expect(page.get_by_role("status")).to_contain_text("已在所有设备上退出")
        expect(page.locator("header.site")).not_to_contain_text("测试deputy")
        assert_phone_friendly(page)

        other.reload()
        expect(other.locator("header.site")).not_to_contain_text("测试deputy")
        expect(other.locator("header.site").get_by_role("link", name="登录")).to_be_visible()
        other.goto("/ballots/mine")
        expect(other).to_have_url(re.compile(r"/login\?next=/ballots/mine$"))

        r = client.get("/api/v1/users/me", headers=token)
        assert r.status_code == 401 and r.json()["code"] == "invalid_token"
        assert page.problems == [] and other.problems == []
    finally:
        other.context.close()
        page.context.close()
