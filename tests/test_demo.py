"""`minsheng demo`: 乐至县 with its townships, a finished year (征集 → 公开 with a run-off, a 公告,
projects and plans) and a year in 征集 that can move on at once; its city 资阳市 with a finished
year decided by the government (征求意见, the adopting meeting, the 人民政府's 公告); twice is once.

The demo is loaded once per backend into a database of this module's own (loading plays a
whole year through the services), which the tests only read; the test that moves the current
year on loads it again into the `client` database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import SQLModel

from app import demo
from app.audit import service as audit
from app.ballotbox.bulletin import differences
from app.ballots.bulletin import recompute
from app.demo import ziyang
from app.demo.calendar import Years, congress_session
from app.demo.people import JURISDICTIONS, STAFF
from app.errors import Conflict
from app.main import create_app
from app.migrate import upgrade
from app.models import (
    AuditEntry,
    BallotContent,
    BallotParticipation,
    BallotReceipt,
    BallotRound,
    Candidate,
    Comment,
    Cycle,
    Endorsement,
    Jurisdiction,
    Project,
    ProjectPlan,
    Proposal,
    StateTransition,
    User,
)
from app.models.base import UTCDateTime
from app.timeutil import CHINA_TZ, china_today
from tests.auth.test_lockout import last_login_code
from tests.conftest import make_settings, pg_database
from tests.helpers import create_jurisdiction, create_user, page_login, run, token_headers
from tests.test_config_and_cli import minsheng

PASSWORD = demo.DEMO_PASSWORD
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def loaded(database_url, tmp_path_factory) -> Iterator[tuple[TestClient, demo.DemoResult, str]]:
    """(client, what the first load returned, database URL) of a database holding the demo."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
        upgrade(url)
        place = nullcontext(url)
    else:
        place = pg_database("minsheng_demo")
    with place as url, TestClient(create_app(make_settings(url))) as client:
        yield client, run(client, demo.load), url


def beijing(moment: datetime):
    return moment.astimezone(CHINA_TZ)


def history(client: TestClient, cycle_id: str) -> list[dict]:
    return client.get(f"/api/v1/cycles/{cycle_id}").json()["history"]


def counts(client: TestClient) -> dict:
    async def q(session):
        result = {}
        for model in (Jurisdiction, User, Cycle, Proposal, Endorsement, BallotRound,
                      BallotContent, Project, ProjectPlan, StateTransition, AuditEntry):
            result[model.__name__] = await session.scalar(
                select(func.count()).select_from(model))
        result["deputies"] = dict((await session.execute(
            select(User.jurisdiction_code, func.count()).where(User.role == "deputy")
            .group_by(User.jurisdiction_code))).all())
        result["roles"] = set(await session.scalars(select(User.role).distinct()))
        return result

    return run(client, q)


def test_demo_loads_the_county_and_loading_again_changes_nothing(loaded):
    client, first, _ = loaded
    assert first.loaded
    before = counts(client)
    assert before["Jurisdiction"] == 9
    assert before["deputies"]["lezhi"] == 280 and before["deputies"]["ziyang"] == 240
    assert all(45 <= before["deputies"][code] <= 65
               for code in ("jinshun", "foxing", "baolin", "panlong", "dongshan"))
    assert "nanta" not in before["deputies"] and "tianchi" not in before["deputies"]
    assert before["roles"] == {"resident", "deputy", "gov_staff", "unit_staff",
                               "congress_staff", "admin"}
    assert before["Cycle"] == 6 and before["Project"] == 24 and before["ProjectPlan"] == 24
    second = run(client, demo.load)
    assert not second.loaded
    assert (second.cycle_id, second.finished_cycle_id, second.round_ids,
            second.city_cycle_id) == (first.cycle_id, first.finished_cycle_id, first.round_ids,
                                      first.city_cycle_id)
    assert counts(client) == before


def test_the_years_follow_today(loaded):
    client, result, _ = loaded
    years = Years(china_today())
    finished = client.get(f"/api/v1/cycles/{result.finished_cycle_id}").json()
    current = client.get(f"/api/v1/cycles/{result.cycle_id}").json()
    assert (finished["year"], finished["phase"]) == (years.finished, "announced")
    assert (current["year"], current["phase"]) == (years.current, "soliciting")
    # The finished year's session and the next year's (where 测评 belongs) are both past.
    assert date(years.finished + 1, 3, 1) <= china_today()
    assert years.current == years.finished + 2


@pytest.mark.parametrize("today", ["2026-12-07", "2027-01-05", "2027-02-28", "2027-03-01",
                                   "2027-06-30", "2028-02-29", "2030-09-15"])
def test_the_years_are_coherent_whatever_day_the_demo_is_loaded(today):
    years = Years(date.fromisoformat(today))
    # The finished year's last record (a plan change in spring) and the next session are past.
    assert date(years.finished, 5, 1) < years.today and date(years.finished + 1, 3, 1) <= years.today
    # The current year is decided at the next session, and its 征集 is long enough open.
    assert date(years.current, 1, 1) >= years.today - timedelta(days=90)
    assert (years.today - years.soliciting_opened).days > 30
    assert congress_session(years.current).endswith("会议")


def test_finished_year_has_a_published_round_a_published_runoff_projects_and_plans(loaded):
    client, result, _ = loaded
    fin = result.finished_cycle_id
    rounds = client.get(f"/api/v1/cycles/{fin}/ballots").json()["items"]
    assert [(r["round"], r["state"]) for r in rounds] == [(1, "published"), (2, "published")]
    first, runoff = (client.get(f"/api/v1/ballots/{r['id']}/results").json() for r in rounds)
    assert first["outcome"] == "runoff" and first["remaining_seats"] == 2
    assert len(first["selected_ids"]) == 8 and len(first["runoff_candidate_ids"]) == 3
    tied = {c["yes"] for c in first["candidates"] if c["id"] in first["runoff_candidate_ids"]}
    assert len(tied) == 1 and tied.pop() >= first["threshold"]  # a tie across the last seat
    assert runoff["outcome"] == "complete" and len(runoff["selected_ids"]) == 2
    assert set(runoff["selected_ids"]) < set(first["runoff_candidate_ids"])
    assert first["total_deputies"] == runoff["total_deputies"] == 280
    assert first["present"] >= rounds[0]["quorum"]
    # Every deputy present casts a ballot, in both rounds.
    assert first["cast"] == first["present"] and runoff["cast"] == runoff["present"]

    projects = client.get(f"/api/v1/cycles/{fin}/projects").json()["items"]
    assert len(projects) == 10
    assert {p["candidate_id"] for p in projects} == set(
        first["selected_ids"] + runoff["selected_ids"])
    assert all(p["plan"] is not None and p["plan"]["milestones"] for p in projects)
    assert sum(p["plan_late"] for p in projects) == 2  # two plans came after the 30 days
    assert any(p["plan"]["version"] == 2 for p in projects)  # one plan changed later


def test_finished_year_announcement_is_issued_in_the_sessions_name(loaded):
    client, result, _ = loaded
    fin = result.finished_cycle_id
    notice = client.get(f"/api/v1/cycles/{fin}/announcement")
    assert notice.status_code == 200
    body = notice.json()
    assert body["cycle"]["issued_by"] == "乐至县" + congress_session(body["cycle"]["year"])
    assert len(body["projects"]) == 10 and len(body["ballots"]) == 2
    assert all(p["source_proposal_ids"] for p in body["projects"])
    page = client.get(f"/cycles/{fin}/announcement")
    assert page.status_code == 200 and body["cycle"]["issued_by"] in page.text
    for path in (f"/cycles/{fin}", f"/cycles/{fin}/candidates", f"/cycles/{fin}/proposals",
                 f"/projects/{result.project_id}", "/archive/lezhi", "/archive/foxing",
                 *(f"/ballots/{r}/results" for r in result.round_ids)):
        assert client.get(path).status_code == 200, path


def test_finished_year_bulletins_recount_to_the_published_results(loaded):
    client, result, _ = loaded
    for round_id in result.round_ids:
        bulletin = client.get(f"/api/v1/ballots/{round_id}/bulletin").json()
        # What `minsheng tally` does with the downloaded file.
        recounted, published = recompute(json.loads(json.dumps(bulletin)))
        assert differences(published, recounted) == []
        assert len(bulletin["receipts"]) == len(bulletin["ballots"]) == published["cast"]


def test_finished_year_ballots_are_stored_as_secret_ballots_are(loaded):
    client, result, _ = loaded

    async def q(session):
        out = []
        for round_id in result.round_ids:
            contents = list(await session.scalars(select(BallotContent).where(
                BallotContent.round_id == round_id, BallotContent.filled.is_(True))))
            voters = await session.scalar(select(func.count()).select_from(
                BallotParticipation).where(BallotParticipation.round_id == round_id))
            receipts = await session.scalar(select(func.count()).select_from(
                BallotReceipt).where(BallotReceipt.round_id == round_id))
            seals = await session.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.action == "ballot_round.seal", AuditEntry.entity_id == round_id))
            out.append((len(contents), voters, receipts, seals,
                        {c.voter_id for c in contents}, {c.paper for c in contents}))
        return out

    for cast, voters, receipts, seals, voter_ids, paper in run(client, q):
        assert cast == voters == receipts > 0 and seals == 1
        assert voter_ids == {None} and paper == {False}


def test_finished_year_dates_fit_together(loaded):
    client, result, _ = loaded
    fin = client.get(f"/api/v1/cycles/{result.finished_cycle_id}").json()
    year, now = fin["year"], datetime.now(UTC)
    moves = [(h["to"], datetime.fromisoformat(h["at"])) for h in fin["history"]]
    assert [to for to, _ in moves] == ["draft", "soliciting", "screening", "balloting",
                                       "announced"]
    times = [at for _, at in moves]
    assert times == sorted(times) and times[-1] < now
    months = {to: (beijing(at).year, beijing(at).month) for to, at in moves}
    assert months["soliciting"] == (year - 1, 9) and months["screening"] == (year - 1, 11)
    assert months["balloting"][0] == year and months["balloting"][1] in (1, 2)
    announced = beijing(moves[-1][1]).date()

    async def q(session):
        proposals = list(await session.scalars(select(Proposal.created_at).where(
            Proposal.cycle_id == fin["id"])))
        tallied = list(await session.scalars(
            select(StateTransition.at).join(BallotRound, BallotRound.id == StateTransition.entity_id)
            .where(BallotRound.cycle_id == fin["id"], StateTransition.to_state == "tallied")))
        plans = list(await session.scalars(select(ProjectPlan.published_at).join(
            Project, Project.id == ProjectPlan.project_id).where(Project.cycle_id == fin["id"])))
        return proposals, tallied, plans

    proposals, tallied, plans = run(client, q)
    # Proposals in the autumn before the session; the 公告 the day of the tally.
    assert all((beijing(p).year, beijing(p).month) in ((year - 1, 9), (year - 1, 10))
               for p in proposals)
    assert {beijing(t).date() for t in tallied} == {announced}
    on_time = [p for p in plans if beijing(p).date() <= announced + timedelta(days=30)]
    assert len(on_time) == 8 and all(beijing(p).date() > announced for p in plans)


def test_nothing_in_the_demo_is_dated_after_now(loaded):
    client, _, _ = loaded

    async def latest(session):
        found = []
        for table in SQLModel.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, UTCDateTime):
                    value = await session.scalar(select(func.max(column)))
                    if value is not None:
                        found.append((value, f"{table.name}.{column.name}"))
        return found

    now = datetime.now(UTC)
    found = run(client, latest)
    assert found and all(value <= now for value, _ in found), max(found)
    # Only the loading itself (its audit entry) is dated today; every story record is earlier.
    story = [(value, name) for value, name in found if name != "audit_entry.at"]
    assert all(beijing(value).date() < china_today() for value, _ in story), max(story)


def test_township_cycles_have_their_own_deputies(loaded):
    client, result, _ = loaded
    cycles = {(name, year): (phase, cid) for name, year, phase, cid in result.cycles}
    years = Years(china_today())
    phase, foxing = cycles[("佛星镇", years.finished)]
    assert phase == "announced"
    rounds = client.get(f"/api/v1/cycles/{foxing}/ballots").json()["items"]
    assert [r["state"] for r in rounds] == ["published"]
    assert rounds[0]["total_deputies"] == 48 and rounds[0]["present"] <= 48
    assert len(client.get(f"/api/v1/cycles/{foxing}/projects").json()["items"]) == 4
    assert cycles[("金顺镇", years.current)][0] == "soliciting"
    assert cycles[("佛星镇", years.current)][0] == "soliciting"

    async def jurisdiction_of_voters(session):
        return set(await session.scalars(
            select(User.jurisdiction_code).join(BallotParticipation,
                                                BallotParticipation.user_id == User.id)
            .where(BallotParticipation.round_id == rounds[0]["id"])))

    assert run(client, jurisdiction_of_voters) == {"foxing"}


def test_audit_chain_verifies_after_loading(loaded):
    client, _, url = loaded
    assert run(client, audit.verify).ok
    r = minsheng(url, "audit", "verify")
    assert r.returncode == 0 and "intact" in r.stdout


# What each workflow moves, and the attribute holding its state.
WORKFLOW_ENTITIES = (("cycle", Cycle, "phase"), ("proposal", Proposal, "state"),
                     ("candidate", Candidate, "state"), ("ballot_round", BallotRound, "state"),
                     ("project", Project, "state"))


def test_every_state_is_explained_by_its_transitions_and_the_audit_tells_the_same(loaded):
    """The demo is a real run: each record's state is where its transition rows lead, from its
    creation, each move made by a stored account (the demo's named people, not the loader) and
    written in the audit chain too, and the chain verifies."""
    client, _, _ = loaded

    async def q(session):
        users = {u.id: u.username for u in await session.scalars(select(User))}
        states = {kind: {e.id: getattr(e, attr) for e in await session.scalars(select(model))}
                  for kind, model, attr in WORKFLOW_ENTITIES}
        moves = list(await session.scalars(select(StateTransition).order_by(
            StateTransition.at, StateTransition.id)))
        entries = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        return users, states, moves, entries, await audit.verify(session)

    users, states, moves, entries, verified = run(client, q)
    assert verified.ok, verified.problem
    # Every entry is by a stored account, or by the command line (`minsheng create-admin`
    # making the first administrator, `minsheng demo` saying it loaded), as in a real run.
    names = set(users.values())
    assert {(e.actor, e.action) for e in entries if e.actor not in names} <= {
        ("cli", "user.create"), ("cli", "demo.load")}
    assert all(states.values()), {kind: len(found) for kind, found in states.items()}
    chains: dict[tuple[str, str], list[StateTransition]] = {}
    for move in moves:
        chains.setdefault((move.entity_type, move.entity_id), []).append(move)
    unexplained = []
    for kind, found in states.items():
        for entity_id, state in found.items():
            chain = chains.pop((kind, entity_id), [])
            steps = [(m.from_state, m.to_state) for m in chain]
            linked = all(a[1] == b[0] for a, b in zip(steps, steps[1:], strict=False))
            if not (steps and steps[0][0] is None and linked and steps[-1][1] == state):
                unexplained.append((kind, entity_id, state, steps))
    assert not unexplained, unexplained[:5]
    assert not chains, list(chains)[:5]  # no transition of a record that is not there
    strangers = {(m.actor_id, m.actor_username) for m in moves
                 if users.get(m.actor_id) != m.actor_username}
    assert not strangers, strangers
    # Every move (not a creation) has its audit entry, by the same person, saying the same.
    told = sorted((m.entity_type, m.entity_id, m.actor_username, m.from_state, m.to_state)
                  for m in moves if m.from_state is not None)
    audited = [(e.entity_type, e.entity_id, e.actor, json.loads(e.data)) for e in entries
               if e.action.endswith(".transition")]
    assert told == sorted((kind, entity_id, actor, data["from"], data["to"])
                          for kind, entity_id, actor, data in audited)


def test_demo_residents_registered_by_phone_as_residents_do(loaded):
    """Each resident's number is on record (registration verifies it), so a demo resident can
    log in with a code sent by SMS as any resident can."""
    client, _, _ = loaded

    async def q(session):
        residents = list(await session.scalars(select(User).where(User.role == "resident")))
        registered = set(await session.scalars(select(AuditEntry.actor).where(
            AuditEntry.action == "resident.register")))
        return residents, registered

    residents, registered = run(client, q)
    assert residents and all(r.phone == r.username for r in residents)
    assert registered == {r.username for r in residents}
    phone = residents[0].phone
    assert client.post("/api/v1/auth/sms-code", json={"phone": phone}).status_code == 202
    r = client.post("/api/v1/auth/sms-token", json={"phone": phone,
                                                    "code": last_login_code(client, phone)})
    assert r.status_code == 200, r.text


def test_demo_command_prints_the_logins_and_what_to_click(loaded):
    _, result, url = loaded
    r = minsheng(url, "demo")
    assert r.returncode == 0, r.stderr
    assert "already present" in r.stdout and "lezhi-gov" in r.stdout
    for path in (f"/cycles/{result.finished_cycle_id}/announcement",
                 f"/ballots/{result.round_ids[-1]}/results", f"/projects/{result.project_id}",
                 f"/staff/cycles/{result.cycle_id}/triage", "/archive",
                 f"/cycles/{result.city_cycle_id}/draft-list",
                 f"/staff/cycles/{result.city_cycle_id}/draft-list",
                 f"/cycles/{result.city_cycle_id}/announcement"):
        assert path in r.stdout, path
    assert "ziyang-gov" in r.stdout and "ziyang-d001" in r.stdout


def test_every_address_the_guide_names_answers(loaded):
    client, result, _ = loaded
    checked = 0
    for line in demo.guide_text(result).splitlines():
        match = re.search(r"(?:\((?P<who>[a-z]+-[a-z]+|\d{11})\))?: (?P<path>/\S*)$", line)
        if not match:
            continue
        client.cookies.clear()
        if match["who"]:
            assert page_login(client, match["who"], PASSWORD).status_code in (302, 303)
        r = client.get(match["path"], follow_redirects=False)
        assert r.status_code == 200, (line, r.status_code)
        checked += 1
    client.cookies.clear()
    assert checked >= 26


def test_demo_logins_work(loaded):
    client, _, _ = loaded
    for username in ("admin", "lezhi-gov", "lezhi-congress", "lezhi-d001", "foxing-d001",
                     "13800000001"):
        r = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, username


def test_current_year_has_realistic_proposals_from_every_channel(loaded):
    client, result, _ = loaded
    cur = result.cycle_id

    async def q(session):
        return (await session.execute(select(Proposal.channel, Proposal.state, Proposal.title)
                                      .where(Proposal.cycle_id == cur))).all()

    rows = run(client, q)
    assert {channel for channel, _, _ in rows} == {"online", "deputy", "hotline", "visit",
                                                   "letter"}
    states = [state for _, state, _ in rows]
    assert states.count("submitted") >= 12 and {"accepted", "rejected", "merged"} <= set(states)
    assert sum(state == "accepted" for state in states) >= 4  # two carried from the reserve
    titles = " ".join(title for _, _, title in rows)
    for words in ("护学通道", "敬老院", "儿科夜间门诊", "背街小巷路灯"):
        assert words in titles


def test_an_admin_made_before_the_demo_keeps_its_account_and_the_year_moves_on(client):
    """On a database where an administrator was made first (in another county here), the demo
    loads around it; then the demo's government staff move the year in 征集 to 初定 at once."""
    create_jurisdiction(client, "anyue", "安岳县", "county")
    create_user(client, "admin", "admin", "anyue")
    result = run(client, demo.load)
    assert result.loaded
    assert client.post("/api/v1/auth/token", json={"username": "admin", "password": PASSWORD}
                       ).status_code == 401  # still its own password, not the demo's
    token_headers(client, "admin")  # tests.helpers' password
    opened = datetime.fromisoformat(history(client, result.cycle_id)[-1]["at"])
    assert datetime.now(UTC) - opened > timedelta(days=30)
    r = client.post(f"/api/v1/cycles/{result.cycle_id}/transitions",
                    headers=token_headers(client, "lezhi-gov", PASSWORD),
                    json={"to": "screening", "reason": "征集期满，转入项目初定"})
    assert r.status_code == 200, r.text
    assert client.get(f"/api/v1/cycles/{result.cycle_id}").json()["phase"] == "screening"


def test_the_demo_is_not_loaded_over_an_admin_name_held_by_someone_else(client):
    """The demo sets its county up as the administrator 'admin': an 'admin' account of another
    role stops it, saying why, and nothing is loaded."""
    create_jurisdiction(client, "anyue", "安岳县", "county")
    create_user(client, "admin", "gov_staff", "anyue")
    with pytest.raises(Conflict, match="not an active administrator"):
        run(client, demo.load)
    assert run(client, lambda s: s.get(Jurisdiction, demo.COUNTY)) is None


def test_the_guide_names_the_address_the_service_is_reached_at():
    result = demo.DemoResult(loaded=True, cycle_id="c", finished_cycle_id="f", round_ids=["r"],
                             project_id="p")
    assert "(http://127.0.0.1:8000;" in demo.guide_text(result)
    assert "(http://127.0.0.1:8765;" in demo.guide_text(result, "http://127.0.0.1:8765")


# ---------------------------------------------------------------- 资阳市: a government's list

def test_the_county_sits_in_its_city_with_consistent_division_codes(loaded):
    client, _, _ = loaded
    places = {j["code"]: j for j in client.get("/api/v1/jurisdictions").json()["items"]}
    assert (places["ziyang"]["level"], places["ziyang"]["parent_code"],
            places["ziyang"]["division_code"]) == ("city", None, "512000")
    assert (places["lezhi"]["parent_code"], places["lezhi"]["division_code"]) == (
        "ziyang", "512022")
    assert places["foxing"]["parent_code"] == "lezhi"
    assert client.get("/api/v1/jurisdictions/ziyang/settings").json()[
        "decided_by"] == "government"


def test_city_year_is_decided_by_the_government_and_announced(loaded):
    client, result, _ = loaded
    city = client.get(f"/api/v1/cycles/{result.city_cycle_id}").json()
    assert (city["jurisdiction_code"], city["decided_by"], city["phase"]) == (
        "ziyang", "government", "announced")
    assert city["year"] == Years(china_today()).finished
    assert [h["to"] for h in city["history"]] == ["draft", "soliciting", "screening",
                                                  "commenting", "announced"]
    # Nothing goes to a congress session: no session named, no rounds.
    assert city["congress_session"] is None
    assert client.get(f"/api/v1/cycles/{result.city_cycle_id}/ballots").json()["items"] == []
    adoption = city["adoption"]
    assert adoption["meeting"] == "市政府常务会议"
    assert adoption["document_number"] == f"资府发〔{city['year']}〕3号"
    assert [r["title"] for r in adoption["left_out"]] == ["中心城区公共停车场建设"]
    assert adoption["left_out"][0]["reason"]

    draft = client.get(f"/api/v1/cycles/{result.city_cycle_id}/draft-list").json()
    # The congress does not review a government's list: every item stopped at its approval.
    assert {i["state"] for i in draft["items"]} == {"gov_approved"}
    assert len(draft["items"]) == len(ziyang.CANDIDATES) == 11
    left_out = {i["id"] for i in draft["items"] if i["left_out"]}
    assert left_out == {r["candidate_id"] for r in adoption["left_out"]}
    projects = client.get(f"/api/v1/cycles/{result.city_cycle_id}/projects").json()["items"]
    assert {p["candidate_id"] for p in projects} == {i["id"] for i in draft["items"]} - left_out
    assert all(p["yes"] is None and p["ballot_id"] is None for p in projects)
    assert all(p["plan"] is not None and not p["plan_late"] for p in projects)


def test_every_comment_on_the_citys_draft_list_is_answered_noted_or_hidden(loaded):
    client, result, _ = loaded
    figures = client.get(f"/api/v1/cycles/{result.city_cycle_id}/draft-list").json()["comments"]
    assert figures == {"total": 18, "answered": 13, "noted": 4, "hidden": 1, "unanswered": 0,
                       "on_list": 5}
    rows = client.get(f"/api/v1/cycles/{result.city_cycle_id}/draft-list/comments",
                      params={"per_page": 100}).json()["items"]
    assert len(rows) == figures["total"]
    for row in rows:
        if row["hidden"]:
            assert row["body"] is None and row["hidden_reason"] and row["answer"] is None
        else:
            assert row["answer"]["kind"] in ("answered", "noted")
            assert row["answer"]["by"] == "周为民（市政府民生办）"
            assert row["answer"]["at"] > row["created_at"]

    async def authors(session):
        return set((await session.execute(
            select(User.role, User.jurisdiction_code).join(Comment, Comment.author_id == User.id)
            .where(Comment.cycle_id == result.city_cycle_id))).all())

    found = run(client, authors)
    # Residents of 乐至县's townships and streets, the city's deputies and a county deputy.
    assert {role for role, _ in found} == {"resident", "deputy"}
    assert ("deputy", "ziyang") in found and ("deputy", "lezhi") in found
    assert {code for role, code in found if role == "resident"} <= {
        code for code, _, level, _ in JURISDICTIONS if level in ("township", "street")}


def test_city_announcement_is_the_peoples_governments(loaded):
    client, result, _ = loaded
    body = client.get(f"/api/v1/cycles/{result.city_cycle_id}/announcement").json()
    assert body["decided_by"] == "government" and body["ballots"] == []
    assert body["cycle"]["issued_by"] == "资阳市人民政府"
    assert body["adoption"]["document_number"].startswith("资府发〔")
    assert len(body["projects"]) == 10 and all(p["yes"] is None for p in body["projects"])
    assert body["comments"]["unanswered"] == 0
    page = client.get(f"/cycles/{result.city_cycle_id}/announcement")
    assert page.status_code == 200 and "资阳市人民政府" in page.text
    draft_page = client.get(f"/cycles/{result.city_cycle_id}/draft-list")
    assert draft_page.status_code == 200 and "选址涉及控制性详细规划调整" in draft_page.text


def test_city_year_dates_fit_together(loaded):
    client, result, _ = loaded
    city = client.get(f"/api/v1/cycles/{result.city_cycle_id}").json()
    year = city["year"]
    at = {h["to"]: beijing(datetime.fromisoformat(h["at"])) for h in city["history"]}
    assert (at["soliciting"].year, at["soliciting"].month) == (year - 1, 9)
    assert (at["commenting"].year, at["commenting"].month) == (year - 1, 12)
    assert (at["announced"].year, at["announced"].month) == (year, 1)
    # The period lasted its minimum (30 days); the meeting sat after it, the 公告 the same day.
    assert at["announced"] - at["commenting"] >= timedelta(days=30)
    adopted = date.fromisoformat(city["adoption"]["date"])
    assert adopted == at["announced"].date()
    assert adopted >= (at["commenting"] + timedelta(days=30)).date()
    cid = result.city_cycle_id

    async def q(session):
        comments = list(await session.scalars(select(Comment).where(Comment.cycle_id == cid)))
        hotline = (await session.execute(select(
            Proposal.source_ref, Proposal.received_at, Proposal.created_at).where(
            Proposal.cycle_id == cid, Proposal.channel == "hotline"))).all()
        plans = list(await session.scalars(select(ProjectPlan.published_at).join(
            Project, Project.id == ProjectPlan.project_id).where(Project.cycle_id == cid)))
        imports = list(await session.scalars(select(AuditEntry.data).where(
            AuditEntry.action == "proposal.import", AuditEntry.entity_id == cid)))
        return comments, hotline, plans, imports

    comments, hotline, plans, imports = run(client, q)
    for c in comments:
        handled = c.hidden_at or c.answered_at
        assert at["commenting"] < beijing(c.created_at) < beijing(handled) < at["announced"]
    # Hotline records keep their 工单号 and when the call came in, before they were recorded.
    assert len(hotline) == 6
    assert all(re.fullmatch(rf"ZY{year - 1}\d{{7}}", ref) for ref, _, _ in hotline)
    assert all(received < created for _, received, created in hotline)
    # … imported from the hotline's export of the day, as staff import one.
    assert sorted(json.loads(d)["created"] for d in imports) == [1] * 6
    assert len(plans) == 10 and all(
        adopted < beijing(p).date() <= adopted + timedelta(days=30) for p in plans)


def test_the_demo_doc_names_every_place_account_and_figure(loaded):
    """docs/demo.md stays accurate: its tables list the demo's places and staff accounts, and
    the figures it gives for 资阳市's year are the loaded ones."""
    client, result, _ = loaded
    text = (ROOT / "docs" / "demo.md").read_text(encoding="utf-8")
    places = re.findall(r"^\| `([a-z]+)` \| (\S+) \| (city|county|township|street)\b", text,
                        flags=re.M)
    assert set(places) == {(code, name, level) for code, name, level, _ in JURISDICTIONS}
    for username, _, _, _ in STAFF:
        assert f"`{username}`" in text, username
    draft = client.get(f"/api/v1/cycles/{result.city_cycle_id}/draft-list").json()
    figures = draft["comments"]

    async def count_proposals(session):
        return await session.scalar(select(func.count()).select_from(Proposal).where(
            Proposal.cycle_id == result.city_cycle_id))

    proposals = run(client, count_proposals)
    city = text[text.index("## 资阳市's finished year"):]
    city = city[:city.index("\n## ", 1)]
    for fact in (f"{proposals} proposals", f"{len(draft['items'])} items",
                 f"{figures['total']} comments", f"{figures['answered']} answered",
                 f"{figures['noted']} noted", f"{figures['hidden']} hidden",
                 f"{figures['on_list']} on the whole list", "资府发〔Y〕3号", "10 projects"):
        assert fact in city, fact
