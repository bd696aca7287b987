"""In Debian chromium on a 360 px phone: a pasted description longer than the limit is counted
live, refused with the limit and its length, and still all there to shorten; "修路" with a
short description goes through."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from app.models import Proposal
from app.schemas import DESCRIPTION
from tests.browser.conftest import log_in
from tests.browser.test_proposal_browser import assert_phone_friendly, soliciting_cycle
from tests.helpers import build_world, run

pytestmark = pytest.mark.browser


def test_an_over_long_description_is_counted_refused_and_kept_on_a_phone(client, phone: Page):
    world = build_world(client)
    cycle_id = soliciting_cycle(client, world)
    page = phone
    log_in(page, "resident")
    page.goto(f"/cycles/{cycle_id}/proposals/new")
    expect(page.locator("#description-count")).to_have_text(f"0 / {DESCRIPTION.max}")

    pasted = "社区老人吃饭不方便，希望建一个老年食堂。" * 300  # 6,000 characters
    page.fill("#title", "修路")
    page.fill("#description", pasted)
    expect(page.locator("#description-count")).to_have_text(f"6000 / {DESCRIPTION.max}")
    expect(page.locator("#description-count")).to_have_class(re.compile(r"\bover\b"))
    assert page.input_value("#description") == pasted  # the browser cut nothing
    page.locator("label.choice").first.click()
    page.get_by_role("button", name="提交建议").click()

    expect(page.locator("#form-error")).to_contain_text(
        f"「具体内容」太长：最多 {DESCRIPTION.max} 字，现有 6000 字")
    assert page.input_value("#description") == pasted
    assert page.input_value("#title") == "修路"
    expect(page.locator("#description-count")).to_have_text(f"6000 / {DESCRIPTION.max}")
    assert_phone_friendly(page)
    assert run(client, lambda s: s.scalar(select(func.count()).select_from(Proposal))) == 0

    page.fill("#description", "社区老人吃饭不方便")
    expect(page.locator("#description-count")).not_to_have_class(re.compile(r"\bover\b"))
    page.locator("label.choice").first.click()
    page.get_by_role("button", name="提交建议").click()
    expect(page).to_have_url(re.compile(r"/proposals/\w+\?submitted=1$"))
    expect(page.locator("h1")).to_contain_text("修路")
    # The one answer of 400 or over is the refusal itself; no script error, no CSP refusal.
    assert [p.split(" http")[0] for p in page.problems] == ["HTTP 422: POST"], page.problems
