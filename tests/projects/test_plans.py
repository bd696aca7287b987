"""实施方案: the government publishes each project's plan within plan_due_days of the 公告;
it is public at once, every change is kept and shown as changes, a late plan is flagged
(DOMAIN.md 公开, API.md PUT /projects/{id}/plan, issue 6 item 2)."""

from __future__ import annotations

import json
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from app.models import AuditEntry, ProjectPlanVersion
from app.timeutil import china_today
from tests.ballots.conftest import API
from tests.helpers import count_selects, run, set_jurisdiction_settings
from tests.projects.helpers import (
    announced_projects,
    beijing,
    plan_body,
    put_plan,
    set_plan_published_at,
    set_project,
)


def _versions(client, project_id: str) -> int:
    return run(client, lambda s: s.scalar(select(func.count()).select_from(ProjectPlanVersion)
                                          .where(ProjectPlanVersion.project_id == project_id)))


def _audit(client, project_id: str) -> list[tuple[str, dict]]:
    async def read(session):
        rows = await session.scalars(select(AuditEntry).where(
            AuditEntry.entity_type == "project", AuditEntry.entity_id == project_id,
            AuditEntry.action.like("project.plan%")).order_by(AuditEntry.seq))
        return [(r.action, json.loads(r.data)) for r in rows]

    return run(client, read)


def test_a_saved_plan_is_public_at_once_in_the_project_and_the_cycle_list(client, world):
    cycle_id, (pid, other) = announced_projects(client, world)
    r = put_plan(client, world, pid, plan_body())
    assert r.status_code == 200, r.text
    saved = r.json()
    assert saved["version"] == 1 and saved["changed"] is True and saved["project_id"] == pid
    assert saved["due"] == "2025-03-31" and saved["late"] is True  # saved today, long after
    assert [m["title"] for m in saved["milestones"]] == ["完成招标", "主体完工", "竣工验收"]
    assert saved["funding"][0] == {"source": "县级财政", "amount_wan": "60.00"}
    assert saved["targets"] == ["新建道路 7.8 公里"] and saved["stage_targets"] == []

    one = client.get(f"{API}/projects/{pid}")  # anyone, no token
    assert one.status_code == 200, one.text
    body = one.json()
    assert body["plan"]["milestones"] == saved["milestones"]
    assert body["plan_due"] == "2025-03-31" and body["plan_late"] is True
    assert body["cycle_id"] == cycle_id and body["state"] == "announced"

    items = client.get(f"{API}/cycles/{cycle_id}/projects").json()["items"]
    by_id = {i["id"]: i for i in items}
    plan = by_id[pid]["plan"]
    assert {"milestones", "funding", "targets", "stage_targets", "version", "published_at",
            "updated_at", "due", "late"} <= set(plan)
    assert plan["version"] == 1 and plan["due"] == "2025-03-31"
    assert by_id[other]["plan"] is None and by_id[other]["plan_late"] is True
    assert client.get(f"{API}/projects/nope").status_code == 404
    assert client.get(f"{API}/projects/nope").json()["code"] == "unknown_project"


def test_a_change_keeps_the_history_newest_first_with_what_changed(client, world):
    _, (pid, _) = announced_projects(client, world)
    first = plan_body()
    assert put_plan(client, world, pid, first).status_code == 200
    second = plan_body()
    second["milestones"][0]["due"] = "2025-04-30"          # changed
    second["milestones"].pop(1)                            # removed 主体完工
    second["milestones"].append({"title": "试运行", "due": "2025-12-01"})  # added
    second["funding"] = [{"source": "县级财政", "amount_wan": "70"},
                         {"source": "社会资金", "amount_wan": "30"}]
    second["targets"] = ["新建道路 7.8 公里", "安装路灯 120 盏"]
    second["reason"] = "招标推迟一个月"
    r = put_plan(client, world, pid, second)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.json()["changed"] is True

    history = client.get(f"{API}/projects/{pid}/plan/history").json()
    assert history["total"] == 2
    newest, oldest = history["items"]
    assert (newest["version"], oldest["version"]) == (2, 1)
    assert newest["saved_by"] == "gov-staff" and newest["reason"] == "招标推迟一个月"
    assert oldest["changes"] == [] and oldest["reason"] == ""
    changes = {(c["field"], c["action"]): c for c in newest["changes"]}
    assert changes[("milestones", "changed")]["old"]["due"] == "2025-03-21"
    assert changes[("milestones", "changed")]["new"]["due"] == "2025-04-30"
    assert changes[("milestones", "removed")]["old"]["title"] == "主体完工"
    assert changes[("milestones", "added")]["new"]["title"] == "试运行"
    assert changes[("funding", "changed")]["new"] == {"source": "县级财政", "amount_wan": "70.00"}
    assert changes[("funding", "removed")]["old"]["source"] == "上级补助"
    assert changes[("funding", "added")]["new"]["source"] == "社会资金"
    assert changes[("targets", "added")]["new"] == "安装路灯 120 盏"
    assert len(newest["changes"]) == 7
    assert [a for a, _ in _audit(client, pid)] == ["project.plan_publish", "project.plan_change"]
    assert _audit(client, pid)[1][1]["reason"] == "招标推迟一个月"


def test_saving_the_same_plan_again_stores_no_new_version(client, world):
    _, (pid, _) = announced_projects(client, world)
    assert put_plan(client, world, pid, plan_body()).status_code == 200
    # the same plan, written differently: amounts as numbers, milestones in another order
    again = plan_body()
    again["milestones"].reverse()
    again["funding"] = [{"source": " 县级财政 ", "amount_wan": 60}, {"source": "上级补助",
                                                                  "amount_wan": "40.00"}]
    r = put_plan(client, world, pid, again)
    assert r.status_code == 200, r.text
    assert r.json()["changed"] is False and r.json()["version"] == 1
    assert _versions(client, pid) == 1 and len(_audit(client, pid)) == 1


@pytest.mark.parametrize(("change", "code"), [
    ({"milestones": []}, "plan_needs_milestone"),
    ({"targets": []}, "plan_needs_target"),
    ({"funding": []}, "plan_needs_funding"),
    ({"milestones": [{"title": "早于公告", "due": "2025-02-28"}]}, "milestone_due_out_of_range"),
    ({"milestones": [{"title": "晚于时限", "due": "2026-01-01"}]}, "milestone_due_out_of_range"),
    ({"milestones": [{"title": "日期不对", "due": "明年"}]}, "milestone_due"),
    ({"milestones": [{"title": "", "due": "2025-05-01"}]}, "milestone_title"),
    ({"milestones": [{"title": "长" * 101, "due": "2025-05-01"}]}, "milestone_title"),
    ({"milestones": [{"title": "同名", "due": "2025-05-01"},
                     {"title": "同名", "due": "2025-06-01"}]}, "milestone_repeated"),
    ({"milestones": [{"title": f"节点{i}", "due": "2025-05-01"} for i in range(31)]},
     "too_many_milestones"),
    ({"funding": [{"source": "县级财政", "amount_wan": "0"},
                  {"source": "上级补助", "amount_wan": "100"}]}, "funding_amount"),
    ({"funding": [{"source": "县级财政", "amount_wan": "-10"},
                  {"source": "上级补助", "amount_wan": "110"}]}, "funding_amount"),
    ({"funding": [{"source": "县级财政", "amount_wan": "99.999"},
                  {"source": "上级补助", "amount_wan": "0.001"}]}, "funding_amount"),
    ({"funding": [{"source": "县级财政", "amount_wan": "很多"}]}, "funding_amount"),
    ({"funding": [{"source": "", "amount_wan": "100"}]}, "funding_source"),
    ({"funding": [{"source": "县级财政", "amount_wan": "50"},
                  {"source": "县级财政", "amount_wan": "50"}]}, "funding_source_repeated"),
    ({"funding": [{"source": "县级财政", "amount_wan": "120"}]}, "funding_total_mismatch"),
    ({"targets": [""]}, "target_text"),
    ({"targets": ["长" * 201]}, "target_text"),
    ({"targets": ["同一目标", "同一目标"]}, "target_repeated"),
    ({"stage_targets": [{"year": 2027, "target": "不在范围"}]}, "stage_target_year"),
    ({"stage_targets": [{"year": 2025, "target": ""}]}, "stage_target_text"),
    ({"reason": "长" * 501}, "reason_too_long"),
])
def test_a_bad_plan_is_refused_with_a_sentence_and_a_code(client, world, change, code):
    _, (pid, _) = announced_projects(client, world)
    r = put_plan(client, world, pid, plan_body(**change))
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code and r.json()["detail"], r.json()
    assert _versions(client, pid) == 0


def test_a_different_total_is_called_a_major_adjustment_needing_a_congress_decision(
        client, world):
    _, (pid, _) = announced_projects(client, world)
    r = put_plan(client, world, pid, plan_body(funding=[{"source": "县级财政",
                                                         "amount_wan": "80"}]))
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert "80.00" in detail and "100" in detail and "major adjustment" in detail
    assert "congress" in detail


def test_a_malformed_body_is_a_422_or_400_never_a_500(client, world):
    _, (pid, _) = announced_projects(client, world)
    for body in ({"milestones": "x"}, {"targets": [1, 2]}, {"milestones": [{"due": True}]},
                 {"funding": [{"amount_wan": {"a": 1}}]}, {"stage_targets": [{"year": "x"}]},
                 {"unknown": 1}, [1, 2]):
        r = put_plan(client, world, pid, body)
        assert r.status_code in (400, 422), (body, r.status_code, r.text)
        assert r.json()["code"]
    r = client.put(f"{API}/projects/{pid}/plan", content=b"{", headers={
        **world.headers("gov_staff"), "content-type": "application/json"})
    assert r.status_code == 400


def test_a_cross_year_project_needs_one_stage_target_per_year(client, world):
    _, (pid, _) = announced_projects(client, world, deadline=date(2027, 6, 30))
    body = plan_body(last_day=date(2027, 6, 30))
    assert [s["year"] for s in body["stage_targets"]] == [2025, 2026, 2027]
    missing = {**body, "stage_targets": body["stage_targets"][:2]}
    r = put_plan(client, world, pid, missing)
    assert r.status_code == 422 and r.json()["code"] == "stage_targets_missing"
    assert "2027" in r.json()["detail"]
    r = put_plan(client, world, pid, {**body, "stage_targets": [
        *body["stage_targets"], {"year": 2026, "target": "又一个"}]})
    assert r.status_code == 422 and r.json()["code"] == "stage_target_repeated"
    r = put_plan(client, world, pid, {k: v for k, v in body.items() if k != "stage_targets"})
    assert r.status_code == 422 and r.json()["code"] == "stage_targets_missing"
    r = put_plan(client, world, pid, {**body, "stage_targets": list(reversed(
        body["stage_targets"]))})
    assert r.status_code == 200, r.text
    assert [s["year"] for s in r.json()["stage_targets"]] == [2025, 2026, 2027]
    # a one-year project may give its year's stage target, or none
    _, (one_year, _) = announced_projects(client, world, year=2026,
                                          announced_on=date(2026, 3, 1))
    r = put_plan(client, world, one_year, plan_body(date(2026, 3, 1), date(2026, 12, 31),
                                                    stage_targets=[{"year": 2026,
                                                                    "target": "年内完成"}]))
    assert r.status_code == 200, r.text


def test_who_may_save_a_plan(client, world):
    _, (pid, _) = announced_projects(client, world)
    for who in ("anonymous", "resident", "deputy", "unit_staff", "congress_staff"):
        r = put_plan(client, world, pid, plan_body(), who=who)
        assert r.status_code in (401, 403), (who, r.text)
    r = put_plan(client, world, pid, plan_body(), who="other_gov_staff")
    assert r.status_code == 403 and r.json()["code"] == "outside_jurisdiction"
    assert _versions(client, pid) == 0
    assert put_plan(client, world, pid, plan_body(), who="admin").status_code == 200


@pytest.mark.parametrize(("phase", "state", "code"), [
    ("closed", "announced", "cycle_closed"),
    ("announced", "terminated", "project_finished"),
    ("announced", "accepted", "project_finished"),
])
def test_a_closed_cycle_or_finished_project_takes_no_plan(client, world, phase, state, code):
    cycle_id, (pid, _) = announced_projects(client, world)
    set_project(client, pid, state=state)
    if phase != "announced":
        from app.models import Cycle

        async def close(session):
            c = await session.get(Cycle, cycle_id)
            c.phase = phase
            session.add(c)

        run(client, close)
    r = put_plan(client, world, pid, plan_body())
    assert r.status_code == 409 and r.json()["code"] == code, r.text


def test_a_project_of_a_cycle_moved_back_before_announced_takes_no_plan(client, world):
    cycle_id, (pid, _) = announced_projects(client, world)
    from app.models import Cycle

    async def back(session):
        c = await session.get(Cycle, cycle_id)
        c.phase = "balloting"
        session.add(c)

    run(client, back)
    r = put_plan(client, world, pid, plan_body())
    assert r.status_code == 409 and r.json()["code"] == "not_announced"


def test_the_late_flag_at_its_boundary(client, world):
    """Announced 2025-03-01 00:30 Beijing (still 28 Feb in UTC): due 2025-03-31."""
    from tests.projects.helpers import set_announced_at

    cycle_id, (pid, other) = announced_projects(client, world)
    set_announced_at(client, cycle_id, beijing(date(2025, 3, 1), time(0, 30)))
    assert put_plan(client, world, pid, plan_body()).status_code == 200

    def flags():
        items = client.get(f"{API}/cycles/{cycle_id}/projects").json()["items"]
        return {i["id"]: (i["plan_due"], i["plan_late"]) for i in items}

    set_plan_published_at(client, pid, beijing(date(2025, 3, 31), time(23, 59)))
    assert flags()[pid] == ("2025-03-31", False)  # first saved on the due date: on time
    set_plan_published_at(client, pid, beijing(date(2025, 4, 1), time(0, 1)))
    assert flags()[pid] == ("2025-03-31", True)   # the day after: late
    assert client.get(f"{API}/projects/{pid}").json()["plan"]["late"] is True

    # no plan: on time up to and including the due day (Beijing), late the day after
    today = china_today()
    set_announced_at(client, cycle_id, beijing(today - timedelta(days=30)))
    assert flags()[other] == (today.isoformat(), False)
    set_announced_at(client, cycle_id, beijing(today - timedelta(days=31)))
    assert flags()[other] == ((today - timedelta(days=1)).isoformat(), True)
    set_jurisdiction_settings(client, "lezhi", plan_due_days=40)  # the setting moves the day
    assert flags()[other] == ((today + timedelta(days=9)).isoformat(), False)


def test_a_change_after_the_due_date_keeps_a_plan_first_published_in_time(client, world):
    cycle_id, (pid, _) = announced_projects(client, world)
    assert put_plan(client, world, pid, plan_body()).status_code == 200
    set_plan_published_at(client, pid, beijing(date(2025, 3, 20)))
    r = put_plan(client, world, pid, plan_body(targets=["新建道路 8 公里"]))
    assert r.status_code == 200 and r.json()["version"] == 2
    assert r.json()["late"] is False and r.json()["published_at"].startswith("2025-03-20")


def test_reading_the_project_list_takes_the_same_queries_with_or_without_plans(client, world):
    small, (a, _) = announced_projects(client, world, seats=2, year=2025)
    large, ids = announced_projects(client, world, seats=6, year=2026,
                                    deadline=date(2025, 12, 31))
    n_before = count_selects(client, f"{API}/cycles/{large}/projects")
    for pid in ids:
        assert put_plan(client, world, pid, plan_body()).status_code == 200
    put_plan(client, world, a, plan_body())
    n_small = count_selects(client, f"{API}/cycles/{small}/projects")
    n_large = count_selects(client, f"{API}/cycles/{large}/projects")
    assert n_small == n_large == n_before <= 8, (n_small, n_large, n_before)
