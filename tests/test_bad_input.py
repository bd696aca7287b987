"""Bad input gets a 4xx with {detail, code}, never a 500, and stores nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import Cycle
from tests.helpers import run


def cycles(client) -> int:
    return run(client, lambda s: s.scalar(select(func.count()).select_from(Cycle)))


def assert_error(r, status, code=None):
    assert r.status_code == status, r.text
    body = r.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["code"], str) and body["code"]
    if code:
        assert body["code"] == code


def test_malformed_json_is_400(client, world):
    r = client.post("/api/v1/cycles", content=b'{"year": 20', headers={
        **world.headers("gov_staff"), "content-type": "application/json"})
    assert_error(r, 400, "malformed_json")


def test_a_json_array_instead_of_an_object_is_400(client, world):
    r = client.post("/api/v1/cycles", json=[1, 2], headers=world.headers("gov_staff"))
    assert r.status_code in (400, 422)
    assert r.json()["code"]


def test_missing_body_is_400(client, world):
    r = client.post("/api/v1/cycles", headers=world.headers("gov_staff"))
    assert_error(r, 400)


def test_wrong_types_and_unknown_fields_are_422_naming_the_field(client, world):
    base = {"jurisdiction_code": "lezhi", "year": 2025, "title": "t", "seats": 3}
    for patch in ({"year": "twenty"}, {"seats": -1}, {"seats": 1000}, {"title": ["x"]},
                  {"extra": 1}, {"year": 1800}):
        r = client.post("/api/v1/cycles", json={**base, **patch},
                        headers=world.headers("gov_staff"))
        assert_error(r, 422, "invalid_field")
        assert list(patch)[0] in r.json()["detail"]
    assert cycles(client) == 0


def test_over_long_strings_are_422(client, world):
    r = client.post("/api/v1/cycles", json={"jurisdiction_code": "lezhi", "year": 2025,
                                            "title": "长" * 201, "seats": 3},
                    headers=world.headers("gov_staff"))
    assert_error(r, 422, "invalid_field")
    assert cycles(client) == 0


def test_a_body_over_one_megabyte_is_413(client, world):
    r = client.post("/api/v1/cycles", content=b'{"title": "' + b"x" * 1_100_000 + b'"}',
                    headers={**world.headers("gov_staff"), "content-type": "application/json"})
    assert_error(r, 413, "too_large")


def test_a_streamed_body_over_the_limit_is_413_too(client, world):
    def chunks():
        for _ in range(20):
            yield b"x" * 100_000

    r = client.post("/api/v1/cycles", content=chunks(),
                    headers={**world.headers("gov_staff"), "content-type": "application/json"})
    assert_error(r, 413, "too_large")


def test_unknown_ids_and_routes_are_404_json(client, world):
    assert_error(client.get("/api/v1/cycles/0000"), 404, "unknown_cycle")
    assert_error(client.get("/api/v1/nothing-here"), 404, "not_found")


def test_wrong_method_is_405_json(client, world):
    assert_error(client.delete("/api/v1/cycles"), 405)


def test_bad_paging_is_422(client, world):
    for query in ("page=0", "per_page=1000", "page=abc"):
        assert_error(client.get(f"/api/v1/cycles?{query}"), 422, "invalid_field")


def test_html_in_text_is_stored_as_text_and_shown_escaped(client, world):
    title = '<script>alert("x")</script>乐至'
    r = client.post("/api/v1/cycles", json={"jurisdiction_code": "lezhi", "year": 2025,
                                            "title": title, "seats": 3},
                    headers=world.headers("gov_staff"))
    assert r.status_code == 201 and r.json()["title"] == title
    page = client.get(f"/cycles/{r.json()['id']}").text
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_unknown_page_is_a_chinese_404_page(client, world):
    r = client.get("/no/such/page")
    assert r.status_code == 404 and "找不到页面" in r.text
    assert r.headers["content-type"].startswith("text/html")


def test_forbidden_page_is_a_chinese_403_page(client, world):
    from tests.helpers import page_login

    page_login(client, "deputy")
    r = client.get("/admin/users")
    assert r.status_code == 403 and "没有权限" in r.text
