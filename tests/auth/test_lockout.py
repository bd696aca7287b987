"""The log-in throttle slows a guesser without locking out the owner or a hall behind one address;
logging in by SMS code is the way out."""

from __future__ import annotations

import re
from contextlib import contextmanager

from sqlalchemy import select, update

from app.auth.throttle import LoginThrottle
from app.config import Settings
from app.errors import TooManyRequests
from app.models import SmsMessage, User
from tests.helpers import PASSWORD, create_user, csrf, run

API = "/api/v1"
RESIDENT_PHONE = "13912345678"


@contextmanager
def from_address(client, address: str):
    """Requests of the block come from `address` (the test client's is 'testclient')."""
    transport = client._transport
    before = transport.client
    transport.client = (address, 50000)
    try:
        yield
    finally:
        transport.client = before


def token(client, username, password):
    return client.post(f"{API}/auth/token", json={"username": username, "password": password})


def wait_out_the_delay(client, username: str, address: str = "testclient") -> None:
    """What time does between tries: the pair's current delay ends."""
    throttle = client.app.state.login_throttle
    client.portal.call(throttle.end_delay, username, address)


# ------------------------------------------------------------------ the hall behind one NAT

def test_a_hall_of_deputies_behind_one_address_all_get_in_typos_included(client, world):
    deputies = [create_user(client, f"hall-{i:03d}", "deputy").username for i in range(60)]
    with from_address(client, "10.9.8.7"):
        for i, name in enumerate(deputies):
            for _ in range(1 + i % 2):  # everyone mistypes once, every other one twice
                assert token(client, name, "typo-pass-123").status_code == 401
            r = token(client, name, PASSWORD)
            assert r.status_code == 200, (name, r.text)


def test_the_default_ceilings_let_450_deputies_with_typos_in_from_one_address():
    throttle = LoginThrottle(Settings(env="test", secret_key="s" * 40))

    async def hall():
        for i in range(450):
            name = f"deputy-{i:03d}"
            for _ in range(3):
                await throttle.check(name, "10.9.8.7")
                await throttle.failed(name, "10.9.8.7")
            await throttle.check(name, "10.9.8.7")
            await throttle.succeeded(name, "10.9.8.7")

    import asyncio
    asyncio.run(hall())


def test_one_address_failing_thousands_of_times_is_stopped_but_known_accounts_still_get_in():
    settings = Settings(env="test", secret_key="s" * 40)
    throttle = LoginThrottle(settings)

    async def attack():
        await throttle.succeeded("regular", "10.0.0.1")  # logged in from here before
        for i in range(settings.login_address_max_failures):
            await throttle.failed(f"guess-{i}", "10.0.0.1")
        try:
            await throttle.check("somebody-new", "10.0.0.1")
        except TooManyRequests as exc:
            refused = exc
        await throttle.check("regular", "10.0.0.1")
        await throttle.check("somebody-new", "10.0.0.2")  # another address is not affected
        return refused

    import asyncio
    refused = asyncio.run(attack())
    assert refused.code == "login_throttled" and int(refused.headers["Retry-After"]) > 0


# ------------------------------------------------------------------ one account, one address

def test_failures_of_a_pair_bring_growing_delays(client, world):
    for _ in range(5):  # the free tries
        assert token(client, "deputy", "wrong-pass-1").status_code == 401
    waits = []
    for _ in range(4):
        assert token(client, "deputy", "wrong-pass-1").status_code == 401
        r = token(client, "deputy", PASSWORD)  # even the right password waits
        assert r.status_code == 429 and r.json()["code"] == "login_throttled"
        waits.append(int(r.headers["Retry-After"]))
        assert "seconds" in r.json()["detail"]
        wait_out_the_delay(client, "deputy")
    assert waits == [2, 4, 8, 16]
    assert token(client, "deputy", PASSWORD).status_code == 200


def test_the_delay_is_capped(client, world):
    throttle = client.app.state.login_throttle

    async def fail(times):
        for _ in range(times):
            await throttle.failed("deputy", "testclient")

    client.portal.call(fail, 30)
    r = token(client, "deputy", PASSWORD)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) == 900
    assert "15 minutes" in r.json()["detail"]


def test_the_page_says_when_to_try_again(client, world):
    client.get("/login")
    for _ in range(6):
        client.post("/login", data={"username": "deputy", "password": "wrong-pass-1",
                                    "csrftoken": csrf(client)})
    r = client.post("/login", data={"username": "deputy", "password": PASSWORD,
                                    "csrftoken": csrf(client)})
    assert r.status_code == 429 and "秒后再试" in r.text and 'href="/login/sms"' in r.text


def test_a_right_password_clears_the_pairs_count(client, world):
    for _ in range(5):
        token(client, "deputy", "wrong-pass-1")
    assert token(client, "deputy", PASSWORD).status_code == 200
    for _ in range(5):  # five free tries again
        assert token(client, "deputy", "wrong-pass-1").status_code == 401
    assert token(client, "deputy", PASSWORD).status_code == 200


def test_the_owner_gets_in_after_an_attacker_fails_from_another_address(client, world):
    with from_address(client, "203.0.113.9"):
        for _ in range(40):
            token(client, "deputy", "guess-pass-1")
        assert token(client, "deputy", PASSWORD).status_code == 429  # the attacker waits
    with from_address(client, "198.51.100.20"):
        assert token(client, "deputy", PASSWORD).status_code == 200


def test_many_addresses_failing_for_one_account_slow_it_down_but_not_its_known_address(
        client, world):
    with from_address(client, "198.51.100.20"):
        assert token(client, "deputy", PASSWORD).status_code == 200  # the owner's usual place
    for i in range(120):  # a botnet, three tries an address
        with from_address(client, f"203.0.{i // 250}.{i % 250}"):
            assert token(client, "deputy", "guess-pass-1").status_code in (401, 429)
    with from_address(client, "203.0.113.250"):
        r1 = token(client, "deputy", "guess-pass-1")
        r2 = token(client, "deputy", "guess-pass-1")
    assert 429 in (r1.status_code, r2.status_code)  # one try per pace, not a lock
    with from_address(client, "198.51.100.20"):
        assert token(client, "deputy", PASSWORD).status_code == 200


# ------------------------------------------------------------------ logging in by SMS code

def resident_with_phone(client, phone=RESIDENT_PHONE):
    async def give(session):
        await session.execute(update(User).where(User.username == "resident").values(
            phone=phone, jurisdiction_code="jinshun"))

    run(client, give)


def last_login_code(client, phone=RESIDENT_PHONE) -> str:
    body = run(client, lambda s: s.scalar(select(SmsMessage.body).where(SmsMessage.phone == phone)
                                          .order_by(SmsMessage.created_at.desc()).limit(1)))
    return re.search(r"\d{6}", body).group(0)


def test_the_owner_logs_in_by_sms_code_while_the_password_is_throttled(client, world):
    resident_with_phone(client)
    for _ in range(8):
        token(client, "resident", "guess-pass-1")
    assert token(client, "resident", PASSWORD).status_code == 429
    r = client.post(f"{API}/auth/sms-code", json={"phone": RESIDENT_PHONE})
    assert r.status_code == 202 and r.json() == {"expires_in": 600}
    r = client.post(f"{API}/auth/sms-token",
                    json={"phone": RESIDENT_PHONE, "code": last_login_code(client)})
    assert r.status_code == 200 and r.json()["role"] == "resident"
    me = client.get(f"{API}/users/me",
                    headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert me.json()["username"] == "resident"
    assert token(client, "resident", PASSWORD).status_code == 200  # the pair is cleared


def test_a_login_code_is_used_once_and_a_wrong_one_is_401(client, world):
    resident_with_phone(client)
    client.post(f"{API}/auth/sms-code", json={"phone": RESIDENT_PHONE})
    code = last_login_code(client)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    r = client.post(f"{API}/auth/sms-token", json={"phone": RESIDENT_PHONE, "code": wrong})
    assert r.status_code == 401 and r.json()["code"] == "bad_code"
    assert client.post(f"{API}/auth/sms-token",
                       json={"phone": RESIDENT_PHONE, "code": code}).status_code == 200
    r = client.post(f"{API}/auth/sms-token", json={"phone": RESIDENT_PHONE, "code": code})
    assert r.status_code == 401 and r.json()["code"] == "bad_code"


def test_asking_for_a_login_code_does_not_tell_whether_a_number_has_an_account(client, world):
    resident_with_phone(client)
    answers = [client.post(f"{API}/auth/sms-code", json={"phone": phone})
               for phone in (RESIDENT_PHONE, "13987654321")]
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].json() == answers[1].json()
    r = client.post(f"{API}/auth/sms-token", json={"phone": "13987654321", "code": "123456"})
    assert r.status_code == 401 and r.json()["code"] == "bad_code"
    # Only the account's number got a text, filed under the account's jurisdiction.
    async def sent(session):
        return [tuple(row) for row in await session.execute(
            select(SmsMessage.phone, SmsMessage.jurisdiction_code))]

    assert run(client, sent) == [(RESIDENT_PHONE, "jinshun")]


def test_a_registration_code_does_not_log_in(client, world):
    resident_with_phone(client)
    client.post(f"{API}/residents/sms-codes", json={"phone": RESIDENT_PHONE,
                                                    "jurisdiction_code": "anyue"})
    r = client.post(f"{API}/auth/sms-token",
                    json={"phone": RESIDENT_PHONE, "code": last_login_code(client)})
    assert r.status_code == 401


def test_the_login_page_offers_the_sms_code_and_logs_in_with_it(client, world):
    resident_with_phone(client)
    page = client.get("/login")
    assert 'href="/login/sms"' in page.text and "用短信验证码登录" in page.text
    page = client.get("/login/sms")
    assert page.status_code == 200 and "获取验证码" in page.text
    r = client.post("/login/sms/code", data={"csrftoken": csrf(client), "phone": RESIDENT_PHONE})
    assert r.status_code == 200 and "139****5678" in r.text
    r = client.post("/login/sms", data={"csrftoken": csrf(client), "phone": RESIDENT_PHONE,
                                        "code": "000000" if last_login_code(client) != "000000"
                                        else "111111"})
    assert r.status_code == 401 and "验证码不正确或已过期" in r.text
    r = client.post("/login/sms", data={"csrftoken": csrf(client), "phone": RESIDENT_PHONE,
                                        "code": last_login_code(client)},
                    follow_redirects=False)
    assert r.status_code == 303
    assert "测试resident" in client.get("/").text  # logged in: the name is in the header


def test_the_retired_lock_out_variables_are_named_at_start(caplog, tmp_path, monkeypatch):
    from app.config import retired_variables
    from app.main import create_app
    from tests.conftest import make_settings

    assert retired_variables({"MINSHENG_LOGIN_WINDOW_SECONDS": "900"}) == []
    monkeypatch.setenv("MINSHENG_LOGIN_MAX_FAILURES_PER_ACCOUNT", "5")
    with caplog.at_level("WARNING", logger="minsheng"):
        create_app(make_settings(f"sqlite:///{tmp_path / 'x.db'}"))
    assert any("MINSHENG_LOGIN_MAX_FAILURES_PER_ACCOUNT is no longer read" in r.getMessage()
               and "MINSHENG_LOGIN_FREE_FAILURES" in r.getMessage() for r in caplog.records)
