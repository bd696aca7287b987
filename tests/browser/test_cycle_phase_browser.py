"""In a real (Debian) chromium on a 360 px phone: log in, create a cycle, move it to 征集; congress
staff name the congress session the 公告 will speak for.

Also the first log-in of a deputy with a generated password: the password page comes first.
The pages use htmx (hx-boost, and an hx-post fragment swap on the cycle page), so every step
waits on the DOM rather than on a navigation.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app.auth.roles import Role
from tests.browser.conftest import ARTIFACTS
from tests.helpers import PASSWORD, build_world, create_user, token_headers

pytestmark = pytest.mark.browser

PHONE_WIDTH = 360
MIN_TARGET = 44  # CSS px: the smallest comfortable touch target

# Every visible button and text-entry control, with its height and a short description.
_CONTROLS_JS = """() => {
  const sel = 'button, input:not([type]), input[type=text], input[type=password], ' +
              'input[type=search], input[type=number], input[type=email], input[type=tel], ' +
              'input[type=submit], textarea, select, a.button';
  return [...document.querySelectorAll(sel)]
    .filter(el => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
    .map(el => ({what: el.outerHTML.slice(0, 100), height: el.getBoundingClientRect().height}));
}"""


def assert_phone_friendly(page: Page) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE_WIDTH, (
        f"{page.url} scrolls sideways on a phone: {scroll_width} px wide")
    controls = page.evaluate(_CONTROLS_JS)
    assert controls, f"no buttons or inputs found on {page.url}"
    small = [c for c in controls if c["height"] < MIN_TARGET]
    assert not small, f"touch targets under {MIN_TARGET} px on {page.url}: {small}"


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.get_by_role("button", name="登录", exact=True).click()


def test_gov_staff_opens_soliciting_on_a_phone(client, phone: Page, database_url):
    build_world(client)
    page = phone

    page.goto("/login")
    expect(page.locator("#username")).to_be_visible()
    assert_phone_friendly(page)
    log_in(page, "gov-staff")
    expect(page.locator("header.site")).to_contain_text("测试gov-staff")

    page.goto("/cycles/new")
    page.select_option("#jurisdiction_code", "lezhi")
    page.fill("#year", "2025")
    page.fill("#title", "乐至县2025年民生实事项目")
    page.fill("#seats", "10")
    page.get_by_role("button", name="创建").click()

    phase = page.locator("#phase-panel [data-phase]")
    expect(page).to_have_url(re.compile(r"/cycles/[^/]+$"))
    expect(phase).to_have_attribute("data-phase", "draft")
    expect(page.locator("#phase-panel h2")).to_contain_text("当前阶段")
    expect(phase).to_have_text("筹备")
    assert_phone_friendly(page)

    reason = "人代会决定启动2025年度征集（浏览器测试）"
    page.fill("#reason", reason)
    page.get_by_role("button", name="进入「征集」").click()

    expect(phase).to_have_attribute("data-phase", "soliciting")
    expect(phase).to_have_text("征集")
    latest = page.locator("ol.history li").last
    expect(latest).to_contain_text(reason)
    expect(latest.locator(".by")).to_have_text("gov-staff")
    expect(page.locator("ol.history")).to_contain_text("筹备 → 征集")
    assert_phone_friendly(page)

    backend = "postgresql" if database_url.startswith("postgres") else "sqlite"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"cycle-phase-360-{backend}.png"), full_page=True)
    assert not page.problems, page.problems


def test_deputy_with_a_generated_password_changes_it_first(client, phone: Page):
    build_world(client)
    create_user(client, "new-deputy", Role.deputy, must_change_password=True)
    page = phone

    log_in(page, "new-deputy")
    expect(page).to_have_url(re.compile(r"/account/password$"))
    expect(page.locator("h1")).to_have_text("修改密码")
    expect(page.locator(".notice")).to_contain_text("初始密码")

    page.goto("/")  # not yet: the password page again
    expect(page).to_have_url(re.compile(r"/account/password$"))

    new_password = "my-own-pass-7"
    page.fill("#current_password", PASSWORD)
    page.fill("#new_password", new_password)
    page.fill("#new_password_repeat", new_password)
    page.get_by_role("button", name="保存新密码").click()
    expect(page.get_by_role("status")).to_contain_text("密码已修改")

    page.get_by_role("link", name="返回首页").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("h1")).to_have_text("民生实事项目人大代表票决")
    expect(page.locator("main")).to_contain_text("乐至县")
    page.goto("/")  # a full load, not just the boosted swap
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("header.site")).to_contain_text("测试new-deputy")
    assert not page.problems, page.problems


def test_congress_staff_name_the_congress_session_on_a_phone(client, phone: Page):
    build_world(client)
    r = client.post("/api/v1/cycles", json={"jurisdiction_code": "lezhi", "year": 2025,
                                            "title": "乐至县2025年民生实事项目", "seats": 10},
                    headers=token_headers(client, "gov-staff"))
    assert r.status_code == 201, r.text
    cycle_id = r.json()["id"]
    page = phone
    log_in(page, "congress-staff")
    expect(page.locator("header.site")).to_contain_text("测试congress-staff")

    page.goto(f"/cycles/{cycle_id}")
    field = page.locator("#congress_session")
    expect(field).to_be_visible()
    assert_phone_friendly(page)
    field.fill("第五次会议")  # not a session's full name: shown again with what to write
    page.get_by_role("button", name="保存会议名称").click()
    expect(page.locator("#congress-session-error")).to_contain_text("第十八届人民代表大会第五次会议")
    expect(field).to_have_value("第五次会议")
    assert_phone_friendly(page)

    field.fill("第十八届人民代表大会第五次会议")
    page.get_by_role("button", name="保存会议名称").click()
    expect(page.locator("dl.facts")).to_contain_text("乐至县第十八届人民代表大会第五次会议")
    expect(page.locator("#congress-session-error")).to_have_count(0)
    # the refused name was answered 422 (the form shown again), and nothing else went wrong
    assert [p for p in page.problems if not p.startswith("HTTP 422: POST ")] == []
    assert len(page.problems) == 1, page.problems
