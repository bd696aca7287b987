"""Chinese search: segmentation, simplified ↔ traditional folding, the database's FTS index."""

from __future__ import annotations

from app.search.text import fold, index_text, query_words
from tests.proposals.conftest import API, propose


def test_folding_turns_traditional_into_simplified_and_normalises_width():
    assert fold("電梯加裝") == "电梯加装"
    assert fold("ＡＢＣ１２３") == "abc123"


def test_segmentation_splits_a_sentence_into_words_and_drops_filler():
    words = query_words("建议老旧小区加装电梯的问题")
    assert "电梯" in words and "加装" in words
    assert "建议" not in words and "的" not in words
    assert "电梯" in index_text("老旧小区加装電梯")


def titles(client, cycle_id, q):
    r = client.get(f"{API}/cycles/{cycle_id}/proposals", params={"q": q})
    assert r.status_code == 200, r.text
    return {p["title"] for p in r.json()["items"]}


def test_traditional_query_finds_simplified_text_and_back(client, world, cycle_id):
    propose(client, world, cycle_id, title="老旧小区加装电梯",
            description="六层老楼没有电梯，老人上下楼困难。")
    propose(client, world, cycle_id, who="deputy", title="農村飲水安全提升",
            description="夏季用水高峰停水，水質渾濁，建議改造管網。")
    assert titles(client, cycle_id, "電梯") == {"老旧小区加装电梯"}
    assert titles(client, cycle_id, "电梯") == {"老旧小区加装电梯"}
    assert titles(client, cycle_id, "饮水") == {"農村飲水安全提升"}
    assert titles(client, cycle_id, "水质") == {"農村飲水安全提升"}


def test_search_matches_words_inside_longer_text_and_needs_all_words(client, world, cycle_id):
    propose(client, world, cycle_id, title="城区增设公共停车位",
            description="老城区停车难，占道停车堵塞消防通道。")
    propose(client, world, cycle_id, who="deputy", title="乡镇卫生院设备更新",
            description="B超设备老旧，群众看病要跑县城。")
    assert titles(client, cycle_id, "停车") == {"城区增设公共停车位"}
    assert titles(client, cycle_id, "消防 通道") == {"城区增设公共停车位"}
    assert titles(client, cycle_id, "停车 卫生院") == set()
    assert titles(client, cycle_id, "卫") == {"乡镇卫生院设备更新"}  # a prefix of 卫生院


def test_a_query_with_nothing_searchable_finds_nothing_without_error(client, world, cycle_id):
    propose(client, world, cycle_id)
    for q in ("!!!", "\"", "*", "OR", "AND NOT", "'); drop table proposal; --", "：，。"):
        r = client.get(f"{API}/cycles/{cycle_id}/proposals", params={"q": q})
        assert r.status_code == 200, (q, r.text)
    assert client.get(f"{API}/cycles/{cycle_id}/proposals").json()["total"] == 1


def test_search_is_combined_with_filters(client, world, cycle_id):
    propose(client, world, cycle_id, title="村道路灯安装", category="公共安全", location_code="jinshun")
    propose(client, world, cycle_id, who="deputy", title="城区路灯维修", category="城乡建设",
            location_code="nanta")
    r = client.get(f"{API}/cycles/{cycle_id}/proposals",
                   params={"q": "路灯", "location_code": "nanta"}).json()
    assert [p["title"] for p in r["items"]] == ["城区路灯维修"] and r["total"] == 1


def test_similar_suggests_the_closest_live_proposals_of_the_same_cycle(client, world, cycle_id):
    lift = propose(client, world, cycle_id, title="老旧小区加装电梯",
                   description="六层老楼没有电梯，老人上下楼困难。")
    propose(client, world, cycle_id, who="deputy", title="学校教室照明改造",
            description="教室灯光昏暗，影响孩子视力。")
    r = client.get(f"{API}/cycles/{cycle_id}/proposals/similar", params={"text": "加裝電梯"})
    assert r.status_code == 200
    assert [s["id"] for s in r.json()] == [lift]
    assert r.json()[0]["endorsements"] == 0
    assert client.get(f"{API}/cycles/{cycle_id}/proposals/similar",
                      params={"text": ""}).json() == []


def search(client, cycle_id, **params):
    r = client.get(f"{API}/cycles/{cycle_id}/proposals", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_the_search_index_follows_state_category_and_endorsements(client, world, cycle_id):
    # The index keeps its own copy of state, category, place (and, on PostgreSQL, the sort
    # keys): every change of the proposal must reach it.
    a = propose(client, world, cycle_id, title="河道清淤整治", category="环境保护",
                description="河道淤塞，汛期漫堤，两岸农田年年受淹。")
    b = propose(client, world, cycle_id, who="deputy", title="河道护栏安装",
                category="公共安全", location_code="nanta", description="河边没有护栏，孩子上学路过很危险。")
    assert search(client, cycle_id, q="河道")["total"] == 2
    assert search(client, cycle_id, q="河道", category="环境保护")["total"] == 1
    assert search(client, cycle_id, q="河道", location_code="nanta")["total"] == 1

    r = client.post(f"{API}/proposals/{b}/endorsements", headers=world.headers("resident"))
    assert r.status_code == 201, r.text
    assert [p["id"] for p in search(client, cycle_id, q="河道", sort="endorsed")["items"]] == [b, a]
    assert [p["id"] for p in search(client, cycle_id, q="河道", sort="oldest")["items"]] == [a, b]

    r = client.post(f"{API}/proposals/{a}/review", headers=world.headers("gov_staff"),
                    json={"decision": "reject", "reason": "属上级事权"})
    assert r.status_code == 200, r.text
    found = search(client, cycle_id, q="河道")
    assert found["total"] == 1 and [p["id"] for p in found["items"]] == [b]
    found = search(client, cycle_id, q="河道", state="rejected")
    assert found["total"] == 1 and [p["id"] for p in found["items"]] == [a]
    assert [s["id"] for s in client.get(f"{API}/cycles/{cycle_id}/proposals/similar",
                                        params={"text": "河道清淤"}).json()] == [b]


def test_words_in_a_proposal_cannot_pose_as_index_facets(client, world, cycle_id):
    # The facets live in their own column (SQLite) or columns (PostgreSQL): a resident who
    # writes them into the text does not put a rejected proposal back into the live list.
    tricky = propose(client, world, cycle_id, title="桥梁加固 stsubmitted staccepted",
                     description=f"cy{cycle_id} stsubmitted staccepted stadopted "
                                 f"ca{'交通出行'.encode().hex()} lo{b'jinshun'.hex()}")
    r = client.post(f"{API}/proposals/{tricky}/review", headers=world.headers("gov_staff"),
                    json={"decision": "reject", "reason": "重复"})
    assert r.status_code == 200, r.text
    assert search(client, cycle_id, q="桥梁")["total"] == 0
    assert search(client, cycle_id, q="stsubmitted")["total"] == 0
    assert search(client, cycle_id, q=f"cy{cycle_id}")["total"] == 0
    assert search(client, cycle_id, q="桥梁", state="rejected")["total"] == 1


def test_totals_and_pages_agree_with_a_plain_count(client, world, cycle_id):
    # Totals come from the search index, pages from walking the list: both must agree with
    # what the proposals say, on every page, in every order.
    for i in range(7):
        propose(client, world, cycle_id, who=("resident", "deputy")[i % 2],
                title=f"第{i}号路灯安装", category=("公共安全", "城乡建设")[i % 2],
                location_code=("jinshun", "nanta", "lezhi")[i % 3])
    for params in ({}, {"category": "公共安全"}, {"location_code": "nanta"}, {"q": "路灯"},
                   {"q": "路灯", "category": "城乡建设"}, {"q": "路灯", "location_code": "jinshun"}):
        for sort in ("newest", "oldest", "endorsed"):
            pages = [search(client, cycle_id, sort=sort, per_page=3, page=n, **params)
                     for n in (1, 2, 3, 4)]
            ids = [p["id"] for page in pages for p in page["items"]]
            everything = search(client, cycle_id, sort=sort, per_page=100, **params)
            assert len(ids) == len(set(ids)) == pages[0]["total"] == everything["total"]
            assert ids == [p["id"] for p in everything["items"]], (params, sort)
            assert all(page["total"] == everything["total"] for page in pages)
