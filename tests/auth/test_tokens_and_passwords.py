"""Log-in by token, throttling, password hashing and change."""

from __future__ import annotations

from passlib.hash import bcrypt
from sqlalchemy import select

from app.models import User
from tests.helpers import PASSWORD, create_user, run, token_headers


def test_token_for_good_credentials_has_the_documented_shape(client, world):
    r = client.post("/api/v1/auth/token", json={"username": "gov-staff", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["role"] == "gov_staff"
    assert body["expires_in"] == 3600 and body["access_token"]
    me = client.get("/api/v1/users/me",
                    headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["username"] == "gov-staff"


def test_wrong_password_and_unknown_user_are_both_401(client, world):
    for username in ("gov-staff", "nobody-here"):
        r = client.post("/api/v1/auth/token", json={"username": username, "password": "wrong-1"})
        assert r.status_code == 401 and r.json()["code"] == "bad_credentials"


def test_a_forged_or_garbled_token_is_401(client, world):
    good = token_headers(client, "gov-staff")["Authorization"]
    # One character changed mid-token (the signed part). Changing the last characters is not
    # enough: a base64 signature's last character carries padding bits, so "…xx" could decode
    # to the same signature about once in a thousand runs.
    i = len(good) // 2
    forged = good[:i] + ("A" if good[i] != "A" else "B") + good[i + 1:]
    for bad in (forged, "Bearer nonsense", "Bearer "):
        r = client.get("/api/v1/users/me", headers={"Authorization": bad})
        assert r.status_code == 401, bad


def test_six_failures_make_the_next_try_of_the_pair_wait(client, world):
    for _ in range(6):
        client.post("/api/v1/auth/token", json={"username": "deputy", "password": "wrong-1"})
    r = client.post("/api/v1/auth/token", json={"username": "deputy", "password": PASSWORD})
    assert r.status_code == 429 and r.json()["code"] == "login_throttled"
    assert int(r.headers["Retry-After"]) > 0
    # Another account from the same address is not slowed by that.
    assert client.post("/api/v1/auth/token",
                       json={"username": "admin", "password": PASSWORD}).status_code == 200


def test_thirty_failures_from_one_address_lock_nobody_else_out(client, world):
    for i in range(30):
        client.post("/api/v1/auth/token", json={"username": f"guess-{i}", "password": "wrong-1"})
    r = client.post("/api/v1/auth/token", json={"username": "admin", "password": PASSWORD})
    assert r.status_code == 200


def test_new_passwords_are_argon2(client, world):
    hashed = run(client, lambda s: s.scalar(select(User.password_hash)
                                            .where(User.username == "admin")))
    assert hashed.startswith("$argon2id$")


def test_a_bcrypt_hash_still_verifies_and_is_rehashed_with_argon2(client, world):
    create_user(client, "old-timer", "gov_staff", password_hash=bcrypt.hash(PASSWORD))
    assert client.post("/api/v1/auth/token",
                       json={"username": "old-timer", "password": PASSWORD}).status_code == 200
    hashed = run(client, lambda s: s.scalar(select(User.password_hash)
                                            .where(User.username == "old-timer")))
    assert hashed.startswith("$argon2")


def test_changing_the_password_ends_every_earlier_token(client, world):
    headers = token_headers(client, "deputy")
    r = client.post("/api/v1/users/me/password", headers=headers,
                    json={"current_password": PASSWORD, "new_password": "brand-new-pw-9"})
    assert r.status_code == 204
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401
    token_headers(client, "deputy", "brand-new-pw-9")


def test_password_change_needs_the_current_password_and_a_good_new_one(client, world):
    headers = token_headers(client, "deputy")
    cases = [({"current_password": "wrong", "new_password": "brand-new-pw-9"}, "wrong_password"),
             ({"current_password": PASSWORD, "new_password": "short1"}, "password_too_short"),
             ({"current_password": PASSWORD, "new_password": "1234567890"}, "password_common"),
             ({"current_password": PASSWORD, "new_password": PASSWORD}, "password_same")]
    for body, code in cases:
        r = client.post("/api/v1/users/me/password", headers=headers, json=body)
        assert r.status_code == 422 and r.json()["code"] == code, (body, r.text)
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200


def test_a_deactivated_account_cannot_log_in(client, world):
    async def deactivate(session):
        user = await session.scalar(select(User).where(User.username == "resident"))
        user.is_active = False

    headers = token_headers(client, "resident")
    run(client, deactivate)
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401
    r = client.post("/api/v1/auth/token", json={"username": "resident", "password": PASSWORD})
    assert r.status_code == 401
