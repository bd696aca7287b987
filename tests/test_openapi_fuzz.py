"""Schemathesis walks /api/v1/openapi.json: no request, however odd, gets a 500.

Every operation in the OpenAPI document is fuzzed (schemathesis' examples, coverage and fuzzing
phases; valid and invalid data; undocumented methods) with the token of every role (admin,
congress staff, gov staff, unit staff, deputy, resident) and anonymously, against an app on its own seeded
database, on SQLite and on PostgreSQL. The seed has cycles in soliciting, proposals (one of them
accepted into an earlier year's reserve) and comments; about half of the generated ids
(cycle, proposal, comment, user), jurisdiction codes, categories, phone numbers, usernames and
passwords are swapped for real ones so the cases get past 404/401/422 into the services. For
every response:

* the status is below 500 (the app raising is a 500: Starlette answers 500 and re-raises);
* a 4xx answer is JSON with "detail" and "code" (the error shape API.md promises).

Checks: only `not_a_server_error` plus the error-shape assertion (ErrorOut: detail and code).
Schemathesis' conformance checks (status codes, content types, response schemas,
negative/positive data acceptance) are off: the permission matrix and the feature tests own the
2xx shapes, and the fuzzer's job here is finding 500s.

Two inputs the schema-driven fuzzer cannot shape get their own Hypothesis tests: deputy roster
CSV files and proposal photos (real JPEG/PNG/WebP/GIF/BMP/TIFF images in many modes, with
odd EXIF, truncated, or random bytes). (Schemathesis does send multipart photo uploads, but
its parts are rarely images and the seeded proposals are soon reviewed, so it seldom gets past
the ownership and state checks.) What the fuzzers found is pinned below as plain parametrized
tests (`test_a_nul_character_never_causes_a_500`,
`test_a_photo_with_broken_exif_gets_an_answer_never_a_500`), so it fails deterministically and
by name.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import os
import re
import tempfile
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi

from app.config import ROOT
from app.main import create_app
from tests.conftest import _wipe, make_settings
from tests.helpers import PASSWORD, build_world

API = "/api/v1"
OPENAPI = f"{API}/openapi.json"
CHECKS = [not_a_server_error]
# Every operation is fuzzed with every role's token, and anonymously.
ACCOUNTS = ["admin", "congress_staff", "gov_staff", "unit_staff", "deputy", "resident"]
WHO = [*ACCOUNTS, "anonymous"]
# Examples per operation and identity; the coverage phase adds its own cases on top, whatever
# this number. MINSHENG_FUZZ_EXAMPLES raises it for a deep run outside CI (docs/operations.md).
EXAMPLES = int(os.environ.get("MINSHENG_FUZZ_EXAMPLES", "8"))
FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck))
PROPOSAL = {"title": "古乐路金顺镇段改造", "description": "路面破损，会车困难，沿线三个村群众出行不便。",
            "category": "交通出行", "location_code": "jinshun"}
RECORDED = {**PROPOSAL, "channel": "hotline", "proposer_name": "张三"}


@dataclass
class Target:
    """The fuzzed app, its accounts, and real values to aim generated ones at."""

    app: object
    headers: dict[str, dict] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)  # as the fuzzer last set them
    # Real values by location ("path", "query", "body") and name.
    real: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # A soliciting cycle whose id the fuzzer is never given: the pinned tests file in it.
    quiet_cycle: str = ""
    turn: int = 0  # cases aimed so far

    def request(self, method: str, url: str, who: str = "anonymous", **kwargs):
        """Send one request on schemathesis' own ASGI client (the loop the app's pool lives in)."""
        with asgi.get_client(self.app) as client:
            return client.request(method, url, headers=self.headers.get(who, {}), **kwargs)

    def ok(self, method: str, url: str, who: str, status: int, **kwargs) -> dict:
        r = self.request(method, url, who, **kwargs)
        assert r.status_code == status, f"{method} {url} as {who}: {r.status_code} {r.text}"
        return r.json() if r.content else {}

    def reset_limits(self) -> None:
        """Forget rate-limit and login-throttle counters (one shared store)."""
        # In a thread of its own: asyncio.run() refuses to start inside a running loop.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, self.app.state.rate_limits.limiter.storage.reset()).result()


def _seed(client: TestClient) -> Target:
    client.portal.call(_wipe, client.app)
    world = build_world(client)
    target = Target(app=client.app)
    for who in ACCOUNTS:
        target.headers[who] = world.headers(who)
        target.usernames[who] = world.users[who].username
        target.passwords[who] = PASSWORD

    def post(url: str, who: str, body: dict, status: int = 201) -> dict:
        r = client.post(f"{API}{url}", json=body, headers=target.headers[who])
        assert r.status_code == status, f"{url}: {r.text}"
        return r.json()

    def cycle(year: int, soliciting: bool = True) -> str:
        cycle_id = post("/cycles", "admin", {"jurisdiction_code": "lezhi", "year": year,
                                             "title": f"乐至县{year}年", "seats": 5})["id"]
        if soliciting:
            post(f"/cycles/{cycle_id}/transitions", "gov_staff", {"to": "soliciting"}, 200)
        return cycle_id

    # 2024: a proposal accepted into the reserve (储备库); 2025: soliciting, with proposals from
    # each channel and comments; 2026: a draft to carry into.
    earlier, current, draft = cycle(2024), cycle(2025), cycle(2026, soliciting=False)
    reserved = post(f"/cycles/{earlier}/proposals", "resident", PROPOSAL)["id"]
    post(f"/proposals/{reserved}/review", "gov_staff", {"decision": "accept"}, 200)
    by_resident = post(f"/cycles/{current}/proposals", "resident", PROPOSAL)["id"]
    recorded = post(f"/cycles/{current}/proposals", "gov_staff", RECORDED)["id"]
    comments = [post(f"/proposals/{pid}/comments", "resident", {"body": "支持，这段路确实难走。"})["id"]
                for pid in (by_resident, recorded)]
    target.quiet_cycle = cycle(2030)
    codes = ["lezhi", "jinshun", "nanta", "anyue"]
    proposals = [reserved, by_resident, recorded]
    shared = {"jurisdiction_code": codes, "location_code": ["lezhi", "jinshun", "nanta"],
              "category": ["交通出行", "教育"]}
    target.real = {
        "path": {"cycle_id": [earlier, current, draft], "user_id": [u.id for u in
                                                                    world.users.values()],
                 "code": codes, "proposal_id": proposals, "comment_id": comments},
        "query": shared,
        "body": {**shared, "parent_code": ["lezhi", "anyue"],
                 "username": [u.username for u in world.users.values()],
                 "password": [PASSWORD], "current_password": [PASSWORD],
                 "merge_into_id": proposals, "proposal_ids": proposals,
                 # what gov_staff must give to record a proposal (a resident may give neither)
                 "channel": ["hotline", "letter", "online"], "proposer_name": ["张三"],
                 "phone": ["13912345678", "+86 139 1234 5679", "13800000000"]},
    }
    return target


@pytest.fixture(scope="module")
def fuzz_target(database_url, tmp_path_factory) -> Iterator[Target]:
    """One seeded app per backend, shared by every operation and identity of this module."""
    app = create_app(make_settings(database_url, media_dir=tmp_path_factory.mktemp("media")))
    # Seeded through a TestClient, whose exit disposes the engine: schemathesis runs the app in
    # its own event loop, which then opens fresh connections.
    with TestClient(app) as client:
        target = _seed(client)
    yield target
    asgi.shutdown_lifespans()  # disposes the engine in schemathesis' loop
    with TestClient(app) as client:
        client.portal.call(_wipe, app)


# The document is read at import time (collection needs the operations) from an app that never
# opens its database; each case is then sent to the seeded app of its backend
# (`case.call(app=...)`).
_DOC_ONLY_DB = Path(tempfile.gettempdir()) / "minsheng-openapi-doc-only.db"
schema = schemathesis.openapi.from_asgi(OPENAPI, create_app(make_settings(f"sqlite:///{_DOC_ONLY_DB}")))


def _coin(value: object) -> int:
    """A deterministic pseudo-random number from a generated value."""
    return int.from_bytes(hashlib.sha256(repr(value).encode()).digest()[:4], "big")


def _pick(value: object, real: list[str] | None, turn: int) -> object:
    """About half the time, a real value in place of a generated string (or list of them).

    Which real value depends on the case's turn too: the coverage phase sends the same few
    strings again and again, which alone would always pick the same one."""
    if real and isinstance(value, list):
        return [_pick(v, real, turn + i) for i, v in enumerate(value)]
    if real and isinstance(value, str) and _coin(value) % 2 == 0:
        return real[((_coin(value) >> 1) + turn) % len(real)]
    return value


def _aim(case, target: Target) -> None:
    """Swap about half the generated ids, codes and credentials for real ones."""
    target.turn += 1
    body = case.body if isinstance(case.body, dict) else None
    for where, params in (("path", case.path_parameters), ("query", case.query), ("body", body)):
        for name, value in list((params or {}).items()):
            params[name] = _pick(value, target.real[where].get(name), target.turn)


def _app_frames(exc: BaseException) -> str:
    """The app's own frames of a traceback (where the 500 came from)."""
    root = str(ROOT) + "/"
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename.startswith(root + "app/")]
    return "\n".join(f"  {f.filename.removeprefix(root)}:{f.lineno} in {f.name}: {f.line}"
                     for f in frames[-4:])


def _assert_error_shape(status: int, content_type: str, content: bytes, where: str) -> None:
    if 400 <= status < 500:
        assert content_type.startswith("application/json"), f"{where}: not JSON ({content_type})"
        body = json.loads(content)
        assert isinstance(body, dict) and body.get("detail") and body.get("code"), (
            f"{where}: error body lacks detail/code: {body}")


def _fuzz(case, fuzz_target: Target, who: str) -> None:
    # Login throttling (429 after 5 failures) and the rate limits (1 SMS a minute, 5 proposals
    # an hour, 3 comments a minute) must not hide the operations behind 429s.
    fuzz_target.reset_limits()
    _aim(case, fuzz_target)
    headers = fuzz_target.headers.get(who, {})
    try:
        response = case.call(app=fuzz_target.app, headers=headers)
    except Exception as exc:  # the app raised: the client got a 500
        pytest.fail(f"500 as {who}: {type(exc).__name__}: {str(exc).splitlines()[0]}\n"
                    f"{_app_frames(exc)}\nreproduce: {case.as_curl_command(headers)}",
                    pytrace=False)
    case.validate_response(response, checks=CHECKS)
    _assert_error_shape(response.status_code, (response.headers.get("content-type") or [""])[0],
                        response.content, f"{case.method} {case.formatted_path} as {who} -> "
                                          f"{response.status_code}")
    if (case.method == "POST" and case.path.endswith(("/users/me/password", "/users/me/logout-all"))
            and response.status_code == 204):
        # The fuzzer changed this account's password or logged it out everywhere, which ends
        # its token: log in again so later cases stay deep.
        if case.path.endswith("/password"):
            fuzz_target.passwords[who] = case.body["new_password"]
        r = fuzz_target.request("POST", "/api/v1/auth/token", json={
            "username": fuzz_target.usernames[who], "password": fuzz_target.passwords[who]})
        assert r.status_code == 200, r.text
        fuzz_target.headers[who] = {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.mark.slow
@pytest.mark.parametrize("who", WHO)
@schema.parametrize()
@FUZZ_SETTINGS
def test_no_operation_answers_500(case, fuzz_target, who):
    _fuzz(case, fuzz_target, who)


# --- the deputy roster: CSV files the schema-driven fuzzer cannot shape ---------------------

cells = st.text(max_size=12)
usernames = st.one_of(st.from_regex(r"\A[a-z][a-z0-9_.@-]{2,12}\Z"), cells)


@st.composite
def rosters(draw) -> bytes:
    header = draw(st.sampled_from([["username", "display_name"],
                                   ["username", "display_name", "password"],
                                   ["Username", " display_name "], ["name"]]))
    rows = draw(st.lists(st.lists(st.one_of(usernames, cells), min_size=1, max_size=4),
                         max_size=4))
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    text = buffer.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
    return text.encode(encoding, errors="replace")


@pytest.mark.slow
@FUZZ_SETTINGS
@given(data=st.one_of(rosters(), st.binary(max_size=64)))
def test_any_roster_file_gets_an_answer_never_a_500(fuzz_target, data):
    """The roster import reads whatever file it is sent: a row error is a 422, never a 500."""
    files = {"file": ("roster.csv", data, "text/csv")}
    try:
        r = fuzz_target.request("POST", "/api/v1/jurisdictions/lezhi/deputies", "admin",
                                files=files)
    except Exception as exc:
        pytest.fail(f"500 on roster {data!r}: {type(exc).__name__}: "
                    f"{str(exc).splitlines()[0]}\n{_app_frames(exc)}", pytrace=False)
    assert r.status_code in (201, 409, 422), (data, r.status_code, r.text)
    _assert_error_shape(r.status_code, r.headers.get("content-type", ""), r.content,
                        f"roster {data!r}")


# --- jurisdiction CSV files: the same, for POST /jurisdictions/import ------------------------

codes = st.one_of(st.from_regex(r"\A[a-z][a-z0-9_-]{1,8}\Z"), st.sampled_from(["lezhi", "jinshun"]),
                  cells)
levels = st.one_of(st.sampled_from(["province", "city", "county", "township", "street", "镇",
                                    "县", ""]), cells)
divisions = st.one_of(st.from_regex(r"\A[0-9]{6}([0-9]{3})?\Z"), st.just(""), cells)


@st.composite
def jurisdiction_files(draw) -> bytes:
    header = draw(st.sampled_from([["code", "name", "level", "parent_code"],
                                   ["code", "name", "level", "parent_code", "division_code"],
                                   ["name", "code", "parent_code", "level"], ["code"]]))
    rows = draw(st.lists(st.tuples(codes, cells, levels, st.one_of(codes, st.just("")),
                                   divisions).map(list), max_size=5))
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
    return buffer.getvalue().encode(encoding, errors="replace")


@pytest.mark.slow
@FUZZ_SETTINGS
@given(data=st.one_of(jurisdiction_files(), st.binary(max_size=64)))
def test_any_jurisdictions_file_gets_an_answer_never_a_500(fuzz_target, data):
    """The jurisdictions import reads whatever file it is sent: 201, or 422 naming the lines."""
    files = {"file": ("jurisdictions.csv", data, "text/csv")}
    try:
        r = fuzz_target.request("POST", "/api/v1/jurisdictions/import", "admin", files=files)
    except Exception as exc:
        pytest.fail(f"500 on jurisdictions file {data!r}: {type(exc).__name__}: "
                    f"{str(exc).splitlines()[0]}\n{_app_frames(exc)}", pytrace=False)
    assert r.status_code in (201, 409, 422), (data, r.status_code, r.text)
    _assert_error_shape(r.status_code, r.headers.get("content-type", ""), r.content,
                        f"jurisdictions file {data!r}")


# --- proposal photos: real images of every kind, odd EXIF, truncated files --------------------

MODES = {"PNG": ["1", "L", "LA", "P", "RGB", "RGBA", "I;16"], "JPEG": ["L", "RGB", "CMYK"],
         "WEBP": ["RGB", "RGBA"], "GIF": ["L", "P"], "BMP": ["1", "L", "P", "RGB"],
         "TIFF": ["RGB"]}


@st.composite
def photos(draw) -> bytes:
    fmt = draw(st.sampled_from(["PNG", "JPEG", "WEBP"] * 2 + ["GIF", "BMP", "TIFF"]))
    mode = draw(st.sampled_from(MODES[fmt]))
    image = Image.new(mode, (draw(st.integers(1, 40)), draw(st.integers(1, 40))))
    options = {}
    if fmt in ("PNG", "JPEG", "WEBP") and draw(st.booleans()):  # formats that carry EXIF
        exif = Image.Exif()
        exif[0x0112] = draw(st.integers(0, 12))  # orientation, valid (1–8) or not
        raw = exif.tobytes()  # "Exif\0\0", the TIFF header, one IFD
        options["exif"] = draw(st.one_of(
            st.just(raw),
            st.integers(6, 14).map(lambda n: raw[:n]),  # cut inside the TIFF header
            st.integers(0, len(raw)).map(lambda n: raw[:n]),
            st.binary(max_size=40).map(lambda b: b"Exif\x00\x00" + b)))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    data = buffer.getvalue()
    if draw(st.integers(0, 3)) == 0:
        data = data[:draw(st.integers(0, len(data)))]  # the file cut short
    return data


@pytest.mark.slow
@settings(FUZZ_SETTINGS, max_examples=100)  # a few requests an example: cheap, so more of them
@given(files=st.one_of(st.lists(photos(), min_size=1, max_size=3),
                       st.binary(max_size=64).map(lambda data: [data])))
def test_any_photo_gets_an_answer_never_a_500(fuzz_target, files):
    """A resident's photos for their own proposal: stored (201) or refused (4xx), never a 500."""
    fuzz_target.reset_limits()
    pid = fuzz_target.ok("POST", f"{API}/cycles/{fuzz_target.quiet_cycle}/proposals", "resident",
                         201, json=PROPOSAL)["id"]
    upload = [("files", (f"p{i}.jpg", data, "image/jpeg")) for i, data in enumerate(files)]
    try:
        r = fuzz_target.request("POST", f"{API}/proposals/{pid}/photos", "resident", files=upload)
    except Exception as exc:
        shown = [d if len(d) <= 200 else d[:32] + b"..." for d in files]
        pytest.fail(f"500 on photos {shown!r}: {type(exc).__module__}.{type(exc).__name__}: "
                    f"{str(exc).splitlines()[0]}\n{_app_frames(exc)}", pytrace=False)
    assert r.status_code in (201, 413, 422), (r.status_code, r.text)
    _assert_error_shape(r.status_code, r.headers.get("content-type", ""), r.content, "photos")


# --- what the fuzzer found, pinned -----------------------------------------------------------

NUL = "a\x00b"
ROSTER_WITH_NUL = b"username,display_name\nd-nul,a\x00b\n"
TITLE, DESCRIPTION = "道路\x00改造", "路面破损\x00会车困难，群众出行不便。"


@dataclass
class Fresh:
    """Objects made for one NUL case, untouched by the fuzzer: a resident's proposal (submitted)
    and a comment on it, in the quiet soliciting cycle; a real cycle and user of the seed."""

    cycle: str
    quiet: str
    proposal: str
    comment: str
    user: str


def _nul_requests(f: Fresh) -> dict[str, tuple[str, str, str, dict]]:
    """field -> (who, method, url, request keyword arguments)."""
    user_body = {"username": "nul-1", "password": "good-pass-12", "display_name": "x",
                 "role": "deputy", "jurisdiction_code": "lezhi"}
    cycle_body = {"jurisdiction_code": "lezhi", "year": 2040, "title": "t", "seats": 3}
    proposals = f"{API}/cycles/{f.quiet}/proposals"
    registration = {"phone": "13912340000", "code": "000000", "password": "good-pass-12",
                    "display_name": "周大爷", "jurisdiction_code": "jinshun"}
    return {
        "token username": ("anonymous", "POST", f"{API}/auth/token",
                           {"json": {"username": NUL, "password": "x"}}),
        "jurisdiction name": ("admin", "POST", f"{API}/jurisdictions",
                              {"json": {"code": "nul-j", "name": NUL, "level": "county"}}),
        "jurisdiction parent_code": ("admin", "POST", f"{API}/jurisdictions", {"json": {
            "code": "nul-k", "name": "n", "level": "township", "parent_code": NUL}}),
        "jurisdiction division_code": ("admin", "POST", f"{API}/jurisdictions", {"json": {
            "code": "nul-m", "name": "n", "level": "county", "division_code": NUL}}),
        "jurisdictions import file": ("admin", "POST", f"{API}/jurisdictions/import", {
            "files": {"file": ("j.csv", b"code,name,level,parent_code\nnul-n,n\x00,county,\n")}}),
        "cycles jurisdiction_code filter": ("admin", "GET", f"{API}/cycles",
                                            {"params": {"jurisdiction_code": NUL}}),
        "users jurisdiction_code filter": ("admin", "GET", f"{API}/users",
                                           {"params": {"jurisdiction_code": NUL}}),
        "cycle_id path": ("admin", "GET", f"{API}/cycles/a%00b", {}),
        "cycle_id path of transitions": ("admin", "POST", f"{API}/cycles/a%00b/transitions",
                                         {"json": {"to": "soliciting"}}),
        "cycle jurisdiction_code": ("admin", "POST", f"{API}/cycles",
                                    {"json": cycle_body | {"jurisdiction_code": NUL}}),
        "cycle title": ("admin", "POST", f"{API}/cycles", {"json": cycle_body | {"title": NUL}}),
        "transition reason": ("admin", "POST", f"{API}/cycles/{f.cycle}/transitions",
                              {"json": {"to": "soliciting", "reason": NUL}}),
        "user display_name": ("admin", "POST", f"{API}/users",
                              {"json": user_body | {"display_name": NUL}}),
        "user jurisdiction_code": ("admin", "POST", f"{API}/users",
                                   {"json": user_body | {"jurisdiction_code": NUL}}),
        "grant user_id path": ("admin", "POST", f"{API}/users/a%00b/grants",
                               {"json": {"jurisdiction_code": "lezhi"}}),
        "grant jurisdiction_code": ("admin", "POST", f"{API}/users/{f.user}/grants",
                                    {"json": {"jurisdiction_code": NUL}}),
        "deputies code path": ("admin", "POST", f"{API}/jurisdictions/a%00b/deputies",
                               {"files": {"file": ("r.csv", b"username,display_name\nd-x,x\n")}}),
        "roster display_name": ("admin", "POST", f"{API}/jurisdictions/lezhi/deputies",
                                {"files": {"file": ("r.csv", ROSTER_WITH_NUL)}}),
        # 征集: each sent by someone the service lets through to where the value is stored
        "proposal title": ("resident", "POST", proposals, {"json": PROPOSAL | {"title": TITLE}}),
        "proposal description": ("resident", "POST", proposals,
                                 {"json": PROPOSAL | {"description": DESCRIPTION}}),
        "proposal place": ("resident", "POST", proposals, {"json": PROPOSAL | {"place": NUL}}),
        "proposal category": ("resident", "POST", proposals,
                              {"json": PROPOSAL | {"category": NUL}}),
        "proposal location_code": ("resident", "POST", proposals,
                                   {"json": PROPOSAL | {"location_code": NUL}}),
        "proposal proposer_name": ("gov_staff", "POST", proposals,
                                   {"json": RECORDED | {"proposer_name": NUL}}),
        "proposals q filter": ("anonymous", "GET", proposals, {"params": {"q": NUL}}),
        "proposals category filter": ("anonymous", "GET", proposals,
                                      {"params": {"category": NUL}}),
        "similar text": ("anonymous", "GET", f"{proposals}/similar", {"params": {"text": NUL}}),
        "proposal_id path": ("anonymous", "GET", f"{API}/proposals/a%00b", {}),
        "proposal_id path of comments": ("anonymous", "GET", f"{API}/proposals/a%00b/comments",
                                         {}),
        "comment body": ("resident", "POST", f"{API}/proposals/{f.proposal}/comments",
                         {"json": {"body": NUL}}),
        "report reason": ("deputy", "POST", f"{API}/comments/{f.comment}/reports",
                          {"json": {"reason": NUL}}),
        "comment_id path": ("deputy", "POST", f"{API}/comments/a%00b/reports", {"json": {}}),
        "hide reason": ("admin", "POST", f"{API}/comments/{f.comment}/hide",
                        {"json": {"reason": NUL}}),
        "review reason": ("admin", "POST", f"{API}/proposals/{f.proposal}/review",
                          {"json": {"decision": "reject", "reason": NUL}}),
        "review merge_into_id": ("admin", "POST", f"{API}/proposals/{f.proposal}/review",
                                 {"json": {"decision": "merge", "merge_into_id": NUL}}),
        "carry proposal_ids": ("admin", "POST", f"{API}/cycles/{f.quiet}/reserve",
                               {"json": {"proposal_ids": [NUL]}}),
        "carry reason": ("admin", "POST", f"{API}/cycles/{f.quiet}/reserve",
                         {"json": {"proposal_ids": [f.proposal], "reason": NUL}}),
        "reserve code path": ("admin", "GET", f"{API}/jurisdictions/a%00b/reserve", {}),
        "sms phone": ("anonymous", "POST", f"{API}/residents/sms-codes",
                      {"json": {"phone": "1391234\x000000"}}),
        # registration: the test sends a real code to a number of the case's own and puts both
        # in, so each field gets as far as the service takes it
        "registration phone": ("anonymous", "POST", f"{API}/residents",
                               {"json": registration | {"phone": "1391234\x000000"}}),
        "registration display_name": ("anonymous", "POST", f"{API}/residents",
                                      {"json": registration | {"display_name": NUL}}),
        "registration jurisdiction_code": ("anonymous", "POST", f"{API}/residents",
                                           {"json": registration | {"jurisdiction_code": NUL}}),
        "registration password": ("anonymous", "POST", f"{API}/residents",
                                  {"json": registration | {"password": "good\x00pass-12"}}),
    }


NUL_CASES = list(_nul_requests(Fresh("c", "q", "p", "m", "u")))


def _fresh(target: Target, phone: str) -> tuple[Fresh, str]:
    """New objects for one case, and the SMS code just sent to `phone`."""
    proposal = target.ok("POST", f"{API}/cycles/{target.quiet_cycle}/proposals", "resident", 201,
                         json=PROPOSAL)["id"]
    comment = target.ok("POST", f"{API}/proposals/{proposal}/comments", "resident", 201,
                        json={"body": "支持"})["id"]
    target.ok("POST", f"{API}/residents/sms-codes", "anonymous", 202, json={"phone": phone})
    outbox = target.ok("GET", f"{API}/sms-outbox", "admin", 200)
    code = re.search(r"验证码是 (\d{6})", next(m["body"] for m in outbox if m["phone"] == phone))
    real = target.real["path"]
    return Fresh(real["cycle_id"][0], target.quiet_cycle, proposal, comment,
                 real["user_id"][0]), code.group(1)


@pytest.mark.parametrize("field_name", NUL_CASES)
def test_a_nul_character_never_causes_a_500(fuzz_target, field_name):
    """PostgreSQL can neither store nor compare text holding NUL (0x00); the API must still
    answer such input with a 4xx (SQLite happens to store it)."""
    fuzz_target.reset_limits()
    phone = f"1391234{NUL_CASES.index(field_name):04d}"  # a number of its own: never registered
    fresh, code = _fresh(fuzz_target, phone)
    who, method, url, kwargs = _nul_requests(fresh)[field_name]
    if url.endswith("/residents"):
        body = kwargs["json"] | {"code": code}
        kwargs = {"json": body | {"phone": phone} if body["phone"] == "13912340000" else body}
    try:
        r = fuzz_target.request(method, url, who, **kwargs)
    except Exception as exc:
        pytest.fail(f"500 for a NUL in the {field_name} ({method} {url}): {type(exc).__name__}: "
                    f"{str(exc).splitlines()[0]}\n{_app_frames(exc)}", pytrace=False)
    assert r.status_code < 500, r.text
    _assert_error_shape(r.status_code, r.headers.get("content-type", ""), r.content, field_name)


def _image(fmt: str, exif: bytes) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), "red").save(buffer, format=fmt, exif=exif)
    return buffer.getvalue()


# The EXIF block cut short after its TIFF byte order and magic number (no IFD offset): Pillow's
# exif_transpose raises struct.error, which photos.reencode does not catch.
BROKEN_EXIF = {"png": ("PNG", b"Exif\x00\x00II*\x00"), "webp": ("WEBP", b"Exif\x00\x00II*\x00"),
               "png, big-endian": ("PNG", b"Exif\x00\x00MM\x00*")}


@pytest.mark.parametrize("kind", list(BROKEN_EXIF))
def test_a_photo_with_broken_exif_gets_an_answer_never_a_500(fuzz_target, kind):
    """Stored without its metadata (201) or refused as unreadable (422): either, not a 500."""
    fuzz_target.reset_limits()
    pid = fuzz_target.ok("POST", f"{API}/cycles/{fuzz_target.quiet_cycle}/proposals", "resident",
                         201, json=PROPOSAL)["id"]
    data = _image(*BROKEN_EXIF[kind])
    try:
        r = fuzz_target.request("POST", f"{API}/proposals/{pid}/photos", "resident",
                                files=[("files", ("p.png", data, "image/png"))])
    except Exception as exc:
        pytest.fail(f"500 on a {kind} photo with broken EXIF: "
                    f"{type(exc).__module__}.{type(exc).__name__}: "
                    f"{str(exc).splitlines()[0]}\n{_app_frames(exc)}", pytrace=False)
    assert r.status_code in (201, 422), r.text
    _assert_error_shape(r.status_code, r.headers.get("content-type", ""), r.content, kind)
