"""公开: when a cycle is announced its selected candidates become projects, and the 公告 (JSON
and page) lists them as the published tallies decided (DOMAIN.md 公开, API.md Publication)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.config import ROOT
from app.models import Candidate, CandidateSource, Cycle, Project, Proposal, StateTransition
from app.projects.service import make_projects
from tests.ballots.conftest import (
    API,
    add_deputies,
    balloting_cycle,
    publish_round,
    walk_round,
)
from tests.helpers import count_selects, run, set_jurisdiction_settings


def announce(client, world, cycle_id: str) -> None:
    r = client.post(f"{API}/cycles/{cycle_id}/transitions", json={"to": "announced"},
                    headers=world.headers("congress_staff"))
    assert r.status_code == 200, r.text


def link_proposals(client, cycle_id: str, candidate_ids: list[str], per: int = 2) -> dict:
    """`per` accepted residents' proposals as the sources of each candidate: {cid: [pid, …]}."""

    async def add(session):
        links = {}
        for n, cid in enumerate(candidate_ids):
            links[cid] = []
            for i in range(per):
                p = Proposal(cycle_id=cycle_id, title=f"建议{n + 1}-{i + 1}", description="修路",
                             category="交通出行", location_code="lezhi", channel="online",
                             state="adopted")
                session.add(p)
                await session.flush()
                session.add(CandidateSource(candidate_id=cid, proposal_id=p.id))
                links[cid].append(p.id)
        await session.flush()
        return {cid: sorted(pids) for cid, pids in links.items()}

    return run(client, add)


def announced_cycle(client, world, *, seats: int, year: int = 2025) -> tuple[str, dict, dict]:
    """A cycle announced on one published round: (cycle id, results, {candidate: sources})."""
    cycle_id, ids = balloting_cycle(client, world, year=year, seats=seats)
    sources = link_proposals(client, cycle_id, ids[:seats])
    results = publish_round(client, world, cycle_id)
    announce(client, world, cycle_id)
    return cycle_id, results, sources


def project_count(client, cycle_id: str) -> int:
    async def count(session):
        return await session.scalar(select(func.count()).select_from(Project).where(
            Project.cycle_id == cycle_id))

    return run(client, count)


def test_the_announcement_lists_the_selected_candidates_as_the_tally_decided(client, world):
    cycle_id, results, sources = announced_cycle(client, world, seats=2)
    r = client.get(f"{API}/cycles/{cycle_id}/announcement")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["cycle"]["id"] == cycle_id and body["cycle"]["phase"] == "announced"
    assert body["ballots"] == [results]
    by_id = {c["id"]: c for c in results["candidates"]}
    assert [p["title"] for p in body["projects"]] == [by_id[c]["title"]
                                                      for c in results["selected_ids"]]
    assert [p["yes"] for p in body["projects"]] == [by_id[c]["yes"]
                                                    for c in results["selected_ids"]]
    assert [p["source_proposal_ids"] for p in body["projects"]] == [
        sources[c] for c in results["selected_ids"]]
    first = body["projects"][0]
    assert first["responsible_unit"] == "县交通运输局"
    assert first["budget_wan"] in ("100.00", "100", 100) and first["deadline"] == "2025-12-31"
    assert set(first) == {"id", "title", "responsible_unit", "budget_wan", "deadline", "yes",
                          "source_proposal_ids"}

    # published_at is when the cycle entered 公开, as its history records it
    history = client.get(f"{API}/cycles/{cycle_id}").json()["history"]
    assert body["published_at"].replace("Z", "+00:00")[:19] == history[-1]["at"].replace(
        "Z", "+00:00")[:19]
    assert history[-1]["to"] == "announced"

    listed = client.get(f"{API}/cycles/{cycle_id}/projects").json()
    assert listed["total"] == 2 and listed["page"] == 1
    assert [p["id"] for p in listed["items"]] == [p["id"] for p in body["projects"]]
    item = listed["items"][0]
    assert item["state"] == "announced" and item["plan"] is None
    assert item["candidate_id"] == results["selected_ids"][0]
    assert item["ballot_id"] == results["ballot_id"]


def test_projects_are_made_once_each_recorded_through_the_project_workflow(client, world):
    cycle_id, results, _ = announced_cycle(client, world, seats=2)
    assert project_count(client, cycle_id) == 2

    async def again(session):
        cycle = await session.get(Cycle, cycle_id)
        return await make_projects(session, cycle, actor=world.users["congress_staff"])

    assert run(client, again) == []  # moving again is idempotent
    assert project_count(client, cycle_id) == 2

    async def records(session):
        ids = list(await session.scalars(select(Project.id).where(Project.cycle_id == cycle_id)))
        rows = list(await session.scalars(select(StateTransition).where(
            StateTransition.entity_type == "project", StateTransition.entity_id.in_(ids))))
        return ids, rows

    ids, rows = run(client, records)
    assert sorted(r.entity_id for r in rows) == sorted(ids)
    assert {(r.from_state, r.to_state, r.actor_username) for r in rows} == {
        (None, "announced", "congress-staff")}


def test_a_runoff_cycle_announces_the_selections_of_both_rounds(client, world):
    cycle_id, (c0, c1, c2) = balloting_cycle(client, world, candidates=3, seats=2)
    deputies = ["deputy", *add_deputies(client, world, 4)]  # T = 5, threshold 3
    pairs = [(c0, c1), (c0, c2), (c0, c1), (c0, c2), (c1, c2)]  # c0 4; c1, c2 3 each: a tie
    first = publish_round(client, world, cycle_id, seats=2, candidate_ids=[c0, c1, c2],
                          ballots=[(d, {a: "yes", b: "yes"})
                                   for d, (a, b) in zip(deputies, pairs, strict=True)])
    assert first["outcome"] == "runoff" and first["selected_ids"] == [c0]
    second = publish_round(client, world, cycle_id, runoff_of=first["ballot_id"])
    assert second["selected_ids"] == [c1]
    announce(client, world, cycle_id)

    body = client.get(f"{API}/cycles/{cycle_id}/announcement").json()
    assert [b["round"] for b in body["ballots"]] == [1, 2]
    assert [(p["title"], p["yes"]) for p in body["projects"]] == [("候选项目1", 4),
                                                                   ("候选项目2", 5)]
    items = client.get(f"{API}/cycles/{cycle_id}/projects").json()["items"]
    assert [i["ballot_id"] for i in items] == [first["ballot_id"], second["ballot_id"]]
    assert project_count(client, cycle_id) == 2


def test_counts_are_hidden_when_the_jurisdiction_does_not_publish_them(client, world):
    cycle_id, results, _ = announced_cycle(client, world, seats=2)
    set_jurisdiction_settings(client, "lezhi", publish_vote_counts=False)
    body = client.get(f"{API}/cycles/{cycle_id}/announcement").json()
    assert [p["yes"] for p in body["projects"]] == [None, None]
    for c in body["ballots"][0]["candidates"]:
        assert not {"yes", "no", "abstain"} & set(c), c
        assert {"id", "title", "selected"} <= set(c)
    assert body["ballots"][0]["selected_ids"] == results["selected_ids"]
    assert body["ballots"][0]["threshold"] == results["threshold"]
    assert all(i["yes"] is None
               for i in client.get(f"{API}/cycles/{cycle_id}/projects").json()["items"])

    html = client.get(f"/cycles/{cycle_id}/announcement").text
    assert ">赞成票</th>" not in html and 'data-label="赞成票"' not in html
    assert "各项目得票数不予公布" in html


def test_before_announced_the_announcement_is_a_409_and_the_page_says_not_yet(client, world):
    cycle_id, _ = balloting_cycle(client, world)
    r = client.get(f"{API}/cycles/{cycle_id}/announcement")
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "not_announced" and r.json()["detail"]
    assert client.get(f"{API}/cycles/{cycle_id}/projects").json()["items"] == []

    page = client.get(f"/cycles/{cycle_id}/announcement")
    assert page.status_code == 200 and "尚未公告" in page.text
    assert 'id="announcement-link"' not in client.get(f"/cycles/{cycle_id}").text
    assert client.get(f"{API}/cycles/nope/announcement").status_code == 404
    assert client.get("/cycles/nope/announcement").status_code == 404


def test_the_announcement_page_is_an_official_notice_that_prints(client, world):
    cycle_id, results, _ = announced_cycle(client, world, seats=2)
    cycle_page = client.get(f"/cycles/{cycle_id}").text
    assert f'href="/cycles/{cycle_id}/announcement"' in cycle_page

    r = client.get(f"/cycles/{cycle_id}/announcement")
    assert r.status_code == 200
    html = r.text
    assert "乐至县人民代表大会关于2025年民生实事项目票决结果的公告" in html
    assert "乐至县人民代表大会主席团" in html and "特此公告" in html
    for c in results["candidates"]:
        assert (c["title"] in html) == c["selected"], c["title"]
    for label in ("责任单位", "预算（万元）", "完成时限", "赞成票"):
        assert label in html
    assert "县交通运输局" in html and "2025年12月31日" in html
    assert re.search(r'data-label="赞成票">\s*2\s*<', html)
    assert (f"全体代表{results['total_deputies']}名，出席{results['present']}名" in html
            and f"不少于{results['threshold']}票" in html)
    assert '<link rel="stylesheet" href="/static/app.css">' in html
    css = (ROOT / "app" / "static" / "app.css").read_text()
    assert "@page { size: A4" in css and "table.projects-table" in css


@pytest.mark.parametrize("path", ["announcement", "projects"])
def test_reading_the_announcement_takes_the_same_queries_for_2_or_6_projects(client, world,
                                                                           path):
    small, _, _ = announced_cycle(client, world, seats=2, year=2025)
    large, _, _ = announced_cycle(client, world, seats=6, year=2026)
    assert project_count(client, large) == 6
    n_small = count_selects(client, f"{API}/cycles/{small}/{path}")
    n_large = count_selects(client, f"{API}/cycles/{large}/{path}")
    # projects: + the announcement moment (the plans' due date) and the current plans
    assert n_small == n_large <= (7 if path == "announcement" else 8), (n_small, n_large)


def test_projects_keep_the_decided_values_when_the_candidate_changes_later(client, world):
    cycle_id, results, _ = announced_cycle(client, world, seats=2)

    async def rename(session):
        c = await session.get(Candidate, results["selected_ids"][0])
        c.title = "改过的标题"
        session.add(c)

    run(client, rename)
    titles = [p["title"] for p in client.get(f"{API}/cycles/{cycle_id}/announcement")
              .json()["projects"]]
    assert "改过的标题" not in titles


def test_a_cycle_announced_with_every_seat_left_empty_has_an_announcement_without_projects(
        client, world):
    ballot_id = walk_round(client, world, "published")  # nobody voted: a shortfall of all seats
    cycle_id = client.get(f"{API}/ballots/{ballot_id}").json()["cycle_id"]
    r = client.post(f"{API}/cycles/{cycle_id}/transitions",
                    json={"to": "announced", "reason": "候选项目均未过半数，名额空缺"},
                    headers=world.headers("congress_staff"))
    assert r.status_code == 200, r.text
    body = client.get(f"{API}/cycles/{cycle_id}/announcement").json()
    assert body["projects"] == [] and [b["ballot_id"] for b in body["ballots"]] == [ballot_id]
    assert client.get(f"{API}/cycles/{cycle_id}/projects").json()["total"] == 0
    assert "本年度票决未产生民生实事项目" in client.get(f"/cycles/{cycle_id}/announcement").text
