"""The responsible unit's pages (监督): 我的项目, starting the work, reporting progress and saying
it is finished — refusals re-shown with what was typed, nothing stored."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import ProgressReport, Project
from tests.helpers import csrf, page_login, run
from tests.projects.test_progress_reports import building


def reports(client) -> int:
    return run(client, lambda s: s.scalar(select(func.count()).select_from(ProgressReport)))


def test_a_unit_starts_reports_and_finishes_on_its_pages(client, world):
    p1, p2 = building(client, world)
    page_login(client, world.users["unit_staff"].username)
    home = client.get("/").text
    assert 'href="/staff/my-projects"' in home
    mine = client.get("/staff/my-projects")
    assert mine.status_code == 200
    assert f"/staff/projects/{p1}/progress" in mine.text
    form = client.get(f"/staff/projects/{p1}/progress").text
    assert "项目开工后才能报告进度" in form and 'id="move"' in form and "项目已开工" in form
    r = client.post(f"/staff/projects/{p1}/move", data={"csrftoken": csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 303
    form = client.get(f"/staff/projects/{p1}/progress").text
    assert "实施中" in form and 'id="file-report"' in form and "项目已完工" in form
    # bad input: the form again, with the sentence and what was typed
    r = client.post(f"/staff/projects/{p1}/progress", data={
        "percent": "150", "spent_wan": "20", "note": "路基完成", "csrftoken": csrf(client)})
    assert r.status_code == 422 and "完成进度须在 0 到 100 之间" in r.text
    assert "路基完成" in r.text and 'value="150"' in r.text
    r = client.post(f"/staff/projects/{p1}/progress", data={
        "percent": "三十", "spent_wan": "20", "note": "", "csrftoken": csrf(client)})
    assert r.status_code == 422 and "完成进度请填 0 到 100 的整数" in r.text
    assert reports(client) == 0
    r = client.post(f"/staff/projects/{p1}/progress", data={
        "percent": "70", "spent_wan": "45.5", "note": "路基完成", "csrftoken": csrf(client)},
        follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(f"/projects/{p1}")
    assert reports(client) == 1
    page = client.get(f"/projects/{p1}").text
    assert "完成 70%，累计支出 45.5 万元" in page and "路基完成" in page
    # the next form starts from the last figures; a lower one is refused as a correction
    assert 'value="70"' in client.get(f"/staff/projects/{p1}/progress").text
    r = client.post(f"/staff/projects/{p1}/progress", data={
        "percent": "60", "spent_wan": "45.5", "note": "", "csrftoken": csrf(client)})
    assert r.status_code == 422 and "低于上次报告的 70%" in r.text
    r = client.post(f"/staff/projects/{p1}/move", data={"csrftoken": csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 303
    state = run(client, lambda s: s.scalar(select(Project.state).where(Project.id == p1)))
    assert state == "completed"


def test_other_people_cannot_use_the_units_pages(client, world):
    p1, _ = building(client, world)
    for who in ("resident", "deputy"):
        client.cookies.clear()
        page_login(client, world.users[who].username)
        assert client.get("/staff/my-projects").status_code == 403
        assert client.get(f"/staff/projects/{p1}/progress").status_code == 403
    client.cookies.clear()
    page_login(client, world.users["gov_staff"].username)
    assert f"/staff/projects/{p1}/progress" in client.get("/staff/my-projects").text
    assert client.get(f"/staff/projects/{p1}/progress").status_code == 200
