"""Passwords in the style of NIST SP 800-63B: length, a common-password list, no personal or
repetitive ones — and the same rule wherever a password is set."""

from __future__ import annotations

import io
import re
import sys

import pytest
from sqlalchemy import select

from app import cli
from app.auth.passwords import check_policy, generate_password
from app.errors import Invalid
from app.models import SmsMessage
from tests.helpers import PASSWORD, csrf, page_login, run, token_headers

WEAK = ("password", "12345678", "qq123456")
# More of the most common ones, Chinese sites' among them.
COMMON = ("123456789", "11111111", "1qaz2wsx", "woaini1314", "a123456789", "5201314520",
          "iloveyou", "qwertyuiop", "Password1", "P@ssw0rd", "abcd1234", "88888888",
          "woaini1314!", "zhang123")
REPETITIVE = ("aaaaaaaaaa", "abcdefghij", "1234567890", "13579135791357913579")
GOOD = ("test-pass-123", "brand-new-pw-9", "晚饭后去河边散步", "lezhi-river-7", "river-moon-lantern",
        "Tr0ub4dor&3")


@pytest.mark.parametrize("password", WEAK + COMMON + REPETITIVE)
def test_common_repetitive_and_sequential_passwords_are_refused(password):
    with pytest.raises(Invalid) as caught:
        check_policy(password)
    assert caught.value.code in ("password_common", "password_too_simple")
    assert caught.value.zh


def refusal(password: str, **who) -> str | None:
    """The code the rule refuses `password` with, or None when it is accepted."""
    try:
        check_policy(password, **who)
    except Invalid as exc:
        return exc.code
    return None


@pytest.mark.parametrize("password", GOOD)
def test_ordinary_long_enough_passwords_are_accepted(password):
    assert refusal(password) is None
    assert refusal(password, username="zhouqiang", phone="13912345678") is None


def test_length_is_eight_to_128_and_composition_does_not_matter():
    with pytest.raises(Invalid, match="at least 8"):
        check_policy("k7#Qz!p")
    with pytest.raises(Invalid, match="at most 128"):
        check_policy("x" * 129)
    check_policy("only lower case words here")  # no class rules


def test_a_password_holding_the_username_phone_or_site_name_is_refused():
    cases = [("zhouqiang-77!", dict(username="zhouqiang")),
             ("my13912345678", dict(username="13912345678", phone="13912345678")),
             ("Minsheng-lezhi-2024", {}), ("我爱民生实事2024", {})]
    for password, who in cases:
        with pytest.raises(Invalid) as caught:
            check_policy(password, **who)
        assert caught.value.code == "password_personal", password


def test_generated_passwords_pass_the_rule():
    generated = [generate_password() for _ in range(300)]
    assert [pw for pw in generated if refusal(pw) is not None] == []
    assert len(set(generated)) == 300 and {len(pw) for pw in generated} == {10}


def test_weak_passwords_are_refused_by_the_user_api(client, world):
    for password in WEAK:
        r = client.post("/api/v1/users", headers=world.headers("admin"), json={
            "username": "new-staff", "password": password, "display_name": "新同事",
            "role": "gov_staff", "jurisdiction_code": "lezhi"})
        assert r.status_code == 422 and r.json()["code"] == "password_common", r.text


def test_weak_passwords_in_a_roster_name_their_lines(client, world):
    rows = "".join(f"dep-{i},代表{i},{pw}\n" for i, pw in enumerate(WEAK))
    data = ("username,display_name,password\nfine-deputy,好代表,lezhi-river-7\n" + rows).encode()
    r = client.post("/api/v1/jurisdictions/lezhi/deputies", headers=world.headers("admin"),
                    files={"file": ("roster.csv", data, "text/csv")})
    assert r.status_code == 422 and r.json()["code"] == "csv_rows_invalid"
    for line in (3, 4, 5):
        assert f"line {line}:" in r.json()["detail"]
    assert "line 2:" not in r.json()["detail"]


def test_weak_passwords_are_refused_at_registration(client, world):
    client.post("/api/v1/residents/sms-codes", json={"phone": "13912345678"})
    body = run(client, lambda s: s.scalar(select(SmsMessage.body)))
    code = re.search(r"\d{6}", body).group(0)
    for password in (*WEAK, "13912345678a"):
        r = client.post("/api/v1/residents", json={
            "phone": "13912345678", "code": code, "password": password,
            "display_name": "周大爷", "jurisdiction_code": "jinshun"})
        assert r.status_code == 422 and r.json()["code"] in (
            "password_common", "password_personal"), r.text


def test_weak_passwords_are_refused_when_changing_one(client, world):
    headers = token_headers(client, "deputy")
    for password in (*WEAK, "deputy-2024-x"):
        r = client.post("/api/v1/users/me/password", headers=headers,
                        json={"current_password": PASSWORD, "new_password": password})
        assert r.status_code == 422 and r.json()["code"] in (
            "password_common", "password_personal"), r.text
    page_login(client, "deputy")
    for password in WEAK:
        r = client.post("/account/password", data={
            "current_password": PASSWORD, "new_password": password,
            "new_password_repeat": password, "csrftoken": csrf(client)})
        assert r.status_code == 422 and "常见" in r.text


@pytest.mark.parametrize("password", WEAK)
def test_create_admin_refuses_weak_passwords(password, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    assert cli.main(["create-admin", "--username", "root-admin", "--password-stdin"]) == 2
    assert "common" in capsys.readouterr().err
