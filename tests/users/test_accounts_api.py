"""Accounts: who creates whom, the deputy roster import, grants."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import User
from tests.helpers import run, token_headers


def user_body(**overrides):
    return {"username": "wang-wu", "password": "good-pass-12", "display_name": "王五",
            "role": "gov_staff", "jurisdiction_code": "lezhi", **overrides}


def count_users(client) -> int:
    return run(client, lambda s: s.scalar(select(func.count()).select_from(User)))


def test_admin_creates_an_account_that_can_log_in(client, world):
    r = client.post("/api/v1/users", json=user_body(), headers=world.headers("admin"))
    assert r.status_code == 201
    assert set(r.json()) == {"id", "username", "role"} and r.json()["role"] == "gov_staff"
    token_headers(client, "wang-wu", "good-pass-12")


def test_a_units_staff_account_belongs_to_one_unit_of_its_jurisdiction(client, world):
    """unit_staff name their responsible unit (unit_id), an active one of their jurisdiction;
    no other role names one. Every refusal stores nothing."""
    admin = world.headers("admin")

    def unit(code: str, name: str) -> str:
        r = client.post(f"/api/v1/jurisdictions/{code}/units", json={"name": name},
                        headers=world.headers("gov_staff" if code == "lezhi" else "admin"))
        assert r.status_code == 201, r.text
        return r.json()["id"]

    roads, elsewhere = unit("lezhi", "县交通运输局"), unit("anyue", "安岳县水务局")
    before = count_users(client)
    for body, code in ((user_body(role="unit_staff"), "unit_required"),
                       (user_body(role="unit_staff", unit_id=elsewhere), "unknown_unit"),
                       (user_body(role="unit_staff", unit_id="no-such-unit"), "unknown_unit"),
                       (user_body(unit_id=roads), "unit_not_allowed")):
        r = client.post("/api/v1/users", json=body, headers=admin)
        assert r.status_code == 422 and r.json()["code"] == code, r.text
    assert count_users(client) == before
    r = client.post("/api/v1/users", json=user_body(role="unit_staff", unit_id=roads),
                    headers=admin)
    assert r.status_code == 201
    listed = client.get("/api/v1/users?role=unit_staff&jurisdiction_code=lezhi", headers=admin)
    assert [u["unit_id"] for u in listed.json()["items"] if u["username"] == "wang-wu"] == [roads]


def test_a_taken_username_is_409(client, world):
    client.post("/api/v1/users", json=user_body(), headers=world.headers("admin"))
    r = client.post("/api/v1/users", json=user_body(), headers=world.headers("admin"))
    assert r.status_code == 409 and r.json()["code"] == "username_taken"


def test_congress_staff_create_deputies_of_their_own_jurisdiction_only(client, world):
    staff = world.headers("congress_staff")
    assert client.post("/api/v1/users", json=user_body(role="deputy"),
                       headers=staff).status_code == 201
    r = client.post("/api/v1/users", json=user_body(username="x-1", role="deputy",
                                                    jurisdiction_code="anyue"), headers=staff)
    assert r.status_code == 403
    r = client.post("/api/v1/users", json=user_body(username="x-2", role="gov_staff"),
                    headers=staff)
    assert r.status_code == 403


def test_a_street_has_no_deputies(client, world):
    r = client.post("/api/v1/users", json=user_body(role="deputy", jurisdiction_code="nanta"),
                    headers=world.headers("admin"))
    assert r.status_code == 422 and r.json()["code"] == "no_congress"


def test_account_fields_are_validated(client, world):
    before = count_users(client)
    bad = [user_body(username="a b"), user_body(username="x" * 65), user_body(role="king"),
           user_body(password="short"), user_body(display_name=""),
           user_body(jurisdiction_code="atlantis")]
    for body in bad:
        r = client.post("/api/v1/users", json=body, headers=world.headers("admin"))
        assert r.status_code in (404, 422), (body, r.text)
        assert r.json()["detail"] and r.json()["code"]
    assert count_users(client) == before


def import_roster(client, world, content: bytes, who="congress_staff", code="lezhi"):
    return client.post(f"/api/v1/jurisdictions/{code}/deputies", headers=world.headers(who),
                       files={"file": ("roster.csv", content, "text/csv")})


def test_roster_import_creates_deputies_and_returns_generated_passwords(client, world):
    csv = "username,display_name,password\nd-001,张三,\nd-002,李四,own-pass-123\n".encode()
    r = import_roster(client, world, csv)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["created"] == 2
    assert [c["username"] for c in body["credentials"]] == ["d-001"]
    generated = body["credentials"][0]["initial_password"]
    token_headers(client, "d-001", generated)
    token_headers(client, "d-002", "own-pass-123")
    must_change = run(client, lambda s: s.scalar(
        select(User.must_change_password).where(User.username == "d-001")))
    assert must_change is True


def test_roster_without_password_column_and_with_bom_and_gbk(client, world):
    r = import_roster(client, world, "\ufeffusername,display_name\nd-101,王一\n".encode())
    assert r.status_code == 201 and r.json()["created"] == 1
    r = import_roster(client, world, "username,display_name\nd-102,王二\n".encode("gb18030"))
    assert r.status_code == 201
    name = run(client, lambda s: s.scalar(select(User.display_name)
                                          .where(User.username == "d-102")))
    assert name == "王二"


def test_a_roster_with_any_bad_row_imports_nothing_and_names_the_lines(client, world):
    before = count_users(client)
    csv = ("username,display_name,password\nd-201,甲,\nbad name,乙,\nd-201,丙,\n"
           "d-204,,\nd-205,戊,123\n").encode()
    r = import_roster(client, world, csv)
    assert r.status_code == 422 and r.json()["code"] == "csv_rows_invalid"
    detail = r.json()["detail"]
    for line in ("line 3", "line 4", "line 5", "line 6"):
        assert line in detail
    assert count_users(client) == before


def test_a_roster_naming_a_taken_username_imports_nothing(client, world):
    before = count_users(client)
    r = import_roster(client, world, b"username,display_name\nd-301,A\ndeputy,B\n")
    assert r.status_code == 409 and "deputy" in r.json()["detail"]
    assert count_users(client) == before


def test_roster_header_and_file_problems(client, world):
    for content, code in [(b"", "csv_empty"), (b"name,user\nx,y\n", "csv_header"),
                          (b"username,display_name\n", "csv_no_rows"),
                          (b"\xff\xfe\x00garbage\xff", "csv_encoding")]:
        r = import_roster(client, world, content)
        assert r.status_code == 422 and r.json()["code"] == code, (content, r.text)


def test_roster_import_is_scoped_to_the_staffs_jurisdiction(client, world):
    r = import_roster(client, world, b"username,display_name\nd-401,A\n", code="anyue")
    assert r.status_code == 403
    r = import_roster(client, world, b"username,display_name\nd-402,A\n", who="gov_staff")
    assert r.status_code == 403
    r = import_roster(client, world, b"username,display_name\nd-403,A\n",
                      who="township_congress_staff", code="jinshun")
    assert r.status_code == 201


def test_a_roster_over_one_megabyte_is_413(client, world):
    big = b"username,display_name\n" + b"d-999,x\n" * 140_000
    r = import_roster(client, world, big, who="admin")
    assert r.status_code == 413


def test_users_list_for_congress_staff_shows_their_jurisdiction(client, world):
    r = client.get("/api/v1/users", headers=world.headers("congress_staff"))
    assert r.status_code == 200
    assert {u["jurisdiction_code"] for u in r.json()["items"]} == {"lezhi"}
    r = client.get("/api/v1/users?jurisdiction_code=anyue", headers=world.headers("congress_staff"))
    assert r.status_code == 403
    r = client.get("/api/v1/users?role=deputy", headers=world.headers("admin"))
    assert [u["username"] for u in r.json()["items"]] == ["deputy"]


def test_grants_are_for_staff_and_only_once(client, world):
    admin = world.headers("admin")
    r = client.post(f"/api/v1/users/{world.users['deputy'].id}/grants",
                    json={"jurisdiction_code": "anyue"}, headers=admin)
    assert r.status_code == 422
    uid = world.users["gov_staff"].id
    assert client.post(f"/api/v1/users/{uid}/grants", json={"jurisdiction_code": "anyue"},
                       headers=admin).status_code == 201
    assert client.post(f"/api/v1/users/{uid}/grants", json={"jurisdiction_code": "anyue"},
                       headers=admin).status_code == 409
    assert client.post("/api/v1/users/nope/grants", json={"jurisdiction_code": "anyue"},
                       headers=admin).status_code == 404
