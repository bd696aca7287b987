"""`minsheng demo`: 乐至县 with its townships, people and a 2024 cycle in 征集; twice is once."""

from __future__ import annotations

from sqlalchemy import func, select

from app import demo
from app.models import AuditEntry, Cycle, Jurisdiction, Proposal, User
from tests.helpers import run


def counts(client):
    async def q(session):
        result = {}
        for model in (Jurisdiction, User, Cycle, Proposal, AuditEntry):
            result[model.__name__] = await session.scalar(select(func.count()).select_from(model))
        result["deputies"] = dict((await session.execute(
            select(User.jurisdiction_code, func.count()).where(User.role == "deputy")
            .group_by(User.jurisdiction_code))).all())
        result["roles"] = set(await session.scalars(select(User.role).distinct()))
        return result

    return run(client, q)


def test_demo_loads_the_county_and_running_it_again_changes_nothing(client):
    first = run(client, demo.load)
    assert first.loaded
    before = counts(client)
    assert before["Jurisdiction"] == 4
    assert before["deputies"]["lezhi"] == 280
    assert 45 <= before["deputies"]["jinshun"] <= 60 and 45 <= before["deputies"]["foxing"] <= 60
    assert "nanta" not in before["deputies"]
    assert before["roles"] == {"resident", "deputy", "gov_staff", "unit_staff",
                               "congress_staff", "admin"}
    assert before["Proposal"] >= 12
    second = run(client, demo.load)
    assert not second.loaded and second.cycle_id == first.cycle_id
    assert counts(client) == before


def test_demo_cycle_is_in_soliciting_with_its_history_and_realistic_proposals(client):
    result = run(client, demo.load)
    cycle = client.get(f"/api/v1/cycles/{result.cycle_id}").json()
    assert cycle["phase"] == "soliciting" and cycle["year"] == 2024 and cycle["seats"] == 10
    assert [h["to"] for h in cycle["history"]] == ["draft", "soliciting"]
    titles = run(client, lambda s: s.scalars(select(Proposal.title)))
    joined = " ".join(titles)
    for words in ("古乐路", "惠民卡", "户外劳动者", "助餐", "照明"):
        assert words in joined


def test_demo_logins_work(client):
    run(client, demo.load)
    for username in ("admin", "lezhi-gov", "lezhi-congress", "lezhi-d001", "13800000001"):
        r = client.post("/api/v1/auth/token",
                        json={"username": username, "password": demo.DEMO_PASSWORD})
        assert r.status_code == 200, username
    assert "lezhi-gov" in demo.logins_text()
