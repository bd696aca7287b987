"""Fixtures for the browser tests: Debian chromium through Playwright, and the real server.

The server runs as a uvicorn subprocess on the same database as the `client` fixture, so tests
seed data with tests/helpers.py and the browser sees it. `client` wipes the tables after each
test; the server keeps no state of its own besides the in-memory login throttle.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ROOT, app_server, unavailable
from tests.helpers import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
ARTIFACTS = ROOT / "test-artifacts"
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2, "locale": "zh-CN"}


# Module scope: Playwright's sync API keeps an event loop running in this thread while it is
# open, which would break any later test that calls asyncio.run() (the CLI, the fuzz suite).
@pytest.fixture(scope="module")
def browser():
    """One headless Debian chromium per test module (never a downloaded browser)."""
    if not os.path.exists(CHROMIUM):
        unavailable("Debian chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def live_server(database_url, tmp_path_factory) -> Iterator[str]:
    """The app under uvicorn on a free port, on the test database; its base URL."""
    with app_server(database_url, tmp_path_factory.mktemp("server") / "uvicorn.log") as base:
        yield base


DESKTOP = {"viewport": {"width": 1280, "height": 800}, "locale": "zh-CN"}
PHONE_390 = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
             "device_scale_factor": 2, "locale": "zh-CN"}


def open_page(browser, live_server: str, **context_args) -> Page:
    """A page in a fresh browser context of its own (own cookies) on the live server.

    `page.problems` collects JS errors, console errors (CSP refusals show up there) and answers
    of 400 and over; `page.sent` every request the page made. Close it with page.context.close().
    """
    context = browser.new_context(base_url=live_server, **context_args)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.problems, page.sent = [], []
    page.on("pageerror", lambda exc: page.problems.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: msg.type == "error"
            and not msg.text.startswith("Failed to load resource")
            and page.problems.append(f"console: {msg.text}"))
    # Failed requests are listed by URL below; a missing /favicon.ico is the browser's own.
    page.on("response", lambda r: r.status >= 400 and not r.url.endswith("/favicon.ico")
            and page.problems.append(f"HTTP {r.status}: {r.request.method} {r.url}"))
    page.on("request", lambda r: page.sent.append(f"{r.method} {r.url} {r.post_data or ''}"))
    return page


@pytest.fixture
def phone(browser, live_server):
    """A fresh phone-sized browser context (360×740, touch, zh-CN) on the live server."""
    page = open_page(browser, live_server, **PHONE)
    try:
        yield page
    finally:
        page.context.close()


@pytest.fixture
def desktop(browser, live_server):
    """A fresh desktop-sized (1280×800) browser context on the live server."""
    page = open_page(browser, live_server, **DESKTOP)
    page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm before closing a round
    try:
        yield page
    finally:
        page.context.close()


def log_in(page: Page, username: str) -> None:
    """Log `username` (a tests.helpers user, password PASSWORD) in on this page."""
    page.context.clear_cookies()
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.locator("header.site")).to_contain_text(f"测试{username}")
