"""Resident self-registration with a mobile number and a 6-digit SMS code."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from app.models import SmsCode, SmsMessage, User, utcnow
from tests.helpers import run

API = "/api/v1"


def last_code(client, phone: str) -> str:
    body = run(client, lambda s: s.scalar(select(SmsMessage.body).where(SmsMessage.phone == phone)
                                          .order_by(SmsMessage.created_at.desc()).limit(1)))
    return re.search(r"\d{6}", body).group(0)


def register(client, phone="13912345678", **overrides):
    body = {"phone": phone, "code": last_code(client, phone), "password": "my-pass-123",
            "display_name": "周大爷", "jurisdiction_code": "jinshun", **overrides}
    return client.post(f"{API}/residents", json=body)


def test_register_with_a_code_then_log_in_with_the_number(client, world):
    r = client.post(f"{API}/residents/sms-codes", json={"phone": "139 1234 5678"})
    assert r.status_code == 202 and r.json()["expires_in"] == 600
    r = register(client)
    assert r.status_code == 201 and r.json()["role"] == "resident"
    assert r.json()["username"] == "13912345678"
    token = client.post(f"{API}/auth/token", json={"username": "13912345678",
                                                   "password": "my-pass-123"})
    assert token.status_code == 200 and token.json()["role"] == "resident"
    user = run(client, lambda s: s.scalar(select(User).where(User.phone == "13912345678")))
    assert user.jurisdiction_code == "jinshun"


def test_codes_are_stored_hashed_and_shown_to_staff_in_the_outbox(client, world):
    client.post(f"{API}/residents/sms-codes", json={"phone": "13912345678",
                                                    "jurisdiction_code": "jinshun"})
    code = last_code(client, "13912345678")
    stored = run(client, lambda s: s.scalar(select(SmsCode.code_hash)))
    assert code not in stored and len(stored) == 64
    outbox = client.get(f"{API}/sms-outbox", headers=world.headers("gov_staff")).json()
    assert outbox[0]["phone"] == "13912345678" and code in outbox[0]["body"]
    assert client.get(f"{API}/sms-outbox", headers=world.headers("resident")).status_code == 403


def test_a_wrong_or_expired_code_is_refused_and_no_account_is_made(client, world):
    client.post(f"{API}/residents/sms-codes", json={"phone": "13912345678"})
    real = last_code(client, "13912345678")
    wrong = f"{(int(real) + 1) % 1_000_000:06d}"
    r = register(client, code=wrong)
    assert r.status_code == 422 and r.json()["code"] == "code_wrong"
    run(client, lambda s: s.execute(update(SmsCode).values(
        expires_at=utcnow() - timedelta(seconds=1))))
    r = register(client)
    assert r.status_code == 422 and r.json()["code"] == "code_expired"
    assert run(client, lambda s: s.scalar(select(User.id).where(User.phone == "13912345678"))) is None


def test_a_code_works_once(client, world):
    client.post(f"{API}/residents/sms-codes", json={"phone": "13912345678"})
    code = last_code(client, "13912345678")
    assert register(client).status_code == 201
    r = register(client, phone="13912345678", code=code)
    assert r.status_code == 422 and r.json()["code"] == "code_expired"


def test_codes_are_limited_per_number_and_per_address(client, world):
    assert client.post(f"{API}/residents/sms-codes", json={"phone": "13900000000"}).status_code == 202
    r = client.post(f"{API}/residents/sms-codes", json={"phone": "13900000000"})
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    for i in range(1, 20):
        client.post(f"{API}/residents/sms-codes", json={"phone": f"1390000{i:04d}"})
    r = client.post(f"{API}/residents/sms-codes", json={"phone": "13911112222"})
    assert r.status_code == 429


def test_guessing_codes_is_limited(client, world):
    client.post(f"{API}/residents/sms-codes", json={"phone": "13912345678"})
    real = last_code(client, "13912345678")
    for i in range(10):
        guess = f"{(int(real) + 1 + i) % 1_000_000:06d}"
        assert register(client, code=guess).status_code == 422
    r = register(client, code=real)
    assert r.status_code == 429


def test_registration_fields_are_checked(client, world):
    for phone in ("12345", "23912345678", "1391234567a"):
        r = client.post(f"{API}/residents/sms-codes", json={"phone": phone})
        assert r.status_code == 422, phone
    client.post(f"{API}/residents/sms-codes", json={"phone": "13912345678"})
    for patch, code in (({"password": "short"}, "password_too_short"),
                        ({"jurisdiction_code": "atlantis"}, "unknown_jurisdiction"),
                        ({"display_name": " "}, "display_name_required")):
        r = register(client, **patch)
        assert r.json()["code"] == code, (patch, r.text)
