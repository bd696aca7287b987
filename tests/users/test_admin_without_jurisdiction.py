"""An administrator belongs to no jurisdiction and acts in all; every other role belongs to one.

Pages and the API that read an account's jurisdiction cope with an admin who has none, and an
admin row made before (with a jurisdiction) keeps working."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.auth.roles import Role
from app.models import AuditEntry, User
from tests.helpers import PASSWORD, create_user, csrf, page_login, run, token_headers

API = "/api/v1"


def body(role: str, jurisdiction_code: str | None, username: str = "new-account") -> dict:
    return {"username": username, "password": "good-pass-12", "display_name": "王五",
            "role": role, "jurisdiction_code": jurisdiction_code}


def stored_jurisdiction(client, username: str) -> str | None:
    return run(client, lambda s: s.scalar(select(User.jurisdiction_code).where(
        User.username == username)))


def test_an_admin_may_be_created_without_a_jurisdiction_and_every_other_role_may_not(client,
                                                                                     world):
    admin = world.headers("admin")
    r = client.post(f"{API}/users", json=body("admin", None, "root-2"), headers=admin)
    assert r.status_code == 201 and r.json()["role"] == "admin", r.text
    assert stored_jurisdiction(client, "root-2") is None
    r = client.post(f"{API}/users", json={k: v for k, v in body("admin", None, "root-3").items()
                                          if k != "jurisdiction_code"}, headers=admin)
    assert r.status_code == 201, r.text
    for role in ("resident", "deputy", "gov_staff", "unit_staff", "congress_staff"):
        r = client.post(f"{API}/users", json=body(role, None), headers=admin)
        assert r.status_code == 422, (role, r.text)
        assert r.json()["code"] == "jurisdiction_required"
        assert "give jurisdiction_code" in r.json()["detail"]
    # An admin may still be given one (as admins made before this change have).
    r = client.post(f"{API}/users", json=body("admin", "lezhi", "root-4"), headers=admin)
    assert r.status_code == 201 and stored_jurisdiction(client, "root-4") == "lezhi"
    # Congress staff create deputies only: an admin without a jurisdiction is not theirs to make.
    r = client.post(f"{API}/users", json=body("admin", None, "root-5"),
                    headers=world.headers("congress_staff"))
    assert r.status_code == 403


def test_users_me_says_an_admin_has_no_jurisdiction(client, world):
    create_user(client, "root", Role.admin, None)
    r = client.get(f"{API}/users/me", headers=token_headers(client, "root"))
    assert r.status_code == 200 and r.json()["jurisdiction_code"] is None
    assert r.json()["role"] == "admin"
    # The admin made earlier with a jurisdiction keeps it.
    me = client.get(f"{API}/users/me", headers=world.headers("admin")).json()
    assert me["jurisdiction_code"] == "lezhi"


def test_an_admin_without_a_jurisdiction_acts_in_every_jurisdiction(client, world):
    create_user(client, "root", Role.admin, None)
    root = token_headers(client, "root")
    for code, year in (("lezhi", 2027), ("anyue", 2027), ("jinshun", 2028)):
        r = client.post(f"{API}/cycles", json={"jurisdiction_code": code, "year": year,
                                               "title": f"{code}{year}年民生实事", "seats": 5},
                        headers=root)
        assert r.status_code == 201, r.text
        r = client.post(f"{API}/cycles/{r.json()['id']}/transitions", json={"to": "soliciting"},
                        headers=root)
        assert r.status_code == 200, r.text
    r = client.get(f"{API}/users", headers=root)
    assert r.status_code == 200 and r.json()["total"] == len(world.users) + 1
    r = client.post(f"{API}/jurisdictions/anyue/deputies", headers=root,
                    files={"file": ("r.csv", "username,display_name\nay-d1,代表甲\n".encode(),
                                    "text/csv")})
    assert r.status_code == 201, r.text
    # A grant means nothing to an admin, who can act everywhere already.
    r = client.post(f"{API}/users/{world.users['admin'].id}/grants",
                    json={"jurisdiction_code": "anyue"}, headers=root)
    assert r.status_code == 409 and r.json()["code"] == "grant_exists"


def test_every_page_an_admin_without_a_jurisdiction_opens_works(client, world):
    create_user(client, "root", Role.admin, None)
    root = token_headers(client, "root")
    cycle_id = client.post(f"{API}/cycles", json={"jurisdiction_code": "lezhi", "year": 2027,
                                                  "title": "乐至县2027年民生实事项目", "seats": 5},
                           headers=root).json()["id"]
    client.post(f"{API}/cycles/{cycle_id}/transitions", json={"to": "soliciting"}, headers=root)
    page_login(client, "root")
    for url in ("/", "/propose", "/inbox", "/archive", "/account/password", "/admin/users",
                "/admin/jurisdictions", "/admin/deputies", "/cycles/new", "/staff/sms-outbox",
                f"/cycles/{cycle_id}", f"/cycles/{cycle_id}/proposals",
                f"/staff/cycles/{cycle_id}/triage", f"/staff/cycles/{cycle_id}/reserve",
                f"/staff/cycles/{cycle_id}/candidates", f"/staff/cycles/{cycle_id}/ballots"):
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code, r.text[-500:])
        assert "None" not in re.sub(r"<script.*?</script>", "", r.text, flags=re.S), url
    # The admin's own row in the account list says it covers every jurisdiction.
    row = re.search(r"<code>root</code>.*?</tr>", client.get("/admin/users").text, re.S).group(0)
    assert "全部" in row and "授权" not in row
    # The roster page has no default for the admin: choosing the congress is required.
    r = client.post("/admin/deputies", data={"csrftoken": csrf(client)},
                    files={"file": ("r.csv", "username,display_name\nx-d1,甲\n".encode(), "text/csv")})
    assert r.status_code == 422 and "请选择代表所属的人大" in r.text
    r = client.post("/admin/deputies", data={"jurisdiction_code": "jinshun",
                                             "csrftoken": csrf(client)},
                    files={"file": ("r.csv", "username,display_name\njs-d1,甲\n".encode(), "text/csv")})
    assert r.status_code == 200 and "已导入" in r.text


def test_the_account_page_creates_an_admin_without_a_jurisdiction(client, world):
    page_login(client, "admin")
    r = client.post("/admin/users", data={"username": "root-9", "display_name": "二号管理员",
                                          "password": "first-pass-1", "role": "admin",
                                          "jurisdiction_code": "", "csrftoken": csrf(client)})
    assert r.status_code in (200, 303), r.text
    assert stored_jurisdiction(client, "root-9") is None
    r = client.post("/admin/users", data={"username": "gov-9", "display_name": "王五",
                                          "password": "first-pass-1", "role": "gov_staff",
                                          "jurisdiction_code": "", "csrftoken": csrf(client)})
    assert r.status_code == 422 and "须选择所属行政区域" in r.text
    assert 'value="gov-9"' in r.text  # what was typed is kept
    entry = run(client, lambda s: s.scalar(select(AuditEntry).where(
        AuditEntry.action == "user.create").order_by(AuditEntry.seq.desc()).limit(1)))
    assert '"jurisdiction_code":null' in entry.data and '"username":"root-9"' in entry.data


def test_the_proposal_form_defaults_to_the_cycles_place_for_staff_from_elsewhere(client, world):
    root = world.headers("admin")
    cycle_id = client.post(f"{API}/cycles", json={"jurisdiction_code": "lezhi", "year": 2027,
                                                  "title": "乐至县2027年民生实事项目", "seats": 5},
                           headers=root).json()["id"]
    client.post(f"{API}/cycles/{cycle_id}/transitions", json={"to": "soliciting"}, headers=root)
    client.post(f"{API}/users/{world.users['other_gov_staff'].id}/grants",
                json={"jurisdiction_code": "lezhi"}, headers=root)
    selected = re.compile(r'<option value="([^"]+)" selected>')
    page_login(client, "other-gov-staff")  # of 安岳县, granted 乐至县
    html = client.get(f"/cycles/{cycle_id}/proposals/new").text
    assert selected.findall(html.split('id="location_code"')[1].split("</select>")[0]) == ["lezhi"]
    client.post("/logout", data={"csrftoken": csrf(client)})
    create_user(client, "js-resident", Role.resident, "jinshun")
    page_login(client, "js-resident", PASSWORD)
    html = client.get(f"/cycles/{cycle_id}/proposals/new").text
    assert selected.findall(html.split('id="location_code"')[1].split("</select>")[0]) == [
        "jinshun"]


def test_an_empty_installation_says_how_to_add_the_jurisdictions(client):
    html = client.get("/").text
    assert "尚未设置行政区域" in html and "从 CSV 文件导入" in html
    create_user(client, "root", Role.admin, None)  # as `minsheng create-admin` makes it
    page_login(client, "root")
    html = client.get("/").text
    assert 'href="/admin/jurisdictions"' in html
    page = client.get("/admin/jurisdictions")
    assert page.status_code == 200 and "还没有行政区域" in page.text
    assert '<option value="">—（无上级）</option>' in page.text
