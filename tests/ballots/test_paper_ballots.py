"""Paper ballots entered twice and hall voting devices imported (DOMAIN.md 票决 4)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from app.auth.roles import Role
from app.auth.tokens import issue_token
from app.ballotbox.devices import parse_device_csv
from app.ballotbox.forms import canonical
from app.ballots.bulletin import recompute
from app.errors import Invalid
from app.models import (
    AuditEntry,
    BallotContent,
    BallotRound,
    DeviceBallot,
    PaperEntry,
    StateTransition,
)
from tests.ballots.conftest import (
    API,
    add_deputies,
    balloting_cycle,
    check_in,
    create_round,
    move,
    name_scrutineers,
    sign,
    tally,
    vote,
)
from tests.helpers import create_user, run

MARKS = ("yes", "no", "abstain")


def error(r, status: int, code: str) -> dict:
    assert r.status_code == status, f"expected {status} {code}, got {r.status_code} {r.text}"
    body = r.json()
    assert body["code"] == code and body["detail"], body
    return body


def add_staff(client, world, key: str, jurisdiction: str = "lezhi") -> str:
    """One more congress staff account (token signed directly)."""
    user = create_user(client, key, Role.congress_staff, jurisdiction)
    world.users[key] = user
    token = issue_token(client.app.state.settings, user.id, user.token_version)
    world._headers[key] = {"Authorization": f"Bearer {token}"}
    return key


@pytest.fixture
def hall(client, world):
    """T = 7 (world's deputy, dep-1 … dep-6), 3 candidates, a second and third staff account."""
    deputies = ["deputy", *add_deputies(client, world, 6)]
    cycle_id, candidates = balloting_cycle(client, world, candidates=3)
    add_staff(client, world, "staff-b")
    add_staff(client, world, "staff-c")
    return cycle_id, candidates, deputies


def open_round(client, world, hall, present: int = 5, seats: int = 2) -> str:
    cycle_id, candidates, deputies = hall
    ballot_id = create_round(client, world, cycle_id, seats=seats,
                             candidate_ids=candidates)["id"]
    check_in(client, world, ballot_id, deputies[:present])
    name_scrutineers(client, world, ballot_id, ["dep-1", "dep-2"])
    move(client, world, ballot_id, "open")
    return ballot_id


def enter(client, world, ballot_id, who, sheet, marks=None, spoilt=False):
    return client.post(f"{API}/ballots/{ballot_id}/paper-ballots", headers=world.headers(who),
                       json={"sheet": sheet, "marks": marks or {}, "spoilt": spoilt})


def entered(r, status: str) -> dict:
    assert r.status_code == 201, r.text
    assert r.json()["status"] == status, r.json()
    return r.json()


def sheets(client, world, ballot_id, who="congress_staff") -> dict:
    r = client.get(f"{API}/ballots/{ballot_id}/paper-ballots", headers=world.headers(who))
    assert r.status_code == 200, r.text
    return r.json()


def set_issued(client, world, ballot_id, count, who="congress_staff"):
    return client.put(f"{API}/ballots/{ballot_id}/paper-issued", json={"count": count},
                      headers=world.headers(who))


def counts(client, ballot_id):
    """(paper content rows, device content rows, paper entries, device_issued) of a round."""
    async def look(session):
        paper = await session.scalar(select(func.count()).select_from(BallotContent).where(
            BallotContent.round_id == ballot_id, BallotContent.paper.is_(True)))
        device = await session.scalar(select(func.count()).select_from(DeviceBallot).where(
            DeviceBallot.round_id == ballot_id))
        entries = await session.scalar(select(func.count()).select_from(PaperEntry).where(
            PaperEntry.round_id == ballot_id))
        issued = (await session.get(BallotRound, ballot_id)).device_issued
        return paper, device, entries, issued
    return run(client, look)


# --- paper: double entry ---------------------------------------------------------------------

def test_two_agreeing_entries_confirm_a_sheet_and_the_tally_counts_it(client, world, hall):
    _, (c0, c1, c2), _ = hall
    ballot_id = open_round(client, world, hall)
    assert set_issued(client, world, ballot_id, 3).json() == {"count": 3}  # while open
    for key in ("deputy", "dep-1", "dep-2", "dep-3", "dep-4"):
        vote(client, world, ballot_id, key, {c0: "yes"})
    move(client, world, ballot_id, "closed")

    # staff A reads sheet 1 (Chinese marks accepted, c2 left unmarked)
    first = entered(enter(client, world, ballot_id, "congress_staff", 1,
                          {c0: "赞成", c1: "yes"}), "pending")
    assert first == {"sheet": 1, "status": "pending", "entries": 1,
                     "entered_by": ["congress-staff"], "differing_candidates": [],
                     "spoilt_differs": False}
    error(client.post(f"{API}/ballots/{ballot_id}/tally", headers=world.headers("staff-b")),
          409, "paper_unresolved")
    # staff B reads it the same way (c2 explicitly abstain: the same reading)
    second = entered(enter(client, world, ballot_id, "staff-b", 1,
                           {c0: "yes", c1: "yes", c2: "abstain"}), "confirmed")
    assert second["entered_by"] == ["congress-staff", "staff-b"] and second["entries"] == 2
    listed = sheets(client, world, ballot_id)
    assert {k: v for k, v in listed.items() if k != "items"} == {
        "issued": 3, "entered": 1, "confirmed": 1, "pending": 0, "differing": 0}
    assert [s["sheet"] for s in listed["items"]] == [1]
    assert client.get(f"{API}/ballots/{ballot_id}").json()["cast"] == 6

    results = tally(client, world, ballot_id)
    assert (results["issued"], results["cast"], results["valid"], results["invalid"]) == (
        8, 6, 6, 0)
    assert [(c["yes"], c["no"], c["abstain"]) for c in results["candidates"]] == [
        (6, 0, 0), (1, 0, 5), (0, 0, 6)]
    assert counts(client, ballot_id)[:3] == (1, 0, 2)
    # once tallied, nothing more is entered and the issued figure is fixed
    error(enter(client, world, ballot_id, "staff-c", 2, {c0: "no"}), 409, "wrong_state")
    error(set_issued(client, world, ballot_id, 9), 409, "wrong_state")

    # published: the paper ballot is on the bulletin, which recomputes to the results
    sign(client, world, ballot_id, "dep-1")
    sign(client, world, ballot_id, "dep-2")
    move(client, world, ballot_id, "published")
    bulletin = client.get(f"{API}/ballots/{ballot_id}/bulletin").json()
    assert bulletin["ballot"]["issued"] == 8
    assert [b for b in bulletin["ballots"] if b["paper"]] == [
        {"marks": {c0: "yes", c1: "yes", c2: "abstain"}, "paper": True}]
    assert recompute(bulletin) == (results, results)


def test_differences_are_flagged_until_an_entrant_corrects_their_entry(client, world, hall):
    _, (c0, c1, c2), _ = hall
    ballot_id = open_round(client, world, hall)
    move(client, world, ballot_id, "closed")

    entered(enter(client, world, ballot_id, "congress_staff", 2, {c0: "yes", c1: "no"}),
            "pending")
    flagged = entered(enter(client, world, ballot_id, "staff-b", 2,
                            {c0: "no", c1: "no", c2: "yes"}), "differs")
    assert flagged["differing_candidates"] == [c0, c2] and not flagged["spoilt_differs"]
    # spoilt against marked: flagged as such
    entered(enter(client, world, ballot_id, "congress_staff", 3, spoilt=True), "pending")
    spoilt = entered(enter(client, world, ballot_id, "staff-b", 3, {c1: "yes"}), "differs")
    assert spoilt["spoilt_differs"] and spoilt["differing_candidates"] == []

    listed = sheets(client, world, ballot_id)
    assert (listed["entered"], listed["confirmed"], listed["differing"]) == (2, 0, 2)
    assert [(s["sheet"], s["status"], s["differing_candidates"]) for s in listed["items"]] == [
        (2, "differs", [c0, c2]), (3, "differs", [])]
    body = error(client.post(f"{API}/ballots/{ballot_id}/tally",
                             headers=world.headers("congress_staff")), 409, "paper_unresolved")
    assert "2, 3" in body["detail"]

    # a third account cannot settle it; one of the two entrants corrects their own reading
    error(enter(client, world, ballot_id, "staff-c", 2, {c0: "yes", c1: "no"}), 409,
          "sheet_full")
    still = entered(enter(client, world, ballot_id, "staff-b", 2, {c0: "yes", c1: "no", c2: "no"}),
                    "differs")
    assert still["differing_candidates"] == [c2]
    entered(enter(client, world, ballot_id, "staff-b", 2, {c0: "yes", c1: "no"}), "confirmed")
    entered(enter(client, world, ballot_id, "staff-b", 3, spoilt=True), "confirmed")
    error(enter(client, world, ballot_id, "congress_staff", 2, {c0: "no"}), 409,
          "sheet_confirmed")

    # a mistyped sheet number: its entrant withdraws it (nobody else can); confirmed is final
    entered(enter(client, world, ballot_id, "congress_staff", 99, {c0: "yes"}), "pending")
    url = f"{API}/ballots/{ballot_id}/paper-ballots"
    error(client.delete(f"{url}/99", headers=world.headers("staff-b")), 404, "unknown_entry")
    error(client.delete(f"{url}/2", headers=world.headers("staff-b")), 409, "sheet_confirmed")
    r = client.delete(f"{url}/99", headers=world.headers("congress_staff"))
    assert r.status_code == 204, r.text
    assert [s["sheet"] for s in sheets(client, world, ballot_id)["items"]] == [2, 3]

    results = tally(client, world, ballot_id)
    assert (results["cast"], results["valid"], results["invalid"]) == (2, 1, 1)
    assert [c["yes"] for c in results["candidates"]] == [1, 0, 0]
    history = run(client, lambda s: s.scalars(select(PaperEntry.corrected_at).where(
        PaperEntry.round_id == ballot_id, PaperEntry.sheet == 2).order_by(PaperEntry.created_at)))
    assert [at is not None for at in history] == [False, True]


def test_the_same_account_cannot_make_both_entries_of_a_sheet(client, world, hall):
    _, (c0, _, _), _ = hall
    ballot_id = open_round(client, world, hall)
    move(client, world, ballot_id, "closed")
    entered(enter(client, world, ballot_id, "congress_staff", 1, {c0: "yes"}), "pending")
    error(enter(client, world, ballot_id, "congress_staff", 1, {c0: "yes"}), 409, "same_entrant")
    error(enter(client, world, ballot_id, "congress_staff", 1, {c0: "no"}), 409, "same_entrant")
    assert counts(client, ballot_id)[:3] == (0, 0, 1)
    assert sheets(client, world, ballot_id)["pending"] == 1


def test_a_paper_ballot_with_more_yes_than_seats_is_recorded_invalid(client, world, hall):
    _, (c0, c1, c2), _ = hall
    ballot_id = open_round(client, world, hall)
    set_issued(client, world, ballot_id, 2)
    vote(client, world, ballot_id, "deputy", {c0: "yes"})
    move(client, world, ballot_id, "closed")
    too_many = {c0: "yes", c1: "yes", c2: "yes"}  # 3 yes for 2 seats
    entered(enter(client, world, ballot_id, "congress_staff", 1, too_many), "pending")
    entered(enter(client, world, ballot_id, "staff-b", 1, too_many), "confirmed")

    async def paper_rows(session):
        return (await session.execute(select(BallotContent.marks, BallotContent.invalid).where(
            BallotContent.round_id == ballot_id, BallotContent.paper.is_(True)))).all()

    assert run(client, paper_rows) == [(canonical(too_many), True)]
    results = tally(client, world, ballot_id)
    assert (results["cast"], results["valid"], results["invalid"]) == (2, 1, 1)
    assert [c["yes"] for c in results["candidates"]] == [1, 0, 0]


def test_more_ballots_returned_than_issued_voids_the_round_with_the_reason(client, world, hall):
    _, (c0, _, _), deputies = hall
    ballot_id = open_round(client, world, hall)  # 5 present: 5 electronic ballots issued
    set_issued(client, world, ballot_id, 1)
    for key in deputies[:5]:
        vote(client, world, ballot_id, key, {c0: "yes"})
    move(client, world, ballot_id, "closed")
    for sheet in (1, 2):  # two paper ballots come out of a box that got one
        entered(enter(client, world, ballot_id, "congress_staff", sheet, {c0: "no"}), "pending")
        entered(enter(client, world, ballot_id, "staff-b", sheet, {c0: "no"}), "confirmed")
    results = tally(client, world, ballot_id)
    assert results["outcome"] == "void" and (results["cast"], results["issued"]) == (7, 6)
    assert client.get(f"{API}/ballots/{ballot_id}").json()["state"] == "void"
    last = run(client, lambda s: s.scalar(select(StateTransition).where(
        StateTransition.entity_id == ballot_id).order_by(StateTransition.at.desc()).limit(1)))
    assert (last.from_state, last.to_state) == ("closed", "void")
    assert "收回选票 7 张" in last.reason and "发出的 6 张" in last.reason


def test_paper_requests_that_are_refused_store_nothing(client, world, hall):
    _, (c0, _, _), _ = hall
    ballot_id = open_round(client, world, hall)
    # not closed yet: the box is opened after the vote
    error(enter(client, world, ballot_id, "congress_staff", 1, {c0: "yes"}), 409, "wrong_state")
    move(client, world, ballot_id, "closed")
    error(enter(client, world, ballot_id, "congress_staff", 1, {"no-such": "yes"}), 422,
          "unknown_candidate")
    error(enter(client, world, ballot_id, "congress_staff", 1, {c0: "maybe"}), 422,
          "invalid_mark")
    error(enter(client, world, ballot_id, "congress_staff", 0, {c0: "yes"}), 422,
          "invalid_field")
    r = client.post(f"{API}/ballots/{ballot_id}/paper-ballots", json={"sheet": 1, "x": 1},
                    headers=world.headers("congress_staff"))
    error(r, 422, "invalid_field")
    add_staff(client, world, "anyue-staff", "anyue")
    error(enter(client, world, ballot_id, "anyue-staff", 1, {c0: "yes"}), 403,
          "outside_jurisdiction")
    error(enter(client, world, ballot_id, "deputy", 1, {c0: "yes"}), 403, "permission_denied")
    error(client.get(f"{API}/ballots/{ballot_id}/paper-ballots",
                     headers=world.headers("anyue-staff")), 403, "outside_jurisdiction")
    error(client.get(f"{API}/ballots/{ballot_id}/paper-ballots"), 401, "not_authenticated")
    error(client.delete(f"{API}/ballots/{ballot_id}/paper-ballots/{10**20}",
                        headers=world.headers("congress_staff")), 422, "invalid_field")
    error(set_issued(client, world, ballot_id, -1), 422, "invalid_field")
    error(set_issued(client, world, ballot_id, 10**20), 422, "invalid_field")
    error(set_issued(client, world, ballot_id, 4, who="anyue-staff"), 403, "outside_jurisdiction")
    error(client.post(f"{API}/ballots/nope/paper-ballots", json={"sheet": 1},
                      headers=world.headers("congress_staff")), 404, "unknown_ballot")
    assert counts(client, ballot_id) == (0, 0, 0, None)
    assert sheets(client, world, ballot_id)["issued"] == 0


# --- devices ---------------------------------------------------------------------------------

def device_csv(header: list[str], rows: list[list[str]], bom: bool = True) -> bytes:
    body = "\r\n".join(",".join(cells) for cells in [header, *rows]) + "\r\n"
    return ("\ufeff" if bom else "").encode() + body.encode()


def upload(client, world, ballot_id, data: bytes, issued="4", who="congress_staff"):
    form = {} if issued is None else {"issued": issued}
    return client.post(f"{API}/ballots/{ballot_id}/device-import", headers=world.headers(who),
                       files={"file": ("devices.csv", data, "text/csv")}, data=form)


def test_a_device_export_is_imported_once_and_counted(client, world, hall):
    _, (c0, c1, c2), deputies = hall
    ballot_id = open_round(client, world, hall, present=5)
    vote(client, world, ballot_id, "deputy", {c0: "yes"})
    move(client, world, ballot_id, "closed")
    # columns by position (1, 2) and by id; Chinese and English marks; empty = abstain
    data = device_csv(["ballot", "1", "2", c2], [
        ["SEAT-017", "赞成", "反对", ""],
        ["SEAT-003", "YES", "弃权", "no"],
        ["SEAT-011", "赞成", "赞成", "赞成"],  # 3 yes for 2 seats: recorded invalid
    ])
    r = upload(client, world, ballot_id, data, issued="4")
    assert r.status_code == 201 and r.json() == {"imported": 3, "issued": 4}, r.text
    assert counts(client, ballot_id) == (0, 3, 0, 4)
    assert client.get(f"{API}/ballots/{ballot_id}").json()["cast"] == 4
    error(upload(client, world, ballot_id, data), 409, "device_import_done")
    assert counts(client, ballot_id) == (0, 3, 0, 4)

    results = tally(client, world, ballot_id)
    assert (results["issued"], results["cast"], results["valid"], results["invalid"]) == (
        9, 4, 3, 1)
    assert [(c["yes"], c["no"], c["abstain"]) for c in results["candidates"]] == [
        (3, 0, 0), (0, 1, 2), (0, 1, 2)]
    sign(client, world, ballot_id, "dep-1")
    sign(client, world, ballot_id, "dep-2")
    move(client, world, ballot_id, "published")
    bulletin = client.get(f"{API}/ballots/{ballot_id}/bulletin").json()
    devices = [b for b in bulletin["ballots"] if b.get("source") == "device"]
    assert sorted(canonical(b["marks"]) for b in devices) == sorted([
        canonical({c0: "yes", c1: "no", c2: "abstain"}),
        canonical({c0: "yes", c1: "abstain", c2: "no"}),
        canonical({c0: "yes", c1: "yes", c2: "yes"})])
    assert all(b["paper"] is False for b in devices)
    assert [b.get("invalid", False) for b in devices].count(True) == 1
    assert recompute(bulletin) == (results, results)
    assert "SEAT-" not in json.dumps(bulletin)


def _bad_files(c: list[str]) -> list[tuple[bytes, str, list[str]]]:
    """(file, expected code, sentences its detail must contain)."""
    header = ["ballot", *c]
    good = ["1", "yes", "no", "abstain"]
    many_bad = [[str(i), "maybe", "yes", "no"] for i in range(1, 26)]
    return [
        (b"", "csv_empty", []),
        ("ballot,1,2,3\n1,赞成,反对,弃权\n".encode("gbk"), "csv_encoding", []),
        (b"ballot,1,2,3\n1,yes\x00,no,no\n", "csv_malformed", []),
        (device_csv(["seat", *c], [good]), "csv_header", ["line 1, column 1"]),
        (device_csv(["ballot", c[0], "nobody", "9"], [good]), "csv_header",
         ["line 1, column 3: 'nobody'", "line 1, column 4: '9'", "position 2, 3"]),
        (device_csv(["ballot", "1", c[0], c[2]], [good]), "csv_header",
         ["line 1, column 3: candidate", "position 2"]),
        (device_csv(header, []), "csv_no_rows", []),
        (device_csv(header, [good, ["2", "yes", "perhaps", "no"], ["3", "no", "no", "弃"]]),
         "csv_rows_invalid", ["line 3, column 3", "'perhaps'", "line 4, column 4", "'弃'"]),
        (device_csv(header, [good, ["2", "yes", "no"], ["3", "no", "no", "no", "x"]]),
         "csv_rows_invalid", ["line 3: expected 4 cells, found 3",
                              "line 4: expected 4 cells, found 5"]),
        (device_csv(header, [good, ["1", "no", "no", "no"], ["", "no", "no", "no"]]),
         "csv_rows_invalid", ["line 3, column 1: ballot '1' is on line 2",
                              "line 4, column 1: the ballot number is empty"]),
        (device_csv(header, many_bad), "csv_rows_invalid", ["line 2, column 2", "…"]),
        (b"ballot,1,2,3\n\"1,yes,no,no\n", "csv_rows_invalid", []),
    ]


def test_a_bad_device_file_is_refused_whole_naming_each_bad_cell(client, world, hall):
    _, candidates, _ = hall
    ballot_id = open_round(client, world, hall)
    staff_headers = world.headers("congress_staff")
    good = device_csv(["ballot", *candidates], [["1", "yes", "no", "abstain"]])
    error(upload(client, world, ballot_id, good), 409, "wrong_state")  # still open
    move(client, world, ballot_id, "closed")
    for data, code, sentences in _bad_files(candidates):
        r = upload(client, world, ballot_id, data)
        if code == "csv_rows_invalid" and not sentences:  # an unterminated quote: one cell
            assert r.status_code == 422, r.text
            continue
        body = error(r, 422, code)
        for sentence in sentences:
            assert sentence in body["detail"], (sentence, body["detail"])
        if sentences and sentences[-1] == "…":
            assert body["detail"].count("line ") == 20  # at most 20 problems named
        assert counts(client, ballot_id) == (0, 0, 0, None), code
    error(upload(client, world, ballot_id, good, issued="-1"), 422, "invalid_field")
    error(upload(client, world, ballot_id, good, issued="many"), 422, "invalid_field")
    error(upload(client, world, ballot_id, good, issued=None), 422, "invalid_field")
    r = client.post(f"{API}/ballots/{ballot_id}/device-import", headers=staff_headers,
                    data={"issued": "4"})
    error(r, 422, "invalid_field")  # no file
    big = device_csv(["ballot", *candidates],
                     [[str(i), "yes", "no", "abstain"] for i in range(1, 60_000)])
    assert upload(client, world, ballot_id, big).status_code == 413
    add_staff(client, world, "anyue-staff", "anyue")
    error(upload(client, world, ballot_id, good, who="anyue-staff"), 403, "outside_jurisdiction")
    error(upload(client, world, ballot_id, good, who="deputy"), 403, "permission_denied")
    assert counts(client, ballot_id) == (0, 0, 0, None)
    # and the good file still goes in afterwards
    assert upload(client, world, ballot_id, good).status_code == 201


_CELLS = st.sampled_from(["ballot", "票号", "1", "2", "²", "１", "c-a", "c-b", "yes", "赞成",
                          "NO", "弃权", "", " ", '"', '"x,y"', "maybe", "\ufeff", "\r", "\x00"])


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    st.binary(max_size=200),
    st.lists(st.lists(_CELLS, max_size=5), max_size=6).map(
        lambda rows: "\n".join(",".join(r) for r in rows).encode())))
def test_any_device_file_is_read_or_refused_with_a_reason(data):
    """A pure-function fuzz: whatever the bytes, ballots come back or a 422/413 is raised."""
    try:
        rows = parse_device_csv(data, ["c-a", "c-b"])
    except Invalid as exc:
        assert exc.code.startswith("csv_") and exc.message and exc.zh
        return
    assert rows and all(set(r) == {"c-a", "c-b"} and set(r.values()) <= set(MARKS)
                        for r in rows)


# --- secrecy ---------------------------------------------------------------------------------

def test_paper_and_device_content_rows_carry_no_entrant_sheet_or_device_order(client, world):
    deputies = ["deputy", *add_deputies(client, world, 3)]
    cycle_id, candidates = balloting_cycle(client, world, candidates=4)
    add_staff(client, world, "staff-b")
    ballot_id = create_round(client, world, cycle_id, seats=2, candidate_ids=candidates)["id"]
    check_in(client, world, ballot_id, deputies)
    name_scrutineers(client, world, ballot_id, ["dep-1", "dep-2"])
    move(client, world, ballot_id, "open")
    move(client, world, ballot_id, "closed")
    c0, c1 = candidates[:2]
    for sheet, marks in ((1, {c0: "yes"}), (2, {c1: "no"})):
        entered(enter(client, world, ballot_id, "congress_staff", sheet, marks), "pending")
        entered(enter(client, world, ballot_id, "staff-b", sheet, marks), "confirmed")
    # 30 different device ballots, in the export's order
    combos = [dict(zip(candidates, (a, b, c, d), strict=True))
              for a in MARKS for b in MARKS for c in MARKS for d in MARKS
              if (a, b, c, d).count("yes") <= 2][:30]
    data = device_csv(["ballot", *candidates],
                      [[f"SEAT-{i:03}", *m.values()] for i, m in enumerate(combos)])
    assert upload(client, world, ballot_id, data, issued="30").status_code == 201
    staff_ids = {world.users["congress_staff"].id, world.users["staff-b"].id}

    async def look(session):
        rows = list((await session.execute(text(
            "SELECT * FROM ballot_content WHERE round_id = :r"), {"r": ballot_id})).mappings())
        device_order = list(await session.scalars(text(
            "SELECT c.marks FROM ballot_device_ballot d JOIN ballot_content c "
            "ON c.id = d.content_id WHERE d.round_id = :r"), {"r": ballot_id}))
        plain = list(await session.scalars(text(
            "SELECT marks FROM ballot_content WHERE round_id = :r AND filled"),
            {"r": ballot_id}))
        entry_ids = set(await session.scalars(select(PaperEntry.id)))
        audit = list(await session.scalars(select(AuditEntry)))
        device_cols = set((await session.execute(text(
            "SELECT * FROM ballot_device_ballot LIMIT 1"))).keys())
        return rows, device_order, plain, entry_ids, audit, device_cols

    rows, device_order, plain, entry_ids, audit, device_cols = run(client, look)
    # the content table is unchanged: no sheet, no entrant, no source column, no timestamp
    assert set(rows[0]) == {"id", "round_id", "filled", "marks", "paper", "invalid",
                            "voter_id"}
    assert device_cols == {"content_id", "round_id"}
    paper = [r for r in rows if r["paper"]]
    assert len(paper) == 2 and all(r["voter_id"] is None for r in paper)
    assert not {r["id"] for r in rows} & entry_ids
    assert not {str(v) for r in rows for v in r.values()} & staff_ids
    # the devices' rows are not stored in the export's order
    in_file = [canonical(m) for m in combos]
    assert sorted(device_order) == sorted(in_file)
    assert device_order not in (in_file, in_file[::-1])
    device_plain = [m for m in plain if m in set(in_file)]
    assert device_plain not in (in_file, in_file[::-1])
    # the audit trail names sheets and counts, never marks nor the devices' ballot numbers
    cand = set(candidates)
    for entry in audit:
        data = json.loads(entry.data)
        assert "SEAT-" not in entry.data
        assert not any(isinstance(v, dict) and set(v) & cand for v in data.values()), entry.data
        assert not any(c in entry.data for c in cand) or entry.action == "ballot_round.create"
    actions = [e.action for e in audit]
    assert actions.count("ballot_round.paper_entry") == 4
    assert actions.count("ballot_round.device_import") == 1
