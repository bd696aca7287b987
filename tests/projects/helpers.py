"""Helpers for 实施方案 tests: an announced cycle whose announcement day and project deadlines
are set by back-dating rows (never by sleeping), and a valid plan for a project."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from app.models import Cycle, Project, ProjectPlan, StateTransition
from app.timeutil import CHINA_TZ
from tests.ballots.conftest import API, balloting_cycle, publish_round
from tests.helpers import run


def beijing(day: date, at: time = time(12, 0)) -> datetime:
    """A moment of a Beijing day (stored as UTC)."""
    return datetime.combine(day, at, tzinfo=CHINA_TZ)


def set_announced_at(client, cycle_id: str, when: datetime) -> None:
    """Back-date the cycle's move to `announced` (and its phase start) to `when`."""

    async def change(session):
        rows = await session.scalars(select(StateTransition).where(
            StateTransition.entity_type == "cycle", StateTransition.entity_id == cycle_id,
            StateTransition.to_state == "announced"))
        for row in rows:
            row.at = when
            session.add(row)
        cycle = await session.get(Cycle, cycle_id)
        cycle.phase_since = when
        session.add(cycle)

    run(client, change)


def set_project(client, project_id: str, **values) -> None:
    """Change a project's stored fields (deadline, budget_wan, state) directly."""

    async def change(session):
        p = await session.get(Project, project_id)
        for k, v in values.items():
            setattr(p, k, v)
        session.add(p)

    run(client, change)


def set_plan_published_at(client, project_id: str, when: datetime) -> None:
    """Back-date when the project's plan was first saved."""

    async def change(session):
        plan = await session.scalar(select(ProjectPlan).where(ProjectPlan.project_id == project_id))
        plan.published_at = when
        session.add(plan)

    run(client, change)


def announced_projects(client, world, *, seats: int = 2, year: int = 2025,
                       announced_on: date = date(2025, 3, 1),
                       deadline: date | None = None) -> tuple[str, list[str]]:
    """A lezhi cycle announced on `announced_on` (Beijing noon): (cycle id, project ids in 公告
    order). Each project has budget 100 万元 and `deadline` (default 31 Dec of `year`)."""
    cycle_id, _ = balloting_cycle(client, world, year=year, seats=seats)
    publish_round(client, world, cycle_id)
    r = client.post(f"{API}/cycles/{cycle_id}/transitions", json={"to": "announced"},
                    headers=world.headers("congress_staff"))
    assert r.status_code == 200, r.text
    set_announced_at(client, cycle_id, beijing(announced_on))
    ids = [p["id"] for p in client.get(f"{API}/cycles/{cycle_id}/projects").json()["items"]]
    if deadline is not None:
        for pid in ids:
            set_project(client, pid, deadline=deadline)
    return cycle_id, ids


def plan_body(first_day: date = date(2025, 3, 1), last_day: date = date(2025, 12, 31), *,
              budget: Decimal = Decimal("100"), **extra) -> dict:
    """A valid plan for a project announced on `first_day` with deadline `last_day`; one stage
    target per year when they are in different years."""
    middle = first_day + (last_day - first_day) / 2
    body = {
        "milestones": [{"title": "完成招标", "due": (first_day + timedelta(days=20)).isoformat()},
                       {"title": "主体完工", "due": middle.isoformat()},
                       {"title": "竣工验收", "due": last_day.isoformat()}],
        "funding": [{"source": "县级财政", "amount_wan": str(budget - 40)},
                    {"source": "上级补助", "amount_wan": "40"}],
        "targets": ["新建道路 7.8 公里"],
    }
    if last_day.year > first_day.year:
        body["stage_targets"] = [{"year": y, "target": f"{y}年完成阶段任务"}
                                 for y in range(first_day.year, last_day.year + 1)]
    body.update(extra)
    return body


def put_plan(client, world, project_id: str, body: dict, who: str = "gov_staff"):
    return client.put(f"{API}/projects/{project_id}/plan", json=body, headers=world.headers(who))
