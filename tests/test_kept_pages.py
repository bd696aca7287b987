"""Kept renderings for logged-in people (app/caching.py, app/auth/page_identity.py) and the
data's version every worker shares (app/dataversion.py).

The strongest check is the first: for every role and every page a kept copy may serve, the copy
as served equals what the page draws afresh for that person."""

from __future__ import annotations

import asyncio
import multiprocessing
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.caching import (
    ID_PLACEHOLDER,
    NAME_PLACEHOLDER,
    TOKEN_PLACEHOLDER,
    UNREAD_PLACEHOLDER,
    USERNAME_PLACEHOLDER,
    HttpCaching,
)
from app.dataversion import FileVersion, RedisVersion, open_version
from app.main import create_app
from app.models import Cycle, Notification, User, utcnow
from tests.ballots.conftest import API, balloting_cycle, walk_round
from tests.conftest import make_settings
from tests.helpers import create_user, page_login, run
from tests.proposals.conftest import open_cycle, propose

TOKEN = re.compile(r'"x-csrftoken": "([^"]+)"|name="csrftoken" value="([^"]+)"')
PLACEHOLDERS = (TOKEN_PLACEHOLDER, NAME_PLACEHOLDER, ID_PLACEHOLDER, USERNAME_PLACEHOLDER,
                UNREAD_PLACEHOLDER)


@pytest.fixture
def version_file(tmp_path) -> str:
    return (tmp_path / "data-version").as_uri()


def _app(client, version_url: str, seconds: float = 60):
    return create_app(make_settings(client.app.state.settings.database_url,
                                    page_cache_seconds=seconds, data_version_url=version_url))


@pytest.fixture
def cached(client, version_file) -> Iterator[TestClient]:
    """A second app on the test database keeping pages for a minute."""
    with TestClient(_app(client, version_file)) as other:
        yield other


def _caching(app) -> HttpCaching:
    layer = app.middleware_stack
    while not isinstance(layer, HttpCaching):
        layer = layer.app
    return layer


def _browser(app, world, who: str) -> TestClient:
    browser = TestClient(app)
    assert page_login(browser, world.users[who].username).status_code == 303
    return browser


def _same(text: str) -> str:
    """A page without the visitor's CSRF token (each browser has its own)."""
    return TOKEN.sub("TOKEN", text)


def _retitle(client, cycle_id: str, title: str) -> None:
    async def change(session):
        await session.execute(update(Cycle).where(Cycle.id == cycle_id).values(title=title))
        await session.commit()
    run(client, change)


def _pages(client, world) -> list[str]:
    cycle_id, _ = balloting_cycle(client, world, candidates=3)
    ballot_id = walk_round(client, world, "open", cycle_id=cycle_id)
    soliciting = open_cycle(client, world, year=2026)
    proposal_id = propose(client, world, soliciting)
    return ["/", f"/cycles/{cycle_id}", f"/ballots/{ballot_id}/results",
            f"/proposals/{proposal_id}", f"/ballots/{ballot_id}/vote", f"/cycles/{soliciting}",
            f"/cycles/{soliciting}/proposals", f"/cycles/{cycle_id}/candidates", "/archive",
            "/proposals/no-such-proposal"]


ROLES = ("resident", "deputy", "gov_staff", "congress_staff", "unit_staff", "admin",
         "other_gov_staff")


def test_a_kept_copy_as_served_is_what_the_page_draws_for_that_person(client, world, cached):
    pages = _pages(client, world)
    caching = _caching(cached.app)
    for who in ROLES:
        fresh_browser, kept_browser = _browser(client.app, world, who), _browser(
            cached.app, world, who)
        for path in pages:
            fresh = fresh_browser.get(path)
            first = kept_browser.get(path)
            hits = caching.hits
            kept = kept_browser.get(path)
            assert kept.status_code == fresh.status_code == first.status_code, (who, path)
            if fresh.status_code != 200:  # drawn for this request alone, parts filled in
                assert _same(first.text) == _same(fresh.text), (who, path)
                assert not any(p in first.text for p in PLACEHOLDERS), (who, path)
                continue
            assert caching.hits == hits + 1, f"{who} {path}: not served from a kept copy"
            assert _same(kept.text) == _same(fresh.text), (who, path)
            assert _same(first.text) == _same(fresh.text), (who, path)
            assert not any(p in kept.text for p in PLACEHOLDERS), (who, path)


def test_one_audience_shares_a_rendering_and_private_pages_are_kept_per_session(
        client, world, cached):
    pages = _pages(client, world)
    cycle_page, proposal_page = pages[1], pages[3]
    gov_staff = world.users["gov_staff"]
    colleague = create_user(client, "gov-staff-2", gov_staff.role, gov_staff.jurisdiction_code)
    caching = _caching(cached.app)
    staff = _browser(cached.app, world, "gov_staff")
    assert "乐至县2025年民生实事项目" in staff.get(cycle_page).text
    staff.get(proposal_page)
    _retitle(client, cycle_page.rsplit("/", 1)[1], "改过的标题")  # behind the app's back
    # a colleague of the same role and county: the same rendering, with their own name
    other = TestClient(cached.app)
    assert page_login(other, colleague.username).status_code == 303
    renders = caching.renders
    page = other.get(cycle_page).text
    assert "改过的标题" not in page and caching.renders == renders
    assert colleague.display_name in page
    # the proposal page is kept per login session: another session draws its own
    other.get(proposal_page)
    assert caching.renders == renders + 1
    # another role, another county: their own renderings
    for who in ("congress_staff", "other_gov_staff"):
        assert "改过的标题" in _browser(cached.app, world, who).get(cycle_page).text


def test_the_unread_count_and_the_name_are_filled_in_per_request(
        client, world, cached, version_file):
    pages = _pages(client, world)
    resident = _browser(cached.app, world, "resident")
    page = resident.get(pages[1]).text
    assert 'class="badge"' not in page
    user_id = world.users["resident"].id

    async def tell(session):  # behind the app's back, then moving the version on as writes do
        session.add(Notification(user_id=user_id, message="您的建议已受理"))
        session.add(Notification(user_id=user_id, message="您的建议已列入候选项目"))
        await session.execute(update(User).where(User.id == user_id).values(
            display_name="<b>张三</b>"))
        await session.commit()
    run(client, tell)
    FileVersion(Path(version_file.removeprefix("file://"))).bump_now()
    page = resident.get(pages[1]).text
    assert re.search(r'<span class="badge" aria-label="未读">2</span>', page)
    assert "&lt;b&gt;张三&lt;/b&gt;" in page and "<b>张三</b>" not in page


def test_who_is_logged_in_is_read_once_per_version(client, world, cached, monkeypatch):
    """The identity statement runs once for a login session while nothing is written; a write
    through the app, or a login elsewhere (the sessions' version), makes the next page read it
    again; so does the session's time running out."""
    from app.auth import page_identity

    reads = []
    real = page_identity.fetch_one

    async def counting(state, sql, params):
        reads.append(params["key"])
        return await real(state, sql, params)

    monkeypatch.setattr(page_identity, "fetch_one", counting)
    pages = _pages(client, world)
    resident = _browser(cached.app, world, "resident")
    for _ in range(3):
        assert world.users["resident"].display_name in resident.get(pages[1]).text
    assert len(reads) == 1
    r = cached.post(f"{API}/jurisdictions/lezhi/units", json={"name": "县民政局"},
                    headers=world.headers("gov_staff"))
    assert r.status_code == 201
    resident.get(pages[1])
    resident.get(pages[0])
    assert len(reads) == 2
    _browser(cached.app, world, "deputy")  # logging in: a private write
    resident.get(pages[1])
    assert len(reads) == 3
    monkeypatch.setattr(page_identity, "utcnow", lambda: utcnow() + timedelta(days=400))
    resident.get(pages[1])  # expired by now, says the memo: read again (then the usual way)
    assert len(reads) == 4


def test_the_identity_memo_keeps_one_stamp_and_never_goes_back():
    from app.auth.page_identity import IdentityMemo

    memo = IdentityMemo()
    memo.put((1, 1), "a", ("row-a",))
    assert memo.get((1, 1), "a") == ("row-a",) and memo.get((2, 1), "a") is None
    memo.put((2, 1), "b", ("row-b",))
    assert memo.get((2, 1), "a") is None and memo.get((2, 1), "b") == ("row-b",)
    memo.put((1, 1), "a", ("old",))  # read under an older stamp: not kept
    memo.put((1, 5), "a", ("mixed",))  # neither older nor newer: not kept
    assert memo.get((2, 1), "a") is None and memo.get((1, 5), "a") is None
    memo.clear()
    assert memo.get((2, 1), "b") is None


def test_a_crowd_of_one_sessions_requests_sends_one_identity_statement(monkeypatch):
    """Requests of one session that find no kept row while its statement is on its way wait
    for that answer (a kept row expiring under load costs one statement, not one per request);
    a statement that fails leaves each waiting request to send its own."""
    from types import SimpleNamespace

    from app.auth import page_identity
    from app.auth.login_sessions import SESSION_ID, SESSION_USER, SESSION_VERSION, session_key

    now = utcnow()
    row = ("u1", "zhang", "张三", "resident", "lezhi", True, 1, False, "u1", None,
           now + timedelta(days=1), now, 0, 0)
    sent, fail = [], []

    async def statement(state, sql, params):
        sent.append(params["key"])
        await asyncio.sleep(0.01)
        if fail:
            fail.pop()
            raise OSError("connection lost")
        return row

    monkeypatch.setattr(page_identity, "fetch_one", statement)
    state = SimpleNamespace()
    cookie = {SESSION_USER: "u1", SESSION_VERSION: 1, SESSION_ID: "secret-1"}

    async def crowd(n: int, stamp: tuple[int, int]):
        return await asyncio.gather(*(page_identity.identify(state, cookie, stamp)
                                      for _ in range(n)), return_exceptions=True)

    who = asyncio.run(crowd(20, (1, 1)))
    assert len(sent) == 1 and all(w.username == "zhang" for w in who)
    assert asyncio.run(crowd(5, (1, 1)))[0].display_name == "张三" and len(sent) == 1  # kept
    fail.append(1)
    who = asyncio.run(crowd(5, (2, 1)))
    assert isinstance(who[0], OSError)  # the one that sent it gets its error
    # the others: one of them sends it again, the rest wait for that one
    assert all(w.username == "zhang" for w in who[1:]) and len(sent) == 3
    assert sent == [session_key("secret-1")] * 3
    assert not state.page_identities.reading


def test_an_ended_session_is_not_served_a_kept_copy(client, world, cached):
    pages = _pages(client, world)
    resident = _browser(cached.app, world, "resident")
    assert world.users["resident"].display_name in resident.get(pages[1]).text
    saved = dict(resident.cookies)
    assert resident.post("/logout", data={"csrftoken": resident.cookies["csrftoken"]},
                         follow_redirects=False).status_code in (303, 302)
    replay = TestClient(cached.app, cookies=saved)  # a copy of the cookie kept after logging out
    page = replay.get(pages[1]).text
    assert world.users["resident"].display_name not in page and 'href="/login"' in page


def test_a_write_through_one_worker_is_seen_by_the_next_request_to_another(
        client, world, version_file):
    pages = _pages(client, world)
    with TestClient(_app(client, version_file)) as one, TestClient(
            _app(client, version_file)) as two:
        readers = [_browser(one.app, world, "deputy"), _browser(two.app, world, "deputy"),
                   one, two]
        for reader in readers:
            assert "乐至县2025年民生实事项目" in reader.get(pages[1]).text
        _retitle(client, pages[1].rsplit("/", 1)[1], "改过的标题")
        r = one.post(f"{API}/jurisdictions/lezhi/units", json={"name": "县民政局"},
                     headers=world.headers("gov_staff"))
        assert r.status_code == 201
        for reader in readers:
            assert "改过的标题" in reader.get(pages[1]).text


def test_the_deputy_sees_their_own_vote_at_once(client, world, cached):
    cycle_id, candidates = balloting_cycle(client, world, candidates=3)
    ballot_id = walk_round(client, world, "open", cycle_id=cycle_id)
    deputy = _browser(cached.app, world, "deputy")
    before = deputy.get(f"/ballots/{ballot_id}/vote").text
    assert "您已投票" not in before and 'name="step"' in before
    r = cached.post(f"{API}/ballots/{ballot_id}/votes", json={"marks": {candidates[0]: "yes"}},
                    headers=world.headers("deputy"))
    assert r.status_code == 201
    after = deputy.get(f"/ballots/{ballot_id}/vote").text
    assert "您已投票" in after and 'name="step"' not in after


def _bump_many(path: str, times: int) -> None:
    version = FileVersion(__import__("pathlib").Path(path))
    for _ in range(times):
        version.bump_now()


def test_the_version_file_counts_every_bump_of_every_process(tmp_path):
    path = tmp_path / "data-version"
    start = FileVersion(path).read()
    workers = [multiprocessing.get_context("spawn").Process(target=_bump_many,
                                                            args=(str(path), 500))
               for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert FileVersion(path).read() == start + 1500


def test_requests_of_one_turn_share_one_version_read_and_never_join_one_already_sent():
    import asyncio

    from app.dataversion import _SharedRead

    async def check():
        sent = []
        value = [7]

        async def read():
            seen = value[0]  # what the store holds when the read reaches it
            sent.append(seen)
            await asyncio.sleep(0.01)  # the way back
            return seen

        shared = _SharedRead(read)
        assert await asyncio.gather(*(shared() for _ in range(20))) == [7] * 20
        assert sent == [7]  # twenty requests, one read
        first = asyncio.ensure_future(shared())
        await asyncio.sleep(0.001)  # that read is on its way
        value[0] = 8  # a write answered now
        late = await shared()  # began after the write: must not join the read already sent
        assert (await first, late, sent) == (7, 8, [7, 7, 8])

    asyncio.run(check())


def test_an_older_eight_byte_version_file_keeps_its_count(tmp_path):
    path = tmp_path / "data-version"
    path.write_bytes((41).to_bytes(8, "little"))
    version = FileVersion(path)
    version.bump_now()
    version.bump_now(8)
    assert version.read() == 42 and version.read(8) == 1


def test_the_version_in_redis_is_shared(client):
    import asyncio

    url = "redis://127.0.0.1:6379/15"
    try:
        import socket
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    settings = make_settings(client.app.state.settings.database_url, data_version_url=url)

    async def check():
        one, two = open_version(settings), open_version(settings)
        assert isinstance(one, RedisVersion)
        before = await two.current()
        await one.bump()
        assert await two.current() == before + 1
        data, sessions = await two.both()
        await one.bump_sessions()
        assert await two.both() == (data, sessions + 1)

    asyncio.run(check())
    # the rate-limit Redis is the default when there is one
    assert isinstance(open_version(make_settings(client.app.state.settings.database_url,
                                                 rate_limit_url=url)), RedisVersion)


def test_the_identity_lookup_leaves_the_hot_pool_to_the_casts(client, world, cached):
    """PostgreSQL: with every hot connection taken (a hall casting), a logged-in page still
    finds its person, through the engine, without waiting for the casts."""
    import asyncio

    from app.db import fetch_one

    state = cached.app.state
    if getattr(state, "hot_pool", None) is None:
        pytest.skip("the hot pool is PostgreSQL's")
    user_id = world.users["resident"].id

    async def all_taken():
        pool = state.hot_pool
        taken = [await pool.getconn() for _ in range(pool.max_size)]
        try:
            return await asyncio.wait_for(fetch_one(
                state, "SELECT username FROM user_account WHERE id = :id", {"id": user_id}), 5)
        finally:
            for connection in taken:
                await pool.putconn(connection)

    row = cached.portal.call(all_taken)  # on the app's own event loop, as a request runs
    assert row is not None and row[0] == world.users["resident"].username
