"""POST /api/v1/jurisdictions/import: the whole file checked first, every bad line named, a
second import of the same file changing nothing, and the encodings Excel writes in China."""

from __future__ import annotations

import codecs
import json

from app.jurisdictions.imports import MAX_IMPORT_ROWS
from tests.jurisdictions.helpers import (
    ZIYANG,
    ZIYANG_CODES,
    audit_actions,
    jurisdiction_count,
    upload,
)


def listed(client) -> dict[str, dict]:
    items = client.get("/api/v1/jurisdictions?per_page=100").json()["items"]
    return {j["code"]: j for j in items}


def test_an_import_creates_every_row_parents_first_whatever_their_order(client, world):
    before = jurisdiction_count(client)
    r = upload(client, world.headers("admin"), ZIYANG)
    assert r.status_code == 201, r.text
    assert r.json() == {"created": 5, "unchanged": 0}
    assert jurisdiction_count(client) == before + 5
    items = listed(client)
    assert items["tianchi"]["parent_code"] == "anyue2"
    assert items["tianchi"]["division_code"] == "512021100"
    assert items["ziyang"]["level"] == "city" and items["sichuan"]["parent_code"] is None
    assert items["jinshun2"]["parent_code"] == "lezhi" and items["jinshun2"]["division_code"] is None
    codes = list(items)
    assert codes.index("sichuan") < codes.index("ziyang") < codes.index("anyue2") < codes.index(
        "tianchi")
    # One jurisdiction.create entry per jurisdiction, one jurisdiction.import entry with counts.
    assert {e.entity_id for e in audit_actions(client, "jurisdiction.create")} == ZIYANG_CODES
    (entry,) = audit_actions(client, "jurisdiction.import")
    data = json.loads(entry.data)
    assert (data["created"], data["unchanged"], data["encoding"]) == (5, 0, "UTF-8")
    assert entry.actor == "admin"


def test_a_second_import_of_the_same_file_changes_nothing(client, world):
    admin = world.headers("admin")
    assert upload(client, admin, ZIYANG).status_code == 201
    count, before = jurisdiction_count(client), listed(client)
    r = upload(client, admin, ZIYANG)
    assert r.status_code == 201 and r.json() == {"created": 0, "unchanged": 5}
    assert jurisdiction_count(client) == count and listed(client) == before
    assert len(audit_actions(client, "jurisdiction.create")) == 5
    assert [json.loads(e.data)["unchanged"] for e in audit_actions(
        client, "jurisdiction.import")] == [0, 5]
    # A longer file with the same rows adds only what is new.
    r = upload(client, admin, ZIYANG + "baoshan,宝山镇,township,anyue2,512021101\n")
    assert r.json() == {"created": 1, "unchanged": 5}


def test_every_bad_line_is_named_with_what_to_fix_and_nothing_is_stored(client, world):
    admin = world.headers("admin")
    assert upload(client, admin, "code,name,level,parent_code,division_code\n"
                                 "sichuan,四川省,province,,510000\n").status_code == 201
    before = jurisdiction_count(client)
    content = "\n".join([
        "code,name,level,parent_code,division_code",
        "good,好镇,township,lezhi,",                        # 2: fine, but not stored either
        "Bad Code,坏代码,township,lezhi,",                   # 3
        "noname,,township,lezhi,",                          # 4
        "lvl,级别错,village,lezhi,",                          # 5
        "orphan,孤儿镇,township,nowhere,",                   # 6
        "tt,镇中镇,township,jinshun,",                        # 7
        "fmt,格式错,township,lezhi,51202210",                 # 8
        "zy,资阳市,city,sichuan,522000",                      # 9
        "good,好镇又一次,township,lezhi,",                    # 10: duplicate code of line 2
        "cc,重复区划码一,county,,512030",                      # 11
        "dd,重复区划码二,county,,512030",                      # 12: division code of line 11
        "lezhi,乐至,county,,",                                # 13: differs from the stored name
        "self,自己,county,self,",                             # 14
        "sc2,四川,province,,510000",                          # 15: 510000 is sichuan's
        "wide,多一列,township,lezhi,,extra",                  # 16
        "prov,省中省,province,sichuan,",                      # 17
    ]) + "\n"
    r = upload(client, admin, content)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "csv_rows_invalid"
    by_line = {e["line"]: e for e in body["errors"]}
    assert set(by_line) == set(range(3, 18)) - {11}, body  # line 11 is fine; 12 repeats it
    expected = {3: "invalid_code", 4: "name_required", 5: "unknown_level", 6: "unknown_parent",
                7: "wrong_parent_level", 8: "division_code_format", 9: "division_code_mismatch",
                10: "duplicate_code", 12: "duplicate_division_code", 13: "differs_from_stored",
                14: "parent_is_itself", 15: "division_code_taken", 16: "csv_columns",
                17: "parent_not_allowed"}
    for line, code in expected.items():
        assert by_line[line]["code"] == code, (line, by_line[line])
        assert f"line {line}:" in body["detail"]
    assert "'nowhere' is neither in the file nor stored" in by_line[6]["detail"]
    assert "on line 2 already" in by_line[10]["detail"]
    assert "on line 11 already" in by_line[12]["detail"]
    assert "belongs to 'sichuan'" in by_line[15]["detail"]
    assert "Nothing was imported: 14 line(s) to fix" in body["detail"]
    assert jurisdiction_count(client) == before
    assert len(audit_actions(client, "jurisdiction.import")) == 1  # only the first, good file


def test_line_eleven_alone_is_fine_so_only_its_twin_is_named(client, world):
    r = upload(client, world.headers("admin"), "code,name,level,parent_code,division_code\n"
                                               "cc,一,county,,512030\ndd,二,county,,512030\n")
    assert r.status_code == 422
    assert [(e["line"], e["code"]) for e in r.json()["errors"]] == [
        (3, "duplicate_division_code")]


def test_a_stored_jurisdiction_is_never_changed_by_an_import(client, world):
    admin = world.headers("admin")
    r = upload(client, admin, "code,name,level,parent_code,division_code\n"
                              "lezhi,乐至县,county,,512022\n"
                              "jinshun,金顺镇,street,lezhi,\n")
    assert r.status_code == 422
    errors = {e["line"]: e for e in r.json()["errors"]}
    assert "division_code (stored: none, file: 512022)" in errors[2]["detail"]
    assert errors[2]["field"] == "division_code"
    assert "level (stored: township, file: street)" in errors[3]["detail"]
    assert "never changes a stored jurisdiction" in errors[3]["detail"]
    items = listed(client)
    assert items["lezhi"]["division_code"] is None and items["jinshun"]["level"] == "township"
    # The same rows as stored are simply unchanged.
    r = upload(client, admin, "code,name,level,parent_code\nlezhi,乐至县,county,\n"
                              "jinshun,金顺镇,township,lezhi\n")
    assert r.json() == {"created": 0, "unchanged": 2}


def test_gbk_gb18030_utf8_with_bom_and_utf16_files_all_read_alike(client, world):
    admin = world.headers("admin")
    text = ("code,name,level,parent_code,division_code\n"
            "sichuan,四川省,province,,510000\nziyang,资阳市,city,sichuan,512000\n")
    for encoded in (text.encode("gbk"), text.encode("gb18030"),
                    codecs.BOM_UTF8 + text.encode("utf-8")):
        r = upload(client, admin, encoded)
        assert r.status_code == 201, r.text
    assert listed(client)["ziyang"]["name"] == "资阳市"
    assert [json.loads(e.data)["encoding"] for e in audit_actions(
        client, "jurisdiction.import")] == ["GB18030", "GB18030", "UTF-8"]
    # Excel's "Unicode text": UTF-16 with a BOM, tabs between the columns.
    r = upload(client, admin, text.replace(",", "\t").encode("utf-16"))
    assert r.status_code == 201 and r.json() == {"created": 0, "unchanged": 2}, r.text
    r = upload(client, admin, "code,name,level,parent_code\r\nlz9,乐至九镇,township,lezhi\r\n"
               .encode("gbk"))
    assert r.json() == {"created": 1, "unchanged": 0}
    assert listed(client)["lz9"]["name"] == "乐至九镇"


def test_columns_in_any_order_chinese_level_names_and_no_division_column(client, world):
    r = upload(client, world.headers("admin"),
               "name,code,parent_code,level\n天池镇,tianchi,lezhi,镇\n城北街道,chengbei,lezhi,街道\n"
               "资阳市,ziyang,,地级市\n")
    assert r.status_code == 201, r.text
    items = listed(client)
    assert (items["tianchi"]["level"], items["chengbei"]["level"],
            items["ziyang"]["level"]) == ("township", "street", "city")


def test_files_that_cannot_be_read_as_this_csv_are_refused_whole(client, world):
    admin = world.headers("admin")
    cases = [
        (b"", "csv_empty"),
        (b"code,name,level\nlz,x,county\n", "csv_header"),
        (b"code,name,level,parent_code,extra\n", "csv_header"),
        (b"code,name,level,parent_code\n\n\n", "csv_no_rows"),
        (b"PK\x03\x04\x14\x00\x06\x00", "csv_encoding"),
        (b"code,name,level,parent_code\n\x80\x81\xff,x,county,\n", "csv_encoding"),
        (b"code,name,level,parent_code\nab,x\x00,county,\n", "csv_malformed"),
        (b'code,name,level,parent_code\nab,"x\n', "csv_malformed"),
    ]
    for content, code in cases:
        r = upload(client, admin, content)
        assert r.status_code == 422 and r.json()["code"] == code, (content, r.text)
        assert r.json()["detail"]
    rows = "".join(f"t{i},镇{i},township,lezhi\n" for i in range(MAX_IMPORT_ROWS + 1))
    r = upload(client, admin, "code,name,level,parent_code\n" + rows)
    assert r.status_code == 422 and r.json()["code"] == "csv_too_long"
    r = upload(client, admin, b"code,name,level,parent_code\n" + b"x" * 1_000_001)
    assert r.status_code == 413 and r.json()["code"] == "file_too_large"
    assert jurisdiction_count(client) == 4


def test_a_file_with_many_bad_lines_lists_them_all_in_errors(client, world):
    rows = "".join(f"Bad{i},镇,township,lezhi\n" for i in range(30))
    r = upload(client, world.headers("admin"), "code,name,level,parent_code\n" + rows)
    body = r.json()
    assert r.status_code == 422 and len(body["errors"]) == 30
    assert [e["line"] for e in body["errors"]] == list(range(2, 32))
    assert "and 10 more line(s), listed in 'errors'" in body["detail"]
    assert "line 21:" in body["detail"] and "line 22:" not in body["detail"]


def test_only_an_admin_imports(client, world):
    for who in ("gov_staff", "congress_staff", "deputy", "resident"):
        r = upload(client, world.headers(who), ZIYANG)
        assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    assert upload(client, {}, ZIYANG).status_code == 401
    assert jurisdiction_count(client) == 4
