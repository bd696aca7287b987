"""POST /projects/{id}/transitions (监督): who moves a project, when, and the congress decisions
that adjust, suspend, resume or terminate it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from app.models import AuditEntry, Project, ProjectDecision, StateTransition, User
from app.timeutil import china_today
from tests.ballots.conftest import API
from tests.helpers import run
from tests.projects.helpers import announced_projects


def move(client, world, project_id: str, who: str, to: str, **body):
    return client.post(f"{API}/projects/{project_id}/transitions", json={"to": to, **body},
                       headers=world.headers(who))


def give_unit(client, world, key: str, unit_id: str | None) -> None:
    run(client, lambda s: s.execute(update(User).where(User.id == world.users[key].id)
                                    .values(unit_id=unit_id)))


def unit_of(client, project_id: str) -> str:
    return run(client, lambda s: s.scalar(select(Project.responsible_unit_id)
                                          .where(Project.id == project_id)))


DECISION = {"number": "乐人大常发〔2025〕3号", "date": "2025-06-01"}


def test_the_unit_builds_its_own_projects_and_congress_accepts(client, world):
    _, (p1, p2) = announced_projects(client, world)
    other = client.post(f"{API}/jurisdictions/lezhi/units", json={"name": "县供电公司"},
                        headers=world.headers("gov_staff")).json()["id"]
    give_unit(client, world, "unit_staff", other)  # another unit's project: not theirs
    r = move(client, world, p1, "unit_staff", "in_progress")
    assert r.status_code == 403 and r.json()["code"] == "not_your_unit"
    give_unit(client, world, "unit_staff", None)
    r = move(client, world, p1, "unit_staff", "in_progress")
    assert r.status_code == 403 and r.json()["code"] == "not_your_unit"
    give_unit(client, world, "unit_staff", unit_of(client, p1))
    r = move(client, world, p1, "unit_staff", "in_progress", reason="开工")
    assert r.status_code == 200 and r.json() == {"state": "in_progress"}
    # 验收 is congress staff's, after completion
    r = move(client, world, p1, "congress_staff", "accepted")
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
    assert move(client, world, p1, "unit_staff", "completed").json() == {"state": "completed"}
    r = move(client, world, p1, "unit_staff", "accepted")
    assert r.status_code == 403 and r.json()["code"] == "role_not_allowed"
    assert move(client, world, p1, "congress_staff", "accepted").json() == {"state": "accepted"}
    # the government builds for any unit of its jurisdiction
    assert move(client, world, p2, "gov_staff", "in_progress").status_code == 200
    # every move is recorded: who, when, from, to, why
    rows = run(client, lambda s: s.scalars(select(StateTransition).where(
        StateTransition.entity_id == p1).order_by(StateTransition.at))).all()
    assert [(t.from_state, t.to_state) for t in rows][-3:] == [
        ("announced", "in_progress"), ("in_progress", "completed"), ("completed", "accepted")]
    assert rows[-3].reason == "开工" and rows[-1].actor_username == world.users[
        "congress_staff"].username


def test_a_congress_decision_suspends_resumes_and_terminates_with_its_number(client, world):
    _, (p1, _) = announced_projects(client, world)
    assert move(client, world, p1, "gov_staff", "in_progress").status_code == 200
    r = move(client, world, p1, "congress_staff", "suspended", reason="资金未到位")
    assert r.status_code == 422 and r.json()["code"] == "decision_required"
    r = move(client, world, p1, "congress_staff", "suspended", decision=DECISION)
    assert r.status_code == 422 and r.json()["code"] == "reason_required"
    tomorrow = (china_today() + timedelta(days=1)).isoformat()
    r = move(client, world, p1, "congress_staff", "suspended", reason="资金未到位",
             decision={**DECISION, "date": tomorrow})
    assert r.status_code == 422 and r.json()["code"] == "invalid_decision"
    r = move(client, world, p1, "congress_staff", "suspended", reason="资金未到位",
             decision={**DECISION, "number": "   "})
    assert r.status_code == 422 and r.json()["code"] == "invalid_decision"
    r = move(client, world, p1, "gov_staff", "suspended", reason="资金未到位", decision=DECISION)
    assert r.status_code == 403 and r.json()["code"] == "role_not_allowed"
    r = move(client, world, p1, "congress_staff", "suspended", reason="资金未到位",
             decision=DECISION)
    assert r.status_code == 200 and r.json() == {"state": "suspended"}
    # resuming is a decision too; completing takes none
    r = move(client, world, p1, "congress_staff", "in_progress", reason="资金已落实")
    assert r.status_code == 422 and r.json()["code"] == "decision_required"
    r = move(client, world, p1, "congress_staff", "in_progress", reason="资金已落实",
             decision={"number": "乐人大常发〔2025〕5号", "date": "2025-08-01"})
    assert r.json() == {"state": "in_progress"}
    r = move(client, world, p1, "gov_staff", "completed", decision=DECISION)
    assert r.status_code == 422 and r.json()["code"] == "decision_not_allowed"
    r = move(client, world, p1, "congress_staff", "terminated", reason="选址无法落实",
             decision={"number": "乐人大常发〔2025〕9号", "date": "2025-09-01"})
    assert r.json() == {"state": "terminated"}
    r = move(client, world, p1, "gov_staff", "in_progress")
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
    decisions = run(client, lambda s: s.scalars(select(ProjectDecision).where(
        ProjectDecision.project_id == p1).order_by(ProjectDecision.decided_on))).all()
    assert [(d.from_state, d.to_state, d.number, d.decided_on, d.reason, d.reported_at)
            for d in decisions] == [
        ("in_progress", "suspended", "乐人大常发〔2025〕3号", date(2025, 6, 1), "资金未到位", None),
        ("suspended", "in_progress", "乐人大常发〔2025〕5号", date(2025, 8, 1), "资金已落实", None),
        ("in_progress", "terminated", "乐人大常发〔2025〕9号", date(2025, 9, 1), "选址无法落实",
         None)]
    logged = run(client, lambda s: s.scalars(select(AuditEntry.action).where(
        AuditEntry.entity_id == p1))).all()
    assert logged.count("project.decision") == 3


@pytest.mark.parametrize("body", [{"to": "built"}, {"to": "in_progress", "decision": {}},
                                  {"to": "in_progress", "decision": {"number": "x",
                                                                     "date": "soon"}}])
def test_a_malformed_move_is_422_naming_the_field(client, world, body):
    _, (p1, _) = announced_projects(client, world)
    r = client.post(f"{API}/projects/{p1}/transitions", json=body,
                    headers=world.headers("gov_staff"))
    assert r.status_code == 422 and r.json()["code"] == "invalid_field"


def test_residents_deputies_and_strangers_cannot_move_a_project(client, world):
    _, (p1, _) = announced_projects(client, world)
    for who in ("resident", "deputy"):
        assert move(client, world, p1, who, "in_progress").status_code == 403
    assert client.post(f"{API}/projects/{p1}/transitions",
                       json={"to": "in_progress"}).status_code == 401
    r = move(client, world, "no-such-project", "gov_staff", "in_progress")
    assert r.status_code == 404 and r.json()["code"] == "unknown_project"
    state = run(client, lambda s: s.scalar(select(Project.state).where(Project.id == p1)))
    assert state == "announced"


def test_projects_move_from_the_announcement_until_the_cycle_is_closed(client, world):
    cycle_id, (p1, _) = announced_projects(client, world)
    assert move(client, world, p1, "gov_staff", "in_progress").status_code == 200
    for phase in ("supervising", "evaluating", "closed"):
        r = client.post(f"{API}/cycles/{cycle_id}/transitions", json={"to": phase},
                        headers=world.headers("congress_staff"))
        assert r.status_code == 200, r.text
    r = move(client, world, p1, "gov_staff", "completed")
    assert r.status_code == 409 and r.json()["code"] == "wrong_phase"
