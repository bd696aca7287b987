"""The pages: home timeline, staff cycle pages, admin pages, forms re-shown with Chinese errors."""

from __future__ import annotations

import re

from tests.helpers import csrf, page_login, set_jurisdiction_settings


def new_cycle(client, **fields):
    data = {"jurisdiction_code": "lezhi", "year": "2025", "title": "乐至县2025年民生实事项目",
            "seats": "10", "csrftoken": csrf(client), **fields}
    return client.post("/cycles/new", data=data, follow_redirects=False)


def test_home_names_each_jurisdiction_and_each_cycles_phase(client, world):
    page_login(client, "gov-staff")
    cycle_url = new_cycle(client).headers["location"]
    client.post(cycle_url + "/transition", data={"to": "soliciting", "csrftoken": csrf(client)})
    html = client.get("/").text
    for name in ("乐至县", "金顺镇", "南塔街道", "安岳县"):
        assert name in html
    assert "当前阶段：征集" in html
    assert re.search(r'class="now" aria-current="step">\s*<span class="dot"[^>]*>1</span>\s*'
                     r'<span class="label">征集', html)
    assert "不设人大" in html  # the street is marked as having no congress


def test_staff_create_a_cycle_and_move_its_phase_with_a_reason(client, world):
    page_login(client, "gov-staff")
    r = new_cycle(client)
    assert r.status_code == 303
    url = r.headers["location"]
    page = client.get(url).text
    assert 'data-phase="draft"' in page and "进入「征集」" in page
    r = client.post(url + "/transition", data={"to": "soliciting", "reason": "县政府常务会议决定",
                                                "csrftoken": csrf(client)})
    assert r.status_code == 200
    assert 'data-phase="soliciting"' in r.text and "县政府常务会议决定" in r.text
    assert client.get(f"/api/v1/cycles/{url.rsplit('/', 1)[1]}").json()["phase"] == "soliciting"


def test_htmx_transition_returns_only_the_phase_panel(client, world):
    set_jurisdiction_settings(client, "lezhi", soliciting_min_days=0)
    page_login(client, "gov-staff")
    url = new_cycle(client).headers["location"]
    r = client.post(url + "/transition", data={"to": "soliciting"},
                    headers={"hx-request": "true", "x-csrftoken": csrf(client)})
    assert r.status_code == 200
    assert r.text.lstrip().startswith('<section id="phase-panel"') and "<html" not in r.text


def test_a_refused_transition_is_shown_on_the_page_in_chinese(client, world):
    page_login(client, "gov-staff")
    url = new_cycle(client).headers["location"]
    client.post(url + "/transition", data={"to": "soliciting", "csrftoken": csrf(client)})
    r = client.post(url + "/transition", data={"to": "screening", "reason": "提前结束",
                                                "csrftoken": csrf(client)})
    assert r.status_code == 409
    assert "征集期不少于 30 天" in r.text and "提前结束" in r.text  # the reason is kept


def test_public_sees_the_cycle_without_controls(client, world):
    page_login(client, "gov-staff")
    url = new_cycle(client).headers["location"]
    client.post("/logout", data={"csrftoken": csrf(client)})
    page = client.get(url).text
    assert "乐至县2025年民生实事项目" in page and "进入「" not in page
    r = client.post(url + "/transition", data={"to": "soliciting", "csrftoken": csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_congress_staff_see_only_their_own_steps(client, world):
    page_login(client, "congress-staff")
    page_url = None
    from tests.helpers import token_headers

    r = client.post("/api/v1/cycles", json={"jurisdiction_code": "lezhi", "year": 2025,
                                            "title": "t", "seats": 3},
                    headers=token_headers(client, "gov-staff"))
    page_url = f"/cycles/{r.json()['id']}"
    assert "进入「" not in client.get(page_url).text  # draft → soliciting is gov staff's step


def test_the_new_cycle_form_is_reshown_with_chinese_errors_and_values_kept(client, world):
    page_login(client, "gov-staff")
    r = new_cycle(client, year="明年", seats="0", title="保留的标题")
    assert r.status_code == 422
    assert "「年度」须为整数" in r.text and "「拟票决项目数」不能小于 1" in r.text
    assert 'value="保留的标题"' in r.text
    new_cycle(client)
    r = new_cycle(client)
    assert r.status_code == 409 and "已经存在" in r.text


def test_pages_that_need_a_role_refuse_others(client, world):
    page_login(client, "deputy")
    for url in ("/cycles/new", "/admin/users", "/admin/jurisdictions", "/admin/deputies"):
        r = client.get(url)
        assert r.status_code == 403 and "没有权限" in r.text, url


def test_admin_adds_a_jurisdiction_and_an_account_through_the_pages(client, world):
    page_login(client, "admin")
    r = client.post("/admin/jurisdictions", data={"code": "tianchi", "name": "天池镇",
                                                  "level": "township", "parent_code": "lezhi",
                                                  "csrftoken": csrf(client)})
    assert "天池镇" in client.get("/admin/jurisdictions").text
    r = client.post("/admin/jurisdictions", data={"code": "x1", "name": "无上级镇",
                                                  "level": "township", "parent_code": "",
                                                  "csrftoken": csrf(client)})
    assert r.status_code == 422 and "乡镇和街道须选择所属的县" in r.text
    unit = client.post("/api/v1/jurisdictions/lezhi/units", json={"name": "县交通运输局"},
                       headers=world.headers("gov_staff")).json()
    account = {"username": "zhao-liu", "display_name": "赵六", "password": "first-pass-1",
               "role": "unit_staff", "jurisdiction_code": "lezhi", "csrftoken": csrf(client)}
    # a unit's staff account names its unit: refused without, the form shown again
    r = client.post("/admin/users", data=account)
    assert r.status_code == 422 and "责任单位账号须选择所属责任单位" in r.text
    assert 'value="zhao-liu"' in r.text and "乐至县 · 县交通运输局" in r.text
    r = client.post("/admin/users", data={**account, "unit_id": unit["id"]})
    assert "赵六" in client.get("/admin/users").text
    r = client.post("/admin/users", data={**account, "unit_id": unit["id"]})
    assert r.status_code == 409 and "已被使用" in r.text
    # An account made by an admin must change its password at first log-in.
    client.post("/logout", data={"csrftoken": csrf(client)})
    assert page_login(client, "zhao-liu", "first-pass-1").headers["location"] == "/account/password"


def test_congress_staff_import_the_roster_on_a_page_and_see_passwords_once(client, world):
    page_login(client, "congress-staff")
    assert "导入代表名册" in client.get("/admin/deputies").text
    r = client.post("/admin/deputies", data={"jurisdiction_code": "lezhi",
                                             "csrftoken": csrf(client)},
                    files={"file": ("r.csv", "username,display_name\nd-1,张三\nd-2,李四\n".encode(),
                                    "text/csv")})
    assert r.status_code == 200 and "已导入 2 名代表" in r.text
    assert r.text.count("<code>d-") == 2
    r = client.post("/admin/deputies", data={"jurisdiction_code": "lezhi",
                                             "csrftoken": csrf(client)},
                    files={"file": ("r.csv", b"wrong,header\n", "text/csv")})
    assert r.status_code == 422 and "第一行必须是" in r.text


def test_traditional_chinese_can_be_chosen(client, world):
    r = client.get("/lang/zh_Hant?next=/", follow_redirects=False)
    assert r.status_code == 303 and "lang=zh_Hant" in r.headers["set-cookie"]
    html = client.get("/").text
    assert 'lang="zh-TW"' in html and "简体" in html


def test_pages_are_phone_ready_and_use_local_htmx(client, world):
    html = client.get("/login").text
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert '<script src="/static/vendor/htmx.min.js"' in html and "unpkg" not in html
    r = client.get("/static/vendor/htmx.min.js")
    assert r.status_code == 200 and "htmx" in r.text[:2000]
    csp = client.get("/").headers["content-security-policy"]
    assert "script-src 'self'" in csp


def test_an_upload_with_the_file_before_the_csrf_token_is_refused(client, world):
    page_login(client, "congress-staff")
    token = csrf(client)
    boundary = "XyZ"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\nusername,display_name\nd-9,A\n\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrftoken\"\r\n\r\n{token}\r\n"
            f"--{boundary}--\r\n").encode()
    r = client.post("/admin/deputies", content=body,
                    headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 403
    r = client.post("/admin/deputies", content=b"x",
                    headers={"content-type": "multipart/form-data"})
    assert r.status_code == 400


def test_traditional_pages_translate_the_layout_phases_and_errors(client, world):
    client.get("/lang/zh_Hant")
    page_login(client, "gov-staff")
    r = new_cycle(client, year="明年")
    assert "民生實事票決" in r.text and "請修改" in r.text  # layout and a dynamic error
    url = new_cycle(client).headers["location"]
    assert "籌備" in client.get(url).text  # the phase label 筹备


def test_the_traditional_catalog_has_every_marked_string(tmp_path):
    """scripts/i18n.py must be re-run when a page string is added."""
    import subprocess
    import sys
    from pathlib import Path

    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parent.parent
    pot = tmp_path / "messages.pot"
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), "-q", "extract", "-F",
                    str(root / "babel.cfg"), "-o", str(pot), str(root / "app"),
                    str(root / "templates")], capture_output=True, check=True)
    with pot.open("rb") as f:
        marked = {m.id for m in read_po(f) if m.id}
    with (root / "app/locale/zh_Hant/LC_MESSAGES/messages.po").open("rb") as f:
        translated = {m.id for m in read_po(f) if m.id and m.string}
    assert marked - translated == set(), "run .venv/bin/python scripts/i18n.py"


def test_api_docs_load_swagger_ui_from_our_own_origin(client):
    html = client.get("/api/docs").text
    assert "/static/vendor/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    assert client.get("/static/vendor/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/vendor/not-a-thing.js").status_code == 404
