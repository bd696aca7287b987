"""The pages of 实施方案: the public project page (plan, 逾期 flag or 尚未公布 with the due date,
changes), the staff dashboard with its red 逾期 flag, and the plan form that works without
JavaScript and comes back with the message and the input kept on bad input."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.models import ProjectPlanVersion
from app.timeutil import china_today
from tests.helpers import csrf, page_login, run, set_jurisdiction_settings
from tests.projects.helpers import (
    announced_projects,
    beijing,
    plan_body,
    put_plan,
    set_announced_at,
    set_plan_published_at,
)


@pytest.fixture(autouse=True)
def fresh_rate_limits(client):
    client.portal.call(client.app.state.rate_limits.limiter.storage.reset)


def login(client, who: str) -> None:
    client.cookies.clear()
    assert page_login(client, who.replace("_", "-")).status_code == 303


def versions(client, project_id: str) -> int:
    return run(client, lambda s: s.scalar(select(func.count()).select_from(ProjectPlanVersion)
                                          .where(ProjectPlanVersion.project_id == project_id)))


FORM = {
    "milestones": "完成招标 | 2025-03-21\n主体完工｜2025-08-31\n\n竣工验收 | 2025-12-31",
    "funding": "县级财政 | 60 万元\n上级补助 | 40",
    "targets": "新建道路 7.8 公里\n安装路灯 120 盏",
    "stage_targets": "",
}


def test_the_public_page_shows_the_project_and_says_the_plan_is_not_yet_published(client,
                                                                                   world):
    cycle_id, (pid, _) = announced_projects(client, world)
    r = client.get(f"/projects/{pid}")
    assert r.status_code == 200
    html = r.text
    assert "候选项目1" in html and "县交通运输局" in html and "2025年12月31日" in html
    assert "实施方案尚未公布" in html and "应于 2025年3月31日 前公布" in html
    assert 'id="late-flag"' in html and "逾期" in html  # long past the due date
    assert f'href="/cycles/{cycle_id}"' in html and f'href="/cycles/{cycle_id}/announcement"' in html
    assert re.search(r"赞成票</dt><dd>\s*\d+", html)
    set_jurisdiction_settings(client, "lezhi", publish_vote_counts=False)
    assert "赞成票" not in client.get(f"/projects/{pid}").text
    assert client.get("/projects/nope").status_code == 404


def test_no_plan_before_the_due_date_is_not_flagged(client, world):
    cycle_id, (pid, _) = announced_projects(client, world)
    today = china_today()
    set_announced_at(client, cycle_id, beijing(today - timedelta(days=3)))
    html = client.get(f"/projects/{pid}").text
    assert "实施方案尚未公布" in html and 'id="late-flag"' not in html


def test_the_public_page_shows_the_plan_and_its_changes(client, world):
    _, (pid, _) = announced_projects(client, world)
    assert put_plan(client, world, pid, plan_body()).status_code == 200
    set_plan_published_at(client, pid, beijing(date(2025, 3, 30)))
    html = client.get(f"/projects/{pid}").text
    assert "完成招标" in html and "2025-03-21" in html and "县级财政" in html
    assert "新建道路 7.8 公里" in html and 'id="late-flag"' not in html
    assert 'id="plan-history"' not in html  # one version: nothing changed yet

    changed = plan_body(targets=["新建道路 8 公里"], reason="线路优化")
    changed["funding"][0]["source"] = "县本级财政"
    assert put_plan(client, world, pid, changed).status_code == 200
    html = client.get(f"/projects/{pid}").text
    assert 'id="plan-history"' in html and "说明：线路优化" in html and "gov-staff" in html
    assert "新增目标" in html and "删除目标" in html and "新建道路 8 公里" in html
    assert "新增资金" in html and "县本级财政 60 万元" in html and "删除资金" in html
    assert "第 2 版" in html and "首次公布" in html

    set_plan_published_at(client, pid, beijing(date(2025, 4, 1)))
    assert 'id="late-flag"' in client.get(f"/projects/{pid}").text


def test_the_dashboard_flags_late_plans_in_red_for_staff_of_the_jurisdiction(client, world):
    cycle_id, (done, missing) = announced_projects(client, world)
    assert put_plan(client, world, done, plan_body()).status_code == 200
    set_plan_published_at(client, done, beijing(date(2025, 3, 31)))  # on the due day
    url = f"/staff/cycles/{cycle_id}/plans"
    assert client.get(url, follow_redirects=False).status_code in (303, 307)  # log in first

    login(client, "congress_staff")
    r = client.get(url)
    assert r.status_code == 200, r.text
    cards = {m.group(1): m.group(2) for m in re.finditer(
        r'<li class="card story-project" id="p-(\w+)">(.*?)</li>', r.text, re.S)}
    assert '<span class="late">逾期</span>' in cards[missing] and "尚未公布" in cards[missing]
    assert "逾期" not in cards[done] and "已公布" in cards[done]
    assert 'id="late-count">1<' in r.text
    assert "/staff/projects/" not in r.text  # congress staff follow, gov staff write

    login(client, "gov_staff")
    assert f'href="/staff/projects/{missing}/plan"' in client.get(url).text
    login(client, "other_gov_staff")
    assert client.get(url).status_code == 403
    login(client, "resident")
    assert client.get(url).status_code == 403


def test_the_form_saves_a_plan_without_javascript(client, world):
    cycle_id, (pid, _) = announced_projects(client, world)
    login(client, "gov_staff")
    page = client.get(f"/staff/projects/{pid}/plan")
    assert page.status_code == 200 and 'id="plan-form"' in page.text
    r = client.post(f"/staff/projects/{pid}/plan", data={**FORM, "csrftoken": csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith(f"/staff/cycles/{cycle_id}/plans?done={pid}")
    plan = client.get(f"/api/v1/projects/{pid}").json()["plan"]
    assert [m["title"] for m in plan["milestones"]] == ["完成招标", "主体完工", "竣工验收"]
    assert plan["funding"] == [{"source": "县级财政", "amount_wan": "60.00"},
                               {"source": "上级补助", "amount_wan": "40.00"}]
    assert plan["targets"] == ["新建道路 7.8 公里", "安装路灯 120 盏"]

    # the form shows the current plan; the same again stores nothing, a change needs no JS
    page = client.get(f"/staff/projects/{pid}/plan").text
    assert "完成招标 | 2025-03-21" in page and "县级财政 | 60" in page and 'name="reason"' in page
    r = client.post(f"/staff/projects/{pid}/plan", data={
        **FORM, "csrftoken": csrf(client)}, follow_redirects=False)
    assert "same=" in r.headers["location"] and versions(client, pid) == 1
    r = client.post(f"/staff/projects/{pid}/plan", data={
        **FORM, "targets": "新建道路 8 公里", "reason": "线路优化", "csrftoken": csrf(client)},
        follow_redirects=False)
    assert r.status_code == 303 and versions(client, pid) == 2
    assert "实施方案已保存并公开" in client.get(r.headers["location"]).text


@pytest.mark.parametrize(("change", "message"), [
    ({"funding": "县级财政 | 80"}, "须先经人大决定"),
    ({"milestones": "完成招标 | 明年三月"}, "第 1 个节点的完成日期"),
    ({"milestones": "完成招标 | 2024-12-01"}, "须在公告日 2025-03-01 至项目完成时限"),
    ({"targets": ""}, "至少填写一项可量化的目标"),
    ({"milestones": ""}, "至少填写一个节点"),
    ({"stage_targets": "2030 | 远期"}, "阶段目标的年份须在 2025 至 2025 年之间"),
])
def test_bad_input_comes_back_with_the_message_and_the_input_kept(client, world, change,
                                                                  message):
    _, (pid, _) = announced_projects(client, world)
    login(client, "gov_staff")
    data = {**FORM, **change, "csrftoken": csrf(client)}
    r = client.post(f"/staff/projects/{pid}/plan", data=data)
    assert r.status_code == 422, r.text
    assert 'id="form-error"' in r.text and message in r.text, r.text
    for field in ("milestones", "funding", "targets"):
        typed = data[field].replace("|", "|")
        if typed:
            assert typed.split("\n")[0] in r.text
    assert versions(client, pid) == 0


def test_a_cross_year_project_form_asks_for_each_year(client, world):
    _, (pid, _) = announced_projects(client, world, deadline=date(2026, 6, 30))
    login(client, "gov_staff")
    page = client.get(f"/staff/projects/{pid}/plan").text
    assert "须填写的年份：2025、2026" in page
    data = {**FORM, "milestones": "完成招标 | 2025-03-21\n竣工验收 | 2026-06-30",
            "csrftoken": csrf(client)}
    r = client.post(f"/staff/projects/{pid}/plan", data=data)
    assert r.status_code == 422 and "须逐年填写阶段目标" in r.text
    r = client.post(f"/staff/projects/{pid}/plan", data={
        **data, "stage_targets": "2025 | 完成路基\n2026年：全线通车"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    plan = client.get(f"/api/v1/projects/{pid}").json()["plan"]
    assert plan["stage_targets"] == [{"year": 2025, "target": "完成路基"},
                                     {"year": 2026, "target": "全线通车"}]


def test_only_gov_staff_of_the_jurisdiction_open_the_form(client, world):
    _, (pid, _) = announced_projects(client, world)
    for who in ("congress_staff", "resident", "other_gov_staff"):
        login(client, who)
        assert client.get(f"/staff/projects/{pid}/plan").status_code == 403, who
        r = client.post(f"/staff/projects/{pid}/plan", data={**FORM, "csrftoken": csrf(client)})
        assert r.status_code == 403, who
    assert versions(client, pid) == 0
