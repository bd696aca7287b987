"""Fixtures for 初定: a lezhi cycle in screening with accepted proposals and a unit list."""

from __future__ import annotations

import pytest

from tests.helpers import set_jurisdiction_settings
from tests.proposals.conftest import API, open_cycle, propose


def accepted(client, world, cycle_id, n: int, **overrides) -> list[str]:
    ids = []
    for i in range(n):
        pid = propose(client, world, cycle_id, who="deputy" if i % 2 else "resident",
                      title=f"村道硬化第{i + 1}段", **overrides)
        r = client.post(f"{API}/proposals/{pid}/review", json={"decision": "accept"},
                        headers=world.headers("gov_staff"))
        assert r.status_code == 200, r.text
        ids.append(pid)
    return ids


def to_screening(client, world, cycle_id):
    r = client.post(f"{API}/cycles/{cycle_id}/transitions", json={"to": "screening"},
                    headers=world.headers("gov_staff"))
    assert r.status_code == 200, r.text


def candidate_body(proposal_ids, **overrides) -> dict:
    return {"title": "古乐路金顺镇至冯店镇段改建", "summary": "按三级公路标准改建 7.8 公里，惠及沿线三个村。",
            "responsible_unit": "县交通运输局", "budget_wan": "4680", "deadline": "2025-12-31",
            "proposal_ids": proposal_ids, "targets": ["新建公路 7.8 公里"],
            "funding": [{"source": "县级财政", "amount_wan": "1680"},
                        {"source": "上级补助", "amount_wan": "3000"}],
            "feasibility": "已完成线路踏勘。", **overrides}


@pytest.fixture
def screening(client, world):
    """(cycle id, four accepted proposal ids), the cycle in screening, one unit on the list."""
    set_jurisdiction_settings(client, "lezhi", soliciting_min_days=0)
    cycle_id = open_cycle(client, world)
    ids = accepted(client, world, cycle_id, 4)
    to_screening(client, world, cycle_id)
    for name in ("县交通运输局", "县教育局"):
        r = client.post(f"{API}/jurisdictions/lezhi/units", json={"name": name},
                        headers=world.headers("gov_staff"))
        assert r.status_code == 201, r.text
    return cycle_id, ids
