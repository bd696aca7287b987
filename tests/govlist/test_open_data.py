"""Open data of a government list: the ZIP holds the draft list, the comments with their answers
instead of ballot results, and names the adopting meeting; the Atom feed announces the comment
period and the 公告 with its meeting and document number."""

from __future__ import annotations

import io
import zipfile

import feedparser

from app.models import Comment, utcnow
from tests.govlist.helpers import (
    API,
    add_government_places,
    announced_cycle,
    comment,
    commenting_cycle,
    ok,
)
from tests.helpers import run
from tests.opendata.test_open_data import header, read_csv, readme_columns


def open_zip(client, cycle_id: str) -> zipfile.ZipFile:
    r = client.get(f"{API}/cycles/{cycle_id}/open-data.zip")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip", r.text
    return zipfile.ZipFile(io.BytesIO(r.content))


def test_the_zip_holds_the_draft_list_and_its_answered_comments_instead_of_results(client,
                                                                                   world):
    add_government_places(client, world)
    cycle_id, items = announced_cycle(client, world, "yaohai", items=3, left_out=2)

    async def hide_one(session):
        session.add(Comment(cycle_id=cycle_id, author_id=world.users["deputy"].id,
                            body="广告：加微信", hidden_at=utcnow(), hidden_by="yaohai-gov",
                            hidden_reason="广告"))

    run(client, hide_one)
    z = open_zip(client, cycle_id)
    assert sorted(z.namelist()) == ["README.txt", "candidates.csv", "comments.csv",
                                    "projects.csv", "proposals.csv"]
    documented = readme_columns(z)
    assert set(documented) == {"proposals.csv", "candidates.csv", "comments.csv", "projects.csv"}
    for name, columns in documented.items():
        assert columns == header(z, name), name
    readme = z.read("README.txt").decode("utf-8-sig")
    assert "研究确定 adopted by: 区长办公会" in readme and "瑶政〔2026〕3号" in readme
    assert "未列入 left out: 中小学校园照明改造" in readme and "results.csv" not in readme

    candidates = read_csv(z, "candidates.csv")
    assert [c["id"] for c in candidates] == items
    assert {c["state"] for c in candidates} == {"gov_approved"}
    comments = read_csv(z, "comments.csv")
    public = ok(client.get(f"{API}/cycles/{cycle_id}/draft-list/comments"))["items"]
    assert [c["id"] for c in comments] == [c["id"] for c in public] and len(comments) == 3
    answered = [c for c in comments if c["answer_kind"] == "answered"]
    assert len(answered) == 2 and all(c["answered_by"] == "测试yaohai-gov" for c in answered)
    assert answered[1]["candidate_title"] == "背街小巷路面改造"
    hidden = next(c for c in comments if c["hidden"] == "true")
    assert hidden["body"] == "" and hidden["hidden_reason"] == "广告"
    assert "加微信".encode() not in b"".join(z.read(n) for n in z.namelist())
    projects = read_csv(z, "projects.csv")
    assert [p["candidate_id"] for p in projects] == items[:2]
    assert all(p["yes"] == "" and p["ballot_id"] == "" for p in projects)


def test_a_draft_not_yet_published_gives_no_comments(client, world):
    add_government_places(client, world)
    cycle_id, _ = commenting_cycle(client, world, "hefei", items=1)
    comment(client, world, cycle_id, "resident", "意见")
    assert len(read_csv(open_zip(client, cycle_id), "comments.csv")) == 1
    # a balloted cycle's ZIP is unchanged: results.csv, no comments.csv
    lezhi = ok(client.post(f"{API}/cycles", headers=world.headers("gov_staff"), json={
        "jurisdiction_code": "lezhi", "year": 2026, "title": "乐至县2026年民生实事项目",
        "seats": 2}), 201)["id"]
    assert "results.csv" in open_zip(client, lezhi).namelist()
    assert "comments.csv" not in open_zip(client, lezhi).namelist()


def test_the_feed_announces_the_comment_period_and_the_adopted_list(client, world):
    add_government_places(client, world)
    cycle_id, _ = announced_cycle(client, world, "yaohai", items=2)
    feed = feedparser.parse(client.get("/feed.atom").content)
    assert not feed.bozo
    by_link = {e.link.removeprefix("http://testserver/"): e for e in feed.entries}
    opened = by_link[f"cycles/{cycle_id}/draft-list"]
    assert "征求意见稿公开征求意见" in opened.title and "欢迎发表意见" in opened.summary
    announced = by_link[f"cycles/{cycle_id}"]
    assert announced.title.endswith("：公告")
    assert "经区长办公会研究确定（瑶政〔2026〕3号）" in announced.summary
    assert "票决" not in announced.summary
    assert feed.entries[0].link.endswith(f"cycles/{cycle_id}")  # newest first
