"""Helpers for 票决: a lezhi cycle in balloting, more deputies, and a round walked to a state.

Plain functions (the permission matrix imports them too); the API is used for every step, as
staff and deputies would.
"""

from __future__ import annotations

from app.auth.roles import Role
from app.auth.tokens import issue_token
from tests.helpers import World, create_user, seed_reviewed_candidates, set_jurisdiction_settings

API = "/api/v1"


def _ok(r, status: int = 200) -> dict:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return r.json()


def balloting_cycle(client, world: World, candidates: int = 12, year: int = 2025,
                    seats: int = 10) -> tuple[str, list[str]]:
    """A lezhi cycle in 票决 with `candidates` reviewed candidates (ids in their order)."""
    set_jurisdiction_settings(client, "lezhi", soliciting_min_days=0)
    gov = world.headers("gov_staff")
    cycle_id = _ok(client.post(f"{API}/cycles", headers=gov, json={
        "jurisdiction_code": "lezhi", "year": year, "title": f"乐至县{year}年民生实事项目",
        "seats": seats}), 201)["id"]
    for to, by in (("soliciting", "gov_staff"), ("screening", "gov_staff")):
        _ok(client.post(f"{API}/cycles/{cycle_id}/transitions", json={"to": to},
                        headers=world.headers(by)))
    ids = seed_reviewed_candidates(client, cycle_id, max(candidates, 12))
    _ok(client.post(f"{API}/cycles/{cycle_id}/transitions", json={"to": "balloting"},
                    headers=world.headers("congress_staff")))
    return cycle_id, ids[:candidates]


def add_deputies(client, world: World, n: int, prefix: str = "dep",
                 jurisdiction: str = "lezhi") -> list[str]:
    """n more deputies as world keys `{prefix}-1` … (tokens signed directly: no argon2 check)."""
    settings = client.app.state.settings
    keys = []
    for i in range(1, n + 1):
        key = f"{prefix}-{i}"
        if key not in world.users:
            user = create_user(client, key, Role.deputy, jurisdiction)
            world.users[key] = user
            world._headers[key] = {
                "Authorization": f"Bearer {issue_token(settings, user.id, user.token_version)}"}
        keys.append(key)
    return keys


def username(world: World, key: str) -> str:
    return world.users[key].username


def create_round(client, world: World, cycle_id: str, **body) -> dict:
    return _ok(client.post(f"{API}/cycles/{cycle_id}/ballots", json=body,
                           headers=world.headers("congress_staff")), 201)


def check_in(client, world: World, ballot_id: str, keys) -> int:
    present = 0
    for key in keys:
        present = _ok(client.post(f"{API}/ballots/{ballot_id}/check-in",
                                  headers=world.headers(key)))["present"]
    return present


def name_scrutineers(client, world: World, ballot_id: str, keys) -> list[str]:
    return _ok(client.post(f"{API}/ballots/{ballot_id}/scrutineers",
                           json={"usernames": [username(world, k) for k in keys]},
                           headers=world.headers("congress_staff")))["scrutineers"]


def move(client, world: World, ballot_id: str, to: str, reason: str = "") -> dict:
    return _ok(client.post(f"{API}/ballots/{ballot_id}/transitions",
                           json={"to": to, "reason": reason},
                           headers=world.headers("congress_staff")))


def vote(client, world: World, ballot_id: str, key: str, marks: dict) -> str:
    return _ok(client.post(f"{API}/ballots/{ballot_id}/votes", json={"marks": marks},
                           headers=world.headers(key)), 201)["receipt"]


def tally(client, world: World, ballot_id: str) -> dict:
    return _ok(client.post(f"{API}/ballots/{ballot_id}/tally",
                           headers=world.headers("congress_staff")))


def sign(client, world: World, ballot_id: str, key: str) -> dict:
    return _ok(client.post(f"{API}/ballots/{ballot_id}/sign-off", headers=world.headers(key)))


STATES = ("created", "open", "closed", "tallied", "published")


def walk_round(client, world: World, to: str, *, cycle_id: str | None = None,
               present: list[str] | None = None, scrutineers: list[str] | None = None,
               ballots: list[tuple[str, dict]] = (), **body) -> str:
    """A lezhi round walked to state `to` (one of STATES), every step through the API.

    Defaults: world's deputy and one more (`dep-1`) are the roster, both present and both
    scrutineers; `ballots` are (deputy key, marks) cast while the round is open.
    """
    if present is None or scrutineers is None:
        extra = add_deputies(client, world, 1)
        present = present if present is not None else ["deputy", *extra]
        scrutineers = scrutineers if scrutineers is not None else ["deputy", *extra]
    if cycle_id is None:
        cycle_id, _ = balloting_cycle(client, world)
    ballot_id = create_round(client, world, cycle_id, **body)["id"]
    if to == "created":
        return ballot_id
    check_in(client, world, ballot_id, present)
    name_scrutineers(client, world, ballot_id, scrutineers)
    move(client, world, ballot_id, "open")
    for key, marks in ballots:
        vote(client, world, ballot_id, key, marks)
    if to == "open":
        return ballot_id
    move(client, world, ballot_id, "closed")
    if to == "closed":
        return ballot_id
    tally(client, world, ballot_id)
    if to == "tallied":
        return ballot_id
    for key in scrutineers[:2]:
        sign(client, world, ballot_id, key)
    move(client, world, ballot_id, "published")
    assert to == "published", to
    return ballot_id


def lezhi_deputies(world: World) -> list[str]:
    """The world keys of lezhi's deputies, in the order they were added."""
    return [k for k, u in world.users.items()
            if u.role == Role.deputy and u.jurisdiction_code == "lezhi"]


def record_attendance(client, world: World, ballot_id: str, keys) -> int:
    return _ok(client.post(f"{API}/ballots/{ballot_id}/attendance",
                           json={"usernames": [username(world, k) for k in keys]},
                           headers=world.headers("congress_staff")))["present"]


def publish_round(client, world: World, cycle_id: str, *, runoff_of: str | None = None,
                  ballots: list[tuple[str, dict]] | None = None, **body) -> dict:
    """A round of a lezhi cycle walked to `published`; returns its results (tally as_dict).

    The round is created with the cycle's seats (or `body`'s), or as the run-off of the
    published round `runoff_of`. Every lezhi deputy of the world is marked present by staff
    (one more deputy is added first if there are fewer than two), the first two are named
    scrutineers and sign off. By default every present deputy votes yes for the first S
    candidates of the ballot paper, so they are all selected; `ballots` (deputy key, marks)
    are cast instead.
    """
    if runoff_of is None and len(lezhi_deputies(world)) < 2:
        add_deputies(client, world, 2 - len(lezhi_deputies(world)))
    if runoff_of is None:
        ballot = create_round(client, world, cycle_id, **body)
    else:
        ballot = _ok(client.post(f"{API}/ballots/{runoff_of}/runoff", json=body,
                                 headers=world.headers("congress_staff")), 201)
    deputies = lezhi_deputies(world)
    needed = max(ballot["quorum"], ballot["total_deputies"] // 2 + 1)
    assert len(deputies) >= needed, (
        f"T = {ballot['total_deputies']}: the world knows only {len(deputies)} lezhi deputies")
    ballot_id = ballot["id"]
    record_attendance(client, world, ballot_id, deputies)
    name_scrutineers(client, world, ballot_id, deputies[:2])
    move(client, world, ballot_id, "open")
    if ballots is None:
        first = {c["id"]: "yes" for c in ballot["candidates"][:ballot["seats"]]}
        ballots = [(key, first) for key in deputies]
    for key, marks in ballots:
        vote(client, world, ballot_id, key, marks)
    move(client, world, ballot_id, "closed")
    results = tally(client, world, ballot_id)
    for key in deputies[:2]:
        sign(client, world, ballot_id, key)
    move(client, world, ballot_id, "published")
    return results
