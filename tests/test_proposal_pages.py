"""The pages of 征集: register by SMS code, propose (with similar proposals), the public list,
one proposal, staff triage, the reserve, the inbox — with and without htmx."""

from __future__ import annotations

import io
import re
import struct
import zlib

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.auth.roles import Role
from app.models import Cycle, Proposal, ProposalPhoto, SmsMessage, User
from app.proposals import service
from tests.helpers import create_user, csrf, page_login, run

API = "/api/v1"
HX = {"hx-request": "true"}


@pytest.fixture(autouse=True)
def fresh_rate_limits(client):
    """Rate-limit counters live in the app for the whole session: start each test at zero."""
    client.portal.call(client.app.state.rate_limits.limiter.storage.reset)


# ------------------------------------------------------------------ helpers

def open_cycle(client, world, year: int = 2025, jurisdiction: str = "lezhi") -> str:
    """A cycle in 征集, made through the API by gov staff."""
    r = client.post(f"{API}/cycles", json={"jurisdiction_code": jurisdiction, "year": year,
                                           "title": f"乐至县{year}年民生实事项目", "seats": 10},
                    headers=world.headers("gov_staff"))
    cycle_id = r.json()["id"]
    r = client.post(f"{API}/cycles/{cycle_id}/transitions", json={"to": "soliciting"},
                    headers=world.headers("gov_staff"))
    assert r.status_code == 200, r.text
    return cycle_id


def draft_cycle(client, world, year: int = 2026) -> str:
    r = client.post(f"{API}/cycles", json={"jurisdiction_code": "lezhi", "year": year,
                                           "title": f"乐至县{year}年民生实事项目", "seats": 10},
                    headers=world.headers("gov_staff"))
    return r.json()["id"]


def file_proposal(client, cycle_id: str, actor_username: str, **fields) -> str:
    """A proposal filed straight through the service (no rate limit), as `actor_username`."""
    values = {"title": "金顺镇老旧小区加装电梯", "description": "六层楼没有电梯，老人上下楼很困难。",
              "category": "城乡建设", "location_code": "jinshun", "place": "金顺镇幸福小区", **fields}

    async def create(session):
        actor = await session.scalar(select(User).where(User.username == actor_username))
        cycle = await session.get(Cycle, cycle_id)
        p = await service.create(session, actor=actor, cycle=cycle, **values)
        return p.id

    return run(client, create)


def form(client, **overrides) -> dict:
    data = {"csrftoken": csrf(client), "title": "南塔街道人民路安装路灯",
            "description": "人民路晚上没有路灯，散步的老人和放学的孩子都看不清路。",
            "category": "公共安全", "location_code": "nanta", "place": "人民路中段",
            "estimated_cost_wan": "35.5"}
    data.update(overrides)
    return data


def png(color=(200, 30, 30), size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def submit(client, cycle_id: str, data: dict, photos: list[tuple[str, bytes, str]] = ()):
    files = [("photos", p) for p in photos] or None
    return client.post(f"/cycles/{cycle_id}/proposals/new", data=data, files=files,
                       follow_redirects=False)


def count(client, model, *where) -> int:
    async def n(session):
        return await session.scalar(select(func.count()).select_from(model).where(*where))

    return run(client, n)


def last_code(client, phone: str) -> str:
    async def read(session):
        body = await session.scalar(select(SmsMessage.body).where(SmsMessage.phone == phone)
                                    .order_by(SmsMessage.created_at.desc()).limit(1))
        return re.search(r"\d{6}", body).group()

    return run(client, read)


def main(html: str) -> str:
    """The page's content, without the header (which names whoever is logged in)."""
    return html[html.index('<main id="main">'):html.index("</main>")]


def proposal_id_from(response) -> str:
    assert response.status_code == 303, response.text[:3000]
    match = re.fullmatch(r"/proposals/([0-9a-f]+)\?submitted=1", response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


# ------------------------------------------------------------------ 注册

def test_the_login_page_links_to_registration(client, world):
    assert 'href="/register"' in client.get("/login").text


def test_a_resident_registers_with_the_texted_code_and_is_logged_in(client, world):
    page = client.get("/register")
    assert page.status_code == 200 and "获取验证码" in page.text and "金顺镇" in page.text
    r = client.post("/register/code", data={"csrftoken": csrf(client), "phone": "138 0013 8000",
                                             "display_name": "王阿姨"})
    assert r.status_code == 200 and "验证码已发送至 138****8000" in r.text
    assert 'value="13800138000"' in r.text and 'value="王阿姨"' in r.text  # no JS: a whole page
    code = last_code(client, "13800138000")
    base = {"csrftoken": csrf(client), "phone": "13800138000", "display_name": "王阿姨",
            "jurisdiction_code": "jinshun", "password": "wang-ayi-2025",
            "password_repeat": "wang-ayi-2025", "code": code}

    r = client.post("/register", data={**base, "password_repeat": "something-else1"})
    assert r.status_code == 422 and "两次输入的密码不一致" in r.text
    assert 'value="王阿姨"' in r.text and "wang-ayi-2025" not in r.text  # kept, but no password
    r = client.post("/register", data={**base, "code": "000000" if code != "000000" else "111111"})
    assert r.status_code == 422 and "验证码不正确" in r.text
    r = client.post("/register", data={**base, "jurisdiction_code": ""})
    assert r.status_code == 422 and "请选择所在乡镇（街道）" in r.text
    r = client.post("/register", data={**base, "display_name": "王\x00阿姨"})
    assert r.status_code == 422 and "无法保存的字符" in r.text

    r = client.post("/register", data=base, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert "王阿姨" in client.get("/").text  # logged in: the name is in the header
    user = run(client, lambda s: s.scalar(select(User).where(User.username == "13800138000")))
    assert user.role == Role.resident and user.jurisdiction_code == "jinshun"


def test_the_code_request_under_htmx_swaps_in_only_the_notice(client, world):
    r = client.post("/register/code", data={"phone": "13900139000"},
                    headers={**HX, "x-csrftoken": csrf(client)})
    assert r.status_code == 200 and "<html" not in r.text and "验证码已发送" in r.text
    r = client.post("/register/code", data={"phone": "13900139000"},
                    headers={**HX, "x-csrftoken": csrf(client)})
    assert r.status_code == 429 and "请稍等一分钟" in r.text and "<html" not in r.text
    r = client.post("/register/code", data={"phone": "12345"},
                    headers={**HX, "x-csrftoken": csrf(client)})
    assert r.status_code == 422 and "请输入 11 位手机号码" in r.text


def test_an_already_registered_number_is_told_to_log_in(client, world):
    client.post("/register/code", data={"csrftoken": csrf(client), "phone": "13700137000"})
    data = {"csrftoken": csrf(client), "phone": "13700137000", "display_name": "李师傅",
            "jurisdiction_code": "lezhi", "password": "li-shifu-88", "password_repeat":
            "li-shifu-88", "code": last_code(client, "13700137000")}
    assert client.post("/register", data=data, follow_redirects=False).status_code == 303
    client.post("/logout", data={"csrftoken": csrf(client)})
    client.get("/register")
    r = client.post("/register", data={**data, "csrftoken": csrf(client)})  # the code is used up
    assert r.status_code == 422 and "验证码已过期或未获取" in r.text
    # One code a minute per number.
    client.portal.call(client.app.state.rate_limits.limiter.storage.reset)
    client.post("/register/code", data={"csrftoken": csrf(client), "phone": "13700137000"})
    r = client.post("/register", data={**data, "csrftoken": csrf(client),
                                       "code": last_code(client, "13700137000")})
    assert r.status_code == 409 and "该手机号已注册，请直接登录" in r.text


def test_staff_read_the_sms_outbox_and_others_may_not(client, world):
    client.post("/register/code", data={"csrftoken": csrf(client), "phone": "13600136000",
                                        "jurisdiction_code": "jinshun"})
    page_login(client, "gov-staff")
    page = client.get("/staff/sms-outbox")
    assert page.status_code == 200 and "13600136000" in page.text and "您的验证码是" in page.text
    assert 'href="/staff/sms-outbox"' in page.text  # in the navigation
    page_login(client, "resident")
    r = client.get("/staff/sms-outbox")
    assert r.status_code == 403 and "13600136000" not in r.text
    client.post("/logout", data={"csrftoken": csrf(client)})
    r = client.get("/staff/sms-outbox", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


# ------------------------------------------------------------------ 提建议

def test_a_resident_files_a_proposal_with_a_photo(client, world, tmp_path):
    cycle_id = open_cycle(client, world)
    page_login(client, "resident")
    page = client.get(f"/cycles/{cycle_id}/proposals/new")
    assert page.status_code == 200
    assert page.text.count('type="radio" name="category"') == 10  # the cycle's categories
    assert ">南塔街道<" in page.text and 'enctype="multipart/form-data"' in page.text
    # The CSRF token is the first field of the multipart form (asgi-csrf reads it first).
    form_html = page.text[page.text.index('id="proposal-form"'):]
    assert form_html.index('name="csrftoken"') < form_html.index('name="title"')
    assert 'name="channel"' not in page.text  # residents propose online only

    r = submit(client, cycle_id, form(client), [("road.png", png(), "image/png")])
    pid = proposal_id_from(r)
    detail = main(client.get(r.headers["location"]).text)
    assert "南塔街道人民路安装路灯" in detail and "您的建议已提交" in detail
    assert "已提交" in detail and "35.50 万元" in detail and "人民路中段" in detail
    assert "测**" in detail and "测试resident" not in detail  # a masked proposer
    # A small copy is shown (lazy), linking to the full photo.
    assert re.search(r'<a href="/media/photos/[0-9a-f]{32}\.jpg"[^>]*><img '
                     r'src="/media/photos/[0-9a-f]{32}-s\.jpg"[^>]*loading="lazy"', detail)
    assert count(client, ProposalPhoto, ProposalPhoto.proposal_id == pid) == 1


def test_a_fake_image_stores_nothing_and_the_form_keeps_its_values(client, world):
    cycle_id = open_cycle(client, world)
    file_proposal(client, cycle_id, "deputy", title="人民路路灯不亮", place="人民路")
    page_login(client, "resident")
    r = submit(client, cycle_id, form(client, title="保留的标题：人民路路灯"),
               [("ok.png", png(), "image/png"), ("evil.jpg", b"<?php echo 1; ?>", "image/jpeg")])
    assert r.status_code == 422 and "无法识别该图片" in r.text
    assert 'value="保留的标题：人民路路灯"' in r.text and "人民路晚上没有路灯" in r.text
    assert re.search(r'value="公共安全" checked', r.text) and 'value="35.5"' in r.text
    assert re.search(r'<option value="nanta" selected>', r.text)
    assert "照片没有保存，请重新选择照片" in r.text
    assert "人民路路灯不亮" in r.text and ">附议</button>" in r.text  # offered instead
    assert count(client, Proposal) == 1 and count(client, ProposalPhoto) == 0


def broken_exif_png() -> bytes:
    """A PNG whose eXIf chunk is cut short (Pillow raises struct.error on it)."""
    data = png()
    exif = b"MM\x00*"
    chunk = (struct.pack(">I", len(exif)) + b"eXIf" + exif
             + struct.pack(">I", zlib.crc32(b"eXIf" + exif) & 0xFFFFFFFF))
    return data[:33] + chunk + data[33:]  # right after the IHDR chunk


def test_a_photo_with_broken_exif_is_refused_not_a_server_error(client, world):
    cycle_id = open_cycle(client, world)
    page_login(client, "resident")
    r = submit(client, cycle_id, form(client), [("x.png", broken_exif_png(), "image/png")])
    assert r.status_code == 422 and "无法识别该图片" in r.text
    assert count(client, Proposal) == 0 and count(client, ProposalPhoto) == 0


def test_a_photo_over_8_mb_or_a_fourth_photo_is_refused_and_nothing_is_stored(client, world):
    cycle_id = open_cycle(client, world)
    page_login(client, "resident")
    big = png() + b"\0" * (8 * 1024 * 1024)
    r = submit(client, cycle_id, form(client), [("big.png", big, "image/png")])
    assert r.status_code == 413 and "每张照片不能超过 8 MB" in r.text
    r = submit(client, cycle_id, form(client), [(f"{i}.png", png(), "image/png") for i in range(4)])
    assert r.status_code == 422 and "最多 3 张照片" in r.text
    assert count(client, Proposal) == 0 and count(client, ProposalPhoto) == 0


def test_form_mistakes_are_explained_in_chinese_with_the_values_kept(client, world):
    cycle_id = open_cycle(client, world)
    page_login(client, "resident")
    r = submit(client, cycle_id, form(client, title="修", description="路坏"))
    assert r.status_code == 422
    assert "「标题」至少 2 个字" in r.text and "「具体内容」至少 4 个字" in r.text
    assert 'value="修"' in r.text and ">路坏</textarea>" in r.text
    r = submit(client, cycle_id, form(client, category="", estimated_cost_wan="很多"))
    assert r.status_code == 422 and "「类别」必填" in r.text and "「估算金额（万元）」" in r.text
    r = submit(client, cycle_id, form(client, category="不存在的类别"))
    assert r.status_code == 422 and "请从列表中选择类别" in r.text
    r = submit(client, cycle_id, form(client, location_code="anyue"))
    assert r.status_code == 422 and "请从列表中选择所在乡镇（街道）" in r.text
    r = submit(client, cycle_id, form(client, description="路灯坏了很久了\x00没人修，晚上很黑。"))
    assert r.status_code == 422 and "输入中含有无法保存的字符" in r.text
    assert count(client, Proposal) == 0


def test_html_in_a_proposal_and_a_comment_is_shown_as_text(client, world):
    cycle_id = open_cycle(client, world)
    page_login(client, "resident")
    evil = '<script>alert("x")</script>路灯'
    pid = proposal_id_from(submit(client, cycle_id, form(client, title=evil,
                                                        place='<img src=x onerror=alert(1)>')))
    r = client.post(f"/proposals/{pid}/comments", data={"csrftoken": csrf(client),
                                                        "body": "<b>支持</b><script>x()</script>"},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/proposals/{pid}").text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;路灯" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<b>支持</b>" not in page and "&lt;b&gt;支持&lt;/b&gt;" in page
    listing = client.get(f"/cycles/{cycle_id}/proposals").text
    assert "<script>alert" not in listing and "&lt;script&gt;" in listing


def test_proposals_are_taken_only_while_the_cycle_is_soliciting(client, world):
    cycle_id = draft_cycle(client, world)
    page_login(client, "resident")
    page = client.get(f"/cycles/{cycle_id}/proposals/new")
    assert page.status_code == 409 and "本年度建议征集尚未开始或已经结束" in page.text
    assert 'name="title"' not in page.text
    r = submit(client, cycle_id, form(client))
    assert r.status_code == 409 and "征集尚未开始或已经结束" in r.text
    assert count(client, Proposal) == 0


def test_who_may_open_the_proposal_form(client, world):
    cycle_id = open_cycle(client, world)
    r = client.get(f"/cycles/{cycle_id}/proposals/new", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == (
        f"/login?next=/cycles/{cycle_id}/proposals/new")
    for who in ("unit-staff", "congress-staff", "admin"):
        page_login(client, who)
        r = client.get(f"/cycles/{cycle_id}/proposals/new")
        assert r.status_code == 403 and "只有群众、人大代表和政府工作人员可以提出建议" in r.text, who
        assert submit(client, cycle_id, form(client)).status_code == 403
    create_user(client, "anyue-resident", Role.resident, "anyue")
    page_login(client, "anyue-resident")
    r = client.get(f"/cycles/{cycle_id}/proposals/new")
    assert r.status_code == 403 and "本人所在乡镇或县" in r.text
    assert client.get("/cycles/nope/proposals/new").status_code == 404
    assert count(client, Proposal) == 0


def test_gov_staff_record_a_hotline_proposal_for_its_proposer(client, world):
    cycle_id = open_cycle(client, world)
    page_login(client, "gov-staff")
    page = client.get(f"/cycles/{cycle_id}/proposals/new").text
    assert "代录建议" in page and '<option value="hotline">12345热线</option>' in page
    r = submit(client, cycle_id, form(client, proposer_name="张大爷"))
    assert r.status_code == 422 and "请选择建议来源渠道" in r.text and 'value="张大爷"' in r.text
    r = submit(client, cycle_id, form(client, channel="hotline", proposer_name=""))
    assert r.status_code == 422 and "请填写建议人姓名或单位" in r.text
    r = submit(client, cycle_id, form(client, channel="online", proposer_name="张大爷"))
    assert r.status_code == 422
    pid = proposal_id_from(submit(client, cycle_id, form(client, channel="hotline",
                                                         proposer_name="张大爷"),
                                  [("p.png", png(), "image/png")]))
    detail = client.get(f"/proposals/{pid}").text
    assert "12345热线群众" in detail and "张大爷" not in detail and "张*" not in detail
    assert count(client, ProposalPhoto, ProposalPhoto.proposal_id == pid) == 1


def test_a_deputy_proposal_names_the_deputy(client, world):
    cycle_id = open_cycle(client, world)
    page_login(client, "deputy")
    pid = proposal_id_from(submit(client, cycle_id, form(client)))
    detail = client.get(f"/proposals/{pid}").text
    assert "测试deputy（人大代表）" in detail and "代表建议" in detail


def test_the_per_person_limit_applies_to_page_submissions(client, world):
    cycle_id = open_cycle(client, world)
    page_login(client, "resident")
    for i in range(5):
        proposal_id_from(submit(client, cycle_id, form(client, title=f"第{i + 1}条建议：修路灯")))
    r = submit(client, cycle_id, form(client, title="第六条建议：修路灯"))
    assert r.status_code == 429 and "每小时最多 5 条" in r.text and 'value="第六条建议：修路灯"' in r.text
    assert count(client, Proposal) == 5


# ------------------------------------------------------------------ 相似建议 and 附议

def test_similar_proposals_are_offered_while_the_title_is_typed(client, world):
    cycle_id = open_cycle(client, world)
    lift = file_proposal(client, cycle_id, "deputy")
    file_proposal(client, cycle_id, "deputy", title="石佛村修建文化广场", category="文体服务",
                  description="村里没有活动场地，老人和孩子都没地方去。", place="石佛村")
    page_login(client, "resident")
    url = f"/cycles/{cycle_id}/proposals/similar"
    r = client.get(url, params={"title": "小区电梯"}, headers=HX)
    assert r.status_code == 200 and "<html" not in r.text
    assert "金顺镇老旧小区加装电梯" in r.text and "文化广场" not in r.text
    assert f'formaction="/proposals/{lift}/endorse"' in r.text  # the button joins the form
    assert f'hx-post="/proposals/{lift}/endorse"' in r.text and "0</strong> 人附议" in r.text
    assert client.get(url, params={"title": "电"}, headers=HX).text.strip() == ""
    # Without JavaScript: a page of its own, each 附议 a form.
    page = client.get(url, params={"title": "電梯"})
    assert "<html" in page.text and "金顺镇老旧小区加装电梯" in page.text
    assert f'<form method="post" action="/proposals/{lift}/endorse"' in page.text
    # The form re-shown after a mistake offers them too.
    r = submit(client, cycle_id, form(client, title="加装电梯", description="短"))
    assert r.status_code == 422 and "金顺镇老旧小区加装电梯" in r.text


def test_endorsing_once_per_person_with_and_without_htmx(client, world):
    cycle_id = open_cycle(client, world)
    pid = file_proposal(client, cycle_id, "deputy")
    page_login(client, "resident")
    r = client.post(f"/proposals/{pid}/endorse", data={"csrftoken": csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/proposals/{pid}?endorsed=1"
    page = client.get(r.headers["location"]).text
    assert "附议成功" in page and "✓ 已附议" in page and "<strong>1</strong> 人附议" in page
    r = client.post(f"/proposals/{pid}/endorse", data={"csrftoken": csrf(client)})
    assert r.status_code == 409 and "您已经附议过这条建议" in r.text
    r = client.post(f"/proposals/{pid}/endorse", headers={**HX, "x-csrftoken": csrf(client)})
    assert r.status_code == 409 and "<html" not in r.text and "已附议" in r.text

    create_user(client, "neighbour", Role.resident, "jinshun")
    page_login(client, "neighbour")
    r = client.post(f"/proposals/{pid}/endorse", headers={**HX, "x-csrftoken": csrf(client)})
    assert r.status_code == 200
    assert r.text.lstrip().startswith(f'<div class="endorse" id="endorse-{pid}"')
    assert "<strong>2</strong> 人附议" in r.text and "已附议，谢谢您的支持" in r.text

    page_login(client, "deputy")  # the proposer
    assert "这是您提出的建议" in client.get(f"/proposals/{pid}").text
    r = client.post(f"/proposals/{pid}/endorse", data={"csrftoken": csrf(client)})
    assert r.status_code == 409 and "无需附议" in r.text
    page_login(client, "gov-staff")
    r = client.post(f"/proposals/{pid}/endorse", data={"csrftoken": csrf(client)})
    assert r.status_code == 403 and "只有群众和人大代表可以附议" in r.text
    client.post("/logout", data={"csrftoken": csrf(client)})
    assert f'href="/login?next=/proposals/{pid}"' in client.get(f"/proposals/{pid}").text
    # A stale page's form, posted after the session ended: log in, then back to the proposal.
    r = client.post(f"/proposals/{pid}/endorse", data={"csrftoken": csrf(client)},
                    follow_redirects=False)
    assert r.headers["location"] == f"/login?next=/proposals/{pid}/endorse"
    r = client.get(f"/proposals/{pid}/endorse", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/proposals/{pid}"


# ------------------------------------------------------------------ the public list

def test_the_list_filters_searches_sorts_and_pages(client, world):
    cycle_id = open_cycle(client, world)
    lift = file_proposal(client, cycle_id, "deputy")
    for i in range(21):
        file_proposal(client, cycle_id, "gov-staff", title=f"南塔街道第{i + 1}号路灯",
                      description="晚上太黑，群众出行不安全。", category="公共安全",
                      location_code="nanta", channel="hotline", proposer_name="热线来电")
    page_login(client, "resident")
    client.post(f"/proposals/{lift}/endorse", data={"csrftoken": csrf(client)})
    client.post("/logout", data={"csrftoken": csrf(client)})

    url = f"/cycles/{cycle_id}/proposals"
    first = client.get(url).text
    assert "共 22 条" in first and first.count('class="proposal"') == 20 and "第 1 / 2 页" in first
    assert "南塔街道第21号路灯" in first  # newest first
    second = client.get(url, params={"page": "2"}).text
    assert second.count('class="proposal"') == 2 and "金顺镇老旧小区加装电梯" in second
    found = client.get(url, params={"q": "電梯"}).text  # traditional finds simplified
    assert "共 1 条" in found and "金顺镇老旧小区加装电梯" in found and "城乡建设" in found
    assert "金顺镇幸福小区" in found and "已提交" in found and "<strong>1</strong> 人附议" in found
    assert "共 1 条" in client.get(url, params={"category": "城乡建设"}).text
    assert "共 21 条" in client.get(url, params={"place": "nanta"}).text
    assert "共 0 条" in client.get(url, params={"state": "accepted"}).text
    top = client.get(url, params={"sort": "endorsed"}).text
    assert top.index("金顺镇老旧小区加装电梯") < top.index("南塔街道第21号路灯")
    # htmx: only the results, and the page links keep the filters.
    r = client.get(url, params={"place": "nanta"}, headers=HX)
    assert r.text.lstrip().startswith('<section id="results"') and "<html" not in r.text
    assert "place=nanta&amp;page=2" in r.text
    # A history restore needs the whole page.
    r = client.get(url, headers={**HX, "hx-history-restore-request": "true"})
    assert "<html" in r.text
    # Nonsense in the address is ignored, never an error.
    r = client.get(url, params={"page": "x", "state": "bogus", "sort": "?", "category": "无"})
    assert r.status_code == 200 and "共 22 条" in r.text
    assert client.get("/cycles/nope/proposals").status_code == 404


def test_the_cycle_page_links_to_the_proposals(client, world):
    cycle_id = open_cycle(client, world)
    page = client.get(f"/cycles/{cycle_id}").text
    assert f'href="/cycles/{cycle_id}/proposals"' in page
    assert f'href="/cycles/{cycle_id}/proposals/new"' in page
    page_login(client, "gov-staff")
    assert f'href="/staff/cycles/{cycle_id}/triage"' in client.get(f"/cycles/{cycle_id}").text


def test_propose_goes_straight_to_ones_own_soliciting_cycle(client, world):
    page_login(client, "resident")
    assert "目前没有正在征集建议的年度" in client.get("/propose").text
    cycle_id = open_cycle(client, world)
    r = client.get("/propose", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/cycles/{cycle_id}/proposals/new"


# ------------------------------------------------------------------ one proposal

def test_the_proposal_page_shows_its_history_with_reasons_and_merges(client, world):
    cycle_id = open_cycle(client, world)
    a = file_proposal(client, cycle_id, "resident")
    b = file_proposal(client, cycle_id, "deputy", title="幸福小区加装电梯")
    c = file_proposal(client, cycle_id, "deputy", title="金顺镇新建办公楼")
    staff = world.headers("gov_staff")
    client.post(f"{API}/proposals/{b}/review", json={"decision": "merge", "merge_into_id": a},
                headers=staff)
    client.post(f"{API}/proposals/{c}/review", json={"decision": "reject",
                                                     "reason": "属于楼堂馆所建设，列入负面清单"},
                headers=staff)
    merged = client.get(f"/proposals/{b}").text
    assert "已合并" in merged and f'href="/proposals/{a}"' in merged
    assert "本建议已与相同内容的建议合并" in merged and "gov-staff" in merged
    rejected = client.get(f"/proposals/{c}").text
    assert "未采纳" in rejected and "属于楼堂馆所建设，列入负面清单" in rejected
    assert "已提交 → 未采纳" in rejected
    target = client.get(f"/proposals/{a}").text
    assert "<strong>1</strong> 人附议" in target  # the merged proposal's proposer backs it
    r = client.get("/proposals/does-not-exist")
    assert r.status_code == 404 and "找不到该建议" in r.text


def test_comments_can_be_reported_and_hidden_by_staff_with_a_public_reason(client, world):
    cycle_id = open_cycle(client, world)
    pid = file_proposal(client, cycle_id, "deputy")
    page_login(client, "resident")
    r = client.post(f"/proposals/{pid}/comments", data={"csrftoken": csrf(client), "body": "  "})
    assert r.status_code == 422 and "「评论」必填" in r.text
    r = client.post(f"/proposals/{pid}/comments", data={"body": "骗子，广告联系 123"},
                    headers={**HX, "x-csrftoken": csrf(client)})
    assert r.status_code == 200
    assert r.text.lstrip().startswith('<section class="card" id="comments"')
    assert "骗子，广告联系 123" in r.text
    comment_id = re.search(r'id="c-([0-9a-f]+)"', r.text).group(1)

    page_login(client, "deputy")
    r = client.post(f"/comments/{comment_id}/report", data={"csrftoken": csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"/comments/{comment_id}/report", headers={**HX, "x-csrftoken": csrf(client)})
    assert r.status_code == 409 and "您已经举报过这条评论" in r.text and "<html" not in r.text

    page_login(client, "gov-staff")
    triage = client.get(f"/staff/cycles/{cycle_id}/triage").text
    assert "被举报的评论（1 条）" in triage and "骗子，广告联系 123" in triage
    r = client.post(f"/staff/comments/{comment_id}/hide", data={"csrftoken": csrf(client),
                                                               "reason": ""})
    assert r.status_code == 422 and "请填写隐藏理由" in r.text
    r = client.post(f"/staff/comments/{comment_id}/hide",
                    data={"csrftoken": csrf(client), "reason": "含广告信息",
                          "next": f"/staff/cycles/{cycle_id}/triage#reported"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/staff/cycles/")
    assert "没有待处理的举报" in client.get(f"/staff/cycles/{cycle_id}/triage").text
    staff_view = client.get(f"/proposals/{pid}").text
    assert "该评论已被隐藏：含广告信息" in staff_view and "骗子，广告联系 123" in staff_view

    client.post("/logout", data={"csrftoken": csrf(client)})
    public = client.get(f"/proposals/{pid}").text
    assert "该评论已被隐藏：含广告信息" in public and "骗子" not in public
    page_login(client, "resident")
    r = client.post(f"/staff/comments/{comment_id}/hide", data={"csrftoken": csrf(client),
                                                               "reason": "x"})
    assert r.status_code == 403


# ------------------------------------------------------------------ staff triage

def test_triage_lists_the_oldest_first_with_similar_ones_beside(client, world):
    cycle_id = open_cycle(client, world)
    first = file_proposal(client, cycle_id, "resident")
    file_proposal(client, cycle_id, "deputy", title="幸福小区加装电梯")
    page_login(client, "gov-staff")
    page = client.get(f"/staff/cycles/{cycle_id}/triage").text
    assert "待审核（2 条" in page
    assert page.index("金顺镇老旧小区加装电梯</a></h3>") < page.index("幸福小区加装电梯</a></h3>")
    assert f'name="merge_into_id" value="{first}"' in page  # the similar one, to merge into
    for reason in ("属于楼堂馆所建设，列入负面清单", "可能形成政府隐性债务，列入负面清单"):
        assert f'value="{reason}"' in page
    assert f'href="/staff/cycles/{cycle_id}/proposals.csv"' in page
    assert f'href="/cycles/{cycle_id}/proposals/new"' in page  # 代录建议


def test_triage_accepts_rejects_and_merges_and_the_proposer_is_told(client, world):
    cycle_id = open_cycle(client, world)
    a = file_proposal(client, cycle_id, "resident")
    b = file_proposal(client, cycle_id, "resident", title="幸福小区加装电梯")
    c = file_proposal(client, cycle_id, "resident", title="镇政府新建办公楼")
    page_login(client, "gov-staff")
    r = client.post(f"/staff/proposals/{a}/review", data={"csrftoken": csrf(client),
                                                          "decision": "accept"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith(f"done={a}")
    assert "已处理：" in client.get(r.headers["location"]).text

    r = client.post(f"/staff/proposals/{c}/review", data={"csrftoken": csrf(client),
                                                          "decision": "reject", "reason": ""})
    assert r.status_code == 422 and "不予采纳须说明理由" in r.text
    r = client.post(f"/staff/proposals/{c}/review",
                    data={"csrftoken": csrf(client), "decision": "reject",
                          "reason_pick": "属于楼堂馆所建设，列入负面清单", "reason": "镇里已有办公用房"},
                    headers=HX)
    assert r.status_code == 200
    assert r.text.lstrip().startswith(f'<article class="card triage-item" id="t-{c}"')
    assert "已处理：未采纳" in r.text

    r = client.post(f"/staff/proposals/{b}/review", data={"csrftoken": csrf(client),
                                                          "decision": "merge"})
    assert r.status_code == 422 and "请选择要合并到的建议" in r.text
    r = client.post(f"/staff/proposals/{b}/review", data={"csrftoken": csrf(client),
                                                          "decision": "merge",
                                                          "merge_other": "nope"})
    assert r.status_code == 404 and "找不到该建议" in r.text
    r = client.post(f"/staff/proposals/{b}/review", data={"csrftoken": csrf(client),
                                                          "decision": "merge",
                                                          "merge_into_id": a}, headers=HX)
    assert r.status_code == 200 and "已合并" in r.text and f'href="/proposals/{a}"' in r.text
    assert "没有待审核的建议" in client.get(f"/staff/cycles/{cycle_id}/triage").text

    public = client.get(f"/proposals/{c}").text
    assert "属于楼堂馆所建设，列入负面清单；镇里已有办公用房" in public

    page_login(client, "resident")
    inbox = client.get("/inbox").text
    assert inbox.count('class="badge new"') == 3
    assert "未采纳：属于楼堂馆所建设，列入负面清单；镇里已有办公用房" in inbox
    assert "已采纳入库" in inbox and f'href="/proposals/{c}"' in inbox
    assert 'class="badge new"' not in client.get("/inbox").text  # opened: read now


def test_triage_and_its_actions_are_for_gov_staff_of_the_jurisdiction(client, world):
    cycle_id = open_cycle(client, world)
    pid = file_proposal(client, cycle_id, "resident")
    for who in ("resident", "deputy", "congress-staff", "unit-staff"):
        page_login(client, who)
        assert client.get(f"/staff/cycles/{cycle_id}/triage").status_code == 403, who
        r = client.post(f"/staff/proposals/{pid}/review", data={"csrftoken": csrf(client),
                                                                "decision": "accept"})
        assert r.status_code == 403, who
        assert client.get(f"/staff/cycles/{cycle_id}/reserve").status_code == 403, who
    page_login(client, "other-gov-staff")  # gov staff of another county
    r = client.get(f"/staff/cycles/{cycle_id}/triage")
    assert r.status_code == 403 and "其他行政区域" in r.text
    r = client.post(f"/staff/proposals/{pid}/review", data={"csrftoken": csrf(client),
                                                            "decision": "accept"})
    assert r.status_code == 403
    assert client.get(f"/staff/cycles/{cycle_id}/proposals.csv").status_code == 403
    page_login(client, "gov-staff")
    assert client.get("/staff/cycles/nope/triage").status_code == 404
    assert count(client, Proposal, Proposal.state == "submitted") == 1


def test_staff_download_the_csv_from_a_page(client, world):
    cycle_id = open_cycle(client, world)
    file_proposal(client, cycle_id, "resident", title="=HYPERLINK(\"x\")加装电梯")
    page_login(client, "gov-staff")
    r = client.get(f"/staff/cycles/{cycle_id}/proposals.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith("\ufeff".encode()) and "'=HYPERLINK" in r.text
    page_login(client, "congress-staff")  # may export too
    assert client.get(f"/staff/cycles/{cycle_id}/proposals.csv").status_code == 200
    page_login(client, "resident")
    assert client.get(f"/staff/cycles/{cycle_id}/proposals.csv").status_code == 403


def test_reserve_proposals_are_carried_into_the_new_year(client, world):
    last_year = open_cycle(client, world, year=2024)
    kept = file_proposal(client, last_year, "resident")
    client.post(f"{API}/proposals/{kept}/review", json={"decision": "accept"},
                headers=world.headers("gov_staff"))
    this_year = draft_cycle(client, world, year=2025)
    page_login(client, "gov-staff")
    page = client.get(f"/staff/cycles/{this_year}/reserve").text
    assert "金顺镇老旧小区加装电梯" in page and "2024 年" in page
    assert f'name="proposal_ids" value="{kept}"' in page
    r = client.post(f"/staff/cycles/{this_year}/reserve", data={"csrftoken": csrf(client)})
    assert r.status_code == 422 and "请勾选要结转的建议" in r.text
    r = client.post(f"/staff/cycles/{this_year}/reserve",
                    data={"csrftoken": csrf(client), "proposal_ids": [kept]},
                    follow_redirects=False)
    assert r.status_code == 303
    assert "已结转 1 条建议" in client.get(r.headers["location"]).text
    listing = client.get(f"/cycles/{this_year}/proposals").text
    copy = re.search(r'href="/proposals/([0-9a-f]+)"', listing).group(1)
    detail = client.get(f"/proposals/{copy}").text
    assert "由 2024 年度储备库结转" in detail and f'href="/proposals/{kept}"' in detail
    assert "已结转下一年度" in client.get(f"/proposals/{kept}").text
    r = client.post(f"/staff/cycles/{this_year}/reserve",
                    data={"csrftoken": csrf(client), "proposal_ids": [kept]})
    assert r.status_code == 409  # carried already: refused with a reason, nothing half-done


def test_the_inbox_needs_a_log_in_and_starts_empty(client, world):
    r = client.get("/inbox", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/inbox"
    page_login(client, "resident")
    page = client.get("/inbox")
    assert page.status_code == 200 and "暂无消息" in page.text
    assert 'href="/inbox"' in page.text and 'href="/propose"' in page.text  # navigation


def test_the_new_pages_are_translated_to_traditional_chinese(client, world):
    cycle_id = open_cycle(client, world)
    client.get("/lang/zh_Hant")
    page_login(client, "resident")
    page = client.get(f"/cycles/{cycle_id}/proposals/new").text
    assert "我要提建議" in page and "具體內容" in page
    r = submit(client, cycle_id, form(client, title="修"))
    assert "「標題」至少 2 個字" in r.text
