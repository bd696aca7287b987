"""The import on /admin/jurisdictions: a preview of every row (new / unchanged / error with its
message), nothing stored until confirmed, and the file checked again on confirmation."""

from __future__ import annotations

import re

from app.auth.roles import Role
from tests.helpers import create_jurisdiction, create_user, csrf, page_login
from tests.jurisdictions.helpers import ZIYANG, ZIYANG_CODES, audit_actions, jurisdiction_count


def preview(client, content: bytes | str, name: str = "区划.csv"):
    data = content.encode() if isinstance(content, str) else content
    return client.post("/admin/jurisdictions/import/preview", data={"csrftoken": csrf(client)},
                       files={"file": (name, data, "text/csv")})


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def row(html: str, line: int) -> str:
    return re.search(rf'<tr class="status-\w+" id="line-{line}">.*?</tr>', html, re.S).group(0)


def test_the_preview_shows_every_row_and_the_confirmation_stores_them(client, world):
    page_login(client, "admin")
    before = jurisdiction_count(client)
    content = ZIYANG + "lezhi,乐至县,county,,\n"
    r = preview(client, content.encode("gbk"))
    assert r.status_code == 200, r.text
    html = r.text
    assert "共 6 行：新增 5，已存在不变 1，有错误 0。" in html and "GB18030" in html
    assert "预览：区划.csv" in html
    for line in range(2, 7):
        assert "新增" in row(html, line)
    assert "已存在，不变" in row(html, 7)
    assert "确认导入 5 个新区域" in html
    assert jurisdiction_count(client) == before  # a preview stores nothing
    assert not audit_actions(client, "jurisdiction.import")

    r = client.post("/admin/jurisdictions/import", follow_redirects=False, data={
        "csrftoken": csrf(client), "filename": hidden(html, "filename"),
        "payload": hidden(html, "payload")})
    assert r.status_code == 303
    assert r.headers["location"] == "/admin/jurisdictions?imported=5&unchanged=1"
    page = client.get(r.headers["location"]).text
    assert "导入完成：新增 5 个，已存在不变 1 个。" in page
    assert "资阳市" in page and "512021100" in page
    assert jurisdiction_count(client) == before + 5
    assert {e.entity_id for e in audit_actions(client, "jurisdiction.create")} == ZIYANG_CODES
    assert len(audit_actions(client, "jurisdiction.import")) == 1


def test_a_preview_with_errors_names_each_line_and_offers_no_confirmation(client, world):
    page_login(client, "admin")
    r = preview(client, "code,name,level,parent_code,division_code\n"
                        "ok1,好镇,township,lezhi,\n"
                        "tt,镇中镇,township,jinshun,\n"
                        "lezhi,乐至,county,,\n"
                        "fmt,格式错,township,lezhi,5120221\n")
    assert r.status_code == 422
    html = r.text
    assert "共 4 行：新增 1，已存在不变 0，有错误 3。" in html
    assert "未导入任何区域" in html and "confirm-import" not in html and 'name="payload"' not in html
    assert "新增" in row(html, 2)
    assert "乡镇区域的上级应为县级区域，而“jinshun”是乡镇。" in row(html, 3)
    assert "名称不同（已有：乐至县，文件：乐至）" in row(html, 4)
    assert "应为 9 位数字" in row(html, 5)
    # Errors come first, so a long file's problems are at the top.
    assert html.index('id="line-3"') < html.index('id="line-2"')
    assert jurisdiction_count(client) == 4


def test_the_confirmation_checks_the_file_again(client, world):
    page_login(client, "admin")
    html = preview(client, ZIYANG).text
    form = {"csrftoken": csrf(client), "filename": "区划.csv", "payload": hidden(html, "payload")}
    # Between preview and confirmation someone adds 资阳市 differently.
    create_jurisdiction(client, "ziyang", "资阳", "city")
    r = client.post("/admin/jurisdictions/import", data=form, follow_redirects=False)
    assert r.status_code == 422
    assert "自预览以来区域已有变化" in r.text
    assert "名称不同（已有：资阳，文件：资阳市）" in row(r.text, 4)
    assert jurisdiction_count(client) == 5 and not audit_actions(client, "jurisdiction.import")
    # A damaged confirmation is refused with a sentence, not an error page.
    r = client.post("/admin/jurisdictions/import", data={**form, "payload": "not base64!"})
    assert r.status_code == 422 and "请重新上传文件" in r.text


def test_file_problems_and_a_missing_file_are_said_on_the_page(client, world):
    page_login(client, "admin")
    r = preview(client, b"code,name\nx,y\n")
    assert r.status_code == 422 and "第一行应为列名" in r.text
    r = preview(client, b"PK\x03\x04")
    assert r.status_code == 422 and "这是 Excel 工作簿" in r.text
    r = client.post("/admin/jurisdictions/import/preview", data={"csrftoken": csrf(client)},
                    files={"file": ("", b"", "application/octet-stream")})
    assert r.status_code == 422 and "请选择要导入的 CSV 文件" in r.text


def test_the_page_adds_one_jurisdiction_of_any_level_with_its_division_code(client, world):
    page_login(client, "admin")
    r = client.post("/admin/jurisdictions", follow_redirects=False, data={
        "code": "sichuan", "name": "四川省", "level": "province", "parent_code": "",
        "division_code": "510000", "csrftoken": csrf(client)})
    assert r.status_code == 303
    r = client.post("/admin/jurisdictions", data={
        "code": "ziyang", "name": "资阳市", "level": "city", "parent_code": "sichuan",
        "division_code": "520000", "csrftoken": csrf(client)})
    assert r.status_code == 422 and "前 2 位应与上级的代码 510000 相同" in r.text
    assert 'value="资阳市"' in r.text  # what was typed is kept
    html = client.get("/admin/jurisdictions").text
    assert "四川省" in html and "510000" in html and "省级" in html
    assert '<option value="sichuan">四川省（省级）</option>' in html  # a possible parent


def test_only_admins_see_or_use_the_import(client, world):
    create_user(client, "gov-2", Role.gov_staff, "lezhi")
    page_login(client, "gov-2")
    assert client.get("/admin/jurisdictions").status_code == 403
    assert preview(client, ZIYANG).status_code == 403
    r = client.post("/admin/jurisdictions/import", data={"csrftoken": csrf(client),
                                                         "payload": "eA=="})
    assert r.status_code == 403
    assert jurisdiction_count(client) == 4
