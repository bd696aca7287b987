"""Progress reports (监督): POST and GET /projects/{id}/progress, and the project's supervision
figures computed when read (序时进度, gap, colour with its reason, next report due)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.models import ProgressReport, Project, User
from app.timeutil import china_today
from tests.ballots.conftest import API
from tests.helpers import count_selects, run
from tests.projects.helpers import announced_projects, plan_body, put_plan

TODAY = china_today()
ANNOUNCED, DEADLINE = TODAY - timedelta(days=100), TODAY + timedelta(days=100)


def building(client, world) -> tuple[str, str]:
    """Two announced projects with plans (milestones: announcement + 20 days, today, the
    deadline — so 序时进度 today is 2 of 3 steps, 66.7 %); the first in progress, its unit the
    world's unit_staff account's."""
    _, (p1, p2) = announced_projects(client, world, year=ANNOUNCED.year, announced_on=ANNOUNCED,
                                     deadline=DEADLINE)
    for pid in (p1, p2):
        r = put_plan(client, world, pid, plan_body(ANNOUNCED, DEADLINE))
        assert r.status_code == 200, r.text

    async def give(session):
        unit = await session.scalar(select(Project.responsible_unit_id).where(Project.id == p1))
        await session.execute(update(User).where(User.id == world.users["unit_staff"].id)
                              .values(unit_id=unit))

    run(client, give)
    return p1, p2


def report(client, world, project_id: str, who: str = "unit_staff", **body):
    body = {"percent": 60, "spent_wan": "30.00", **body}
    return client.post(f"{API}/projects/{project_id}/progress", json=body,
                       headers=world.headers(who))


def test_a_unit_reports_progress_and_the_public_sees_it_at_once(client, world):
    p1, _ = building(client, world)
    r = report(client, world, p1)
    assert r.status_code == 409 and r.json()["code"] == "not_building"
    r = client.post(f"{API}/projects/{p1}/transitions", json={"to": "in_progress"},
                    headers=world.headers("unit_staff"))
    assert r.status_code == 200
    met = (ANNOUNCED + timedelta(days=18)).isoformat()
    r = report(client, world, p1, note="路基完成六成",
               spent_by_source=[{"source": "县级财政", "amount_wan": "20"},
                                {"source": "上级补助", "amount_wan": "10"}],
               milestones_met=[{"index": 0, "date": met}])
    assert r.status_code == 201, r.text
    first = r.json()
    assert (first["percent"], first["planned_percent"], first["status"]) == (60, 66.7, "green")
    listed = client.get(f"{API}/projects/{p1}/progress").json()
    assert listed["total"] == 1
    (item,) = listed["items"]
    assert item["note"] == "路基完成六成" and item["milestones_met"] == [{"index": 0, "date": met}]
    assert item["spent_by_source"] == [{"source": "县级财政", "amount_wan": "20.00"},
                                       {"source": "上级补助", "amount_wan": "10.00"}]
    assert item["filed_by"] == world.users["unit_staff"].username and item["corrected_by"] == []
    sv = client.get(f"{API}/projects/{p1}").json()["supervision"]
    assert (sv["percent"], sv["planned_percent"], sv["gap"], sv["status"]) == (
        60, 66.7, 6.7, "green")
    assert sv["status_words"] == "正常推进" and sv["status_reason"] == "按序时进度推进"
    assert sv["report_due"] == (TODAY + timedelta(days=31)).isoformat()
    assert sv["spent_wan"] == "30.00" and sv["last_report_at"]


def test_a_lower_figure_is_a_correction_that_names_the_report_it_corrects(client, world):
    p1, _ = building(client, world)
    client.post(f"{API}/projects/{p1}/transitions", json={"to": "in_progress"},
                headers=world.headers("gov_staff"))
    first = report(client, world, p1).json()["id"]
    r = report(client, world, p1, percent=40)
    assert r.status_code == 422 and r.json()["code"] == "percent_decreased"
    assert "60" in r.json()["detail"]
    r = report(client, world, p1, percent=40, corrects="not-a-report")
    assert r.status_code == 422 and r.json()["code"] == "unknown_report"
    r = report(client, world, p1, percent=40, corrects=first, note="更正：上次多报")
    assert r.status_code == 201 and r.json()["status"] == "red"  # 26.7 points behind
    items = client.get(f"{API}/projects/{p1}/progress").json()["items"]
    assert [i["percent"] for i in items] == [40, 60]  # newest first, nothing deleted
    assert items[1]["corrected_by"] == [items[0]["id"]] and items[0]["corrects"] == first
    sv = client.get(f"{API}/projects/{p1}").json()["supervision"]
    assert (sv["percent"], sv["status"], sv["status_words"]) == (40, "red", "红色督办")
    assert sv["status_reason"] == "落后序时进度 26.7 个百分点"


def test_bad_reports_are_refused_saying_what_to_fix_and_store_nothing(client, world):
    p1, _ = building(client, world)
    client.post(f"{API}/projects/{p1}/transitions", json={"to": "in_progress"},
                headers=world.headers("gov_staff"))
    future = (TODAY + timedelta(days=3)).isoformat()
    for body, code in (
            ({"spent_by_source": [{"source": "县级财政", "amount_wan": "10"}]}, "spent_mismatch"),
            ({"milestones_met": [{"index": 7, "date": TODAY.isoformat()}]}, "unknown_milestone"),
            ({"milestones_met": [{"index": 1, "date": future}]}, "invalid_milestone_date"),
            ({"percent": 101}, "invalid_field"), ({"spent_wan": "-1"}, "invalid_field"),
            ({"percent": "much"}, "invalid_field")):
        r = report(client, world, p1, "gov_staff", **body)
        assert r.status_code == 422 and r.json()["code"] == code, (body, r.text)
    assert not run(client, lambda s: s.scalar(select(ProgressReport.id)))


def test_only_the_projects_unit_and_the_government_report(client, world):
    p1, p2 = building(client, world)
    for pid in (p1, p2):
        client.post(f"{API}/projects/{pid}/transitions", json={"to": "in_progress"},
                    headers=world.headers("gov_staff"))
    other = client.post(f"{API}/jurisdictions/lezhi/units", json={"name": "县供电公司"},
                        headers=world.headers("gov_staff")).json()["id"]
    run(client, lambda s: s.execute(update(User).where(User.id == world.users["unit_staff"].id)
                                    .values(unit_id=other)))
    r = report(client, world, p1)
    assert r.status_code == 403 and r.json()["code"] == "not_your_unit"
    for who, code in (("congress_staff", "role_not_allowed"), ("deputy", "permission_denied"),
                      ("resident", "permission_denied")):
        r = report(client, world, p1, who)
        assert r.status_code == 403 and r.json()["code"] == code, (who, r.text)
    assert report(client, world, p1, "gov_staff").status_code == 201


def test_a_project_never_reported_is_red_with_every_reason_in_words(client, world):
    _, p2 = building(client, world)
    sv = client.get(f"{API}/projects/{p2}").json()["supervision"]
    assert (sv["percent"], sv["planned_percent"], sv["status"]) == (0, 66.7, "red")
    assert sv["status_reason"] == "落后序时进度 66.7 个百分点；已 100 天未报告进度"
    assert sv["report_due"] == (ANNOUNCED + timedelta(days=31)).isoformat()
    assert sv["last_report_at"] is None and sv["overdue_findings"] == 0
    # lists carry no supervision block (GET /projects/{id} does)
    listed = client.get(f"{API}/projects/{p2}/progress").json()
    assert listed == {"items": [], "total": 0, "page": 1, "per_page": listed["per_page"]}


def test_the_board_lists_every_project_reddest_first_with_its_reason(client, world):
    p1, p2 = building(client, world)
    cycle_id = run(client, lambda s: s.scalar(select(Project.cycle_id).where(Project.id == p1)))
    client.post(f"{API}/projects/{p1}/transitions", json={"to": "in_progress"},
                headers=world.headers("gov_staff"))
    assert report(client, world, p1, "gov_staff").status_code == 201
    board = client.get(f"{API}/cycles/{cycle_id}/supervision").json()
    assert board["counts"] == {"green": 1, "yellow": 0, "red": 1, "blue": 0}
    assert [i["project_id"] for i in board["items"]] == [p2, p1]
    red, green = board["items"]
    assert (red["status"], red["status_words"], red["percent"], red["gap"]) == (
        "red", "红色督办", 0, 66.7)
    assert red["status_reason"] == "落后序时进度 66.7 个百分点；已 100 天未报告进度"
    assert (green["status"], green["percent"], green["planned_percent"], green["spent_wan"]) == (
        "green", 60, 66.7, "30.00")
    assert green["budget_wan"] == "100.00" and green["overdue_findings"] == 0


def test_the_board_takes_the_same_queries_whatever_the_number_of_projects(client, world):
    small, (a, _) = announced_projects(client, world, seats=2, year=2025)
    large, ids = announced_projects(client, world, seats=6, year=2026)
    for pid in ids:
        run(client, lambda s, pid=pid: s.execute(update(Project).where(Project.id == pid)
                                                 .values(state="in_progress")))
        assert report(client, world, pid, "gov_staff").status_code == 201
    n_small = count_selects(client, f"{API}/cycles/{small}/supervision")
    n_large = count_selects(client, f"{API}/cycles/{large}/supervision")
    assert n_small == n_large <= 8, (n_small, n_large)
    assert client.get(f"{API}/cycles/{large}/supervision").json()["counts"]["red"] == 6


def test_the_pages_show_the_colour_in_words_with_its_reason(client, world):
    p1, p2 = building(client, world)
    cycle_id = run(client, lambda s: s.scalar(select(Project.cycle_id).where(Project.id == p1)))
    client.post(f"{API}/projects/{p1}/transitions", json={"to": "in_progress"},
                headers=world.headers("gov_staff"))
    first = report(client, world, p1, "gov_staff", percent=70).json()["id"]
    report(client, world, p1, "gov_staff", percent=60, corrects=first, note="更正：多报了")
    page = client.get(f"/cycles/{cycle_id}/supervision")
    assert page.status_code == 200
    text = page.text
    assert "红色督办" in text and "落后序时进度 66.7 个百分点；已 100 天未报告进度" in text
    assert "正常推进" in text and "按序时进度推进" in text
    assert text.index(f"/projects/{p2}") < text.index(f"/projects/{p1}")  # reddest first
    assert "全部 2" in text and "红色督办 1" in text
    only_green = client.get(f"/cycles/{cycle_id}/supervision?status=green").text
    assert f"/projects/{p1}" in only_green and f"/projects/{p2}" not in only_green
    assert "没有这种颜色的项目" in client.get(f"/cycles/{cycle_id}/supervision?status=blue").text
    detail = client.get(f"/projects/{p1}").text
    assert 'id="supervision-status"' in detail and "正常推进" in detail
    assert "完成 60%，累计支出 30 万元" in detail and "更正此前报告" in detail
    assert "已被更正" in detail and "更正：多报了" in detail
    assert "还没有进度报告" in client.get(f"/projects/{p2}").text
    assert 'id="supervision-link"' in client.get(f"/cycles/{cycle_id}").text
    # traditional characters, reasons included
    client.get("/lang/zh_Hant")
    hant = client.get(f"/cycles/{cycle_id}/supervision").text
    assert "紅色督辦" in hant and "落後序時進度" in hant


def test_the_board_before_the_announcement_says_when_it_will_fill(client, world):
    from tests.ballots.conftest import balloting_cycle

    cycle_id, _ = balloting_cycle(client, world)
    page = client.get(f"/cycles/{cycle_id}/supervision")
    assert page.status_code == 200 and "项目公告之后" in page.text
    assert client.get(f"{API}/cycles/{cycle_id}/supervision").json() == {
        "counts": {"green": 0, "yellow": 0, "red": 0, "blue": 0}, "items": []}
