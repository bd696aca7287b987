"""Login CSRF: every page POST needs the CSRF token, also one that carries no cookie at all
(asgi-csrf lets those through unless told otherwise), so a cross-site form can neither log a
browser in nor have an SMS code sent."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import SmsMessage
from tests.helpers import PASSWORD, csrf, run

COOKIE = "minsheng_session"


def count(client, model) -> int:
    return run(client, lambda s: s.scalar(select(func.count()).select_from(model)))


def logged_in_as(client) -> bool:
    return "退出" in client.get("/").text


def test_a_cross_site_login_without_any_cookie_is_refused(client, world):
    r = client.post("/login", data={"username": "gov-staff", "password": PASSWORD, "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 403 and "页面已过期" in r.text
    assert COOKIE not in r.headers.get("set-cookie", "")
    assert not logged_in_as(client)


def test_a_cross_site_sms_code_request_without_any_cookie_is_refused(client, world):
    r = client.post("/register/code", data={"phone": "13912345678"},
                    headers={"hx-request": "true"})
    assert r.status_code == 403
    assert count(client, SmsMessage) == 0


def test_a_person_who_opens_the_login_page_fresh_still_logs_in(client, world):
    client.cookies.clear()
    r = client.get("/login")
    assert "csrftoken" in client.cookies and client.cookies["csrftoken"] in r.text
    r = client.post("/login", data={"username": "gov-staff", "password": PASSWORD, "next": "/",
                                    "csrftoken": client.cookies["csrftoken"]},
                    follow_redirects=False)
    assert r.status_code == 303 and logged_in_as(client)


def test_an_htmx_post_with_the_header_token_still_passes(client, world):
    client.get("/register")
    r = client.post("/register/code", data={"phone": "13912345678"},
                    headers={"hx-request": "true", "x-csrftoken": csrf(client)})
    assert r.status_code == 200
    assert count(client, SmsMessage) == 1


def test_a_cookieless_post_is_refused_before_its_body_is_read(client, world):
    r = client.post("/login", content=b"username=gov-staff&password=x",
                    headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 403 and "页面已过期" in r.text
    # A body that is not UTF-8 is refused further out still (app/undecodable.py): never a 500.
    r = client.post("/login", content=b"username=\xff&password=x",
                    headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and "minsheng_session" not in r.headers.get("set-cookie", "")


def test_the_bearer_api_needs_no_csrf_cookie(client, world):
    r = client.post("/api/v1/auth/token", json={"username": "gov-staff", "password": PASSWORD})
    assert r.status_code == 200
