"""The settings page (/staff/jurisdictions/{code}/settings): every setting by stage with its
Chinese name, meaning, default and value; congress staff change settings with a reason; a
refusal re-shows the form and stores nothing; the history of changes; who may see what."""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import select

from app.jurisdictions.registry import REGISTRY
from app.models import Jurisdiction
from tests.helpers import csrf, page_login, run

PAGE = "/staff/jurisdictions/lezhi/settings"
API = "/api/v1/jurisdictions/lezhi/settings"


def shown(page: str) -> dict:
    """The values the page's form was rendered with (its hidden field `shown`)."""
    return json.loads(html.unescape(re.search(r'name="shown" value="([^"]*)"', page).group(1)))


def whole_form(page: str, **changes) -> dict:
    """What a browser posts: every control as shown, with `changes` typed in."""
    values = shown(page)
    data = {"shown": json.dumps(values, ensure_ascii=False), **values, **changes}
    return data


def post(client, data: dict, url: str = PAGE, **kwargs):
    return client.post(url, data={**data, "csrftoken": csrf(client)}, **kwargs)


def stored(client) -> dict:
    return run(client, lambda s: s.scalar(select(Jurisdiction.settings)
                                          .where(Jurisdiction.code == "lezhi")))


def setting_block(page: str, name: str) -> str:
    """The part of the page about one setting (up to the next setting or the stage's end)."""
    start = page.index(f'data-setting="{name}"')
    ends = [i for i in (page.find('data-setting="', start + 1), page.find("</section>", start))
            if i != -1]
    return page[start:min(ends)]


def test_congress_staff_see_every_setting_by_stage_with_name_meaning_default_and_value(
        client, world):
    page_login(client, "congress-staff")
    page = client.get(PAGE)
    assert page.status_code == 200, page.text
    text = page.text
    assert '<a href="/staff/settings">参数设置</a>' in text  # in the staff navigation
    stages = re.findall(r'<h2 id="stage-h-(\w+)">(\S+)</h2>', text)
    assert stages == [("soliciting", "征集"), ("screening", "初定"), ("balloting", "票决"),
                      ("announced", "公开"), ("supervising", "监督"), ("evaluating", "测评")]
    for spec in REGISTRY.values():
        block = setting_block(text, spec.name)
        assert spec.zh_name in block and spec.meaning in block, spec.name
        assert f"<code>{spec.name}</code>" in block
    block = setting_block(text, "plan_due_days")
    assert '<dd class="current">30 天</dd>' in block and "与当前相同" in block
    assert "已修改" not in text
    assert 'id="settings-form"' in text and 'name="reason"' in text
    threshold = setting_block(text, "threshold_base")
    assert re.search(r'<input type="radio" name="threshold_base" value="all" checked> 全体代表',
                     threshold)
    assert 'value="present"> 出席代表' in threshold
    secret = setting_block(text, "secret_ballot")
    assert 'value="true" checked> 无记名' in secret and 'value="false"> 记名' in secret
    categories = setting_block(text, "categories")
    assert categories.count('name="categories" value="') == 10 + 3  # the ten and three blanks


def test_a_change_on_the_form_is_saved_marked_and_listed_in_the_history(client, world):
    page_login(client, "congress-staff")
    page = client.get(PAGE).text
    r = post(client, whole_form(page, plan_due_days="40", secret_ballot="false",
                                reason="县人大常委会第十二次会议决定"), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{PAGE}?saved=2", r.text
    assert client.get(API).json()["plan_due_days"] == 40
    assert stored(client) == {"plan_due_days": 40, "secret_ballot": False}
    text = client.get(r.headers["location"]).text
    assert "已保存，修改了 2 项参数" in text
    block = setting_block(text, "plan_due_days")
    assert "已修改" in block and '<dd class="current">40 天</dd>' in block
    assert '<dd class="default">30 天</dd>' in block
    history = text[text.index('id="history"'):]
    assert "测试congress-staff" in history and "县人大常委会第十二次会议决定" in history
    assert "实施方案期限</span>：<del>30 天</del> → <ins>40 天</ins>" in history
    assert "无记名投票</span>：<del>无记名</del> → <ins>记名</ins>" in history


def test_a_form_saved_without_changes_stores_nothing_and_needs_no_reason(client, world):
    page_login(client, "congress-staff")
    r = post(client, whole_form(client.get(PAGE).text), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{PAGE}?unchanged", r.text
    assert "没有修改任何参数" in client.get(r.headers["location"]).text
    assert stored(client) == {}
    assert "还没有修改过参数" in client.get(PAGE).text


def test_categories_are_edited_as_a_list(client, world):
    page_login(client, "congress-staff")
    page = client.get(PAGE).text
    categories = shown(page)["categories"]
    edited = [c for c in categories if c != "就业创业"] + ["", "养老服务", ""]
    r = post(client, whole_form(page, categories=edited, reason="增加养老服务类别"),
             follow_redirects=False)
    assert r.status_code == 303, r.text
    assert client.get(API).json()["categories"] == categories[1:] + ["养老服务"]


def test_a_bad_value_is_shown_again_with_the_message_and_nothing_is_stored(client, world):
    page_login(client, "congress-staff")
    page = client.get(PAGE).text
    r = post(client, whole_form(page, red_gap_points="5", plan_due_days="0",
                                reason="调整督办线"))
    assert r.status_code == 422
    text = r.text
    assert "没有保存任何修改" in text
    red = setting_block(text, "red_gap_points")
    assert "黄色督办线（10）须低于红色督办线（5）" in red and 'value="5"' in red
    assert 'aria-invalid="true"' in red
    plan = setting_block(text, "plan_due_days")
    assert "「实施方案期限」须为 1 至 365 之间的整数（单位：天）" in plan and 'value="0"' in plan
    assert ">调整督办线</textarea>" in text  # the reason is kept
    assert stored(client) == {}
    assert client.get(API).json()["red_gap_points"] == 20


def test_a_change_without_a_reason_is_refused_on_the_page(client, world):
    page_login(client, "congress-staff")
    r = post(client, whole_form(client.get(PAGE).text, threshold_base="present"))
    assert r.status_code == 422
    assert 'id="reason-error">请填写修改原因（将记入修改记录）' in r.text
    assert 'value="present" checked' in setting_block(r.text, "threshold_base")
    assert stored(client) == {}


def test_a_change_saved_by_someone_else_meanwhile_is_not_written_back(client, world):
    page_login(client, "congress-staff")
    page = client.get(PAGE).text  # shows plan_due_days 30
    r = client.put(API, json={"plan_due_days": 45, "reason": "另一位工作人员修改"},
                   headers=world.headers("admin"))
    assert r.status_code == 200, r.text
    r = post(client, whole_form(page, yellow_gap_points="12", reason="调整黄色督办线"),
             follow_redirects=False)
    assert r.status_code == 303, r.text
    assert stored(client) == {"plan_due_days": 45, "yellow_gap_points": 12}


def test_other_staff_of_the_jurisdiction_read_the_page_without_the_form(client, world):
    client.put(API, json={"plan_due_days": 40, "reason": "县人大常委会决定"},
               headers=world.headers("congress_staff"))
    page_login(client, "gov-staff")
    text = client.get(PAGE).text
    assert "实施方案期限" in text and 'id="settings-form"' not in text
    assert "只有本级人大工作人员和系统管理员可以修改参数" in text
    assert "县人大常委会决定" in text  # the history
    r = post(client, {"plan_due_days": "50", "reason": "越权", "shown": "{}"})
    assert r.status_code == 403
    assert client.get(API).json()["plan_due_days"] == 40


@pytest.mark.parametrize("who", ["other-congress-staff", "township-congress-staff"])
def test_staff_of_another_jurisdiction_are_refused(client, world, who):
    page_login(client, who)
    assert client.get(PAGE).status_code == 403
    r = post(client, {"plan_due_days": "50", "reason": "越权", "shown": "{}"})
    assert r.status_code == 403 and "其他行政区域" in r.text
    assert stored(client) == {}


def test_residents_deputies_and_visitors_do_not_get_the_page(client, world):
    r = client.get(PAGE, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    for who in ("deputy", "resident"):
        page_login(client, who)
        assert client.get(PAGE).status_code == 403
        assert "/staff/settings" not in client.get("/").text


def test_staff_are_taken_to_their_own_jurisdiction_and_admins_choose(client, world):
    page_login(client, "township-congress-staff")
    r = client.get("/staff/settings", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/staff/jurisdictions/jinshun/settings"
    page_login(client, "admin")
    text = client.get("/staff/settings").text
    for code in ("lezhi", "jinshun", "anyue"):
        assert f'href="/staff/jurisdictions/{code}/settings"' in text
    assert 'id="settings-form"' in client.get("/staff/jurisdictions/anyue/settings").text


def test_an_unknown_jurisdiction_is_a_404_page(client, world):
    page_login(client, "admin")
    assert client.get("/staff/jurisdictions/nowhere/settings").status_code == 404


def test_the_page_in_traditional_chinese(client, world):
    page_login(client, "congress-staff")
    client.get("/lang/zh_Hant?next=/")
    text = client.get(PAGE).text
    assert "參數設置" in text and "實施方案期限" in text and "全體代表" in text
