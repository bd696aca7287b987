"""The public list's read path (app/proposals/listing.py): totals from proposal_tally, searches
remembered under the cycle's version, the same answers as counting and matching by hand."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from app.models import Proposal
from app.proposals import listing, search
from app.search.text import index_text, query_words
from tests.helpers import run
from tests.proposals.conftest import API, open_cycle, propose

LIVE = {"submitted", "accepted", "adopted"}
PLACES = ["lezhi", "jinshun", "nanta"]
CATEGORIES = ["交通出行", "城乡建设", "社会保障"]
# Words of every frequency: 道路 in most, 防溺水 in a few; 电梯 asked for as 電梯.
PHRASES = ["道路硬化", "道路拓宽", "老人助餐", "加装电梯", "路灯维修", "河道清淤", "水库防溺水护栏",
           "农家书屋", "公交站点", "停车位"]


def _engine(url: str):
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def _rows(seed: int, cycle_id: str, n: int) -> list[dict]:
    rng = random.Random(seed)
    start = datetime(2025, 3, 1, tzinfo=UTC)
    rows = []
    for i in range(n):
        words = rng.sample(PHRASES[:6], k=2) if rng.random() < 0.9 else [rng.choice(PHRASES[6:])]
        if rng.random() < 0.6:
            words.append("道路改造")
        title = "关于" + "和".join(words) + "的建议"
        description = "群众反映" + "，".join(words) + "，希望解决。"
        # Every tenth shares its time with the one before: ties are broken by id.
        created = start + timedelta(minutes=i - (1 if i % 10 == 9 else 0))
        rows.append({"cycle_id": cycle_id, "title": title, "description": description,
                     "category": rng.choice(CATEGORIES), "location_code": rng.choice(PLACES),
                     "place": "", "channel": "online",
                     "state": rng.choice(["submitted"] * 5 + ["accepted"] * 3 + ["rejected",
                                                                                  "merged"]),
                     "endorsement_count": rng.choice([0, 0, 1, 2, 5, 30]),
                     "search_text": index_text(title, description, ""), "created_at": created})
    return rows


def _insert(client, rows: list[dict]) -> list[Proposal]:
    async def add(session):
        made = [Proposal(**row) for row in rows]
        session.add_all(made)
        await session.flush()
        return made

    return run(client, add)


def _expected(made, *, q="", state=None, category=None, location_code=None, sort="newest"):
    words = query_words(q) if q else []
    states = {state} if state else LIVE
    found = [p for p in made if p.state in states
             and (category is None or p.category == category)
             and (location_code is None or p.location_code == location_code)
             and all(any(t.startswith(w) for t in p.search_text.split()) for w in words)]
    found.sort(key=lambda p: p.id)  # ties last: by id, ascending
    if sort == "endorsed":
        found.sort(key=lambda p: (p.endorsement_count, p.created_at), reverse=True)
    else:
        found.sort(key=lambda p: p.created_at, reverse=sort == "newest")
    return [p.id for p in found]


def _page(client, cycle_id, **params):
    r = client.get(f"{API}/cycles/{cycle_id}/proposals", params=params)
    assert r.status_code == 200, r.text
    return r.json()


FILTERS = [{}, {"category": "城乡建设"}, {"location_code": "nanta"}, {"state": "rejected"},
           {"category": "交通出行", "location_code": "jinshun", "state": "submitted"}]


@pytest.mark.parametrize("q", ["", "道路", "老人", "防溺水", "電梯", "道路 硬化", "书"])
def test_pages_and_totals_are_what_counting_and_matching_by_hand_gives(client, world, cycle_id,
                                                                        q):
    """Common, rare and traditional words, every filter and sort, asked twice (the second time
    remembered): the same proposals in the same order as matching the words by hand."""
    made = _insert(client, _rows(7, cycle_id, 90))
    for filters in FILTERS:
        for sort in ("newest", "oldest", "endorsed"):
            want = _expected(made, q=q, sort=sort, **filters)
            for _ in range(2):
                got = [_page(client, cycle_id, q=q, sort=sort, page=n, per_page=7, **filters)
                       for n in (1, 2, 3)]
                assert {g["total"] for g in got} == {len(want)}, (filters, sort)
                assert [i["id"] for g in got for i in g["items"]] == want[:21], (filters, sort)


def test_an_item_shows_the_proposal_as_stored(client, world, cycle_id):
    pid = propose(client, world, cycle_id, title="河道清淤整治", category="环境保护")
    item = _page(client, cycle_id, q="河道")["items"][0]
    assert item == _page(client, cycle_id)["items"][0]
    one = client.get(f"{API}/proposals/{pid}").json()
    assert item == {k: one[k] for k in ("id", "cycle_id", "title", "category", "location_code",
                                        "place", "channel", "state", "endorsements",
                                        "created_at")}


def test_a_remembered_search_sees_the_next_change_through_any_app(client, world, cycle_id,
                                                                   impatient, database_url):
    first = propose(client, world, cycle_id, title="河道清淤整治", description="河道淤塞多年。")
    assert _page(client, cycle_id, q="河道")["total"] == 1
    assert [s["id"] for s in client.get(f"{API}/cycles/{cycle_id}/proposals/similar",
                                        params={"text": "河道清淤"}).json()] == [first]
    # Another app (another worker) files one: the next search here counts it.
    r = impatient.post(f"{API}/cycles/{cycle_id}/proposals", headers=world.headers("deputy"),
                       json={"title": "河道护栏安装", "description": "河道边没有护栏，很危险。",
                             "category": "公共安全", "location_code": "nanta"})
    assert r.status_code == 201, r.text
    second = r.json()["id"]
    found = _page(client, cycle_id, q="河道")
    assert found["total"] == 2 and {i["id"] for i in found["items"]} == {first, second}
    # A change made behind the app's back (the triggers keep the version) is seen too.
    engine = _engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE proposal SET state = 'rejected' WHERE id = :id"), {"id": first})
    engine.dispose()
    assert [i["id"] for i in _page(client, cycle_id, q="河道")["items"]] == [second]
    assert _page(client, cycle_id, q="河道", state="rejected")["total"] == 1
    assert [s["id"] for s in client.get(f"{API}/cycles/{cycle_id}/proposals/similar",
                                        params={"text": "河道清淤"}).json()] == [second]


def test_the_tally_counts_what_the_table_holds_after_every_kind_of_change(client, world,
                                                                          database_url):
    cycle_id = open_cycle(client, world)
    ids = [propose(client, world, cycle_id, who=who, category=cat, location_code=loc)
           for who, cat, loc in [("resident", "交通出行", "jinshun"), ("deputy", "教育", "nanta"),
                                 ("resident", "交通出行", "jinshun"), ("deputy", "教育", "lezhi")]]
    staff = world.headers("gov_staff")
    for pid, body in [(ids[0], {"decision": "accept", "reason": "纳入"}),
                      (ids[1], {"decision": "reject", "reason": "属上级事权"}),
                      (ids[2], {"decision": "merge", "reason": "重复", "merge_into_id": ids[0]})]:
        r = client.post(f"{API}/proposals/{pid}/review", json=body, headers=staff)
        assert r.status_code == 200, r.text
    r = client.post(f"{API}/proposals/{ids[3]}/endorsements", headers=world.headers("resident"))
    assert r.status_code == 201, r.text
    gone = propose(client, world, cycle_id, category="社会保障")
    engine = _engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE proposal SET category = '城乡建设' WHERE id = :id"),
                     {"id": ids[3]})
        conn.execute(text("DELETE FROM proposal WHERE id = :id"), {"id": gone})
        counted = set(conn.execute(text(
            "SELECT cycle_id, state, category, location_code, count(*) FROM proposal "
            "GROUP BY cycle_id, state, category, location_code")).all())
        tallied = set(conn.execute(text(
            "SELECT cycle_id, state, category, location_code, proposals FROM proposal_tally "
            "WHERE proposals > 0")).all())
    engine.dispose()
    assert tallied == counted
    assert _page(client, cycle_id)["total"] == 2  # accepted + submitted, not merged or rejected
    assert _page(client, cycle_id, category="城乡建设")["total"] == 1
    assert _page(client, cycle_id, state="merged", location_code="jinshun")["total"] == 1


def test_unknown_cycles_are_404_for_the_list_and_similar(client, world):
    for path, params in [("/cycles/nope/proposals", {}), ("/cycles/nope/proposals", {"q": "路"}),
                         ("/cycles/nope/proposals/similar", {"text": "电梯"}),
                         ("/cycles/nope/proposals/similar", {"text": ""})]:
        r = client.get(API + path, params=params)
        assert r.status_code == 404 and r.json()["code"] == "unknown_cycle", (path, params)


def test_a_filtered_page_walks_an_index_in_its_order(database_url):
    """SQLite: the list by state, category and place walks ix_proposal_cycle_facets newest
    first (no sort of the matches); without filters, the cycle's sort index."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's query plan")
    db = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    try:
        def plan(scope, sort):
            sql, params = listing.filtered_page_sql(scope, sort, "?")
            return " | ".join(r[3] for r in db.execute(f"EXPLAIN QUERY PLAN {sql}",
                                                        [*params, 20, 0]))

        narrow = plan(search.Scope("c", ["submitted"], "教育", "lezhi"), "newest")
        assert "ix_proposal_cycle_facets" in narrow and "TEMP B-TREE FOR ORDER BY" not in narrow
        for sort, index in [("newest", "ix_proposal_cycle_created"),
                            ("endorsed", "ix_proposal_cycle_endorsed")]:
            whole = plan(search.Scope("c", list(listing.LIVE_STATES)), sort)
            assert index in whole and "TEMP B-TREE FOR ORDER BY" not in whole, whole
    finally:
        db.close()


def test_the_memo_forgets_the_least_recently_used():
    memo = search.Memo(entries=2)
    memo.put("a", 1)
    memo.put("b", 2)
    assert memo.get("a") == 1
    memo.put("c", 3)
    assert memo.get("b") is None and memo.get("a") == 1 and memo.get("c") == 3


def test_a_read_leaves_a_busy_hot_pool_to_the_casts(client, world, cycle_id, database_url):
    """PostgreSQL: with every hot connection taken (a vote in the hall), the list is read through
    the request's session instead of waiting for one."""
    if database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's hot pool")
    propose(client, world, cycle_id, title="河道清淤整治")
    pool = client.app.state.hot_pool

    async def take_all():
        return [await pool.getconn() for _ in range(pool.max_size)]

    async def give_back(taken):
        for connection in taken:
            await pool.putconn(connection)

    taken = client.portal.call(take_all)
    try:
        assert _page(client, cycle_id, q="河道")["total"] == 1
        assert _page(client, cycle_id)["total"] == 1
        assert len(client.get(f"{API}/cycles/{cycle_id}/proposals/similar",
                              params={"text": "河道清淤"}).json()) == 1
    finally:
        client.portal.call(give_back, taken)
