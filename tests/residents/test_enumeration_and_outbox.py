"""Registered numbers cannot be found out by trying codes; the SMS outbox shows staff only the
codes of their own jurisdictions, and production refuses the outbox unless told otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from app.config import Settings
from tests.helpers import csrf, page_login
from tests.residents.test_registration import last_code, register

API = "/api/v1"
REGISTERED, UNREGISTERED = "13912345678", "13987654321"


def registered_resident(client, phone=REGISTERED):
    client.post(f"{API}/residents/sms-codes", json={"phone": phone})
    assert register(client, phone=phone).status_code == 201
    fresh_rate_limits(client)  # one code a minute per number


def fresh_rate_limits(client):
    client.portal.call(client.app.state.rate_limits.limiter.storage.reset)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_wrong_code_gets_the_same_answer_whether_or_not_the_number_is_registered(client, world):
    registered_resident(client)
    answers = []
    for phone in (REGISTERED, UNREGISTERED):
        assert client.post(f"{API}/residents/sms-codes", json={"phone": phone}).status_code == 202
        r = register(client, phone=phone, code=wrong(last_code(client, phone)))
        answers.append((r.status_code, r.json()))
    assert answers[0] == answers[1] and answers[0][0] == 422
    assert answers[0][1]["code"] == "code_wrong"


def test_no_code_requested_gets_the_same_answer_whether_or_not_the_number_is_registered(
        client, world):
    registered_resident(client)
    answers = []
    for phone in (REGISTERED, UNREGISTERED):
        r = client.post(f"{API}/residents", json={
            "phone": phone, "code": "123456", "password": "my-pass-123",
            "display_name": "周大爷", "jurisdiction_code": "jinshun"})
        answers.append((r.status_code, r.json()))
    assert answers[0] == answers[1] and answers[0][1]["code"] == "code_expired"


def test_only_the_right_code_tells_that_a_number_is_registered(client, world):
    registered_resident(client)
    client.post(f"{API}/residents/sms-codes", json={"phone": REGISTERED})
    r = register(client, phone=REGISTERED)
    assert r.status_code == 409 and r.json()["code"] == "phone_registered"


def test_the_code_request_does_not_tell_whether_a_number_is_registered(client, world):
    registered_resident(client)
    api = [client.post(f"{API}/residents/sms-codes", json={"phone": phone})
           for phone in (REGISTERED, UNREGISTERED)]
    assert [r.status_code for r in api] == [202, 202] and api[0].json() == api[1].json()
    pages = [client.post("/register/code", data={"csrftoken": csrf(client), "phone": phone})
             for phone in ("13912340000", "13912345679")]
    assert pages[0].status_code == pages[1].status_code == 200


def test_code_checks_are_limited_per_address(client, world):
    for i in range(100):
        r = client.post(f"{API}/residents", json={
            "phone": f"1391234{i:04d}", "code": "123456", "password": "my-pass-123",
            "display_name": "周大爷", "jurisdiction_code": "jinshun"})
        assert r.status_code == 422, (i, r.text)
    r = client.post(f"{API}/residents", json={
        "phone": "13700000000", "code": "123456", "password": "my-pass-123",
        "display_name": "周大爷", "jurisdiction_code": "jinshun"})
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"


# ------------------------------------------------------------------ the outbox

def outbox_phones(client, headers) -> set[str]:
    r = client.get(f"{API}/sms-outbox", headers=headers)
    assert r.status_code == 200, r.text
    return {m["phone"] for m in r.json()}


def test_staff_read_only_the_codes_of_their_own_jurisdictions(client, world):
    for phone, where in (("13900000001", "jinshun"), ("13900000002", "anyue"),
                         ("13900000003", None)):
        body = {"phone": phone} | ({"jurisdiction_code": where} if where else {})
        assert client.post(f"{API}/residents/sms-codes", json=body).status_code == 202
    assert outbox_phones(client, world.headers("admin")) == {
        "13900000001", "13900000002", "13900000003"}
    # The county's staff help the residents of its townships; a township's staff their own.
    assert outbox_phones(client, world.headers("gov_staff")) == {"13900000001"}
    assert outbox_phones(client, world.headers("township_congress_staff")) == {"13900000001"}
    assert outbox_phones(client, world.headers("other_gov_staff")) == {"13900000002"}
    assert outbox_phones(client, world.headers("other_congress_staff")) == {"13900000002"}


def test_the_outbox_page_is_scoped_too(client, world):
    for phone, where in (("13900000001", "jinshun"), ("13900000002", "anyue")):
        client.post(f"{API}/residents/sms-codes", json={"phone": phone, "jurisdiction_code": where})
    page_login(client, "other-gov-staff")
    page = client.get("/staff/sms-outbox")
    assert page.status_code == 200 and "13900000002" in page.text
    assert "13900000001" not in page.text


def test_the_registration_page_asks_for_the_code_with_the_jurisdiction(client, world):
    r = client.post("/register/code", data={"csrftoken": csrf(client), "phone": "13900000001",
                                             "jurisdiction_code": "anyue"})
    assert r.status_code == 200
    assert outbox_phones(client, world.headers("other_gov_staff")) == {"13900000001"}


def test_a_code_asked_for_one_jurisdiction_cannot_register_in_another(client, world):
    client.post(f"{API}/residents/sms-codes", json={"phone": UNREGISTERED,
                                                    "jurisdiction_code": "anyue"})
    r = register(client, phone=UNREGISTERED, jurisdiction_code="jinshun")
    assert r.status_code == 422 and r.json()["code"] == "code_wrong"
    assert register(client, phone=UNREGISTERED, jurisdiction_code="anyue").status_code == 201


def test_an_unknown_jurisdiction_for_a_code_is_404(client, world):
    r = client.post(f"{API}/residents/sms-codes", json={"phone": UNREGISTERED,
                                                        "jurisdiction_code": "atlantis"})
    assert r.status_code == 404 and r.json()["code"] == "unknown_jurisdiction"


# ------------------------------------------------------------------ production

PRODUCTION = dict(env="production", secret_key="s" * 40, ballot_key="b" * 40,
                  rate_limit_url="redis://127.0.0.1:6379/0")


def test_production_refuses_the_outbox_sender_unless_allowed():
    with pytest.raises(ValidationError, match="MINSHENG_SMS_OUTBOX_IN_PRODUCTION=true"):
        Settings(**PRODUCTION)
    Settings(**PRODUCTION, sms_outbox_in_production=True)
    Settings(**PRODUCTION, sms_sender="my_gateway.sms:Gateway")
    Settings(env="test", secret_key="s" * 40)  # outside production the outbox is fine


def test_serve_refuses_to_start_in_production_with_the_outbox():
    env = {"PATH": "/usr/bin:/bin", "MINSHENG_ENV": "production",
           "MINSHENG_SECRET_KEY": "s" * 40, "MINSHENG_BALLOT_KEY": "b" * 40,
           "MINSHENG_RATE_LIMIT_URL": "redis://127.0.0.1:6379/0"}
    r = subprocess.run([sys.executable, "-m", "app.cli", "serve", "--port", "1"], env=env,
                       capture_output=True, text=True, timeout=60, cwd=os.path.dirname(__file__))
    assert r.returncode == 2 and "MINSHENG_SMS_OUTBOX_IN_PRODUCTION" in r.stderr
