"""In a real (Debian) chromium on a 360 px phone: register with the texted code, start a
proposal, be offered a similar one and endorse it in place, then file a different proposal.

The pages use htmx (the code notice, the similar-proposal list and the 附议 button are fragment
swaps), so every step waits on the DOM rather than on a navigation.
"""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from app.models import Cycle, Endorsement, Proposal, SmsMessage, User
from app.proposals import service
from tests.browser.conftest import ARTIFACTS
from tests.helpers import build_world, run

pytestmark = pytest.mark.browser

PHONE_WIDTH = 360
MIN_TARGET = 44  # CSS px: the smallest comfortable touch target
MOBILE = "13800138000"

_CONTROLS_JS = """() => {
  const sel = 'button, input:not([type]), input[type=text], input[type=password], ' +
              'input[type=search], input[type=number], input[type=tel], textarea, select, a.button';
  return [...document.querySelectorAll(sel)]
    .filter(el => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
    .map(el => ({what: el.outerHTML.slice(0, 100), height: el.getBoundingClientRect().height}));
}"""


def assert_phone_friendly(page: Page) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE_WIDTH, (
        f"{page.url} scrolls sideways on a phone: {scroll_width} px wide")
    small = [c for c in page.evaluate(_CONTROLS_JS) if c["height"] < MIN_TARGET]
    assert not small, f"touch targets under {MIN_TARGET} px on {page.url}: {small}"


def soliciting_cycle(client, world) -> str:
    r = client.post("/api/v1/cycles", json={"jurisdiction_code": "lezhi", "year": 2025,
                                            "title": "乐至县2025年民生实事项目", "seats": 10},
                    headers=world.headers("gov_staff"))
    cycle_id = r.json()["id"]
    r = client.post(f"/api/v1/cycles/{cycle_id}/transitions", json={"to": "soliciting"},
                    headers=world.headers("gov_staff"))
    assert r.status_code == 200, r.text
    return cycle_id


def existing_proposal(client, cycle_id: str) -> str:
    async def create(session):
        deputy = await session.scalar(select(User).where(User.username == "deputy"))
        p = await service.create(session, actor=deputy, cycle=await session.get(Cycle, cycle_id),
                                 title="金顺镇老旧小区加装电梯", category="城乡建设",
                                 description="六层楼没有电梯，老人上下楼很困难。",
                                 location_code="jinshun", place="幸福小区")
        return p.id

    return run(client, create)


def texted_code(client) -> str:
    async def read(session):
        return await session.scalar(select(SmsMessage.body).where(SmsMessage.phone == MOBILE))

    return re.search(r"\d{6}", run(client, read)).group()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 90), (40, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def test_register_endorse_a_similar_proposal_then_file_a_new_one(client, phone: Page,
                                                                 database_url):
    world = build_world(client)
    cycle_id = soliciting_cycle(client, world)
    lift = existing_proposal(client, cycle_id)
    backend = "postgresql" if database_url.startswith("postgres") else "sqlite"
    ARTIFACTS.mkdir(exist_ok=True)
    page = phone

    # 注册: the code notice is swapped in without a reload; the code comes from the outbox.
    page.goto("/login")
    page.get_by_role("link", name="用手机号注册").click()
    expect(page).to_have_url(re.compile(r"/register$"))
    page.fill("#phone", MOBILE)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#code-status")).to_contain_text("验证码已发送至 138****8000")
    assert_phone_friendly(page)
    page.screenshot(path=str(ARTIFACTS / f"proposal-register-360-{backend}.png"), full_page=True)
    page.fill("#code", texted_code(client))
    page.fill("#display_name", "王阿姨")
    page.select_option("#jurisdiction_code", "jinshun")
    page.fill("#password", "wang-ayi-2025")
    page.fill("#password_repeat", "wang-ayi-2025")
    page.get_by_role("button", name="注册并登录").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("header.site")).to_contain_text("王阿姨")

    # 我要提建议 goes straight to the one soliciting cycle of her county.
    page.locator("header.site").get_by_role("link", name="我要提建议").click()
    expect(page).to_have_url(re.compile(rf"/cycles/{cycle_id}/proposals/new$"))
    expect(page.locator("h1")).to_have_text("我要提建议")
    assert_phone_friendly(page)

    # Typing a title offers the similar proposal; 附议 happens in place, the form stays.
    page.locator("#title").press_sequentially("小区电梯", delay=60)
    suggestion = page.locator("#similar li.proposal").filter(has_text="金顺镇老旧小区加装电梯")
    expect(suggestion).to_be_visible()
    expect(suggestion.locator(".count")).to_contain_text("0 人附议")
    assert_phone_friendly(page)
    page.screenshot(path=str(ARTIFACTS / f"proposal-similar-360-{backend}.png"), full_page=True)
    suggestion.get_by_role("button", name="附议").click()
    expect(page.locator(f"#endorse-{lift}")).to_contain_text("已附议")
    expect(page.locator(f"#endorse-{lift} .count")).to_contain_text("1 人附议")
    expect(page).to_have_url(re.compile(r"/proposals/new$"))
    expect(page.locator("#title")).to_have_value("小区电梯")

    # Then a different proposal, with a photo.
    page.fill("#title", "南塔街道人民路安装路灯")
    page.fill("#description", "人民路晚上没有路灯，散步的老人和放学的孩子都看不清路。")
    page.locator("label.choice").filter(has_text="公共安全").click()
    page.select_option("#location_code", "nanta")
    page.fill("#place", "人民路中段")
    page.set_input_files("#photos", files=[{"name": "road.png", "mimeType": "image/png",
                                            "buffer": png()}])
    page.get_by_role("button", name="提交建议").click()
    expect(page).to_have_url(re.compile(r"/proposals/[0-9a-f]+\?submitted=1$"))
    expect(page.locator("main")).to_contain_text("您的建议已提交")
    expect(page.locator("main h1")).to_have_text("南塔街道人民路安装路灯")
    expect(page.locator("#state")).to_have_text("已提交")
    expect(page.locator(".photos img")).to_have_count(1)
    assert_phone_friendly(page)
    page.screenshot(path=str(ARTIFACTS / f"proposal-detail-360-{backend}.png"), full_page=True)

    # The public list, filtered with htmx, still fits the phone.
    page.goto(f"/cycles/{cycle_id}/proposals")
    page.fill("#q", "電梯")
    page.get_by_role("button", name="搜索", exact=True).click()
    expect(page.locator("#result-count")).to_have_text("共 1 条")
    expect(page).to_have_url(re.compile(rf"/cycles/{cycle_id}/proposals\?q=%E9%9B%BB%E6%A2%AF$"))
    assert_phone_friendly(page)
    page.screenshot(path=str(ARTIFACTS / f"proposal-list-360-{backend}.png"), full_page=True)

    def stored(session):
        async def count():
            return (await session.scalar(select(func.count()).select_from(Endorsement)
                                         .where(Endorsement.proposal_id == lift)),
                    await session.scalar(select(func.count()).select_from(Proposal)))
        return count()

    assert run(client, stored) == (1, 2)
    assert not page.problems, page.problems


def test_gov_staff_triage_on_a_phone(client, phone: Page, database_url):
    world = build_world(client)
    cycle_id = soliciting_cycle(client, world)
    lift = existing_proposal(client, cycle_id)
    office = existing_proposal(client, cycle_id)  # the same again: to be merged into the first
    backend = "postgresql" if database_url.startswith("postgres") else "sqlite"
    page = phone

    page.goto("/login")
    page.fill("#username", "gov-staff")
    page.fill("#password", "test-pass-123")
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.locator("header.site")).to_contain_text("测试gov-staff")
    page.goto(f"/cycles/{cycle_id}")
    page.get_by_role("link", name="建议审核").click()
    expect(page.locator("h1")).to_have_text("建议审核")
    expect(page.locator(f"#t-{lift} .beside")).to_contain_text("金顺镇老旧小区加装电梯")
    assert_phone_friendly(page)

    # 不予采纳 without a reason is refused in place; with a quick pick it goes through.
    item = page.locator(f"#t-{office}")
    item.get_by_text("不予采纳…").click()
    item.get_by_role("button", name="确认不予采纳").click()
    expect(page.locator(f"#t-{office} .error")).to_contain_text("不予采纳须说明理由")
    item = page.locator(f"#t-{office}")
    item.locator("label.choice").filter(has_text="属于上级政府事权").click()
    assert_phone_friendly(page)
    page.screenshot(path=str(ARTIFACTS / f"proposal-triage-360-{backend}.png"), full_page=True)
    item.get_by_role("button", name="确认不予采纳").click()
    expect(page.locator(f"#t-{office}")).to_contain_text("已处理：未采纳")

    page.locator(f"#t-{lift}").get_by_role("button", name="采纳入库").click()
    expect(page.locator(f"#t-{lift}")).to_contain_text("已处理：已采纳入库")
    page.goto(f"/proposals/{office}")
    expect(page.locator("ol.history")).to_contain_text("属于上级政府事权或已有专项安排")
    # Only the refusal above was a 4xx, and it was meant.
    assert [p for p in page.problems if "/review" not in p] == [], page.problems
