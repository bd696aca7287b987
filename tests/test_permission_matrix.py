"""The permission matrix: every API route, called by every role, answers 2xx / 401 / 403 as designed.

EXPECTED below is the one table of who may call what. The routes themselves come from the app's
OpenAPI document, and two tests keep the table and the document in step: a new route fails the
suite until it is added here with the roles that may call it.

Each (route, identity) pair is its own test on a freshly wiped database with a fresh world, so
a password change or a created record in one case never leaks into another. Every request is a
minimal VALID one (real ids, a well-formed body), so the status says "may this identity do this",
never "was the request malformed".
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from tests.helpers import PASSWORD, set_jurisdiction_settings

API = "/api/v1"
ANONYMOUS = "anonymous"
EVERYONE = "*"                # anyone, with or without a token
AUTHENTICATED = "authenticated"  # any logged-in role

ROLES = ["resident", "deputy", "unit_staff", "gov_staff", "congress_staff", "admin"]
IDENTITIES = [ANONYMOUS, *ROLES]

# The design: (method, path template) -> who may call it (with the minimal valid request below).
EXPECTED: dict[tuple[str, str], str | frozenset[str]] = {
    ("POST", f"{API}/auth/token"): EVERYONE,
    ("GET", f"{API}/jurisdictions"): EVERYONE,
    ("POST", f"{API}/jurisdictions"): frozenset({"admin"}),
    # congress staff: deputies of their own jurisdiction only (see the scoping tests below)
    ("POST", f"{API}/jurisdictions/{{code}}/deputies"): frozenset({"admin", "congress_staff"}),
    # congress staff: a deputy of their own jurisdiction only
    ("POST", f"{API}/users"): frozenset({"admin", "congress_staff"}),
    ("GET", f"{API}/users"): frozenset({"admin", "congress_staff"}),
    ("GET", f"{API}/users/me"): AUTHENTICATED,
    ("POST", f"{API}/users/me/password"): AUTHENTICATED,
    ("POST", f"{API}/users/{{user_id}}/grants"): frozenset({"admin"}),
    ("GET", f"{API}/cycles"): EVERYONE,
    ("POST", f"{API}/cycles"): frozenset({"admin", "gov_staff"}),
    ("GET", f"{API}/cycles/{{cycle_id}}"): EVERYONE,
    # gov_staff, congress_staff and admin hold the permission; the phase decides which of them
    # may make a given move. The request below moves a draft cycle to soliciting: gov_staff or
    # admin. congress_staff is refused by the workflow (code role_not_allowed); every phase is
    # covered by test_who_moves_a_cycle_depends_on_its_phase.
    ("POST", f"{API}/cycles/{{cycle_id}}/transitions"): frozenset({"admin", "gov_staff"}),
    ("GET", f"{API}/audit/verify"): frozenset({"admin", "congress_staff"}),
}

# The 403 code a refused role gets; "permission_denied" unless named here.
DENIED_CODE: dict[tuple[str, str], dict[str, str]] = {
    ("POST", f"{API}/cycles/{{cycle_id}}/transitions"): {"congress_staff": "role_not_allowed"},
}

ROUTES = sorted(EXPECTED, key=lambda r: (r[1], r[0]))
PROTECTED = [r for r in ROUTES if EXPECTED[r] != EVERYONE]


def may(route: tuple[str, str], who: str) -> bool:
    allowed = EXPECTED[route]
    if allowed == EVERYONE:
        return True
    if allowed == AUTHENTICATED:
        return who != ANONYMOUS
    return who in allowed


def route_id(route: tuple[str, str]) -> str:
    return f"{route[0]} {route[1].removeprefix(API)}"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def success_status(client, route: tuple[str, str]) -> int:
    """The 2xx status the OpenAPI document promises for this route."""
    method, path = route
    responses = client.app.openapi()["paths"][path][method.lower()]["responses"]
    codes = sorted(int(c) for c in responses if c.startswith("2"))
    assert len(codes) == 1, f"{route_id(route)} documents {codes} as success"
    return codes[0]


def assert_error(r, status: int, code: str | None, context: str) -> None:
    assert r.status_code == status, f"{context}: expected {status}, got {r.status_code} {r.text}"
    assert r.headers["content-type"].startswith("application/json"), f"{context}: {r.headers}"
    body = r.json()
    assert isinstance(body.get("detail"), str) and body["detail"], f"{context}: {body}"
    assert isinstance(body.get("code"), str) and body["code"], f"{context}: {body}"
    if code is not None:
        assert body["code"] == code, f"{context}: expected code {code!r}, got {body}"


# --- minimal valid requests -----------------------------------------------------------------


def create_cycle(client, world, year: int = 2025) -> str:
    r = client.post(f"{API}/cycles", json={"jurisdiction_code": "lezhi", "year": year,
                                           "title": f"乐至县{year}年民生实事项目", "seats": 10},
                    headers=world.headers("admin"))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def roster(username: str | None = None) -> dict:
    csv = f"username,display_name\n{username or unique('d')},代表\n"
    return {"file": ("roster.csv", csv.encode(), "text/csv")}


def user_body(role: str, jurisdiction: str = "lezhi") -> dict:
    return {"username": unique("u"), "password": "good-pass-12", "display_name": "王五",
            "role": role, "jurisdiction_code": jurisdiction}


Request = dict  # keyword arguments for client.request(): url, json / files
Builder = Callable[..., Request]


def _token(client, world, who):
    account = world.users["resident" if who == ANONYMOUS else who]
    return {"url": f"{API}/auth/token",
            "json": {"username": account.username, "password": PASSWORD}}


def _users_post(client, world, who):
    # admin creates any account; everyone else asks for the one thing congress staff may create
    # (a deputy of lezhi), so a refusal is about the role, not about the body.
    return {"url": f"{API}/users", "json": user_body("gov_staff" if who == "admin" else "deputy")}


BUILDERS: dict[tuple[str, str], Builder] = {
    ("POST", f"{API}/auth/token"): _token,
    ("GET", f"{API}/jurisdictions"): lambda c, w, who: {"url": f"{API}/jurisdictions"},
    ("POST", f"{API}/jurisdictions"): lambda c, w, who: {
        "url": f"{API}/jurisdictions",
        "json": {"code": unique("j"), "name": "新县", "level": "county"}},
    ("POST", f"{API}/jurisdictions/{{code}}/deputies"): lambda c, w, who: {
        "url": f"{API}/jurisdictions/lezhi/deputies", "files": roster()},
    ("POST", f"{API}/users"): _users_post,
    ("GET", f"{API}/users"): lambda c, w, who: {"url": f"{API}/users"},
    ("GET", f"{API}/users/me"): lambda c, w, who: {"url": f"{API}/users/me"},
    ("POST", f"{API}/users/me/password"): lambda c, w, who: {
        "url": f"{API}/users/me/password",
        "json": {"current_password": PASSWORD, "new_password": "new-pass-4567"}},
    ("POST", f"{API}/users/{{user_id}}/grants"): lambda c, w, who: {
        "url": f"{API}/users/{w.users['other_gov_staff'].id}/grants",
        "json": {"jurisdiction_code": "lezhi"}},
    ("GET", f"{API}/cycles"): lambda c, w, who: {"url": f"{API}/cycles"},
    ("POST", f"{API}/cycles"): lambda c, w, who: {
        "url": f"{API}/cycles",
        "json": {"jurisdiction_code": "lezhi", "year": 2026, "title": "乐至县2026年民生实事项目",
                 "seats": 5}},
    ("GET", f"{API}/cycles/{{cycle_id}}"): lambda c, w, who: {
        "url": f"{API}/cycles/{create_cycle(c, w)}"},
    ("POST", f"{API}/cycles/{{cycle_id}}/transitions"): lambda c, w, who: {
        "url": f"{API}/cycles/{create_cycle(c, w)}/transitions",
        "json": {"to": "soliciting", "reason": "开始征集"}},
    ("GET", f"{API}/audit/verify"): lambda c, w, who: {"url": f"{API}/audit/verify"},
}


def call(client, world, route, who, headers=None):
    method, _ = route
    kwargs = BUILDERS[route](client, world, who)
    return client.request(method, headers=world.headers(who) if headers is None else headers,
                          **kwargs)


# --- the table and the app agree --------------------------------------------------------------


def documented_routes(client) -> set[tuple[str, str]]:
    paths = client.app.openapi()["paths"]
    return {(method.upper(), path) for path, ops in paths.items() for method in ops
            if method in ("get", "post", "put", "patch", "delete")}


def test_every_documented_route_is_in_the_matrix(client):
    missing = documented_routes(client) - set(EXPECTED)
    assert not missing, ("routes in the OpenAPI document with no row in EXPECTED (add them, with "
                         f"who may call them and a request builder): {sorted(missing)}")


def test_every_route_in_the_matrix_is_documented(client):
    stale = set(EXPECTED) - documented_routes(client)
    assert not stale, f"EXPECTED lists routes the app no longer has: {sorted(stale)}"


def test_every_route_in_the_matrix_has_a_request_builder():
    assert set(BUILDERS) == set(EXPECTED)


# --- every route x every identity ---------------------------------------------------------


@pytest.mark.parametrize("who", IDENTITIES)
@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_route_answers_each_identity_as_designed(client, world, route, who):
    r = call(client, world, route, who)
    context = f"{route_id(route)} as {who}"
    if may(route, who):
        assert r.status_code == success_status(client, route), f"{context}: {r.status_code} {r.text}"
    elif who == ANONYMOUS:
        assert_error(r, 401, "not_authenticated", context)
    else:
        code = DENIED_CODE.get(route, {}).get(who, "permission_denied")
        assert_error(r, 403, code, context)


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_a_garbled_token_is_401_on_protected_routes_and_ignored_on_public_ones(client, world,
                                                                               route):
    r = call(client, world, route, "admin", headers={"Authorization": "Bearer not-a-token"})
    if route in PROTECTED:
        assert_error(r, 401, "invalid_token", route_id(route))
    else:
        assert r.status_code == success_status(client, route), r.text


# --- the phase decides who moves a cycle ------------------------------------------------------

PHASES = ["draft", "soliciting", "screening", "balloting", "announced", "supervising",
          "evaluating", "closed"]
# DOMAIN.md's "moved on by": the role that moves a cycle out of each phase (admins always may).
MOVED_BY = {"draft": "gov_staff", "soliciting": "gov_staff", "screening": "congress_staff",
            "balloting": "congress_staff", "announced": "congress_staff",
            "supervising": "congress_staff", "evaluating": "congress_staff"}


@pytest.mark.parametrize("who", ["gov_staff", "congress_staff", "admin", "unit_staff"])
@pytest.mark.parametrize("source", PHASES[:-1])
def test_who_moves_a_cycle_depends_on_its_phase(client, world, source, who):
    set_jurisdiction_settings(client, "lezhi", soliciting_min_days=0)
    cycle_id = create_cycle(client, world)
    url = f"{API}/cycles/{cycle_id}/transitions"
    for phase in PHASES[1:PHASES.index(source) + 1]:
        r = client.post(url, json={"to": phase}, headers=world.headers("admin"))
        assert r.status_code == 200, (phase, r.text)
    target = PHASES[PHASES.index(source) + 1]
    r = client.post(url, json={"to": target}, headers=world.headers(who))
    context = f"{source} -> {target} by {who}"
    if who in ("admin", MOVED_BY[source]):
        assert r.status_code == 200 and r.json() == {"phase": target}, f"{context}: {r.text}"
    elif who == "unit_staff":
        assert_error(r, 403, "permission_denied", context)
    else:
        assert_error(r, 403, "role_not_allowed", context)
        assert client.get(f"{API}/cycles/{cycle_id}").json()["phase"] == source


# --- staff of another jurisdiction --------------------------------------------------------------


def _transition(client, world):
    cycle_id = create_cycle(client, world)
    return "POST", f"{API}/cycles/{cycle_id}/transitions", {"json": {"to": "soliciting"}}


def _import(client, world):
    return "POST", f"{API}/jurisdictions/lezhi/deputies", {"files": roster("d-outsider")}


def _create_deputy(client, world):
    body = user_body("deputy") | {"username": "d-outsider"}
    return "POST", f"{API}/users", {"json": body}


def _list_users(client, world):
    return "GET", f"{API}/users", {"params": {"jurisdiction_code": "lezhi"}}


def _create_cycle(client, world):
    return "POST", f"{API}/cycles", {"json": {"jurisdiction_code": "lezhi", "year": 2026,
                                              "title": "越权周期", "seats": 3}}


SCOPED = {"cycle transition": _transition, "deputy import": _import,
          "deputy account": _create_deputy, "user list": _list_users, "cycle creation": _create_cycle}


@pytest.mark.parametrize("who, action", [
    ("other_gov_staff", "cycle transition"),
    ("other_congress_staff", "cycle transition"),
    ("other_congress_staff", "deputy import"),
    ("other_congress_staff", "deputy account"),
    ("other_congress_staff", "user list"),
    ("other_gov_staff", "cycle creation"),
    ("township_congress_staff", "deputy import"),
    ("township_congress_staff", "deputy account"),
    ("township_congress_staff", "cycle transition"),
])
def test_staff_of_another_jurisdiction_are_refused_in_lezhi(client, world, who, action):
    method, url, kwargs = SCOPED[action](client, world)
    r = client.request(method, url, headers=world.headers(who), **kwargs)
    assert_error(r, 403, "outside_jurisdiction", f"{action} in lezhi by {who}")
    if action == "cycle transition":
        assert client.get(url.removesuffix("/transitions")).json()["phase"] == "draft"
    admin = world.headers("admin")
    assert client.get(f"{API}/users", params={"role": "deputy"},
                      headers=admin).json()["total"] == 1  # world's own deputy only


def test_gov_staff_of_another_county_cannot_import_deputies_by_role_before_scope(client, world):
    method, url, kwargs = _import(client, world)
    r = client.request(method, url, headers=world.headers("other_gov_staff"), **kwargs)
    assert_error(r, 403, "permission_denied", "deputy import in lezhi by other_gov_staff")


def test_a_grant_lets_congress_staff_of_another_county_import_lezhis_deputies(client, world):
    r = client.post(f"{API}/users/{world.users['other_congress_staff'].id}/grants",
                    json={"jurisdiction_code": "lezhi"}, headers=world.headers("admin"))
    assert r.status_code == 201, r.text
    method, url, kwargs = _import(client, world)
    r = client.request(method, url, headers=world.headers("other_congress_staff"), **kwargs)
    assert r.status_code == 201 and r.json()["created"] == 1, r.text
