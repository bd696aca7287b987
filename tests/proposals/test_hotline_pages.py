"""The staff pages for hotline records: the import (upload → preview → confirm) and the 工单号
and phone on the single-proposal form."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.models import Proposal
from app.proposals.hotline_file import MAX_FILE_BYTES
from tests.helpers import csrf, page_login, run, set_jurisdiction_settings
from tests.proposals.conftest import API, proposal_body
from tests.proposals.hotline_files import GOOD, HEADER, csv_bytes, xlsx_bytes


def count(client) -> int:
    return run(client, lambda s: s.scalar(select(func.count()).select_from(Proposal)))


def preview(client, cycle_id, data: bytes, name: str = "12345.csv"):
    return client.post(f"/staff/cycles/{cycle_id}/proposals/import",
                       data={"csrftoken": csrf(client)},
                       files={"file": (name, data, "application/octet-stream")})


def confirm_fields(html: str) -> dict:
    form = re.search(r'<form[^>]*id="confirm-form".*?</form>', html, re.S).group(0)
    return {name: value for name, value in
            re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form)}


def confirm(client, cycle_id, fields: dict):
    return client.post(f"/staff/cycles/{cycle_id}/proposals/import/confirm",
                       files={k: (None, v) for k, v in
                              {**fields, "csrftoken": csrf(client)}.items()},
                       follow_redirects=False)


def test_staff_upload_preview_and_confirm_an_export(client, world, cycle_id):
    page_login(client, "gov-staff")
    triage = client.get(f"/staff/cycles/{cycle_id}/triage").text
    assert f'href="/staff/cycles/{cycle_id}/proposals/import"' in triage
    page = client.get(f"/staff/cycles/{cycle_id}/proposals/import")
    assert page.status_code == 200 and 'id="upload-form"' in page.text and "工单号" in page.text
    r = preview(client, cycle_id, xlsx_bytes(GOOD), "三月工单.xlsx")
    assert r.status_code == 200, r.text
    assert "预览：三月工单.xlsx" in r.text and r.text.count("将新建") >= 3
    assert "确认导入 3 条" in r.text and count(client) == 0
    assert "石佛村村道硬化" in r.text and "第 2 行" in r.text
    r = confirm(client, cycle_id, confirm_fields(r.text))
    assert r.status_code == 303
    assert r.headers["location"] == f"/staff/cycles/{cycle_id}/proposals/import?created=3&skipped=0"
    assert "已导入 3 条建议" in client.get(r.headers["location"]).text and count(client) == 3
    # The same file again: every row already imported, nothing to confirm.
    r = preview(client, cycle_id, xlsx_bytes(GOOD), "三月工单.xlsx")
    assert "文件中的工单都已导入过" in r.text and r.text.count("已导入过，跳过") == 3
    assert 'id="confirm-form"' not in r.text


def test_a_preview_with_problems_names_each_and_offers_no_confirm(client, world, cycle_id):
    page_login(client, "gov-staff")
    rows = [GOOD[0], ["GD-X", *GOOD[1][1:6], "不存在的类别", *GOOD[1][7:]], ["", *GOOD[2][1:]]]
    r = preview(client, cycle_id, csv_bytes(rows))
    assert r.status_code == 200
    assert "文件中有 2 行需要修改" in r.text and 'id="confirm-form"' not in r.text
    line3 = re.search(r'<tr class="import-row invalid" id="line-3">.*?</tr>', r.text, re.S)
    assert "“类别”：“不存在的类别”不是本年度的类别" in line3.group(0)
    assert "“工单号”：工单号不能为空" in r.text and count(client) == 0


def test_confirm_checks_the_file_again(client, world, cycle_id):
    page_login(client, "gov-staff")
    fields = confirm_fields(preview(client, cycle_id, csv_bytes(GOOD)).text)
    # Meanwhile a colleague typed in the first record by hand.
    r = client.post(f"{API}/cycles/{cycle_id}/proposals", headers=world.headers("gov_staff"),
                    json=proposal_body(channel="hotline", proposer_name="张大爷",
                                       source_ref="GD-2025-0001"))
    assert r.status_code == 201
    r = confirm(client, cycle_id, fields)
    assert r.headers["location"].endswith("?created=2&skipped=1") and count(client) == 3


def test_confirm_after_soliciting_ended_stores_nothing(client, world, cycle_id):
    page_login(client, "gov-staff")
    fields = confirm_fields(preview(client, cycle_id, csv_bytes(GOOD)).text)
    set_jurisdiction_settings(client, "lezhi", soliciting_min_days=0)
    r = client.post(f"{API}/cycles/{cycle_id}/transitions", json={"to": "screening"},
                    headers=world.headers("gov_staff"))
    assert r.status_code == 200
    r = confirm(client, cycle_id, fields)
    assert r.status_code == 409 and "本年度建议征集尚未开始或已经结束" in r.text
    assert count(client) == 0


def test_a_confirm_without_the_previewed_file_is_refused(client, world, cycle_id):
    page_login(client, "gov-staff")
    fields = confirm_fields(preview(client, cycle_id, csv_bytes(GOOD)).text)
    for changed in ({**fields, "content": fields["content"][:-8] + "AAAAAAA="},
                    {**fields, "content": "不是base64"}, {**fields, "digest": "0" * 64},
                    {"filename": "x.csv"}):
        r = confirm(client, cycle_id, changed)
        assert r.status_code == 422 and "没有收到预览过的文件，请重新上传" in r.text
    assert count(client) == 0


def test_whole_file_refusals_are_explained_on_the_page(client, world, cycle_id):
    page_login(client, "gov-staff")
    header = [h for h in HEADER if h != "类别"]
    r = preview(client, cycle_id, csv_bytes([GOOD[0][:6] + GOOD[0][7:]], header))
    assert r.status_code == 422 and "文件缺少必需的列：类别" in r.text
    assert 'id="upload-form"' in r.text
    r = preview(client, cycle_id, csv_bytes(GOOD) + b"x" * MAX_FILE_BYTES)
    assert r.status_code == 413 and "文件超过 5 MB" in r.text
    r = client.post(f"/staff/cycles/{cycle_id}/proposals/import",
                    data={"csrftoken": csrf(client)})
    assert r.status_code == 422 and "请选择要导入的热线工单文件" in r.text


def test_only_the_jurisdictions_gov_staff_open_the_import(client, world, cycle_id):
    for who in ("resident", "congress-staff", "unit-staff"):
        page_login(client, who)
        assert client.get(f"/staff/cycles/{cycle_id}/proposals/import").status_code == 403
        assert preview(client, cycle_id, csv_bytes(GOOD)).status_code == 403
    page_login(client, "other-gov-staff")
    assert client.get(f"/staff/cycles/{cycle_id}/proposals/import").status_code == 403
    assert preview(client, cycle_id, csv_bytes(GOOD)).status_code == 403
    assert count(client) == 0


def staff_form(client, **fields) -> dict:
    return {"csrftoken": csrf(client), "title": "南塔街道人民路安装路灯",
            "description": "人民路晚上没有路灯，散步的老人和放学的孩子都看不清路。",
            "category": "公共安全", "location_code": "nanta", "place": "人民路中段",
            "channel": "hotline", "proposer_name": "王大妈", **fields}


def test_the_staff_form_records_a_record_number_and_a_phone_once(client, world, cycle_id):
    page_login(client, "gov-staff")
    page = client.get(f"/cycles/{cycle_id}/proposals/new").text
    assert 'name="source_ref"' in page and 'name="proposer_phone"' in page
    r = client.post(f"/cycles/{cycle_id}/proposals/new", follow_redirects=False,
                    data=staff_form(client, source_ref="gd-2025-0009",
                                    proposer_phone="138 0000 1111"))
    assert r.status_code == 303
    stored = run(client, lambda s: s.scalar(select(Proposal)))
    assert (stored.source_ref, stored.proposer_phone) == ("GD-2025-0009", "138 0000 1111")
    r = client.post(f"/cycles/{cycle_id}/proposals/new", follow_redirects=False,
                    data=staff_form(client, source_ref="GD-2025-0009", title="同一工单再录一次"))
    assert r.status_code == 409 and "工单号 GD-2025-0009 已经录入过" in r.text
    assert 'value="同一工单再录一次"' in r.text and count(client) == 1
    r = client.post(f"/cycles/{cycle_id}/proposals/new", follow_redirects=False,
                    data=staff_form(client, proposer_phone="打不通"))
    assert r.status_code == 422 and "「联系电话」格式不正确" in r.text
    r = client.post(f"/cycles/{cycle_id}/proposals/new", follow_redirects=False,
                    data=staff_form(client, description="王大妈说人民路晚上没有路灯，看不清路。"))
    assert r.status_code == 422 and "请删去其中的建议人姓名“王大妈”" in r.text
    assert count(client) == 1


def test_a_resident_has_no_record_number_or_phone_to_give(client, world, cycle_id):
    page_login(client, "resident")
    page = client.get(f"/cycles/{cycle_id}/proposals/new").text
    assert 'name="source_ref"' not in page and 'name="proposer_phone"' not in page
    r = client.post(f"/cycles/{cycle_id}/proposals/new", follow_redirects=False,
                    data={**staff_form(client, source_ref="GD-1", proposer_phone="13800001111"),
                          "channel": "", "proposer_name": ""})
    assert r.status_code == 303  # the fields are not the resident's: dropped
    stored = run(client, lambda s: s.scalar(select(Proposal)))
    assert stored.source_ref is None and stored.proposer_phone == ""
    r = client.post(f"{API}/cycles/{cycle_id}/proposals", headers=world.headers("resident"),
                    json=proposal_body(title="另一条：人民路路灯", source_ref="GD-1"))
    assert r.status_code == 422 and r.json()["code"] == "staff_only_field"
