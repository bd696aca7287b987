"""The cast's fast path (app/ballots/fastpath.py) answers as the FastAPI route does.

A well-formed cast (a verified bearer token, a body that is a valid VoteIn, JSON) is answered by
the middleware; everything else reaches the route with its body intact. The refusals of the
domain are covered for both by tests/ballots/test_ballot_api.py, which goes through the app.
"""

from __future__ import annotations

import json

import pytest

from app.ballots import api
from tests.ballots.conftest import API, walk_round


@pytest.fixture
def route_calls(monkeypatch) -> list[str]:
    """Every call that reaches the FastAPI route's body (it reads the token first)."""
    calls: list[str] = []
    real = api.bearer_claims

    def spy(request):
        calls.append(request.url.path)
        return real(request)

    monkeypatch.setattr(api, "bearer_claims", spy)
    return calls


def _paper(client, ballot_id: str) -> list[str]:
    return [c["id"] for c in client.get(f"{API}/ballots/{ballot_id}").json()["candidates"]]


def test_a_well_formed_cast_is_answered_before_the_router(client, world, route_calls):
    ballot_id = walk_round(client, world, "open")
    first = _paper(client, ballot_id)[0]
    r = client.post(f"{API}/ballots/{ballot_id}/votes", json={"marks": {first: "yes"}},
                    headers=world.headers("deputy"))
    assert r.status_code == 201 and len(r.json()["receipt"]) == 19, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-content-type-options"] == "nosniff"  # the outer middleware still wraps it
    # a refusal of the domain, from the fast path too: the same {"detail", "code"}
    r = client.post(f"{API}/ballots/{ballot_id}/votes", json={"marks": {first: "no"}},
                    headers=world.headers("deputy"))
    assert r.status_code == 409 and r.json() == {
        "detail": "You have already voted in this round; a ballot cannot be changed.",
        "code": "already_voted"}
    r = client.post(f"{API}/ballots/unknown/votes", json={"marks": {}},
                    headers=world.headers("dep-1"))
    assert r.status_code == 404 and r.json()["code"] == "unknown_ballot"
    assert route_calls == []


@pytest.mark.parametrize("case", ["no_token", "bad_token", "bad_mark", "not_json", "text_plain",
                                  "extra_field"])
def test_anything_else_reaches_the_route_with_its_body(client, world, route_calls, case):
    ballot_id = walk_round(client, world, "open")
    first = _paper(client, ballot_id)[0]
    headers = dict(world.headers("deputy"))
    body: bytes = json.dumps({"marks": {first: "yes"}}).encode()
    content_type = "application/json"
    if case == "no_token":
        headers.pop("Authorization")
    elif case == "bad_token":
        headers["Authorization"] = "Bearer not-a-token"
    elif case == "bad_mark":
        body = json.dumps({"marks": {first: "maybe"}}).encode()
    elif case == "not_json":
        body = b'{"marks": '
    elif case == "text_plain":
        content_type = "text/plain"
    elif case == "extra_field":
        body = json.dumps({"marks": {first: "yes"}, "deputy": "someone"}).encode()
    r = client.post(f"{API}/ballots/{ballot_id}/votes", content=body,
                    headers={**headers, "Content-Type": content_type})
    expected = {"no_token": (401, "not_authenticated"), "bad_token": (401, "invalid_token"),
                "bad_mark": (422, "invalid_field"), "not_json": (400, "malformed_json"),
                "text_plain": (400, "malformed_body"), "extra_field": (422, "invalid_field")}
    assert (r.status_code, r.json()["code"]) == expected[case], r.text
    if case in ("no_token", "bad_token"):
        assert route_calls, "the route did not answer"
