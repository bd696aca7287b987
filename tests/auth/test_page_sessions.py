"""Page log-in: the session cookie, CSRF on every form, the forced first password change."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.conftest import TEST_SECRET
from tests.helpers import PASSWORD, create_user, csrf, page_login


def test_page_login_sets_an_httponly_lax_session_cookie(client, world):
    r = page_login(client, "gov-staff")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = [v for k, v in r.headers.multi_items()
              if k == "set-cookie" and v.startswith("minsheng_session=")][0].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    page = client.get("/").text
    assert "测试gov-staff" in page and "退出" in page


def test_session_cookie_is_secure_when_configured(client, world, database_url):
    settings = Settings(env="test", database_url=database_url, secret_key=TEST_SECRET,
                        rate_limit_url="memory://", cookie_secure=True)
    with TestClient(create_app(settings), base_url="https://testserver") as secure_client:
        r = page_login(secure_client, "gov-staff")
        assert r.status_code == 303
        cookies = [v.lower() for k, v in r.headers.multi_items() if k == "set-cookie"]
        session_cookie = [c for c in cookies if c.startswith("minsheng_session=")][0]
        assert "secure" in session_cookie and "httponly" in session_cookie


def test_wrong_password_on_the_page_reshows_the_form_in_chinese(client, world):
    r = page_login(client, "gov-staff", "wrong-password")
    assert r.status_code == 401
    assert "用户名或密码不正确" in r.text and 'value="gov-staff"' in r.text


def test_a_form_post_without_the_csrf_token_is_refused(client, world):
    page_login(client, "gov-staff")
    r = client.post("/cycles/new", data={"jurisdiction_code": "lezhi", "year": "2025",
                                         "title": "t", "seats": "3"})
    assert r.status_code == 403 and "页面已过期" in r.text
    r = client.post("/cycles/new", data={"jurisdiction_code": "lezhi", "year": "2025",
                                         "title": "t", "seats": "3", "csrftoken": "forged"})
    assert r.status_code == 403


def test_an_htmx_request_carries_the_token_in_a_header(client, world):
    page_login(client, "gov-staff")
    r = client.post("/cycles/new", data={"jurisdiction_code": "lezhi", "year": "2025",
                                         "title": "乐至县2025年", "seats": "3"},
                    headers={"x-csrftoken": csrf(client), "hx-request": "true"})
    assert r.status_code == 204 and r.headers["hx-redirect"].startswith("/cycles/")


def test_logout_ends_the_session(client, world):
    page_login(client, "gov-staff")
    r = client.post("/logout", data={"csrftoken": csrf(client)}, follow_redirects=False)
    assert r.status_code == 303
    assert "退出" not in client.get("/").text
    r = client.get("/cycles/new", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_a_deputy_with_a_generated_password_must_change_it_first(client, world):
    create_user(client, "new-deputy", "deputy", must_change_password=True)
    r = page_login(client, "new-deputy")
    assert r.headers["location"] == "/account/password"
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/account/password"
    page = client.get("/account/password").text
    assert "初始密码" in page
    r = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "my-own-pass-7",
        "new_password_repeat": "my-own-pass-7", "csrftoken": csrf(client)})
    assert r.status_code == 200 and "密码已修改" in r.text
    assert client.get("/", follow_redirects=False).status_code == 200


def test_password_form_reports_a_mismatch_in_chinese(client, world):
    page_login(client, "deputy")
    r = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "my-own-pass-7",
        "new_password_repeat": "other-pass-77", "csrftoken": csrf(client)})
    assert r.status_code == 422 and "两次输入的新密码不一致" in r.text


def test_login_redirect_never_leaves_the_site(client, world):
    client.get("/login")
    r = client.post("/login", data={"username": "gov-staff", "password": PASSWORD,
                                    "next": "https://evil.example/", "csrftoken":
                                    client.cookies.get("csrftoken")}, follow_redirects=False)
    assert r.headers["location"] == "/"


def test_page_login_is_throttled_too(client, world):
    for _ in range(6):  # five free failures, then a wait
        page_login(client, "deputy", "wrong-pass-1")
    r = page_login(client, "deputy")
    assert r.status_code == 429 and "登录失败次数较多" in r.text
