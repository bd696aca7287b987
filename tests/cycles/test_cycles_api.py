"""Cycles through the API: creation, reading with history, phase transitions and refusals."""

from __future__ import annotations

import pytest

from tests.ballots.conftest import publish_round
from tests.helpers import seed_reviewed_candidates, set_jurisdiction_settings

PHASES = ["soliciting", "screening", "balloting", "announced", "supervising", "evaluating",
          "closed"]
MOVER = {"soliciting": "gov_staff", "screening": "gov_staff", "balloting": "congress_staff",
         "announced": "congress_staff", "supervising": "congress_staff",
         "evaluating": "congress_staff", "closed": "congress_staff"}


def create_cycle(client, world, who="gov_staff", **overrides):
    body = {"jurisdiction_code": "lezhi", "year": 2025, "title": "乐至县2025年民生实事项目",
            "seats": 10, **overrides}
    return client.post("/api/v1/cycles", json=body, headers=world.headers(who))


def test_gov_staff_creates_a_cycle_in_draft(client, world):
    r = create_cycle(client, world)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["phase"] == "draft" and body["seats"] == 10 and body["jurisdiction_code"] == "lezhi"
    got = client.get(f"/api/v1/cycles/{body['id']}").json()
    assert got["history"][0]["from"] is None and got["history"][0]["to"] == "draft"
    assert got["history"][0]["by"] == "gov-staff"


def test_second_cycle_for_the_same_year_is_a_conflict(client, world):
    assert create_cycle(client, world).status_code == 201
    r = create_cycle(client, world)
    assert r.status_code == 409 and r.json()["code"] == "cycle_exists"


def test_a_street_cannot_have_a_cycle(client, world):
    r = create_cycle(client, world, who="admin", jurisdiction_code="nanta")
    assert r.status_code == 422 and r.json()["code"] == "no_congress"


def test_staff_cannot_create_a_cycle_in_another_county(client, world):
    r = create_cycle(client, world, who="other_gov_staff")
    assert r.status_code == 403 and r.json()["code"] == "outside_jurisdiction"


@pytest.mark.parametrize("who", ["resident", "deputy", "unit_staff", "congress_staff"])
def test_other_roles_cannot_create_cycles(client, world, who):
    assert create_cycle(client, world, who=who).status_code == 403


def test_anonymous_cannot_create_cycles(client, world):
    r = client.post("/api/v1/cycles", json={"jurisdiction_code": "lezhi", "year": 2025,
                                            "title": "t", "seats": 3})
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


def test_cycle_walks_every_phase_by_the_roles_domain_md_names(client, world):
    set_jurisdiction_settings(client, "lezhi", soliciting_min_days=0)
    cycle_id = create_cycle(client, world).json()["id"]
    seed_reviewed_candidates(client, cycle_id, 12)
    for phase in PHASES:
        if phase == "announced":
            publish_round(client, world, cycle_id)  # 公开 needs a published ballot result
        r = client.post(f"/api/v1/cycles/{cycle_id}/transitions",
                        json={"to": phase, "reason": f"进入{phase}"},
                        headers=world.headers(MOVER[phase]))
        assert r.status_code == 200, (phase, r.text)
        assert r.json() == {"phase": phase}
    history = client.get(f"/api/v1/cycles/{cycle_id}").json()["history"]
    assert [(h["from"], h["to"]) for h in history] == list(zip([None, "draft", *PHASES[:-1]],
                                                               ["draft", *PHASES], strict=True))
    assert history[-1]["by"] == "congress-staff" and history[-1]["reason"] == "进入closed"
    assert all(h["at"] for h in history)


def test_skipping_a_phase_is_refused_with_409_and_the_way_forward(client, world):
    cycle_id = create_cycle(client, world).json()["id"]
    r = client.post(f"/api/v1/cycles/{cycle_id}/transitions", json={"to": "balloting"},
                    headers=world.headers("admin"))
    assert r.status_code == 409
    assert r.json()["code"] == "illegal_transition" and "soliciting" in r.json()["detail"]
    assert client.get(f"/api/v1/cycles/{cycle_id}").json()["phase"] == "draft"


def test_going_back_is_not_in_the_table(client, world):
    cycle_id = create_cycle(client, world).json()["id"]
    client.post(f"/api/v1/cycles/{cycle_id}/transitions", json={"to": "soliciting"},
                headers=world.headers("gov_staff"))
    r = client.post(f"/api/v1/cycles/{cycle_id}/transitions", json={"to": "draft"},
                    headers=world.headers("gov_staff"))
    assert r.status_code == 409


def test_the_wrong_role_for_a_step_gets_403(client, world):
    set_jurisdiction_settings(client, "lezhi", soliciting_min_days=0)
    cycle_id = create_cycle(client, world).json()["id"]
    r = client.post(f"/api/v1/cycles/{cycle_id}/transitions", json={"to": "soliciting"},
                    headers=world.headers("congress_staff"))
    assert r.status_code == 403 and r.json()["code"] == "role_not_allowed"
    client.post(f"/api/v1/cycles/{cycle_id}/transitions", json={"to": "soliciting"},
                headers=world.headers("gov_staff"))
    client.post(f"/api/v1/cycles/{cycle_id}/transitions", json={"to": "screening"},
                headers=world.headers("gov_staff"))
    r = client.post(f"/api/v1/cycles/{cycle_id}/transitions", json={"to": "balloting"},
                    headers=world.headers("gov_staff"))
    assert r.status_code == 403


def test_solicitation_must_last_the_jurisdictions_minimum(client, world):
    cycle_id = create_cycle(client, world).json()["id"]
    client.post(f"/api/v1/cycles/{cycle_id}/transitions", json={"to": "soliciting"},
                headers=world.headers("gov_staff"))
    r = client.post(f"/api/v1/cycles/{cycle_id}/transitions", json={"to": "screening"},
                    headers=world.headers("gov_staff"))
    assert r.status_code == 409 and r.json()["code"] == "guard_failed"
    assert "30 days" in r.json()["detail"]


def test_staff_of_another_county_cannot_move_the_cycle(client, world):
    cycle_id = create_cycle(client, world).json()["id"]
    r = client.post(f"/api/v1/cycles/{cycle_id}/transitions", json={"to": "soliciting"},
                    headers=world.headers("other_gov_staff"))
    assert r.status_code == 403 and r.json()["code"] == "outside_jurisdiction"


def test_a_granted_staff_member_may_act_in_the_other_county(client, world):
    cycle_id = create_cycle(client, world).json()["id"]
    r = client.post(f"/api/v1/users/{world.users['other_gov_staff'].id}/grants",
                    json={"jurisdiction_code": "lezhi"}, headers=world.headers("admin"))
    assert r.status_code == 201
    r = client.post(f"/api/v1/cycles/{cycle_id}/transitions", json={"to": "soliciting"},
                    headers=world.headers("other_gov_staff"))
    assert r.status_code == 200


def test_unknown_phase_is_a_field_error(client, world):
    cycle_id = create_cycle(client, world).json()["id"]
    r = client.post(f"/api/v1/cycles/{cycle_id}/transitions", json={"to": "finished"},
                    headers=world.headers("gov_staff"))
    assert r.status_code == 422 and r.json()["code"] == "invalid_field"


def test_unknown_cycle_is_404(client, world):
    assert client.get("/api/v1/cycles/nope").status_code == 404
    r = client.post("/api/v1/cycles/nope/transitions", json={"to": "soliciting"},
                    headers=world.headers("gov_staff"))
    assert r.status_code == 404 and r.json()["code"] == "unknown_cycle"


def test_cycles_list_is_paginated(client, world):
    for year in (2023, 2024, 2025):
        create_cycle(client, world, year=year)
    r = client.get("/api/v1/cycles?page=1&per_page=2")
    body = r.json()
    assert body["total"] == 3 and body["page"] == 1 and body["per_page"] == 2
    assert [c["year"] for c in body["items"]] == [2025, 2024]
