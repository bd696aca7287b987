"""Jurisdictions: five levels nested by rule, each with an optional 行政区划代码."""

from __future__ import annotations

from sqlalchemy import select

from app.models import AuditEntry
from tests.helpers import run


def add(client, headers, code, level, parent=None, division=None, name=None):
    body = {"code": code, "name": name or code, "level": level, "parent_code": parent}
    if division is not None:
        body["division_code"] = division
    return client.post("/api/v1/jurisdictions", json=body, headers=headers)


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
    assert street["has_congress"] is False and street["division_code"] is None


def test_a_province_city_county_and_township_nest_with_their_division_codes(client, world):
    admin = world.headers("admin")
    for code, level, parent, division in (
            ("sichuan", "province", None, "510000"), ("ziyang", "city", "sichuan", "512000"),
            ("lezhi2", "county", "ziyang", "512022"), ("tianchi", "township", "lezhi2", "512022100"),
            ("nanta2", "street", "lezhi2", "512022001")):
        r = add(client, admin, code, level, parent, division)
        assert r.status_code == 201, r.text
        assert r.json()["division_code"] == division
    items = {j["code"]: j for j in client.get("/api/v1/jurisdictions?per_page=100").json()["items"]}
    assert items["tianchi"] == {"code": "tianchi", "name": "tianchi", "level": "township",
                                "parent_code": "lezhi2", "division_code": "512022100",
                                "has_congress": True}
    entries = run(client, lambda s: s.scalars(select(AuditEntry).where(
        AuditEntry.action == "jurisdiction.create", AuditEntry.entity_id == "tianchi")))
    assert '"division_code":"512022100"' in entries.one().data


def test_a_county_may_sit_in_a_city_a_province_or_at_the_top(client, world):
    admin = world.headers("admin")
    assert add(client, admin, "beijing", "province", division="110000").status_code == 201
    assert add(client, admin, "dongcheng", "county", "beijing", "110101").status_code == 201
    assert add(client, admin, "ziyang", "city", division="512000").status_code == 201  # at the top
    assert add(client, admin, "anyue2", "county", "ziyang", "512021").status_code == 201
    assert add(client, admin, "lone", "county").status_code == 201


def test_nesting_rules_refuse_with_a_sentence_and_a_code(client, world):
    admin = world.headers("admin")
    add(client, admin, "sichuan", "province")
    add(client, admin, "ziyang", "city", "sichuan")
    cases = [
        (("x0", "province", "sichuan"), "parent_not_allowed", "at the top"),
        (("x1", "city", "ziyang"), "wrong_parent_level", "A city sits in a province"),
        (("x2", "city", "lezhi"), "wrong_parent_level", "'lezhi' is a county"),
        (("x3", "county", "lezhi"), "wrong_parent_level", "A county sits in a city or a province"),
        (("x4", "county", "jinshun"), "wrong_parent_level", "is a township"),
        (("x5", "township", None), "parent_required", "name it in parent_code"),
        (("x6", "township", "jinshun"), "wrong_parent_level", "A township sits in a county"),
        (("x7", "street", "ziyang"), "wrong_parent_level", "A street sits in a county"),
        (("x8", "township", "sichuan"), "wrong_parent_level", "is a province"),
        (("x9", "township", "nowhere"), "unknown_parent", "does not exist"),
    ]
    for args, code, words in cases:
        r = add(client, admin, *args)
        assert r.status_code == 422, (args, r.text)
        assert r.json()["code"] == code and words in r.json()["detail"], (args, r.text)


def test_division_codes_have_the_levels_length_and_begin_with_the_parents(client, world):
    admin = world.headers("admin")
    add(client, admin, "sichuan", "province", division="510000")
    add(client, admin, "ziyang", "city", "sichuan", "512000")
    add(client, admin, "lz", "county", "ziyang", "512022")
    cases = [
        (("a1", "county", "ziyang", "51202"), "division_code_format", "6 digits"),
        (("a2", "township", "lz", "512022"), "division_code_format", "9 digits"),
        (("a3", "township", "lz", "512022100000"), "division_code_format", "9 digits"),
        (("a4", "county", "ziyang", "51202x"), "division_code_format", "6 digits"),
        (("a5", "province", None, "510100"), "division_code_format", "ends in 0000"),
        (("a6", "city", "sichuan", "512001"), "division_code_format", "ends in 00"),
        (("a7", "city", "sichuan", "522000"), "division_code_mismatch", "first 2 digits"),
        (("a8", "county", "ziyang", "513022"), "division_code_mismatch", "(5120)"),
        (("a9", "township", "lz", "512021100"), "division_code_mismatch", "(512022)"),
        (("b1", "county", "sichuan", "520101"), "division_code_mismatch", "(51)"),
    ]
    for args, code, words in cases:
        r = add(client, admin, *args)
        assert r.status_code == 422, (args, r.text)
        assert r.json()["code"] == code and words in r.json()["detail"], (args, r.text)
    # A parent without a code takes any child's well-formed code; an empty string is no code.
    assert add(client, admin, "b2", "township", "lezhi", "512022101").status_code == 201
    assert add(client, admin, "b3", "township", "lezhi", "").json()["division_code"] is None
    r = add(client, admin, "b4", "township", "lz", "512022101")
    assert r.status_code == 409 and r.json()["code"] == "division_code_taken"
    assert "'b2'" in r.json()["detail"]


def test_jurisdiction_rules_are_enforced(client, world):
    admin = world.headers("admin")
    cases = [
        ({"code": "lezhi", "name": "重复", "level": "county"}, 409),
        ({"code": "x1", "name": "镇", "level": "township"}, 422),
        ({"code": "x2", "name": "镇", "level": "township", "parent_code": "jinshun"}, 422),
        ({"code": "x3", "name": "镇", "level": "township", "parent_code": "nowhere"}, 422),
        ({"code": "x4", "name": "县", "level": "county", "parent_code": "lezhi"}, 422),
        ({"code": "Bad Code", "name": "县", "level": "county"}, 422),
        ({"code": "x5", "name": "县", "level": "region"}, 422),
        ({"code": "x6", "name": "  ", "level": "county"}, 422),
        ({"code": "x7", "name": "县", "level": "county", "division_code": "1" * 21}, 422),
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
