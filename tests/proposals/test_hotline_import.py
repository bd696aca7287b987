"""Importing a 12345 hotline export through the API: preview, import, re-import, every refusal."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.models import AuditEntry, Proposal, StateTransition
from app.proposals.hotline_file import MAX_FILE_BYTES, MAX_ROWS
from tests.helpers import run
from tests.proposals.conftest import API, proposal_body
from tests.proposals.hotline_files import GOOD, HEADER, csv_bytes, upload, xlsx_bytes


def proposals(client) -> list[Proposal]:
    async def read(session):
        return list(await session.scalars(select(Proposal).order_by(Proposal.source_ref)))

    return run(client, read)


def audit_data(client, action: str) -> list[dict]:
    async def read(session):
        return list(await session.scalars(select(AuditEntry.data).where(
            AuditEntry.action == action).order_by(AuditEntry.seq)))

    return [json.loads(d) for d in run(client, read)]


def imports(client) -> list[dict]:
    return audit_data(client, "proposal.import")


def test_a_dry_run_lists_every_row_and_stores_nothing(client, world, cycle_id):
    r = upload(client, world, cycle_id, csv_bytes(GOOD), dry_run=True)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dry_run"] is True and body["valid"] is True
    assert (body["rows"], body["to_create"], body["created"], body["skipped"],
            body["invalid"]) == (3, 3, 0, 0, 0)
    assert [(i["line"], i["source_ref"], i["status"]) for i in body["items"]] == [
        (2, "GD-2025-0001", "create"), (3, "GD-2025-0002", "create"), (4, "GD-2025-0003", "create")]
    assert body["columns"]["source_ref"] == "工单号" and body["columns"]["description"] == "诉求内容"
    assert proposals(client) == [] and imports(client) == []


def test_an_import_files_each_record_with_its_channel_and_record_number(client, world, cycle_id):
    rows = [GOOD[0] + ["热线"], GOOD[1] + ["来信"], GOOD[2] + ["走访"]]
    r = upload(client, world, cycle_id, csv_bytes(rows, HEADER + ["渠道"]), name="三月.csv")
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["dry_run"], body["created"], body["skipped"]) == (False, 3, 0)
    assert all(i["status"] == "created" and i["proposal_id"] for i in body["items"])
    stored = proposals(client)
    assert [(p.source_ref, p.channel, p.location_code, p.state) for p in stored] == [
        ("GD-2025-0001", "hotline", "jinshun", "submitted"),
        ("GD-2025-0002", "letter", "nanta", "submitted"),
        ("GD-2025-0003", "visit", "lezhi", "submitted")]  # no township: the whole county
    first = stored[0]
    assert (first.proposer_name, first.proposer_phone, first.place) == ("张大爷", "13800001111",
                                                                        "石佛村三组")
    assert str(first.estimated_cost_wan) == "12.50" and str(stored[2].estimated_cost_wan) == "30.00"
    # 来电时间 is Beijing time, stored as UTC.
    assert first.received_at == datetime(2025, 3, 15, 1, 12, tzinfo=UTC)
    assert stored[2].proposer_name == "匿名" and stored[2].received_at is None
    assert first.recorded_by == world.users["gov_staff"].id and first.proposer_id is None
    # Each through the service: its first transition and audit entry; one entry for the import.
    moves = run(client, lambda s: s.scalar(select(func.count()).select_from(StateTransition)
                                           .where(StateTransition.entity_id == first.id)))
    assert moves == 1
    assert sorted(d["source_ref"] for d in audit_data(client, "proposal.create")) == [
        "GD-2025-0001", "GD-2025-0002", "GD-2025-0003"]
    [summary] = imports(client)
    assert summary["file"] == "三月.csv" and (summary["rows"], summary["created"],
                                             summary["skipped"]) == (3, 3, 0)
    p = client.get(f"{API}/proposals/{first.id}").json()
    assert p["channel"] == "hotline" and p["proposer"] == "12345热线群众"


def test_the_same_file_imported_again_creates_nothing(client, world, cycle_id):
    data = csv_bytes(GOOD)
    assert upload(client, world, cycle_id, data).status_code == 201
    ids = {p.source_ref: p.id for p in proposals(client)}
    r = upload(client, world, cycle_id, data, dry_run=True)
    assert r.status_code == 200 and r.json()["to_create"] == 0 and r.json()["skipped"] == 3
    assert {i["source_ref"]: i["proposal_id"] for i in r.json()["items"]} == ids
    r = upload(client, world, cycle_id, data)
    assert r.status_code == 201 and (r.json()["created"], r.json()["skipped"]) == (0, 3)
    assert len(proposals(client)) == 3
    assert [(e["created"], e["skipped"]) for e in imports(client)] == [(3, 0), (0, 3)]
    # A later export repeats old records beside a new one: only the new one is filed.
    more = ["GD-2025-0004", "", "", "", "小学门口设置护学岗", "学校门口车多，上下学时段很危险。",
            "教育", "金顺镇", "", ""]
    r = upload(client, world, cycle_id, csv_bytes([*GOOD, more]))
    assert (r.json()["created"], r.json()["skipped"]) == (1, 3) and len(proposals(client)) == 4


def test_a_record_typed_in_by_hand_is_recognised_by_its_number(client, world, cycle_id):
    r = client.post(f"{API}/cycles/{cycle_id}/proposals", headers=world.headers("gov_staff"),
                    json=proposal_body(channel="hotline", proposer_name="张大爷",
                                       source_ref=" gd-2025-0001 ", proposer_phone="13800001111"))
    assert r.status_code == 201, r.text
    by_hand = r.json()["id"]
    stored = proposals(client)[0]
    assert stored.source_ref == "GD-2025-0001" and stored.proposer_phone == "13800001111"
    r = upload(client, world, cycle_id, csv_bytes(GOOD))
    assert r.status_code == 201 and (r.json()["created"], r.json()["skipped"]) == (2, 1)
    assert r.json()["items"][0] == {**r.json()["items"][0], "status": "skip",
                                    "proposal_id": by_hand}
    # Typed in again by hand after the import: refused, naming the proposal it is.
    r = client.post(f"{API}/cycles/{cycle_id}/proposals", headers=world.headers("gov_staff"),
                    json=proposal_body(channel="hotline", proposer_name="李阿姨",
                                       source_ref="ＧＤ-2025-0002"))
    assert r.status_code == 409 and r.json()["code"] == "duplicate_source_ref"
    assert "GD-2025-0002" in r.json()["detail"]
    # The same number in another year's cycle is another record.
    assert len(proposals(client)) == 3


def test_an_xlsx_export_with_a_title_line_and_typed_cells_is_read(client, world, cycle_id):
    header = ["Record No", "call_time", "caller", "phone", "title", "content", "category",
              "township", "address", "estimated_cost"]
    rows = [[20250315001, datetime(2025, 3, 15, 9, 30), "王五", 13900002222, "石佛村安装路灯",
             "村里主干道没有路灯，晚上出行不安全。", "公共安全", "金顺镇", "石佛村", 8],
            [20250315002, None, None, None, "南塔街道社区健身器材更新",
             "小区健身器材老化损坏，存在安全隐患。", "文体服务", "南塔街道", None, 4.5]]
    data = xlsx_bytes(rows, header, title="乐至县12345热线工单导出（2025年3月）")
    r = upload(client, world, cycle_id, data, name="export.xlsx", dry_run=True)
    assert r.status_code == 200, r.text
    assert [(i["line"], i["source_ref"], i["status"], i["location_code"])
            for i in r.json()["items"]] == [(3, "20250315001", "create", "jinshun"),
                                            (4, "20250315002", "create", "nanta")]
    assert upload(client, world, cycle_id, data, name="export.xlsx").status_code == 201
    first, second = proposals(client)
    assert first.proposer_phone == "13900002222" and str(first.estimated_cost_wan) == "8.00"
    assert first.received_at == datetime(2025, 3, 15, 1, 30, tzinfo=UTC)
    assert str(second.estimated_cost_wan) == "4.50" and second.proposer_name == "匿名"


def test_a_gbk_csv_as_excel_saves_it_with_other_header_names_is_read(client, world, cycle_id):
    header = ["工单编号", "受理时间", "诉求人", "电话", "工单标题", "内容", "诉求类别", "乡镇",
              "详细地址", "估算金额(万元)", "办理状态"]
    rows = [["GD-2025-0101", "2025年3月20日 10时05分", "赵六", "139 0000 3333", "金顺镇农贸市场改造",
             "市场棚顶漏雨，地面坑洼，买菜很不方便。", "城乡建设", "金顺", "镇农贸市场", "120", "已办结"]]
    data = csv_bytes(rows, header, encoding="gbk")
    assert data.decode("gbk") and not data.startswith(b"\xef\xbb\xbf")
    r = upload(client, world, cycle_id, data, dry_run=True)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["valid"] and body["items"][0]["location_code"] == "jinshun"
    assert body["ignored_columns"] == ["办理状态"]
    assert upload(client, world, cycle_id, data).status_code == 201
    [p] = proposals(client)
    assert p.received_at == datetime(2025, 3, 20, 2, 5, tzinfo=UTC)
    assert p.proposer_phone == "139 0000 3333" and p.title == "金顺镇农贸市场改造"


def test_every_bad_row_is_named_and_nothing_is_stored(client, world, cycle_id):
    good = GOOD[0]
    rows = [
        good,
        ["", *good[1:4], "村道两侧安装护栏", *good[5:]],                     # 3: no 工单号
        ["GD-9", *good[1:6], "不存在的类别", *good[7:]],                      # 4: category
        ["GD-10", *good[1:7], "安岳县", *good[8:]],                          # 5: not ours
        ["GD-11", *good[1:9], "很多"],                                       # 6: cost
        ["GD-12", "上周三", *good[2:]],                                      # 7: 来电时间
        ["GD-2025-0001", *good[1:]],                                        # 8: twice in file
        ["GD-13", *good[1:5], "请回电 13812345678，路面坑洼很多。", *good[6:]],  # 9: a phone
        ["GD-14", *good[1:4], "", *good[5:]],                                # 10: no title
        ["GD-15", *good[1:3], "电话打不通", *good[4:]],                        # 11: bad phone
    ]
    data = csv_bytes(rows)
    r = upload(client, world, cycle_id, data, dry_run=True)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["valid"] is False and (body["to_create"], body["invalid"]) == (1, 9)
    problems = {i["line"]: [(p["field"], p["column"]) for p in i["problems"]]
                for i in body["items"]}
    assert problems == {
        2: [], 3: [("source_ref", "工单号")], 4: [("category", "类别")],
        5: [("location_code", "所在乡镇（街道）")], 6: [("estimated_cost_wan", "估算金额（万元）")],
        7: [("received_at", "来电时间")], 8: [("source_ref", "工单号")],
        9: [("description", "诉求内容")], 10: [("title", "标题")],
        11: [("proposer_phone", "联系电话")]}
    zh = {i["line"]: i["problems"][0]["zh"] for i in body["items"] if i["problems"]}
    assert "交通出行" in zh[4] and "第 2 行" in zh[8] and "电话号码" in zh[9]
    r = upload(client, world, cycle_id, data)
    assert r.status_code == 422 and r.json()["code"] == "import_rows_invalid"
    assert "9" in r.json()["detail"]
    assert sorted({e["line"] for e in r.json()["errors"]}) == list(range(3, 12))
    assert proposals(client) == [] and imports(client) == []


def test_a_missing_required_column_is_named(client, world, cycle_id):
    header = [h for h in HEADER if h != "类别"]
    rows = [[c for i, c in enumerate(GOOD[0]) if HEADER[i] != "类别"]]
    r = upload(client, world, cycle_id, csv_bytes(rows, header), dry_run=True)
    assert r.status_code == 422 and r.json()["code"] == "missing_column"
    assert "类别" in r.json()["detail"] and "工单号" in r.json()["detail"]  # what the file has
    r = upload(client, world, cycle_id, b"a,b,c\n1,2,3\n")
    assert r.status_code == 422 and r.json()["code"] == "missing_column"
    for name in ("工单号", "标题", "诉求内容", "类别"):
        assert name in r.json()["detail"]


def test_files_that_cannot_be_imported_are_refused_with_what_to_do(client, world, cycle_id):
    cases = [
        (b"", 422, "file_empty"),
        (b" \r\n", 422, "file_empty"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, 422, "xls_not_supported"),
        (b"PK\x03\x04 not really a workbook", 422, "file_unreadable"),
        (bytes(range(256)) * 4, 422, "file_encoding"),
        ("工单号,标题,诉求内容,类别\n".encode(), 422, "no_rows"),
    ]
    for data, status, code in cases:
        r = upload(client, world, cycle_id, data, dry_run=True)
        assert (r.status_code, r.json()["code"]) == (status, code), (data[:20], r.text)
    many = [[f"GD-{i}", "", "", "", f"第{i}条村道硬化", "村道一下雨就是泥，出行不便。", "交通出行",
             "", "", ""] for i in range(MAX_ROWS + 1)]
    r = upload(client, world, cycle_id, csv_bytes(many))
    assert r.status_code == 413 and r.json()["code"] == "too_many_rows"
    padding = b"x" * (MAX_FILE_BYTES + 1 - len(csv_bytes(GOOD)))
    r = upload(client, world, cycle_id, csv_bytes(GOOD) + padding)
    assert r.status_code == 413 and r.json()["code"] == "file_too_large"
    assert "5 MB" in r.json()["detail"]
    r = upload(client, world, cycle_id, b"x" * (9 * 1024 * 1024))  # over the body limit
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    assert proposals(client) == []


def test_a_workbook_that_unpacks_too_large_is_refused(client, world, cycle_id):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/sharedStrings.xml", b"\0" * (70 * 1024 * 1024))
    r = upload(client, world, cycle_id, buffer.getvalue(), name="bomb.xlsx")
    assert r.status_code == 413 and r.json()["code"] == "file_too_large"


def test_only_the_jurisdictions_gov_staff_import_while_soliciting(client, world, cycle_id):
    data = csv_bytes(GOOD)
    for who, status in (("anonymous", 401), ("resident", 403), ("deputy", 403),
                        ("unit_staff", 403), ("congress_staff", 403), ("admin", 403),
                        ("other_gov_staff", 403)):
        r = upload(client, world, cycle_id, data, who=who)
        assert r.status_code == status, (who, r.text)
    r = client.post(f"{API}/cycles", json={"jurisdiction_code": "lezhi", "year": 2026,
                                           "title": "乐至县2026年民生实事项目", "seats": 10},
                    headers=world.headers("gov_staff"))
    r = upload(client, world, r.json()["id"], data)
    assert r.status_code == 409 and r.json()["code"] == "not_soliciting"
    assert proposals(client) == []


# --- whatever file arrives, an answer and never a 500 ------------------------------------------

_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=14)
_real = st.sampled_from(["GD-1", "GD-2", "ｇｄ-1", "交通出行", "不存在", "金顺镇", "jinshun", "安岳县",
                         "12.5", "很多", "-3", "NaN", "1e9", "2025-03-15 09:12", "0001-01-01",
                         "2025年3月15日", "热线", "来信", "13800001111", "电话13800001111",
                         "石佛村村道硬化", "村道一下雨就是泥，孩子上学、老人看病都不方便。", ""])


@st.composite
def exports(draw) -> bytes:
    header = draw(st.lists(st.sampled_from([*HEADER, "渠道", "办理状态", "Record No", "内容", ""]),
                           min_size=1, max_size=11))
    rows = draw(st.lists(st.lists(st.one_of(_real, _text), max_size=12), max_size=4))
    kind = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "xlsx"]))
    if kind == "xlsx":
        return xlsx_bytes(rows, header, title=draw(st.one_of(st.none(), _text)))
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    return out.getvalue().encode(kind, errors="replace")


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.one_of(exports(), st.binary(max_size=80)), dry_run=st.booleans())
def test_any_export_gets_an_answer_never_a_500(client, world, cycle_id, data, dry_run):
    """Odd headers, cells, encodings and bytes: 200/201, 413 or 422 with {detail, code}."""
    client.portal.call(client.app.state.rate_limits.limiter.storage.reset)
    r = upload(client, world, cycle_id, data, dry_run=dry_run)
    assert r.status_code in (200, 201, 413, 422), (data[:200], r.status_code, r.text)
    if r.status_code >= 400:
        assert r.json()["detail"] and r.json()["code"], r.text
