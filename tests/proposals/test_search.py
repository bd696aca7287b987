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
