"""Open data (公开): the cycle's ZIP holds every public record and nothing else; the Atom feed."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import date
from decimal import Decimal
from urllib.parse import urlsplit

import feedparser
import pytest
from sqlalchemy import select

from app.models import Candidate, Cycle, ResponsibleUnit, User
from tests.ballots.conftest import (
    add_deputies,
    balloting_cycle,
    lezhi_deputies,
    move,
    name_scrutineers,
    publish_round,
    record_attendance,
    tally,
    vote,
)
from tests.helpers import run, seed_reviewed_candidates, set_jurisdiction_settings
from tests.proposals.conftest import open_cycle, propose

API = "/api/v1"
PHONE = "13987654321"
HIDDEN_COMMENT = "办证刻章请联系微信私号abc"
RECORDED_FOR = "王大明"
DRAFT_TITLE = "尚未审查的秘密草案项目"


def _ok(r, status: int = 200):
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return r


def open_zip(client, cycle_id: str) -> zipfile.ZipFile:
    r = _ok(client.get(f"{API}/cycles/{cycle_id}/open-data.zip"))
    assert r.headers["content-type"] == "application/zip"
    assert re.fullmatch(r'attachment; filename="minsheng-lezhi-\d{4}-open-data\.zip"',
                        r.headers["content-disposition"])
    return zipfile.ZipFile(io.BytesIO(r.content))


def read_csv(z: zipfile.ZipFile, name: str) -> list[dict]:
    raw = z.read(name)
    assert raw.startswith(b"\xef\xbb\xbf"), f"{name} has no BOM"
    text = raw[3:].decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", ""), "RFC 4180 line ends"
    return list(csv.DictReader(io.StringIO(text, newline="")))


def header(z: zipfile.ZipFile, name: str) -> list[str]:
    return next(csv.reader(io.StringIO(z.read(name)[3:].decode("utf-8"), newline="")))


def readme_columns(z: zipfile.ZipFile) -> dict[str, list[str]]:
    """README.txt's `[file]` sections: the column names, in their order."""
    text = z.read("README.txt").decode("utf-8-sig")
    sections, current = {}, None
    for line in text.split("\r\n"):
        if m := re.fullmatch(r"\[(.+)\]", line):
            current = sections.setdefault(m.group(1), [])
        elif current is not None and line:
            current.append(line.split(":", 1)[0])
        else:
            current = None
    return sections


def private_cycle(client, world) -> dict:
    """A cycle with public records and private values beside them; returns what is where."""
    run(client, _set_phone, world.users["resident"].id)
    cycle_id = open_cycle(client, world)
    public_pid = propose(client, world, cycle_id, title="城区公交站台改造提升")
    rejected = propose(client, world, cycle_id, title="新建乡镇办公大楼项目")
    hotline = propose(client, world, cycle_id, who="gov_staff", title="老旧小区加装电梯",
                      channel="hotline", proposer_name=RECORDED_FOR)
    _ok(client.post(f"{API}/proposals/{rejected}/review",
                    json={"decision": "reject", "reason": "属于楼堂馆所建设，列入负面清单"},
                    headers=world.headers("gov_staff")))
    _ok(client.post(f"{API}/proposals/{public_pid}/comments", json={"body": "支持这个建议"},
                    headers=world.headers("deputy")), 201)
    bad = _ok(client.post(f"{API}/proposals/{public_pid}/comments",
                          json={"body": HIDDEN_COMMENT}, headers=world.headers("resident")),
              201).json()["id"]
    _ok(client.post(f"{API}/comments/{bad}/hide", json={"reason": "广告信息"},
                    headers=world.headers("gov_staff")))
    set_jurisdiction_settings(client, "lezhi", soliciting_min_days=0)
    _ok(client.post(f"{API}/cycles/{cycle_id}/transitions", json={"to": "screening"},
                    headers=world.headers("gov_staff")))
    reviewed = seed_reviewed_candidates(client, cycle_id, 12)
    draft_id = run(client, _draft_candidate, cycle_id)
    _ok(client.post(f"{API}/cycles/{cycle_id}/transitions", json={"to": "balloting"},
                    headers=world.headers("congress_staff")))
    # Round 1, published: every deputy says yes to the first five only, so five seats remain.
    add_deputies(client, world, 1)
    marks = {cid: "yes" for cid in reviewed[:5]}
    results = publish_round(client, world, cycle_id,
                            ballots=[(k, marks) for k in lezhi_deputies(world)])
    assert results["outcome"] in ("runoff", "shortfall"), results
    # Round 2 (the run-off), tallied but not published.
    second = _ok(client.post(f"{API}/ballots/{results['ballot_id']}/runoff", json={},
                             headers=world.headers("congress_staff")), 201).json()
    deputies = lezhi_deputies(world)
    record_attendance(client, world, second["id"], deputies)
    name_scrutineers(client, world, second["id"], deputies[:2])
    move(client, world, second["id"], "open")
    for key in deputies:
        vote(client, world, second["id"], key, {second["candidates"][0]["id"]: "yes"})
    move(client, world, second["id"], "closed")
    tally(client, world, second["id"])
    return {"cycle_id": cycle_id, "proposals": [public_pid, rejected, hotline],
            "rejected": rejected, "reviewed": reviewed, "draft": draft_id,
            "published": results, "unpublished": second["id"]}


async def _set_phone(session, user_id):
    user = await session.get(User, user_id)
    user.phone = PHONE
    session.add(user)


async def _draft_candidate(session, cycle_id):
    cycle = await session.get(Cycle, cycle_id)
    unit = await session.scalar(select(ResponsibleUnit).where(
        ResponsibleUnit.jurisdiction_code == cycle.jurisdiction_code).limit(1))
    creator = await session.scalar(select(User.id).limit(1))
    c = Candidate(cycle_id=cycle_id, title=DRAFT_TITLE, summary="内部草案的摘要内容内容",
                  responsible_unit_id=unit.id, budget_wan=Decimal("77.77"),
                  deadline=date(cycle.year, 12, 31), state="drafted", created_by=creator)
    session.add(c)
    await session.flush()
    return c.id


@pytest.fixture
def seeded(client, world) -> dict:
    return private_cycle(client, world)


def test_zip_lists_its_files_and_readme_describes_every_column(client, seeded):
    z = open_zip(client, seeded["cycle_id"])
    ballot_id = seeded["published"]["ballot_id"]
    assert sorted(z.namelist()) == sorted([
        "README.txt", "proposals.csv", "candidates.csv", "results.csv", "projects.csv",
        f"bulletins/{ballot_id}.json"])
    assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in z.infolist())
    documented = readme_columns(z)
    assert set(documented) == {"proposals.csv", "candidates.csv", "results.csv", "projects.csv"}
    for name, columns in documented.items():
        assert columns == header(z, name), name
    readme = z.read("README.txt").decode("utf-8-sig")
    assert "bulletins/<ballot_id>.json" in readme and "开放数据" in readme and "open data" in readme


def test_csv_files_hold_the_public_records(client, world, seeded):
    z = open_zip(client, seeded["cycle_id"])
    proposals = {row["id"]: row for row in read_csv(z, "proposals.csv")}
    assert set(proposals) == set(seeded["proposals"])
    for pid, row in proposals.items():
        public = client.get(f"{API}/proposals/{pid}").json()
        assert (row["title"], row["state"], row["proposer"], row["description"]) == (
            public["title"], public["state"], public["proposer"], public["description"])
        assert int(row["endorsements"]) == public["endorsements"]
    assert proposals[seeded["rejected"]]["state_reason"] == "属于楼堂馆所建设，列入负面清单"

    candidates = read_csv(z, "candidates.csv")
    listed = _ok(client.get(f"{API}/cycles/{seeded['cycle_id']}/candidates?per_page=100")).json()
    assert [c["id"] for c in candidates] == [c["id"] for c in listed["items"]]
    assert {c["state"] for c in candidates} == {"reviewed"}
    assert json.loads(candidates[0]["funding"]) == listed["items"][0]["funding"]

    published = _ok(client.get(f"{API}/ballots/{seeded['published']['ballot_id']}/results"))
    published = published.json()
    rows = read_csv(z, "results.csv")
    assert len(rows) == len(published["candidates"])
    for row, c in zip(rows, published["candidates"], strict=True):
        assert row["ballot_id"] == published["ballot_id"]
        assert int(row["round"]) == published["round"]
        assert (row["candidate_id"], row["candidate_title"]) == (c["id"], c["title"])
        assert [int(row[k]) for k in ("yes", "no", "abstain")] == [c["yes"], c["no"],
                                                                   c["abstain"]]
        assert (row["passed"] == "true", row["selected"] == "true") == (c["passed"],
                                                                        c["selected"])
        assert row["rank"] == ("" if c["rank"] is None else str(c["rank"]))
        for key in ("threshold", "total_deputies", "present", "issued", "cast", "valid",
                    "invalid", "seats"):
            assert int(row[key]) == published[key], key
        assert row["outcome"] == published["outcome"]


def test_bulletins_equal_the_published_bulletin(client, seeded):
    z = open_zip(client, seeded["cycle_id"])
    ballot_id = seeded["published"]["ballot_id"]
    bulletin = json.loads(z.read(f"bulletins/{ballot_id}.json").decode("utf-8"))
    assert bulletin == _ok(client.get(f"{API}/ballots/{ballot_id}/bulletin")).json()


def test_nothing_private_is_in_any_file(client, world, seeded):
    z = open_zip(client, seeded["cycle_id"])
    resident = world.users["resident"]
    staff = world.users["gov_staff"]
    private = [PHONE, HIDDEN_COMMENT, "广告信息", RECORDED_FOR, resident.display_name,
               staff.display_name, DRAFT_TITLE, seeded["draft"], seeded["unpublished"],
               resident.id, staff.id]
    for name in z.namelist():
        data = z.read(name)
        for value in private:
            assert value.encode("utf-8") not in data, f"{value!r} leaked into {name}"
    # The hotline caller is shown as the channel's people, as on the public page.
    proposals = {row["id"]: row for row in read_csv(z, "proposals.csv")}
    assert proposals[seeded["proposals"][2]]["proposer"] == "12345热线群众"


def test_unknown_cycle_is_a_json_404(client, world):
    r = client.get(f"{API}/cycles/nope/open-data.zip")
    assert r.status_code == 404 and r.json()["code"] == "unknown_cycle"


def test_an_empty_cycle_still_has_every_file(client, world):
    cycle_id = open_cycle(client, world)
    z = open_zip(client, cycle_id)
    assert sorted(z.namelist()) == ["README.txt", "candidates.csv", "projects.csv",
                                    "proposals.csv", "results.csv"]
    assert read_csv(z, "results.csv") == [] and read_csv(z, "projects.csv") == []


@pytest.mark.parametrize("counts_public", [True, False])
def test_projects_csv_is_the_announced_projects(client, world, counts_public):
    set_jurisdiction_settings(client, "lezhi", publish_vote_counts=counts_public)
    cycle_id, _ = balloting_cycle(client, world, seats=2, candidates=4)
    results = publish_round(client, world, cycle_id)
    _ok(client.post(f"{API}/cycles/{cycle_id}/transitions", json={"to": "announced"},
                    headers=world.headers("congress_staff")))
    listed = _ok(client.get(f"{API}/cycles/{cycle_id}/projects")).json()["items"]
    rows = read_csv(open_zip(client, cycle_id), "projects.csv")
    assert [r["id"] for r in rows] == [p["id"] for p in listed] and len(rows) == 2
    assert {r["candidate_id"] for r in rows} == set(results["selected_ids"])
    for row, project in zip(rows, listed, strict=True):
        assert (row["title"], row["responsible_unit"], row["deadline"], row["state"]) == (
            project["title"], project["responsible_unit"], project["deadline"],
            project["state"])
        assert row["yes"] == (str(project["yes"]) if counts_public else "")
        assert row["source_proposal_ids"] == ";".join(project["source_proposal_ids"])


def test_feed_lists_announcements_and_results_newest_first(client, world):
    old_cycle, _ = balloting_cycle(client, world, year=2025)
    old = publish_round(client, world, old_cycle)
    _ok(client.post(f"{API}/cycles/{old_cycle}/transitions", json={"to": "announced"},
                    headers=world.headers("congress_staff")))
    new_cycle, _ = balloting_cycle(client, world, year=2026)
    new = publish_round(client, world, new_cycle)

    r = _ok(client.get("/feed.atom"))
    assert r.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(r.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10"
    links = [e.link for e in feed.entries]
    base = "http://testserver"
    assert links == [f"{base}/ballots/{new['ballot_id']}/results",
                     f"{base}/cycles/{old_cycle}",
                     f"{base}/ballots/{old['ballot_id']}/results"]
    times = [e.updated_parsed for e in feed.entries]
    assert times == sorted(times, reverse=True)
    assert len({e.id for e in feed.entries}) == 3
    assert all(e.title for e in feed.entries) and "公告" in feed.entries[1].title
    for link in links:
        _ok(client.get(urlsplit(link).path))
    # Stable: the same entries the next time.
    again = feedparser.parse(_ok(client.get("/feed.atom")).content)
    assert [e.id for e in again.entries] == [e.id for e in feed.entries]


def test_feed_without_news_is_valid(client, world):
    feed = feedparser.parse(_ok(client.get("/feed.atom")).content)
    assert not feed.bozo and feed.entries == []


def test_projects_csv_carries_each_plan_with_its_due_date_and_late_flag(client, world):
    from tests.projects.helpers import (
        announced_projects,
        beijing,
        plan_body,
        put_plan,
        set_plan_published_at,
    )

    cycle_id, (with_plan, without) = announced_projects(client, world)
    body = plan_body()
    _ok(put_plan(client, world, with_plan, body))
    set_plan_published_at(client, with_plan, beijing(date(2025, 3, 31)))  # on the due day
    z = open_zip(client, cycle_id)
    assert header(z, "projects.csv") == readme_columns(z)["projects.csv"]
    rows = {r["id"]: r for r in read_csv(z, "projects.csv")}
    done, missing = rows[with_plan], rows[without]
    assert done["plan_due"] == missing["plan_due"] == "2025-03-31"
    assert done["plan_late"] == "false" and missing["plan_late"] == "true"
    assert done["plan_published_at"].startswith("2025-03-31") and done["plan_version"] == "1"
    assert [m["title"] for m in json.loads(done["milestones"])] == [
        m["title"] for m in body["milestones"]]
    assert json.loads(done["funding"]) == [{"source": "县级财政", "amount_wan": "60.00"},
                                           {"source": "上级补助", "amount_wan": "40.00"}]
    assert json.loads(done["targets"]) == body["targets"]
    assert json.loads(done["stage_targets"]) == []
    assert (missing["plan_published_at"], missing["plan_version"], missing["milestones"]) == (
        "", "", "")


def test_feed_lists_plan_publications_and_changes(client, world):
    from tests.projects.helpers import announced_projects, plan_body, put_plan

    cycle_id, (pid, _) = announced_projects(client, world)
    _ok(put_plan(client, world, pid, plan_body()))
    _ok(put_plan(client, world, pid, plan_body(targets=["新建道路 8 公里"], reason="线路优化")))
    feed = feedparser.parse(_ok(client.get("/feed.atom")).content)
    assert not feed.bozo, feed.bozo_exception
    plan_entries = [e for e in feed.entries if "实施方案" in e.title]
    assert [e.title for e in plan_entries] == ["候选项目1：实施方案第2版（修改）",
                                               "候选项目1：实施方案已公布"]
    assert all(e.link == f"http://testserver/projects/{pid}" for e in plan_entries)
    assert "线路优化" in plan_entries[0].summary
    assert len({e.id for e in feed.entries}) == len(feed.entries)
    _ok(client.get(f"/projects/{pid}"))
