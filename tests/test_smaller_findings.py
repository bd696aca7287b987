"""Issue 14, finding 13: a 405 names every method of the address; a page form over a field's
limit is 413, not 400; congress staff list the deputies they keep, never residents (whose
usernames are their phone numbers)."""

from __future__ import annotations

import pytest

from tests.helpers import create_user, csrf, page_login
from tests.proposals.conftest import open_cycle, propose


def _allowed(r) -> set[str]:
    return {m.strip() for m in r.headers["allow"].split(",")}


@pytest.mark.parametrize("method, path, expected", [
    ("DELETE", "/login", {"GET", "POST"}),
    ("PUT", "/api/v1/cycles", {"GET", "POST"}),
    ("DELETE", "/api/v1/candidates/x", {"GET", "PATCH"}),
])
def test_a_405_lists_every_method_the_address_allows(client, world, method, path, expected):
    r = client.request(method, path, headers={"x-csrftoken": csrf(client)})
    assert r.status_code == 405
    assert _allowed(r) == expected


def test_a_two_megabyte_page_form_is_413(client, world):
    pid = propose(client, world, open_cycle(client, world))
    assert page_login(client, "resident").status_code == 303
    token = csrf(client)
    big = "长" * (2 * 1024 * 1024 // 3)
    r = client.post(f"/proposals/{pid}/comments", data={"body": big, "csrftoken": token})
    assert r.status_code == 413 and "提交的内容太大" in r.text
    r = client.post(f"/proposals/{pid}/comments", data={"csrftoken": token},
                    files={"body": (None, big.encode())})
    assert r.status_code == 413


def test_congress_staff_list_deputies_not_residents(client, world):
    create_user(client, "13800138000", "resident")
    r = client.get("/api/v1/users", headers=world.headers("congress_staff"))
    assert r.status_code == 200
    assert {u["role"] for u in r.json()["items"]} == {"deputy"}
    assert "13800138000" not in r.text
    r = client.get("/api/v1/users?role=resident", headers=world.headers("congress_staff"))
    assert r.status_code == 403 and r.json()["code"] == "deputies_only"
    r = client.get("/api/v1/users?role=resident", headers=world.headers("admin"))
    assert "13800138000" in r.text
