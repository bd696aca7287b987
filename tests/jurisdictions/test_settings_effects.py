"""What a change of settings does: a new cycle takes the jurisdiction's categories (an existing
one keeps its own), the 征集 guard reads the new minimum, and level defaults apply wherever a
setting is read."""

from __future__ import annotations

from app.jurisdictions.settings import settings_for
from app.models import Jurisdiction

API = "/api/v1"
CATEGORIES = ["道路交通", "养老服务", "饮水安全"]


def new_cycle(client, world, year: int) -> dict:
    r = client.post(f"{API}/cycles", json={"jurisdiction_code": "lezhi", "year": year,
                                           "title": f"乐至县{year}年民生实事项目", "seats": 5},
                    headers=world.headers("gov_staff"))
    assert r.status_code == 201, r.text
    return r.json()


def change(client, world, **values) -> None:
    r = client.put(f"{API}/jurisdictions/lezhi/settings", json={**values, "reason": "常委会决定"},
                   headers=world.headers("congress_staff"))
    assert r.status_code == 200, r.text


def propose(client, world, cycle_id: str, category: str):
    return client.post(f"{API}/cycles/{cycle_id}/proposals", headers=world.headers("resident"),
                       json={"title": "古乐路金顺镇段改造", "category": category,
                             "description": "路面破损，会车困难，沿线三个村群众出行不便。",
                             "location_code": "lezhi"})


def test_a_new_cycle_takes_the_jurisdictions_categories_and_an_old_one_keeps_its_own(client,
                                                                                    world):
    old = new_cycle(client, world, 2025)
    change(client, world, categories=CATEGORIES, soliciting_min_days=0)
    new = new_cycle(client, world, 2026)
    for cycle in (old, new):
        r = client.post(f"{API}/cycles/{cycle['id']}/transitions", json={"to": "soliciting"},
                        headers=world.headers("gov_staff"))
        assert r.status_code == 200, r.text
    assert propose(client, world, new["id"], "养老服务").status_code == 201
    r = propose(client, world, new["id"], "教育")
    assert r.status_code == 422 and r.json()["code"] == "unknown_category", r.text
    assert "养老服务" in r.json()["detail"]
    assert propose(client, world, old["id"], "教育").status_code == 201
    assert propose(client, world, old["id"], "养老服务").status_code == 422


def test_the_soliciting_guard_reads_the_minimum_the_congress_set(client, world):
    cycle = new_cycle(client, world, 2025)
    url = f"{API}/cycles/{cycle['id']}/transitions"
    assert client.post(url, json={"to": "soliciting"},
                       headers=world.headers("gov_staff")).status_code == 200
    r = client.post(url, json={"to": "screening"}, headers=world.headers("gov_staff"))
    assert r.status_code == 409 and "30" in r.json()["detail"], r.text
    change(client, world, soliciting_min_days=0)
    r = client.post(url, json={"to": "screening"}, headers=world.headers("gov_staff"))
    assert r.status_code == 200, r.text


def test_level_defaults_hold_unless_the_jurisdiction_stored_its_own():
    province = Jurisdiction(code="sc", name="四川省", level="province", settings={})
    city = Jurisdiction(code="zy", name="资阳市", level="city", settings={"plan_due_days": 40})
    county = Jurisdiction(code="lz", name="乐至县", level="county", settings={})
    balloting_province = Jurisdiction(code="x", name="某省", level="province",
                                      settings={"decided_by": "ballot"})
    assert settings_for(province).decided_by == "government"
    assert (settings_for(city).decided_by, settings_for(city).plan_due_days) == ("government", 40)
    assert settings_for(county).decided_by == "ballot"
    assert settings_for(balloting_province).decided_by == "ballot"
    assert settings_for(None).decided_by == "ballot"
