"""Jurisdictions: a county at the top, townships and streets inside it."""

from __future__ import annotations


def test_admin_builds_a_county_with_a_township_and_a_street(client, world):
    admin = world.headers("admin")
    bodies = [{"code": "tongxian", "name": "通贤县", "level": "county", "parent_code": None},
              {"code": "tx-a", "name": "甲镇", "level": "township", "parent_code": "tongxian"},
              {"code": "tx-b", "name": "乙街道", "level": "street", "parent_code": "tongxian"}]
    for body in bodies:
        r = client.post("/api/v1/jurisdictions", json=body, headers=admin)
        assert r.status_code == 201, r.text
    listed = client.get("/api/v1/jurisdictions?per_page=100").json()
    codes = [j["code"] for j in listed["items"]]
    assert codes.index("tongxian") < codes.index("tx-a")
    street = next(j for j in listed["items"] if j["code"] == "tx-b")
    assert street["has_congress"] is False


def test_jurisdiction_rules_are_enforced(client, world):
    admin = world.headers("admin")
    cases = [
        ({"code": "lezhi", "name": "重复", "level": "county"}, 409),
        ({"code": "x1", "name": "镇", "level": "township"}, 422),
        ({"code": "x2", "name": "镇", "level": "township", "parent_code": "jinshun"}, 422),
        ({"code": "x3", "name": "镇", "level": "township", "parent_code": "nowhere"}, 422),
        ({"code": "x4", "name": "县", "level": "county", "parent_code": "lezhi"}, 422),
        ({"code": "Bad Code", "name": "县", "level": "county"}, 422),
        ({"code": "x5", "name": "县", "level": "province"}, 422),
        ({"code": "x6", "name": "  ", "level": "county"}, 422),
    ]
    for body, status in cases:
        r = client.post("/api/v1/jurisdictions", json=body, headers=admin)
        assert r.status_code == status, (body, r.text)


def test_only_admins_add_jurisdictions(client, world):
    body = {"code": "x9", "name": "县", "level": "county"}
    for who in ("gov_staff", "congress_staff", "deputy"):
        assert client.post("/api/v1/jurisdictions", json=body,
                           headers=world.headers(who)).status_code == 403
    assert client.post("/api/v1/jurisdictions", json=body).status_code == 401
