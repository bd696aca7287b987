"""Fixtures for 征集: a lezhi cycle in soliciting, and helpers to file proposals."""

from __future__ import annotations

import pytest

API = "/api/v1"


def proposal_body(**overrides) -> dict:
    return {"title": "古乐路金顺镇段改造", "description": "路面破损，会车困难，沿线三个村群众出行不便。",
            "category": "交通出行", "location_code": "jinshun", "place": "金顺镇至冯店镇",
            "estimated_cost_wan": "4680", **overrides}


def open_cycle(client, world, year: int = 2025) -> str:
    r = client.post(f"{API}/cycles", json={"jurisdiction_code": "lezhi", "year": year,
                                           "title": f"乐至县{year}年民生实事项目", "seats": 10},
                    headers=world.headers("gov_staff"))
    cycle_id = r.json()["id"]
    r = client.post(f"{API}/cycles/{cycle_id}/transitions", json={"to": "soliciting"},
                    headers=world.headers("gov_staff"))
    assert r.status_code == 200, r.text
    return cycle_id


def propose(client, world, cycle_id: str, who: str = "resident", **overrides) -> str:
    r = client.post(f"{API}/cycles/{cycle_id}/proposals", json=proposal_body(**overrides),
                    headers=world.headers(who))
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.fixture
def cycle_id(client, world) -> str:
    return open_cycle(client, world)
