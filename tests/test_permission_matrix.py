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

import io
import re
import uuid
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image
from sqlalchemy import func, select, update

from app.audit.anchors import public_key_text
from app.auth.roles import Role
from app.auth.tokens import issue_token
from app.models import (
    BallotItem,
    BallotRound,
    Candidate,
    Project,
    Proposal,
    SmsMessage,
    User,
)
from app.timeutil import china_today
from tests.ballots.conftest import (
    balloting_cycle,
    check_in,
    name_scrutineers,
    publish_round,
    walk_round,
)
from tests.helpers import (
    PASSWORD,
    create_user,
    run,
    seed_reviewed_candidates,
    set_jurisdiction_settings,
    token_headers,
)
from tests.projects.helpers import announced_projects, plan_body

API = "/api/v1"
AUDIT_KEY = Ed25519PrivateKey.generate()
ANONYMOUS = "anonymous"
EVERYONE = "*"                # anyone, with or without a token
AUTHENTICATED = "authenticated"  # any logged-in role

ROLES = ["resident", "deputy", "unit_staff", "gov_staff", "congress_staff", "admin"]
IDENTITIES = [ANONYMOUS, *ROLES]

# The design: (method, path template) -> who may call it (with the minimal valid request below).
EXPECTED: dict[tuple[str, str], str | frozenset[str]] = {
    ("POST", f"{API}/auth/token"): EVERYONE,
    ("POST", f"{API}/auth/sms-code"): EVERYONE,
    ("POST", f"{API}/auth/sms-token"): EVERYONE,
    ("GET", f"{API}/jurisdictions"): EVERYONE,
    ("POST", f"{API}/jurisdictions"): frozenset({"admin"}),
    ("POST", f"{API}/jurisdictions/import"): frozenset({"admin"}),
    # congress staff: deputies of their own jurisdiction only (see the scoping tests below)
    ("POST", f"{API}/jurisdictions/{{code}}/deputies"): frozenset({"admin", "congress_staff"}),
    # congress staff: a deputy of their own jurisdiction only
    ("POST", f"{API}/users"): frozenset({"admin", "congress_staff"}),
    ("GET", f"{API}/users"): frozenset({"admin", "congress_staff"}),
    ("GET", f"{API}/users/me"): AUTHENTICATED,
    ("POST", f"{API}/users/me/password"): AUTHENTICATED,
    ("GET", f"{API}/users/me/sessions"): AUTHENTICATED,
    ("POST", f"{API}/users/me/logout-all"): AUTHENTICATED,
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
    ("GET", f"{API}/audit/anchors"): EVERYONE,
    ("GET", f"{API}/audit/anchors/latest"): EVERYONE,
    ("GET", f"{API}/audit/public-key"): EVERYONE,
    # --- 征集 (proposals) ---
    # Residents and deputies propose; gov_staff records one received by another channel. Admin
    # holds every permission but is no proposer (service.create refuses it: permission_denied).
    ("POST", f"{API}/cycles/{{cycle_id}}/proposals"): frozenset({"resident", "deputy",
                                                                 "gov_staff"}),
    ("GET", f"{API}/cycles/{{cycle_id}}/proposals"): EVERYONE,
    # A hotline export: Perm.proposal_record (gov_staff; admin holds every permission but is no
    # proposer, so the service refuses it as it refuses admin's proposals).
    ("POST", f"{API}/cycles/{{cycle_id}}/proposals/import"): frozenset({"gov_staff"}),
    ("GET", f"{API}/cycles/{{cycle_id}}/proposals/similar"): EVERYONE,
    ("GET", f"{API}/cycles/{{cycle_id}}/proposals.csv"): frozenset({"gov_staff", "congress_staff",
                                                                    "admin"}),
    ("GET", f"{API}/proposals/{{proposal_id}}"): EVERYONE,
    # Photos: only the proposal's proposer (or the gov_staff member who recorded it). Each role
    # that can propose uploads to a proposal of its own; the others (unit_staff,
    # congress_staff, admin) can own none and are sent to a resident's proposal: 403 not_yours
    # (admin included: ownership, not the permission table, decides).
    ("POST", f"{API}/proposals/{{proposal_id}}/photos"): frozenset({"resident", "deputy",
                                                                    "gov_staff"}),
    # 附议: residents and deputies, on a proposal someone else made (here: recorded by gov_staff).
    ("POST", f"{API}/proposals/{{proposal_id}}/endorsements"): frozenset({"resident", "deputy"}),
    # Perm.proposal_review (gov_staff; admin holds all perms and the workflow lets admin act).
    ("POST", f"{API}/proposals/{{proposal_id}}/review"): frozenset({"gov_staff", "admin"}),
    ("GET", f"{API}/jurisdictions/{{code}}/reserve"): frozenset({"gov_staff", "admin"}),
    ("POST", f"{API}/cycles/{{cycle_id}}/reserve"): frozenset({"gov_staff", "admin"}),
    ("GET", f"{API}/proposals/{{proposal_id}}/comments"): EVERYONE,
    ("POST", f"{API}/proposals/{{proposal_id}}/comments"): AUTHENTICATED,
    ("POST", f"{API}/comments/{{comment_id}}/reports"): AUTHENTICATED,
    ("POST", f"{API}/comments/{{comment_id}}/hide"): frozenset({"gov_staff", "congress_staff",
                                                                "admin"}),
    # --- residents ---
    ("POST", f"{API}/residents/sms-codes"): EVERYONE,
    ("POST", f"{API}/residents"): EVERYONE,
    ("GET", f"{API}/users/me/notifications"): AUTHENTICATED,
    ("POST", f"{API}/users/me/notifications/read"): AUTHENTICATED,
    ("GET", f"{API}/sms-outbox"): frozenset({"gov_staff", "congress_staff", "admin"}),
    # --- 初定 (candidates) ---
    # gov_staff build and edit candidates (admin too: every permission, and the workflow).
    ("POST", f"{API}/cycles/{{cycle_id}}/candidates"): frozenset({"gov_staff", "admin"}),
    ("GET", f"{API}/cycles/{{cycle_id}}/candidates"): EVERYONE,
    ("GET", f"{API}/cycles/{{cycle_id}}/candidates/quota"): EVERYONE,
    ("GET", f"{API}/candidates/{{candidate_id}}"): EVERYONE,  # a reviewed (published) one
    ("PATCH", f"{API}/candidates/{{candidate_id}}"): frozenset({"gov_staff", "admin"}),
    # drafted → gov_approved is gov_staff's step (congress_staff: role_not_allowed).
    ("POST", f"{API}/candidates/{{candidate_id}}/transitions"): frozenset({"gov_staff", "admin"}),
    ("GET", f"{API}/candidates/{{candidate_id}}/revisions"): frozenset({
        "unit_staff", "gov_staff", "congress_staff", "admin"}),
    ("GET", f"{API}/candidates/{{candidate_id}}/comments"): EVERYONE,
    ("POST", f"{API}/candidates/{{candidate_id}}/comments"): AUTHENTICATED,  # during 公示
    ("GET", f"{API}/jurisdictions/{{code}}/units"): EVERYONE,
    ("POST", f"{API}/jurisdictions/{{code}}/units"): frozenset({"gov_staff", "admin"}),
    ("PUT", f"{API}/cycles/{{cycle_id}}/publicity"): frozenset({"gov_staff", "congress_staff",
                                                                "admin"}),
    ("PUT", f"{API}/cycles/{{cycle_id}}/congress-session"): frozenset({"congress_staff",
                                                                      "admin"}),
    # --- 本级参数 (a jurisdiction's settings) ---
    ("GET", f"{API}/settings"): EVERYONE,
    ("GET", f"{API}/jurisdictions/{{code}}/settings"): EVERYONE,
    # Perm.settings_manage; congress staff of that jurisdiction only (scoping tests below)
    ("PUT", f"{API}/jurisdictions/{{code}}/settings"): frozenset({"congress_staff", "admin"}),
    # Perm.staff_pages: the jurisdiction's staff
    ("GET", f"{API}/jurisdictions/{{code}}/settings/history"): frozenset({
        "unit_staff", "gov_staff", "congress_staff", "admin"}),
    # --- 票决 (ballot rounds) ---
    # Perm.ballot_manage: congress_staff (admin holds every permission and the workflow lets
    # admin act). Deputies check in, vote and sign off: the service refuses anyone else.
    ("POST", f"{API}/cycles/{{cycle_id}}/ballots"): frozenset({"congress_staff", "admin"}),
    ("GET", f"{API}/cycles/{{cycle_id}}/ballots"): EVERYONE,
    ("GET", f"{API}/ballots/{{ballot_id}}"): EVERYONE,  # turnout only
    ("POST", f"{API}/ballots/{{ballot_id}}/check-in"): frozenset({"deputy"}),
    ("POST", f"{API}/ballots/{{ballot_id}}/attendance"): frozenset({"congress_staff", "admin"}),
    ("POST", f"{API}/ballots/{{ballot_id}}/scrutineers"): frozenset({"congress_staff", "admin"}),
    # created → open (quorum present, scrutineers named)
    ("POST", f"{API}/ballots/{{ballot_id}}/transitions"): frozenset({"congress_staff", "admin"}),
    ("POST", f"{API}/ballots/{{ballot_id}}/votes"): frozenset({"deputy"}),  # checked in
    ("POST", f"{API}/ballots/{{ballot_id}}/tally"): frozenset({"congress_staff", "admin"}),
    # a named scrutineer (world's deputy is one); anyone else: not_a_scrutineer
    ("POST", f"{API}/ballots/{{ballot_id}}/sign-off"): frozenset({"deputy"}),
    ("POST", f"{API}/ballots/{{ballot_id}}/runoff"): frozenset({"congress_staff", "admin"}),
    ("PUT", f"{API}/ballots/{{ballot_id}}/paper-issued"): frozenset({"congress_staff", "admin"}),
    ("POST", f"{API}/ballots/{{ballot_id}}/paper-ballots"): frozenset({"congress_staff", "admin"}),
    ("GET", f"{API}/ballots/{{ballot_id}}/paper-ballots"): frozenset({"congress_staff", "admin"}),
    ("DELETE", f"{API}/ballots/{{ballot_id}}/paper-ballots/{{sheet}}"):
        frozenset({"congress_staff", "admin"}),
    ("POST", f"{API}/ballots/{{ballot_id}}/device-import"): frozenset({"congress_staff", "admin"}),
    ("GET", f"{API}/cycles/{{cycle_id}}/open-data.zip"): EVERYONE,
    ("GET", f"{API}/cycles/{{cycle_id}}/announcement"): EVERYONE,  # 409 before announced
    ("GET", f"{API}/cycles/{{cycle_id}}/projects"): EVERYONE,
    ("GET", f"{API}/projects/{{project_id}}"): EVERYONE,
    ("GET", f"{API}/projects/{{project_id}}/plan/history"): EVERYONE,
    ("PUT", f"{API}/projects/{{project_id}}/plan"): frozenset({"gov_staff", "admin"}),
    # 监督: the project's own unit (its staff are given that unit below) or the government
    ("POST", f"{API}/projects/{{project_id}}/transitions"): frozenset({
        "unit_staff", "gov_staff", "admin"}),
    ("POST", f"{API}/projects/{{project_id}}/progress"): frozenset({
        "unit_staff", "gov_staff", "admin"}),
    ("GET", f"{API}/projects/{{project_id}}/progress"): EVERYONE,
    ("GET", f"{API}/cycles/{{cycle_id}}/supervision"): EVERYONE,
    # public once published (the request below); before that congress staff only, which
    # tests/ballots/test_ballot_api.py covers (403 not_published, also for anonymous)
    ("GET", f"{API}/ballots/{{ballot_id}}/results"): EVERYONE,
    ("GET", f"{API}/ballots/{{ballot_id}}/bulletin"): EVERYONE,
    # --- a list decided by the government (征求意见) ---
    ("GET", f"{API}/cycles/{{cycle_id}}/draft-list"): EVERYONE,
    ("GET", f"{API}/cycles/{{cycle_id}}/draft-list/comments"): EVERYONE,
    ("POST", f"{API}/cycles/{{cycle_id}}/draft-list/comments"): AUTHENTICATED,
    # Perm.list_adopt: gov_staff (admin holds every permission)
    ("POST", f"{API}/comments/{{comment_id}}/answer"): frozenset({"gov_staff", "admin"}),
    ("PUT", f"{API}/cycles/{{cycle_id}}/adoption"): frozenset({"gov_staff", "admin"}),
}

# The 403 code a refused role gets; "permission_denied" unless named here.
DENIED_CODE: dict[tuple[str, str], dict[str, str]] = {
    ("POST", f"{API}/cycles/{{cycle_id}}/transitions"): {"congress_staff": "role_not_allowed"},
    ("POST", f"{API}/candidates/{{candidate_id}}/transitions"): {
        "congress_staff": "role_not_allowed", "resident": "role_not_allowed",
        "deputy": "role_not_allowed", "unit_staff": "role_not_allowed"},
    ("POST", f"{API}/proposals/{{proposal_id}}/photos"): {
        "unit_staff": "not_yours", "congress_staff": "not_yours", "admin": "not_yours"},
    ("POST", f"{API}/ballots/{{ballot_id}}/check-in"): dict.fromkeys(
        ["resident", "unit_staff", "gov_staff", "congress_staff", "admin"], "not_a_deputy"),
    ("POST", f"{API}/ballots/{{ballot_id}}/votes"): dict.fromkeys(
        ["resident", "unit_staff", "gov_staff", "congress_staff", "admin"], "not_a_deputy"),
    ("POST", f"{API}/ballots/{{ballot_id}}/sign-off"): dict.fromkeys(
        ["resident", "unit_staff", "gov_staff", "congress_staff", "admin"], "not_a_scrutineer"),
    # work starting is the builders' move, not congress staff's
    ("POST", f"{API}/projects/{{project_id}}/transitions"): {"congress_staff": "role_not_allowed"},
    ("POST", f"{API}/projects/{{project_id}}/progress"): {"congress_staff": "role_not_allowed"},
}


@pytest.fixture(autouse=True)
def _photos_in_tmp(request, tmp_path, monkeypatch):
    """Uploaded photos go to a temporary directory, not var/media."""
    if "client" in request.fixturenames:
        settings = request.getfixturevalue("client").app.state.settings
        monkeypatch.setattr(settings, "media_dir", tmp_path / "media")
        # an audit signing key, so that GET /audit/public-key answers
        monkeypatch.setattr(settings, "audit_public_key", public_key_text(AUDIT_KEY.public_key()))
        monkeypatch.setattr(settings, "audit_anchor_file", tmp_path / "anchors.jsonl")


@pytest.fixture
def world(world):
    """conftest's world, with each account's bearer token signed directly, as POST /auth/token
    signs it, rather than by logging in: an argon2 check per account per test was most of this
    module's time. The login route keeps its own rows in the matrix."""
    settings = world.client.app.state.settings
    for key, user in world.users.items():
        token = issue_token(settings, user.id, user.token_version)
        world._headers[key] = {"Authorization": f"Bearer {token}"}
    return world


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

PROPOSERS = ("resident", "deputy", "gov_staff")


def open_cycle(client, world, year: int = 2025) -> str:
    """A lezhi cycle moved to soliciting (征集) by gov_staff."""
    cycle_id = create_cycle(client, world, year)
    r = client.post(f"{API}/cycles/{cycle_id}/transitions", json={"to": "soliciting"},
                    headers=world.headers("gov_staff"))
    assert r.status_code == 200, r.text
    return cycle_id


def proposal_body(who: str) -> dict:
    """A valid proposal from identity `who` (any key naming a resident or deputy proposes online)."""
    body = {"title": "古乐路金顺镇段改造", "description": "路面破损，会车困难，沿线三个村群众出行不便。",
            "category": "交通出行", "location_code": "lezhi"}
    if who != ANONYMOUS and "resident" not in who and "deputy" not in who:
        # Staff record a proposal received by another channel, naming who made it; refused
        # staff roles send the same body, so their refusal is about the role.
        body |= {"channel": "hotline", "proposer_name": "张三"}
    return body


def propose(client, world, who: str = "resident", cycle_id: str | None = None) -> str:
    cycle_id = cycle_id or open_cycle(client, world)
    r = client.post(f"{API}/cycles/{cycle_id}/proposals", json=proposal_body(who),
                    headers=world.headers(who))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def add_account(client, world, key: str, role: str, jurisdiction: str = "lezhi", **kw) -> str:
    """One more account in the world (not one of the matrix's identities)."""
    if key not in world.users:
        world.users[key] = create_user(client, key.replace("_", "-"), role, jurisdiction, **kw)
    return key


def make_comment(client, world, pid: str | None = None) -> str:
    """A comment on a resident's proposal, by a resident who is none of the identities."""
    pid = pid or propose(client, world)
    who = add_account(client, world, "commenter", Role.resident)
    r = client.post(f"{API}/proposals/{pid}/comments", json={"body": "支持，这段路确实难走。"},
                    headers=world.headers(who))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def reserve_proposal(client, world) -> str:
    """A proposal accepted into the 储备库 in lezhi's 2024 cycle (an earlier year than 2025)."""
    pid = propose(client, world, cycle_id=open_cycle(client, world, 2024))
    r = client.post(f"{API}/proposals/{pid}/review", json={"decision": "accept"},
                    headers=world.headers("gov_staff"))
    assert r.status_code == 200 and r.json() == {"state": "accepted"}, r.text
    return pid


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def phone() -> str:
    return f"139{uuid.uuid4().int % 10**8:08d}"  # a fresh number: SMS is limited 1/minute each


def sms_code(client, number: str) -> str:
    """The code the built-in sender 'sent' (only the SMS text holds it: "验证码是 NNNNNN")."""
    body = run(client, lambda s: s.scalar(select(SmsMessage.body).where(SmsMessage.phone == number)
                                          .order_by(SmsMessage.created_at.desc()).limit(1)))
    return re.search(r"验证码是 (\d{6})", body).group(1)


Request = dict  # keyword arguments for client.request(): url, json / files
Builder = Callable[..., Request]


def _latest_anchor(client, world, who):
    from app.audit.anchors import sign

    anchor = sign(AUDIT_KEY, seq=1, hash="0" * 64, count=1)
    run(client, lambda s: s.merge(anchor.to_row()))
    return {"url": f"{API}/audit/anchors/latest"}


def _token(client, world, who):
    account = world.users["resident" if who == ANONYMOUS else who]
    return {"url": f"{API}/auth/token",
            "json": {"username": account.username, "password": PASSWORD}}


def _sms_token(client, world, who):
    number = phone()

    async def give(session):
        await session.execute(update(User).where(User.username == "resident")
                              .values(phone=number))

    run(client, give)
    r = client.post(f"{API}/auth/sms-code", json={"phone": number})
    assert r.status_code == 202, r.text
    return {"url": f"{API}/auth/sms-token",
            "json": {"phone": number, "code": sms_code(client, number)}}


def _users_post(client, world, who):
    # admin creates any account; everyone else asks for the one thing congress staff may create
    # (a deputy of lezhi), so a refusal is about the role, not about the body.
    return {"url": f"{API}/users", "json": user_body("gov_staff" if who == "admin" else "deputy")}


def _photos(client, world, who):
    owner = who if who in PROPOSERS else "resident"
    pid = propose(client, world, owner)
    return {"url": f"{API}/proposals/{pid}/photos",
            "files": [("files", ("photo.png", png(), "image/png"))]}


HOTLINE_FILE = ("工单号,标题,诉求内容,类别,所在乡镇（街道）\n"
                "GD-1,古乐路金顺镇段改造,路面破损，会车困难，沿线三个村群众出行不便。,交通出行,金顺镇\n"
                ).encode("utf-8-sig")


def _csv(client, world, who):
    cycle_id = open_cycle(client, world)
    propose(client, world, cycle_id=cycle_id)
    return {"url": f"{API}/cycles/{cycle_id}/proposals.csv"}


def _carry(client, world, who):
    pid = reserve_proposal(client, world)
    return {"url": f"{API}/cycles/{create_cycle(client, world, 2025)}/reserve",
            "json": {"proposal_ids": [pid]}}


def _register(client, world, who):
    number = phone()
    r = client.post(f"{API}/residents/sms-codes", json={"phone": number})
    assert r.status_code == 202, r.text
    return {"url": f"{API}/residents",
            "json": {"phone": number, "code": sms_code(client, number), "password": "good-pass-12",
                     "display_name": "周大爷", "jurisdiction_code": "jinshun"}}


def _reserve(client, world, who):
    reserve_proposal(client, world)
    return {"url": f"{API}/jurisdictions/lezhi/reserve", "params": {"before_year": 2025}}


def _comments(client, world, who):
    pid = propose(client, world)
    make_comment(client, world, pid)
    return {"url": f"{API}/proposals/{pid}/comments"}


def screening_cycle(client, world) -> tuple[str, str]:
    """A lezhi cycle in 初定 with one accepted proposal and a responsible unit on the list."""
    set_jurisdiction_settings(client, "lezhi", soliciting_min_days=0)
    cycle_id = open_cycle(client, world)
    pid = propose(client, world, cycle_id=cycle_id)
    client.post(f"{API}/proposals/{pid}/review", json={"decision": "accept"},
                headers=world.headers("gov_staff"))
    r = client.post(f"{API}/cycles/{cycle_id}/transitions", json={"to": "screening"},
                    headers=world.headers("gov_staff"))
    assert r.status_code == 200, r.text
    client.post(f"{API}/jurisdictions/lezhi/units", json={"name": "县交通运输局"},
                headers=world.headers("gov_staff"))
    return cycle_id, pid


def candidate_body(pid: str) -> dict:
    return {"title": "古乐路改建工程", "summary": "按三级公路标准改建 7.8 公里，惠及沿线群众。",
            "responsible_unit": "县交通运输局", "budget_wan": "4680", "deadline": "2025-12-31",
            "proposal_ids": [pid]}


def make_candidate(client, world, *, reviewed: bool = False, publicity: bool = False) -> str:
    cycle_id, pid = screening_cycle(client, world)
    r = client.post(f"{API}/cycles/{cycle_id}/candidates", json=candidate_body(pid),
                    headers=world.headers("gov_staff"))
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    if reviewed:
        for to, by in (("gov_approved", "gov_staff"), ("reviewed", "congress_staff")):
            r = client.post(f"{API}/candidates/{cid}/transitions", json={"to": to},
                            headers=world.headers(by))
            assert r.status_code == 200, r.text
    if publicity:
        today = china_today().isoformat()
        r = client.put(f"{API}/cycles/{cycle_id}/publicity", json={"start": today, "end": today},
                       headers=world.headers("congress_staff"))
        assert r.status_code == 200, r.text
    return cid


def _new_candidate(client, world, who):
    cycle_id, pid = screening_cycle(client, world)
    return {"url": f"{API}/cycles/{cycle_id}/candidates", "json": candidate_body(pid)}


def _cycle_of_candidate(client, cid) -> str:
    return run(client, lambda s: s.scalar(select(Candidate.cycle_id).where(Candidate.id == cid)))


def _ballot_round(state: str):
    """A builder's round in `state`: world's deputy and dep-1 present and scrutineers."""
    def build(client, world) -> str:
        return walk_round(client, world, state)
    return build


def _ready_round(client, world) -> str:
    """A created round that may open: quorum present (2 of T = 2), two scrutineers named."""
    ballot_id = walk_round(client, world, "created")
    check_in(client, world, ballot_id, ["deputy", "dep-1"])
    name_scrutineers(client, world, ballot_id, ["deputy", "dep-1"])
    return ballot_id


def _on_round(state: str, suffix: str = "", **extra):
    def build(client, world, who):
        return {"url": f"{API}/ballots/{_ballot_round(state)(client, world)}{suffix}", **extra}
    return build


BUILDERS: dict[tuple[str, str], Builder] = {
    ("POST", f"{API}/auth/token"): _token,
    ("POST", f"{API}/auth/sms-code"): lambda c, w, who: {"url": f"{API}/auth/sms-code",
                                                         "json": {"phone": phone()}},
    ("POST", f"{API}/auth/sms-token"): _sms_token,
    ("GET", f"{API}/jurisdictions"): lambda c, w, who: {"url": f"{API}/jurisdictions"},
    ("POST", f"{API}/jurisdictions"): lambda c, w, who: {
        "url": f"{API}/jurisdictions",
        "json": {"code": unique("j"), "name": "新县", "level": "county"}},
    ("POST", f"{API}/jurisdictions/import"): lambda c, w, who: {
        "url": f"{API}/jurisdictions/import",
        "files": {"file": ("jurisdictions.csv",
                           f"code,name,level,parent_code\n{unique('j')},新县,county,\n".encode(),
                           "text/csv")}},
    ("POST", f"{API}/jurisdictions/{{code}}/deputies"): lambda c, w, who: {
        "url": f"{API}/jurisdictions/lezhi/deputies", "files": roster()},
    ("POST", f"{API}/users"): _users_post,
    ("GET", f"{API}/users"): lambda c, w, who: {"url": f"{API}/users"},
    ("GET", f"{API}/users/me"): lambda c, w, who: {"url": f"{API}/users/me"},
    ("POST", f"{API}/users/me/password"): lambda c, w, who: {
        "url": f"{API}/users/me/password",
        "json": {"current_password": PASSWORD, "new_password": "new-pass-4567"}},
    ("GET", f"{API}/users/me/sessions"): lambda c, w, who: {"url": f"{API}/users/me/sessions"},
    ("POST", f"{API}/users/me/logout-all"): lambda c, w, who: {
        "url": f"{API}/users/me/logout-all"},
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
    ("GET", f"{API}/audit/anchors"): lambda c, w, who: {"url": f"{API}/audit/anchors"},
    ("GET", f"{API}/audit/anchors/latest"): _latest_anchor,
    ("GET", f"{API}/audit/public-key"): lambda c, w, who: {"url": f"{API}/audit/public-key"},
    ("POST", f"{API}/cycles/{{cycle_id}}/proposals"): lambda c, w, who: {
        "url": f"{API}/cycles/{open_cycle(c, w)}/proposals", "json": proposal_body(who)},
    ("GET", f"{API}/cycles/{{cycle_id}}/proposals"): lambda c, w, who: {
        "url": f"{API}/cycles/{open_cycle(c, w)}/proposals", "params": {"q": "改造"}},
    ("GET", f"{API}/cycles/{{cycle_id}}/proposals/similar"): lambda c, w, who: {
        "url": f"{API}/cycles/{open_cycle(c, w)}/proposals/similar", "params": {"text": "道路改造"}},
    ("GET", f"{API}/cycles/{{cycle_id}}/proposals.csv"): _csv,
    ("POST", f"{API}/cycles/{{cycle_id}}/proposals/import"): lambda c, w, who: {
        "url": f"{API}/cycles/{open_cycle(c, w)}/proposals/import",
        "files": {"file": ("12345.csv", HOTLINE_FILE, "text/csv")}},
    ("GET", f"{API}/proposals/{{proposal_id}}"): lambda c, w, who: {
        "url": f"{API}/proposals/{propose(c, w)}"},
    ("POST", f"{API}/proposals/{{proposal_id}}/photos"): _photos,
    ("POST", f"{API}/proposals/{{proposal_id}}/endorsements"): lambda c, w, who: {
        "url": f"{API}/proposals/{propose(c, w, 'gov_staff')}/endorsements"},
    ("POST", f"{API}/proposals/{{proposal_id}}/review"): lambda c, w, who: {
        "url": f"{API}/proposals/{propose(c, w)}/review", "json": {"decision": "accept"}},
    ("GET", f"{API}/jurisdictions/{{code}}/reserve"): _reserve,
    ("POST", f"{API}/cycles/{{cycle_id}}/reserve"): _carry,
    ("GET", f"{API}/proposals/{{proposal_id}}/comments"): _comments,
    ("POST", f"{API}/proposals/{{proposal_id}}/comments"): lambda c, w, who: {
        "url": f"{API}/proposals/{propose(c, w)}/comments", "json": {"body": "支持！"}},
    ("POST", f"{API}/comments/{{comment_id}}/reports"): lambda c, w, who: {
        "url": f"{API}/comments/{make_comment(c, w)}/reports", "json": {"reason": "广告"}},
    ("POST", f"{API}/comments/{{comment_id}}/hide"): lambda c, w, who: {
        "url": f"{API}/comments/{make_comment(c, w)}/hide", "json": {"reason": "含有人身攻击"}},
    ("POST", f"{API}/residents/sms-codes"): lambda c, w, who: {
        "url": f"{API}/residents/sms-codes", "json": {"phone": phone()}},
    ("POST", f"{API}/residents"): _register,
    ("GET", f"{API}/users/me/notifications"): lambda c, w, who: {
        "url": f"{API}/users/me/notifications"},
    ("POST", f"{API}/users/me/notifications/read"): lambda c, w, who: {
        "url": f"{API}/users/me/notifications/read"},
    ("GET", f"{API}/sms-outbox"): lambda c, w, who: {"url": f"{API}/sms-outbox"},
    ("POST", f"{API}/cycles/{{cycle_id}}/candidates"): _new_candidate,
    ("GET", f"{API}/cycles/{{cycle_id}}/candidates"): lambda c, w, who: {
        "url": f"{API}/cycles/{_cycle_of_candidate(c, make_candidate(c, w, reviewed=True))}"
               "/candidates"},
    ("GET", f"{API}/cycles/{{cycle_id}}/candidates/quota"): lambda c, w, who: {
        "url": f"{API}/cycles/{screening_cycle(c, w)[0]}/candidates/quota"},
    ("GET", f"{API}/candidates/{{candidate_id}}"): lambda c, w, who: {
        "url": f"{API}/candidates/{make_candidate(c, w, reviewed=True)}"},
    ("PATCH", f"{API}/candidates/{{candidate_id}}"): lambda c, w, who: {
        "url": f"{API}/candidates/{make_candidate(c, w)}", "json": {"title": "古乐路改建（修改）"}},
    ("POST", f"{API}/candidates/{{candidate_id}}/transitions"): lambda c, w, who: {
        "url": f"{API}/candidates/{make_candidate(c, w)}/transitions",
        "json": {"to": "gov_approved", "reason": "县政府常务会议通过"}},
    ("GET", f"{API}/candidates/{{candidate_id}}/revisions"): lambda c, w, who: {
        "url": f"{API}/candidates/{make_candidate(c, w)}/revisions"},
    ("GET", f"{API}/candidates/{{candidate_id}}/comments"): lambda c, w, who: {
        "url": f"{API}/candidates/{make_candidate(c, w, reviewed=True)}/comments"},
    ("POST", f"{API}/candidates/{{candidate_id}}/comments"): lambda c, w, who: {
        "url": f"{API}/candidates/{make_candidate(c, w, reviewed=True, publicity=True)}/comments",
        "json": {"body": "支持这个项目"}},
    ("GET", f"{API}/jurisdictions/{{code}}/units"): lambda c, w, who: {
        "url": f"{API}/jurisdictions/lezhi/units"},
    ("POST", f"{API}/jurisdictions/{{code}}/units"): lambda c, w, who: {
        "url": f"{API}/jurisdictions/lezhi/units", "json": {"name": unique("县局")}},
    ("PUT", f"{API}/cycles/{{cycle_id}}/publicity"): lambda c, w, who: {
        "url": f"{API}/cycles/{screening_cycle(c, w)[0]}/publicity",
        "json": {"start": "2025-03-01", "end": "2025-03-07"}},
    ("PUT", f"{API}/cycles/{{cycle_id}}/congress-session"): lambda c, w, who: {
        "url": f"{API}/cycles/{create_cycle(c, w)}/congress-session",
        "json": {"congress_session": "第十八届人民代表大会第五次会议"}},
    ("GET", f"{API}/settings"): lambda c, w, who: {"url": f"{API}/settings"},
    ("GET", f"{API}/jurisdictions/{{code}}/settings"): lambda c, w, who: {
        "url": f"{API}/jurisdictions/lezhi/settings"},
    ("PUT", f"{API}/jurisdictions/{{code}}/settings"): lambda c, w, who: {
        "url": f"{API}/jurisdictions/lezhi/settings",
        "json": {"plan_due_days": 40, "reason": "县人大常委会决定"}},
    ("GET", f"{API}/jurisdictions/{{code}}/settings/history"): lambda c, w, who: {
        "url": f"{API}/jurisdictions/lezhi/settings/history"},
    ("POST", f"{API}/cycles/{{cycle_id}}/ballots"): lambda c, w, who: {
        "url": f"{API}/cycles/{balloting_cycle(c, w)[0]}/ballots", "json": {}},
    ("GET", f"{API}/cycles/{{cycle_id}}/ballots"): lambda c, w, who: {
        "url": f"{API}/cycles/{_cycle_of_ballot(c, walk_round(c, w, 'created'))}/ballots"},
    ("GET", f"{API}/ballots/{{ballot_id}}"): _on_round("open"),
    ("POST", f"{API}/ballots/{{ballot_id}}/check-in"): _on_round("created", "/check-in"),
    ("POST", f"{API}/ballots/{{ballot_id}}/attendance"): _on_round(
        "created", "/attendance", json={"usernames": ["deputy"]}),
    ("POST", f"{API}/ballots/{{ballot_id}}/scrutineers"): _on_round(
        "created", "/scrutineers", json={"usernames": ["deputy", "dep-1"]}),
    ("POST", f"{API}/ballots/{{ballot_id}}/transitions"): lambda c, w, who: {
        "url": f"{API}/ballots/{_ready_round(c, w)}/transitions", "json": {"to": "open"}},
    ("POST", f"{API}/ballots/{{ballot_id}}/votes"): lambda c, w, who: {
        "url": f"{API}/ballots/{walk_round(c, w, 'open')}/votes",
        "json": {"marks": {_first_candidate(c): "yes"}}},
    ("POST", f"{API}/ballots/{{ballot_id}}/tally"): _on_round("closed", "/tally"),
    ("POST", f"{API}/ballots/{{ballot_id}}/sign-off"): _on_round("tallied", "/sign-off"),
    # no ballots cast: nobody passes, a shortfall, put to a further round (the default)
    ("POST", f"{API}/ballots/{{ballot_id}}/runoff"): _on_round("published", "/runoff"),
    ("GET", f"{API}/ballots/{{ballot_id}}/results"): _on_round("published", "/results"),
    ("GET", f"{API}/ballots/{{ballot_id}}/bulletin"): _on_round("published", "/bulletin"),
    ("PUT", f"{API}/ballots/{{ballot_id}}/paper-issued"): _on_round(
        "created", "/paper-issued", json={"count": 3}),
    ("POST", f"{API}/ballots/{{ballot_id}}/paper-ballots"): lambda c, w, who: {
        "url": f"{API}/ballots/{walk_round(c, w, 'closed')}/paper-ballots",
        "json": {"sheet": 1, "marks": {_first_candidate(c): "yes"}}},
    ("GET", f"{API}/ballots/{{ballot_id}}/paper-ballots"): _on_round("closed", "/paper-ballots"),
    ("DELETE", f"{API}/ballots/{{ballot_id}}/paper-ballots/{{sheet}}"): lambda c, w, who:
        _own_paper_entry(c, w, who),
    ("POST", f"{API}/ballots/{{ballot_id}}/device-import"): lambda c, w, who: {
        "url": f"{API}/ballots/{walk_round(c, w, 'closed')}/device-import",
        "files": {"file": ("devices.csv", _device_file(c), "text/csv")}, "data": {"issued": "1"}},
    ("GET", f"{API}/cycles/{{cycle_id}}/open-data.zip"): lambda c, w, who: {
        "url": f"{API}/cycles/{_cycle_of_ballot(c, _ballot_round('published')(c, w))}"
               "/open-data.zip"},
    ("GET", f"{API}/cycles/{{cycle_id}}/announcement"): lambda c, w, who: {
        "url": f"{API}/cycles/{_announced_cycle(c, w)}/announcement"},
    ("GET", f"{API}/cycles/{{cycle_id}}/projects"): lambda c, w, who: {
        "url": f"{API}/cycles/{_announced_cycle(c, w)}/projects"},
    ("GET", f"{API}/projects/{{project_id}}"): lambda c, w, who: {
        "url": f"{API}/projects/{announced_projects(c, w)[1][0]}"},
    ("GET", f"{API}/projects/{{project_id}}/plan/history"): lambda c, w, who: {
        "url": f"{API}/projects/{announced_projects(c, w)[1][0]}/plan/history"},
    ("PUT", f"{API}/projects/{{project_id}}/plan"): lambda c, w, who: {
        "url": f"{API}/projects/{announced_projects(c, w)[1][0]}/plan", "json": plan_body()},
    ("POST", f"{API}/projects/{{project_id}}/transitions"): lambda c, w, who: {
        "url": f"{API}/projects/{_project_of_the_unit(c, w)}/transitions",
        "json": {"to": "in_progress"}},
    ("POST", f"{API}/projects/{{project_id}}/progress"): lambda c, w, who: {
        "url": f"{API}/projects/{_project_of_the_unit(c, w, building=True)}/progress",
        "json": {"percent": 10, "spent_wan": "5"}},
    ("GET", f"{API}/projects/{{project_id}}/progress"): lambda c, w, who: {
        "url": f"{API}/projects/{announced_projects(c, w)[1][0]}/progress"},
    ("GET", f"{API}/cycles/{{cycle_id}}/supervision"): lambda c, w, who: {
        "url": f"{API}/cycles/{announced_projects(c, w)[0]}/supervision"},
    ("GET", f"{API}/cycles/{{cycle_id}}/draft-list"): lambda c, w, who: {
        "url": f"{API}/cycles/{_government_draft(c, w)[0]}/draft-list"},
    ("GET", f"{API}/cycles/{{cycle_id}}/draft-list/comments"): lambda c, w, who: {
        "url": f"{API}/cycles/{_draft_comment(c, w)[0]}/draft-list/comments"},
    ("POST", f"{API}/cycles/{{cycle_id}}/draft-list/comments"): lambda c, w, who: {
        "url": f"{API}/cycles/{_government_draft(c, w)[0]}/draft-list/comments",
        "json": {"body": "建议扩大覆盖范围"}},
    ("POST", f"{API}/comments/{{comment_id}}/answer"): lambda c, w, who: {
        "url": f"{API}/comments/{_draft_comment(c, w)[1]}/answer",
        "json": {"kind": "noted", "text": "已记录，实施中统筹考虑"}},
    ("PUT", f"{API}/cycles/{{cycle_id}}/adoption"): lambda c, w, who: {
        "url": f"{API}/cycles/{_government_draft(c, w)[0]}/adoption",
        "json": {"meeting": "县长办公会", "date": china_today().isoformat(),
                 "document_number": "乐府〔2026〕3号"}},
}


def _government_draft(client, world) -> tuple[str, str]:
    """A lezhi cycle whose list its setting has the government decide, in its comment period
    (征求意见) with one item on the draft list: (cycle id, item id)."""
    set_jurisdiction_settings(client, "lezhi", decided_by="government")
    cid = make_candidate(client, world)
    cycle_id = _cycle_of_candidate(client, cid)
    for url, to in ((f"{API}/candidates/{cid}/transitions", "gov_approved"),
                    (f"{API}/cycles/{cycle_id}/transitions", "commenting")):
        r = client.post(url, json={"to": to}, headers=world.headers("gov_staff"))
        assert r.status_code == 200, r.text
    return cycle_id, cid


def _draft_comment(client, world) -> tuple[str, str]:
    """A comment on a government draft list by a resident who is none of the identities."""
    cycle_id, _ = _government_draft(client, world)
    who = add_account(client, world, "commenter", Role.resident)
    r = client.post(f"{API}/cycles/{cycle_id}/draft-list/comments", json={"body": "支持"},
                    headers=world.headers(who))
    assert r.status_code == 201, r.text
    return cycle_id, r.json()["id"]


def _project_of_the_unit(client, world, building: bool = False) -> str:
    """An announced project (`building`: in progress), whose responsible unit the world's
    unit_staff account belongs to."""
    project_id = announced_projects(client, world)[1][0]

    async def give(session):
        unit_id = await session.scalar(select(Project.responsible_unit_id)
                                       .where(Project.id == project_id))
        await session.execute(update(User).where(User.id == world.users["unit_staff"].id)
                              .values(unit_id=unit_id))
        if building:
            await session.execute(update(Project).where(Project.id == project_id)
                                  .values(state="in_progress"))

    run(client, give)
    return project_id


def _announced_cycle(client, world) -> str:
    """A cycle announced on a published round (nobody voted: the empty seats get a reason)."""
    cycle_id = _cycle_of_ballot(client, _ballot_round("published")(client, world))
    r = client.post(f"{API}/cycles/{cycle_id}/transitions",
                    json={"to": "announced", "reason": "名额空缺"},
                    headers=world.headers("congress_staff"))
    assert r.status_code == 200, r.text
    return cycle_id


def _device_file(client) -> bytes:
    """A device export with one ballot, every candidate of the (only) round unmarked."""
    n = run(client, lambda s: s.scalar(select(func.count()).select_from(BallotItem)))
    return ("ballot," + ",".join(str(i) for i in range(1, n + 1)) + "\n1" + "," * n
            + "\n").encode()


def _own_paper_entry(client, world, who) -> dict:
    """A closed round where `who` (if staff) has entered sheet 1, which they may withdraw."""
    ballot_id = walk_round(client, world, "closed")
    if who in ("congress_staff", "admin"):
        r = client.post(f"{API}/ballots/{ballot_id}/paper-ballots", json={"sheet": 1},
                        headers=world.headers(who))
        assert r.status_code == 201, r.text
    return {"url": f"{API}/ballots/{ballot_id}/paper-ballots/1"}


def _cycle_of_ballot(client, ballot_id) -> str:
    return run(client, lambda s: s.scalar(select(BallotRound.cycle_id)
                                          .where(BallotRound.id == ballot_id)))


def _first_candidate(client) -> str:
    """The first candidate on the (only) round's ballot paper."""
    return run(client, lambda s: s.scalar(select(BallotItem.item_id)
                                          .order_by(BallotItem.position).limit(1)))


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


@pytest.mark.parametrize("who", ["gov_staff", "congress_staff", "admin"])
@pytest.mark.parametrize("source", PHASES[:-1])
def test_who_moves_a_cycle_depends_on_its_phase(client, world, source, who):
    set_jurisdiction_settings(client, "lezhi", soliciting_min_days=0)
    cycle_id = create_cycle(client, world)
    seed_reviewed_candidates(client, cycle_id, 12)  # the 差额 guard of screening → balloting
    url = f"{API}/cycles/{cycle_id}/transitions"
    for phase in PHASES[1:PHASES.index(source) + 1]:
        r = client.post(url, json={"to": phase}, headers=world.headers("admin"))
        assert r.status_code == 200, (phase, r.text)
        if phase == "balloting":
            publish_round(client, world, cycle_id)  # the guard of balloting → announced
    target = PHASES[PHASES.index(source) + 1]
    r = client.post(url, json={"to": target}, headers=world.headers(who))
    context = f"{source} -> {target} by {who}"
    if who in ("admin", MOVED_BY[source]):
        assert r.status_code == 200 and r.json() == {"phase": target}, f"{context}: {r.text}"
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


def _change_settings(client, world):
    return "PUT", f"{API}/jurisdictions/lezhi/settings", {
        "json": {"plan_due_days": 40, "reason": "越权修改"}}


def _settings_history(client, world):
    return "GET", f"{API}/jurisdictions/lezhi/settings/history", {}


SCOPED = {"cycle transition": _transition, "deputy import": _import,
          "deputy account": _create_deputy, "user list": _list_users, "cycle creation": _create_cycle,
          "settings change": _change_settings, "settings history": _settings_history}


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
    ("other_congress_staff", "settings change"),
    ("township_congress_staff", "settings change"),
    ("other_gov_staff", "settings history"),
    ("township_congress_staff", "settings history"),
])
def test_staff_of_another_jurisdiction_are_refused_in_lezhi(client, world, who, action):
    method, url, kwargs = SCOPED[action](client, world)
    r = client.request(method, url, headers=world.headers(who), **kwargs)
    assert_error(r, 403, "outside_jurisdiction", f"{action} in lezhi by {who}")
    if action == "cycle transition":
        assert client.get(url.removesuffix("/transitions")).json()["phase"] == "draft"
    if action == "settings change":
        assert client.get(url).json()["plan_due_days"] == 30
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


# --- 征集 outside one's jurisdiction -------------------------------------------------------------


def _review(client, world):
    pid = propose(client, world)
    return "POST", f"{API}/proposals/{pid}/review", {"json": {"decision": "accept"}}


def _export(client, world):
    cycle_id = open_cycle(client, world)
    propose(client, world, cycle_id=cycle_id)
    return "GET", f"{API}/cycles/{cycle_id}/proposals.csv", {}


def _reserve_list(client, world):
    reserve_proposal(client, world)
    return "GET", f"{API}/jurisdictions/lezhi/reserve", {}


def _carry_in(client, world):
    pid = reserve_proposal(client, world)
    return "POST", f"{API}/cycles/{create_cycle(client, world, 2025)}/reserve", {
        "json": {"proposal_ids": [pid]}}


def _hide(client, world):
    return "POST", f"{API}/comments/{make_comment(client, world)}/hide", {
        "json": {"reason": "含有人身攻击"}}


def _propose_as(who):
    def build(client, world):
        return "POST", f"{API}/cycles/{open_cycle(client, world)}/proposals", {
            "json": proposal_body(who)}
    return build


def _hotline_import(client, world):
    return "POST", f"{API}/cycles/{open_cycle(client, world)}/proposals/import", {
        "files": {"file": ("12345.csv", HOTLINE_FILE, "text/csv")}}


PROPOSAL_SCOPED = {"proposal review": _review, "proposal export": _export,
                   "hotline import": _hotline_import,
                   "reserve list": _reserve_list, "reserve carry": _carry_in,
                   "comment hide": _hide}


def _untouched(client, world, action: str) -> None:
    """What the refused action would have changed is unchanged."""
    states = sorted(run(client, lambda s: s.scalars(select(Proposal.state))).all())
    if action == "proposal review":
        assert states == ["submitted"], states
    if action == "reserve carry":
        assert states == ["accepted"], states  # still in the reserve, no copy made
    if action == "comment hide":
        pid = run(client, lambda s: s.scalar(select(Proposal.id)))
        assert not client.get(f"{API}/proposals/{pid}/comments").json()[0]["hidden"]
    if action.startswith("proposal by") or action == "hotline import":
        assert states == [], states


@pytest.mark.parametrize("who, action", [
    ("other_gov_staff", "proposal review"),
    ("other_gov_staff", "proposal export"),
    ("other_gov_staff", "hotline import"),
    ("other_congress_staff", "proposal export"),
    ("township_congress_staff", "proposal export"),
    ("other_gov_staff", "reserve list"),
    ("other_gov_staff", "reserve carry"),
    ("other_gov_staff", "comment hide"),
    ("other_congress_staff", "comment hide"),
    ("township_congress_staff", "comment hide"),
    ("anyue_resident", "proposal by a resident"),
    ("anyue_deputy", "proposal by a deputy"),
    ("other_gov_staff", "proposal by gov_staff"),
])
def test_proposal_work_outside_ones_jurisdiction_is_refused(client, world, who, action):
    if who.startswith("anyue_"):
        add_account(client, world, who, Role(who.removeprefix("anyue_")), "anyue")
    build = _propose_as(who) if action.startswith("proposal by") else PROPOSAL_SCOPED[action]
    method, url, kwargs = build(client, world)
    r = client.request(method, url, headers=world.headers(who), **kwargs)
    assert_error(r, 403, "outside_jurisdiction", f"{action} in lezhi by {who}")
    _untouched(client, world, action)


def test_a_resident_of_a_township_may_propose_to_its_county(client, world):
    """The counterpart of the anyue resident's refusal: a jinshun resident is at home in lezhi."""
    who = add_account(client, world, "jinshun_resident", Role.resident, "jinshun")
    propose(client, world, who)


@pytest.mark.parametrize("owner, who", [("resident", "deputy"), ("deputy", "resident"),
                                        ("gov_staff", "resident"), ("resident", "gov_staff")])
def test_only_the_proposer_or_recorder_adds_photos(client, world, owner, who):
    """The photo row of the matrix has each proposer upload to its own; here, to another's."""
    pid = propose(client, world, owner)
    r = client.post(f"{API}/proposals/{pid}/photos", headers=world.headers(who),
                    files=[("files", ("photo.png", png(), "image/png"))])
    assert_error(r, 403, "not_yours", f"photo on {owner}'s proposal by {who}")
    assert client.get(f"{API}/proposals/{pid}").json()["photos"] == []


# --- a generated password must be changed first --------------------------------------------

PASSWORD_CHANGE_ROUTES = {("GET", f"{API}/users/me"), ("POST", f"{API}/users/me/password"),
                          ("POST", f"{API}/users/me/logout-all")}


@pytest.mark.parametrize("route", PROTECTED, ids=route_id)
def test_an_account_with_a_generated_password_may_only_change_it(client, world, route):
    """must_change_password: 403 password_change_required on every protected route but those
    that show the account, change its password and log it out everywhere. The account is an
    admin, so nothing but the pending change stands in the way."""
    world.users["fresh"] = create_user(client, "fresh-admin", Role.admin,
                                       must_change_password=True)
    headers = token_headers(client, "fresh-admin")
    r = call(client, world, route, "admin", headers=headers)
    if route in PASSWORD_CHANGE_ROUTES:
        assert r.status_code == success_status(client, route), r.text
    else:
        assert_error(r, 403, "password_change_required", route_id(route))


def test_after_changing_the_generated_password_the_api_opens(client, world):
    create_user(client, "fresh-staff", Role.gov_staff, must_change_password=True)
    headers = token_headers(client, "fresh-staff")
    assert_error(client.get(f"{API}/sms-outbox", headers=headers), 403,
                 "password_change_required", "before the change")
    me = client.get(f"{API}/users/me", headers=headers)
    assert me.status_code == 200 and me.json()["username"] == "fresh-staff", me.text
    r = client.post(f"{API}/users/me/password", headers=headers,
                    json={"current_password": PASSWORD, "new_password": "new-pass-4567"})
    assert r.status_code == 204, r.text
    headers = token_headers(client, "fresh-staff", "new-pass-4567")
    assert client.get(f"{API}/sms-outbox", headers=headers).status_code == 200
