"""In a real (Debian) chromium at desktop width (1280×800): gov staff build a candidate from two
accepted proposals and pass it at the 政府常务会议; congress staff review it; the public list then
shows it with links to both proposals. The print view is printed to an A4 PDF.

The builder's search, the chain's steps and the 差额 box are htmx fragment swaps, so every step
waits on the DOM rather than on a navigation.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, log_in
from tests.candidates import conftest as candidate_fixtures

pytestmark = pytest.mark.browser
screening = candidate_fixtures.screening  # (cycle id, 4 accepted proposals), in screening

def test_a_candidate_from_two_proposals_goes_through_the_chain_to_the_public_list(
        client, world, screening, desktop: Page, database_url):
    cycle_id, ids = screening
    backend = "postgresql" if database_url.startswith("postgres") else "sqlite"
    ARTIFACTS.mkdir(exist_ok=True)
    page = desktop

    # 拟定: from the cycle page to the builder.
    log_in(page, "gov-staff")
    page.goto(f"/cycles/{cycle_id}")
    page.get_by_role("link", name="候选项目审议").click()
    expect(page.locator("h1")).to_have_text("候选项目审议")
    expect(page.locator("#quota")).to_contain_text("已有 0 个经审查的候选项目，至少需要 12 个")
    page.get_by_role("link", name="拟定候选项目").click()
    expect(page.locator("h1")).to_have_text("拟定候选项目")

    # Tick one proposal, search for the other: the first stays ticked under 已选.
    page.get_by_label("村道硬化第1段").check()
    page.fill("#q", "第2段")
    expect(page.locator("#picker")).to_contain_text("已选（1 条）")
    expect(page.locator("#picker")).not_to_contain_text("村道硬化第3段")
    page.get_by_label("村道硬化第2段").check()

    page.fill("#title", "古乐路金顺镇至冯店镇段改建")
    page.fill("#summary", "按三级公路标准改建 7.8 公里，惠及沿线三个村，回应两段村道硬化的建议。")
    page.select_option("#responsible_unit", label="县交通运输局")
    page.fill("#budget_wan", "4680")
    sources = page.locator("input[name=funding_source]")
    amounts = page.locator("input[name=funding_amount]")
    sources.nth(0).fill("县级财政")
    amounts.nth(0).fill("1680")
    sources.nth(1).fill("上级补助")
    amounts.nth(1).fill("3000")
    page.locator("input[name=target]").nth(0).fill("新建公路 7.8 公里")
    page.locator("input[name=target]").nth(1).fill("新建错车道 12 处")
    page.fill("#deadline", "2025-12-31")
    page.fill("#feasibility", "已完成线路踏勘和初步设计。")
    page.screenshot(path=str(ARTIFACTS / f"candidate-builder-1280-{backend}.png"), full_page=True)
    page.get_by_role("button", name="保存候选项目").click()

    # 政府常务会议通过, in place; the card says so.
    expect(page).to_have_url(re.compile(rf"/staff/cycles/{cycle_id}/candidates\?done="))
    card = page.locator("article.cand").filter(has_text="古乐路金顺镇至冯店镇段改建")
    expect(card).to_contain_text("拟定中")
    expect(card).to_contain_text("回应 2 条建议")
    card.locator("textarea[name=reason]").fill("县政府第 12 次常务会议审议通过")
    card.get_by_role("button", name="政府常务会议通过").click()
    expect(card).to_contain_text("已办理：政府常务会议已通过")
    # Gov staff may still send it back; the congress takes the next step.
    expect(card.get_by_role("button")).to_have_text(["退回修改"])
    page.screenshot(path=str(ARTIFACTS / f"candidate-chain-gov-1280-{backend}.png"),
                    full_page=True)
    assert not page.problems, page.problems

    # 人大审查通过 by congress staff; the 差额 box counts it without a reload.
    log_in(page, "congress-staff")
    page.goto(f"/staff/cycles/{cycle_id}/candidates")
    card = page.locator("article.cand").filter(has_text="古乐路金顺镇至冯店镇段改建")
    expect(card).to_contain_text("政府常务会议已通过")
    expect(card.get_by_role("button", name="退回修改")).to_be_visible()
    card.locator("textarea[name=reason]").fill("县人大常委会第 5 次会议审查通过")
    card.get_by_role("button", name="人大审查通过").click()
    expect(card).to_contain_text("已办理：人大审查通过")
    expect(page.locator("#quota")).to_contain_text("已有 1 个经审查的候选项目，至少需要 12 个")
    expect(page.locator("#quota")).to_contain_text("还差 11 个")
    page.screenshot(path=str(ARTIFACTS / f"candidate-chain-congress-1280-{backend}.png"),
                    full_page=True)
    assert not page.problems, page.problems

    # The public list (logged out) links to both proposals with their endorsement counts.
    page.context.clear_cookies()
    page.goto(f"/cycles/{cycle_id}/candidates")
    item = page.locator("article.cand").filter(has_text="古乐路金顺镇至冯店镇段改建")
    expect(item).to_contain_text("县交通运输局")
    expect(item).to_contain_text("4680 万元")
    expect(item).to_contain_text("新建错车道 12 处")
    links = item.locator("ul.sources a")
    expect(links).to_have_count(2)
    hrefs = sorted(links.evaluate_all("els => els.map(e => e.getAttribute('href'))"))
    assert hrefs == sorted(f"/proposals/{pid}" for pid in ids[:2])
    page.screenshot(path=str(ARTIFACTS / f"candidate-public-1280-{backend}.png"), full_page=True)
    item.get_by_role("link", name="村道硬化第2段").click()
    expect(page).to_have_url(re.compile(rf"/proposals/{ids[1]}$"))
    expect(page.locator("#state")).to_have_text("已列入候选项目")
    assert not page.problems, page.problems

    # The print view as the deputies get it: A4, one candidate, both source proposals.
    page.goto(f"/cycles/{cycle_id}/candidates/print")
    expect(page.locator("h1")).to_contain_text("候选项目名单（供代表审议）")
    expect(page.locator(".sheet-item")).to_have_count(1)
    page.emulate_media(media="print")
    pdf = page.pdf(path=str(ARTIFACTS / f"candidates-print-{backend}.pdf"),
                   prefer_css_page_size=True, print_background=True)
    box = re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert pdf.startswith(b"%PDF") and box, "not a PDF"
    assert round(float(box[1])) == 595 and round(float(box[2])) == 842  # A4 in points
    assert not page.problems, page.problems
