"""HTTP caching (app/caching.py): ETag, Cache-Control and 304 on GETs; the kept renderings of
pages for anonymous visitors, each with their own CSRF token (logged-in people:
tests/test_kept_pages.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.caching import TOKEN_PLACEHOLDER
from app.main import create_app
from app.models import Cycle
from tests.ballots.conftest import API, balloting_cycle, walk_round
from tests.conftest import make_settings
from tests.helpers import page_login, run

TOKEN = re.compile(r'"x-csrftoken": "([^"]+)"')


@pytest.fixture
def cached(client, database_url) -> Iterator[TestClient]:
    """A second app on the same database with the shared copy kept for a minute."""
    with TestClient(create_app(make_settings(client.app.state.settings.database_url,
                                             page_cache_seconds=60))) as other:
        yield other


def _retitle(client, cycle_id: str, title: str) -> None:
    async def change(session):
        await session.execute(update(Cycle).where(Cycle.id == cycle_id).values(title=title))
        await session.commit()
    run(client, change)


def test_a_page_has_an_etag_and_revalidates_to_304(client, world):
    cycle_id, _ = balloting_cycle(client, world, candidates=3)
    r = client.get(f"/cycles/{cycle_id}")
    assert r.status_code == 200
    etag = r.headers["etag"]
    assert etag.startswith('W/"') and r.headers["cache-control"] == "private, no-cache"
    again = client.get(f"/cycles/{cycle_id}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    # the same visitor, the page changed: a new ETag and the whole page
    _retitle(client, cycle_id, "乐至县民生实事项目（修订）")
    changed = client.get(f"/cycles/{cycle_id}", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "（修订）" in changed.text
    assert changed.headers["etag"] != etag


def test_the_json_api_is_public_for_anonymous_readers_and_private_with_a_token(client, world):
    cycle_id, _ = balloting_cycle(client, world, candidates=3)
    r = client.get(f"{API}/cycles/{cycle_id}")
    assert r.headers["cache-control"] == "public, no-cache" and r.headers["etag"]
    assert client.get(f"{API}/cycles/{cycle_id}",
                      headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    mine = client.get(f"{API}/cycles/{cycle_id}", headers=world.headers("gov_staff"))
    assert mine.headers["cache-control"] == "private, no-cache"


def test_a_route_that_says_how_to_cache_itself_is_left_alone(client, world):
    # files keep their own validators; the deputy's ballot page is private and revalidated
    r = client.get("/static/vendor/htmx.min.js")
    assert r.status_code == 200 and r.headers["cache-control"] == "public, max-age=604800"
    ballot_id = walk_round(client, world, "open")
    assert page_login(client, world.users["deputy"].username).status_code == 303
    r = client.get(f"/ballots/{ballot_id}/vote")
    assert r.status_code == 200 and r.headers["cache-control"] == "private, no-cache"


def test_anonymous_visitors_share_one_rendering_each_with_their_own_token(client, world, cached):
    cycle_id, _ = balloting_cycle(client, world, candidates=3)
    staff = TestClient(cached.app)  # another browser on the same worker, logged in first
    assert page_login(staff, world.users["gov_staff"].username).status_code == 303
    first = cached.get(f"/cycles/{cycle_id}")
    assert first.status_code == 200 and "乐至县2025年民生实事项目" in first.text
    _retitle(client, cycle_id, "改过的标题")  # behind the app's back: the copy is still served
    cached.cookies.clear()
    second = cached.get(f"/cycles/{cycle_id}")
    assert "乐至县2025年民生实事项目" in second.text and "改过的标题" not in second.text
    tokens = [TOKEN.search(r.text).group(1) for r in (first, second)]
    assert tokens[0] != tokens[1]  # two visitors (no cookie), two tokens, each set as a cookie
    assert all(TOKEN_PLACEHOLDER not in r.text for r in (first, second))
    assert second.cookies.get("csrftoken") == tokens[1]
    # the visitor's own token again on their next visit, from the same copy
    third = cached.get(f"/cycles/{cycle_id}")
    assert TOKEN.search(third.text).group(1) == tokens[1] and "改过的标题" not in third.text
    # an htmx request and a logged-in visitor get their own rendering (no write in between)
    panel = cached.get(f"/cycles/{cycle_id}", headers={"HX-Request": "true"}).text
    assert 'id="phase-panel"' in panel and "<html" not in panel
    assert "改过的标题" in staff.get(f"/cycles/{cycle_id}").text
    assert "改过的标题" not in cached.get(f"/cycles/{cycle_id}").text  # the copy is still there


def test_a_write_through_this_worker_moves_the_version_on(client, world, cached):
    cycle_id, _ = balloting_cycle(client, world, candidates=3)
    assert "乐至县2025年民生实事项目" in cached.get(f"/cycles/{cycle_id}").text
    _retitle(client, cycle_id, "改过的标题")
    r = cached.post(f"{API}/jurisdictions/lezhi/units", json={"name": "县民政局"},
                    headers=world.headers("gov_staff"))
    assert r.status_code == 201  # a staff change that went through: its writer sees it at once
    assert "改过的标题" in cached.get(f"/cycles/{cycle_id}").text


def test_junk_and_refused_writes_leave_the_shared_copy(client, world, cached):
    """An anonymous POST cannot switch the shared copy off: only a write that went through
    empties it."""
    cycle_id, candidates = balloting_cycle(client, world, candidates=3)
    assert "乐至县2025年民生实事项目" in cached.get(f"/cycles/{cycle_id}").text
    _retitle(client, cycle_id, "改过的标题")
    answers = [
        cached.post(f"{API}/nothing-here", json={}),
        cached.post(f"{API}/cycles", json={"junk": 1}),
        cached.post(f"{API}/auth/token", data={"username": "nobody", "password": "wrong"}),
        cached.post(f"{API}/jurisdictions/lezhi/units", json={"name": ""},
                    headers=world.headers("gov_staff")),
        cached.delete(f"{API}/cycles/{cycle_id}"),
        cached.post("/login", data={"csrftoken": "forged", "username": "a", "password": "b"}),
    ]
    assert all(400 <= r.status_code < 500 for r in answers), [r.status_code for r in answers]
    assert "改过的标题" not in cached.get(f"/cycles/{cycle_id}").text


def test_a_cast_moves_the_version_on_and_logging_in_does_not(client, world, cached):
    """A cast changes the turnout and the deputy's own round page: kept pages are drawn afresh.
    Logging in changes no page beyond the parts filled in per request."""
    cycle_id, candidates = balloting_cycle(client, world, candidates=3)
    ballot_id = walk_round(client, world, "open", cycle_id=cycle_id)
    assert "乐至县2025年民生实事项目" in cached.get(f"/cycles/{cycle_id}").text
    _retitle(client, cycle_id, "改过的标题")
    browser = TestClient(cached.app)
    assert page_login(browser, world.users["resident"].username).status_code == 303
    assert "改过的标题" not in cached.get(f"/cycles/{cycle_id}").text
    r = cached.post(f"{API}/ballots/{ballot_id}/votes", json={"marks": {candidates[0]: "yes"}},
                    headers=world.headers("deputy"))
    assert r.status_code == 201, r.text
    assert "改过的标题" in cached.get(f"/cycles/{cycle_id}").text


def test_a_form_page_posted_back_keeps_working_after_a_cached_view(client, world, cached):
    """The token put into a shared copy is the one asgi-csrf checks on the next POST."""
    cycle_id, _ = balloting_cycle(client, world, candidates=3)
    page = cached.get(f"/cycles/{cycle_id}")
    token = TOKEN.search(page.text).group(1)
    r = cached.post("/login", data={"csrftoken": token, "username": "nobody",
                                    "password": "wrong-password"}, follow_redirects=False)
    assert "页面已过期" not in r.text and r.status_code in (200, 401, 422), r.status_code
    forged = cached.post("/login", data={"csrftoken": "x" + token[1:], "username": "nobody",
                                         "password": "wrong-password"})
    assert forged.status_code == 403 and "页面已过期" in forged.text
