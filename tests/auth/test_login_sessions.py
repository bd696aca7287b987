"""Server-side page sessions (登录会话): logging out ends the session on the server (the old
cookie no longer works), log out everywhere ends every browser's session and every bearer token,
a password change ends the others."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

from itsdangerous import TimestampSigner
from sqlalchemy import func, select, update

from app.models import BallotParticipation, LoginSession, User, utcnow
from tests.ballots.conftest import walk_round
from tests.ballots.test_deputy_pages import marks_form
from tests.helpers import PASSWORD, create_user, csrf, page_login, run

COOKIE = "minsheng_session"
API = "/api/v1"


def count(client, model, *where) -> int:
    return run(client, lambda s: s.scalar(select(func.count()).select_from(model).where(*where)))


def logged_in_as(client) -> bool:
    return "退出" in client.get("/").text


def log_in(client, username: str) -> str:
    """A fresh browser logs in; the value of its session cookie."""
    client.cookies.clear()
    assert page_login(client, username).status_code == 303
    return client.cookies[COOKIE]


def browser(client, cookie: str) -> None:
    """Become the browser holding this session cookie (and a CSRF cookie of its own)."""
    client.cookies.clear()
    client.cookies.set(COOKIE, cookie)


# ----------------------------------------------------------------------------- logout

def test_the_old_cookie_no_longer_works_after_logout(client, world):
    cookie = log_in(client, "gov-staff")
    assert logged_in_as(client)
    r = client.post("/logout", data={"csrftoken": csrf(client)}, follow_redirects=False)
    assert r.status_code == 303
    browser(client, cookie)  # someone kept a copy of the cookie
    assert not logged_in_as(client)
    r = client.get("/cycles/new", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    ended = run(client, lambda s: s.scalar(select(LoginSession)))
    assert ended.ended_at is not None and ended.ended_reason == "logout"


def test_the_session_id_is_stored_hashed(client, world):
    cookie = log_in(client, "gov-staff")
    stored = run(client, lambda s: s.scalar(select(LoginSession.id)))
    assert len(stored) == 64 and stored not in cookie


def test_a_logged_out_cookie_cannot_cast_on_the_deputy_page(client, world):
    ballot_id = walk_round(client, world, "open", seats=2)
    cookie = log_in(client, "deputy")
    form = marks_form(client, ballot_id, yes=1, step="confirm")
    client.post("/logout", data={"csrftoken": csrf(client)})
    browser(client, cookie)
    form["csrftoken"] = csrf(client)
    r = client.post(f"/ballots/{ballot_id}/vote", data=form, follow_redirects=False)
    assert r.status_code in (303, 401), r.text
    assert "receipt-code" not in r.text
    assert count(client, BallotParticipation) == 0


def test_a_new_login_gets_a_new_session_and_ends_the_one_before(client, world):
    first = log_in(client, "gov-staff")
    assert page_login(client, "congress-staff").status_code == 303  # same browser
    second = client.cookies[COOKIE]
    assert second != first
    browser(client, first)
    assert not logged_in_as(client)
    browser(client, second)
    assert "测试congress-staff" in client.get("/").text


def test_expired_sessions_end_and_are_cleaned_up_at_the_next_login(client, world):
    cookie = log_in(client, "gov-staff")
    run(client, lambda s: s.execute(update(LoginSession).values(
        expires_at=utcnow() - timedelta(seconds=1))))
    browser(client, cookie)
    assert not logged_in_as(client)
    log_in(client, "deputy")
    assert count(client, LoginSession) == 1  # the expired one is gone


def test_last_seen_is_written_at_most_every_five_minutes(client, world):
    log_in(client, "gov-staff")
    long_ago = utcnow() - timedelta(minutes=4)
    run(client, lambda s: s.execute(update(LoginSession).values(last_seen_at=long_ago)))
    client.get("/")
    seen = run(client, lambda s: s.scalar(select(LoginSession.last_seen_at)))
    assert abs((seen - long_ago).total_seconds()) < 1  # not written: under five minutes
    long_ago = utcnow() - timedelta(minutes=6)
    run(client, lambda s: s.execute(update(LoginSession).values(last_seen_at=long_ago)))
    client.get("/")
    seen = run(client, lambda s: s.scalar(select(LoginSession.last_seen_at)))
    assert (utcnow() - seen).total_seconds() < 60


def test_a_cookie_from_before_server_side_sessions_logs_nobody_in(client, world):
    user = world.users["gov_staff"]
    data = base64.b64encode(json.dumps({"uid": user.id, "v": user.token_version}).encode())
    secret = client.app.state.settings.effective_secret
    browser(client, TimestampSigner(secret).sign(data).decode())
    r = client.get("/", follow_redirects=False)
    assert "退出" not in r.text
    assert f"{COOKIE}=null" in r.headers.get("set-cookie", "")  # and the browser forgets it


def test_a_deactivated_account_is_logged_out(client, world):
    cookie = log_in(client, "gov-staff")
    run(client, lambda s: s.execute(update(User).where(User.username == "gov-staff")
                                    .values(is_active=False)))
    browser(client, cookie)
    assert not logged_in_as(client)


# ----------------------------------------------------------------------------- everywhere

def test_log_out_everywhere_ends_other_browsers_and_bearer_tokens(client, world):
    other = log_in(client, "deputy")
    token = world.headers("deputy")
    assert client.get(f"{API}/users/me", headers=token).status_code == 200
    log_in(client, "deputy")
    page = client.get("/account/sessions")
    assert page.status_code == 200 and "退出所有设备" in page.text
    assert page.text.count('class="session-item') == 2 and "当前设备" in page.text
    r = client.post("/account/sessions/logout-all", data={"csrftoken": csrf(client)})
    assert r.status_code == 200 and "已在所有设备上退出" in r.text
    assert not logged_in_as(client)
    browser(client, other)
    assert not logged_in_as(client)
    r = client.get(f"{API}/users/me", headers=token)
    assert r.status_code == 401 and r.json()["code"] == "invalid_token"
    assert count(client, LoginSession, LoginSession.ended_at.is_(None)) == 0


PIXEL = ("Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/120.0.0.0 Mobile Safari/537.36")


def test_log_out_everywhere_on_the_api(client, world):
    client.headers["user-agent"] = PIXEL
    cookie = log_in(client, "deputy")
    token = world.headers("deputy")
    r = client.get(f"{API}/users/me/sessions", headers=token)
    assert r.status_code == 200 and len(r.json()) == 1
    assert r.json()[0]["device"] == "Chrome Mobile · Android 13 · Pixel 7"
    r = client.post(f"{API}/users/me/logout-all", headers=token)
    assert r.status_code == 204
    assert client.get(f"{API}/users/me", headers=token).status_code == 401
    browser(client, cookie)
    assert not logged_in_as(client)


def test_a_cast_with_a_token_from_before_log_out_everywhere_is_refused(client, world):
    ballot_id = walk_round(client, world, "open", seats=2)
    token = world.headers("deputy")
    fresh = client.post(f"{API}/auth/token", json={"username": "deputy", "password": PASSWORD})
    fresh = {"Authorization": f"Bearer {fresh.json()['access_token']}"}
    assert client.post(f"{API}/users/me/logout-all", headers=fresh).status_code == 204
    ids = [c["id"] for c in client.get(f"{API}/ballots/{ballot_id}").json()["candidates"]]
    r = client.post(f"{API}/ballots/{ballot_id}/votes", headers=token,
                    json={"marks": {ids[0]: "yes"}})
    assert r.status_code == 401 and r.json()["code"] == "invalid_token"
    assert count(client, BallotParticipation) == 0


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(client, world):
    other = log_in(client, "deputy")
    this = log_in(client, "deputy")
    r = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "my-own-pass-7",
        "new_password_repeat": "my-own-pass-7", "csrftoken": csrf(client)})
    assert r.status_code == 200 and "密码已修改" in r.text
    assert logged_in_as(client)
    this = client.cookies[COOKIE]  # the same session, now for the new password
    browser(client, other)
    assert not logged_in_as(client)
    browser(client, this)
    assert logged_in_as(client)


def test_a_password_change_on_the_api_ends_every_page_session(client, world):
    create_user(client, "changer", "deputy")
    cookie = log_in(client, "changer")
    token = client.post(f"{API}/auth/token", json={"username": "changer", "password": PASSWORD})
    r = client.post(f"{API}/users/me/password",
                    headers={"Authorization": f"Bearer {token.json()['access_token']}"},
                    json={"current_password": PASSWORD, "new_password": "my-own-pass-7"})
    assert r.status_code == 204
    browser(client, cookie)
    assert not logged_in_as(client)
    assert count(client, LoginSession, LoginSession.ended_at.is_(None)) == 0
