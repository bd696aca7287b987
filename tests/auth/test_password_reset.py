"""A resident who forgot the password logs in by SMS code and sets a new one without the old
(找回密码): the SMS code proves the phone, as it did at registration. Only for a while after that
log-in, and only in the browser that made it."""

from __future__ import annotations

from unittest import mock

from app.auth import login_sessions
from tests.auth.test_lockout import RESIDENT_PHONE, last_login_code, resident_with_phone, token
from tests.helpers import PASSWORD, csrf, page_login

NEW = "桂花巷路灯-2026"


def sms_log_in(client, next: str = "/account/password"):
    client.post("/login/sms/code", data={"csrftoken": csrf(client), "phone": RESIDENT_PHONE})
    r = client.post("/login/sms", data={"csrftoken": csrf(client), "phone": RESIDENT_PHONE,
                                        "code": last_login_code(client), "next": next},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return r


def set_password(client, new: str = NEW, current: str | None = None):
    data = {"csrftoken": csrf(client), "new_password": new, "new_password_repeat": new}
    if current is not None:
        data["current_password"] = current
    return client.post("/account/password", data=data)


def test_the_login_page_offers_a_way_back_for_a_forgotten_password(client, world):
    page = client.get("/login")
    assert 'href="/login/sms?next=/account/password"' in page.text and "忘记密码" in page.text


def test_after_an_sms_log_in_a_new_password_needs_no_current_one(client, world):
    resident_with_phone(client)
    r = sms_log_in(client)
    assert r.headers["location"].endswith("/account/password")
    form = client.get("/account/password")
    assert 'name="current_password"' not in form.text and "短信验证码" in form.text
    r = set_password(client)
    assert r.status_code == 200 and "密码已修改" in r.text
    assert token(client, "resident", NEW).status_code == 200
    assert token(client, "resident", PASSWORD).status_code == 401
    # Once used, the next change asks for the current password again.
    assert 'name="current_password"' in client.get("/account/password").text
    assert set_password(client, "另一个新密码-77").status_code == 422


def test_the_leave_ends_after_fifteen_minutes(client, world):
    resident_with_phone(client)
    sms_log_in(client)
    later = login_sessions.utcnow() + login_sessions.SMS_RESET_WINDOW * 1.01
    with mock.patch.object(login_sessions, "utcnow", return_value=later):
        assert 'name="current_password"' in client.get("/account/password").text
        r = set_password(client)
    assert r.status_code == 422 and "当前密码不正确" in r.text
    assert token(client, "resident", PASSWORD).status_code == 200


def test_a_password_log_in_still_needs_the_current_password(client, world):
    resident_with_phone(client)
    page_login(client, "resident")
    assert 'name="current_password"' in client.get("/account/password").text
    r = set_password(client)
    assert r.status_code == 422 and "当前密码不正确" in r.text
    assert token(client, "resident", PASSWORD).status_code == 200
