"""The list's fast path (app/proposals/fastpath.py) answers as the FastAPI routes do.

Plainly valid requests of the public list and the similar lookup are answered by the middleware;
everything else reaches the routes. Both give the same status, headers and bytes.
"""

from __future__ import annotations

import re

import pytest

from app.proposals import api, fastpath
from tests.proposals.conftest import API, propose

NEVER = re.compile(r"(?!)")


@pytest.fixture
def route_calls(monkeypatch) -> list[str]:
    """Every request that reaches one of the two routes' bodies."""
    calls: list[str] = []
    module = api.listing

    class Spy:
        def __getattr__(self, name):
            real = getattr(module, name)
            if name not in ("page", "similar"):
                return real

            async def spy(session, cycle_id, *args, **kwargs):
                calls.append(name)
                return await real(session, cycle_id, *args, **kwargs)
            return spy

    monkeypatch.setattr(api, "listing", Spy())
    return calls


def _queries(cycle_id: str) -> list[tuple[str, dict | str]]:
    base = f"{API}/cycles/{cycle_id}/proposals"
    return [
        (base, {}), (base, {"page": "2", "per_page": "1"}), (base, {"sort": "oldest"}),
        (base, {"sort": "endorsed", "per_page": "100"}), (base, {"q": "河道"}),
        (base, {"q": "電梯", "category": "城乡建设"}), (base, {"q": "河道", "sort": "endorsed"}),
        (base, {"state": "rejected"}), (base, {"location_code": "nanta", "state": "submitted"}),
        (base, {"category": ""}), (base, {"q": "!!!"}), (base, {"q": ""}),
        (base, "sort=oldest&sort=newest"), (base, "q=%E6%B2%B3%E9%81%93&q="),
        # what the routes refuse or convert: answered by them
        (base, {"page": "0"}), (base, {"page": "abc"}), (base, {"page": "100001"}),
        (base, {"per_page": "101"}), (base, {"page": "+2"}), (base, {"page": " 2"}),
        (base, {"sort": "best"}), (base, {"sort": "newest\n"}), (base, {"state": "open"}),
        (base, {"state": ""}), (base, {"q": "路" * 101}), (base, {"category": "x" * 33}),
        (base, {"location_code": "x" * 33}), (base, {"page": "02"}),
        (f"{API}/cycles/nope/proposals", {}), (f"{API}/cycles/nope/proposals", {"q": "路"}),
        (base + "/similar", {"text": "河道清淤"}), (base + "/similar", {"text": "加裝電梯 "}),
        (base + "/similar", {}), (base + "/similar", {"text": "路" * 201}),
        (f"{API}/cycles/nope/proposals/similar", {"text": "河道"}),
    ]


def _answer(r) -> tuple:
    headers = {k: v for k, v in r.headers.items() if k not in ("date", "x-request-id")}
    return r.status_code, headers, r.content


def test_both_give_the_same_answers(client, world, cycle_id, monkeypatch):
    propose(client, world, cycle_id, title="河道清淤整治", category="环境保护")
    propose(client, world, cycle_id, who="deputy", title="老旧小区加装电梯",
            category="城乡建设", location_code="nanta")
    asked = [(path, params) for path, params in _queries(cycle_id)]
    fast = [_answer(client.get(path, params=params)) for path, params in asked]
    monkeypatch.setattr(fastpath, "LIST_PATH", NEVER)  # every request to the routes
    routed = [_answer(client.get(path, params=params)) for path, params in asked]
    for (path, params), a, b in zip(asked, fast, routed, strict=True):
        assert a == b, (path, params)
    assert {a[0] for a in fast} == {200, 404, 422}


def test_plain_requests_skip_the_router_and_the_rest_reach_it(client, world, cycle_id,
                                                              route_calls):
    propose(client, world, cycle_id, title="河道清淤整治")
    base = f"{API}/cycles/{cycle_id}/proposals"
    for params in ({}, {"q": "河道", "page": "1", "per_page": "5", "sort": "oldest"}):
        assert client.get(base, params=params).status_code == 200
    assert client.get(base + "/similar", params={"text": "河道"}).status_code == 200
    assert client.get(f"{API}/cycles/nope/proposals").status_code == 404
    assert route_calls == []
    assert client.get(base, params={"sort": "best"}).status_code == 422  # refused by the route
    assert client.get(base, params={"page": "0"}).status_code == 422
    assert client.head(base).status_code == 405  # as before: the API's routes take GET only
    assert route_calls == []  # none of these reached a route's body
    assert client.get(base, params={"page": "02"}).json()["page"] == 2  # converted by the route
    assert route_calls == ["page"]
