"""The congress session (票决会议) a cycle names: set by congress staff until the 公告, quoted by it.

The 公告 of 乐至县第十八届人民代表大会第五次会议 is issued in that session's name, as real notices
are (“（2025年1月12日乐至县第十八届人民代表大会第五次会议通过）”, signed by its 主席团); a
cycle that names no session keeps the jurisdiction's 人民代表大会.
"""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import select

from app.models import AuditEntry
from tests.ballots.conftest import API, balloting_cycle, publish_round
from tests.helpers import csrf, page_login, run
from tests.projects.test_announcement import announce

SESSION = "第十八届人民代表大会第五次会议"


def _put(client, world, cycle_id: str, value, who: str = "congress_staff"):
    return client.put(f"{API}/cycles/{cycle_id}/congress-session",
                      json={"congress_session": value}, headers=world.headers(who))


def _new_cycle(client, world, **extra) -> dict:
    r = client.post(f"{API}/cycles", headers=world.headers("gov_staff"), json={
        "jurisdiction_code": "lezhi", "year": 2025, "title": "乐至县2025年民生实事项目",
        "seats": 3, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def _audit(client, cycle_id: str) -> list[dict]:
    rows = run(client, lambda s: s.scalars(select(AuditEntry).where(
        AuditEntry.action == "cycle.congress_session", AuditEntry.entity_id == cycle_id)
        .order_by(AuditEntry.seq)))
    return [{"actor": e.actor, **json.loads(e.data)} for e in rows]


def test_congress_staff_name_the_session_and_the_change_is_recorded(client, world):
    cycle = _new_cycle(client, world)
    assert cycle["congress_session"] is None
    r = _put(client, world, cycle["id"], f" 乐至县{SESSION} ")  # spaces and the county go
    assert r.status_code == 200, r.text
    assert r.json()["congress_session"] == SESSION
    assert client.get(f"{API}/cycles/{cycle['id']}").json()["congress_session"] == SESSION
    assert _put(client, world, cycle["id"], "第十八届人民代表大会第六次会议").status_code == 200
    assert _put(client, world, cycle["id"], None).json()["congress_session"] is None
    assert _audit(client, cycle["id"]) == [
        {"actor": "congress-staff", "from": None, "to": SESSION},
        {"actor": "congress-staff", "from": SESSION, "to": "第十八届人民代表大会第六次会议"},
        {"actor": "congress-staff", "from": "第十八届人民代表大会第六次会议", "to": None}]


def test_gov_staff_may_name_it_when_creating_the_cycle(client, world):
    assert _new_cycle(client, world, congress_session=SESSION)["congress_session"] == SESSION


def test_a_name_that_is_not_a_congress_session_is_refused_and_nothing_changes(client, world):
    cycle = _new_cycle(client, world, congress_session=SESSION)
    for bad in ("第五次会议", "第十八届人民代表大会", "人大会议", "第十八届人民代表大会" * 10 + "会议"):
        r = _put(client, world, cycle["id"], bad)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["code"] in ("invalid_congress_session", "invalid_field"), r.text
    r = _put(client, world, cycle["id"], "第五次会议")
    assert "第十八届人民代表大会第五次会议" in r.json()["detail"]  # says what to write
    assert client.get(f"{API}/cycles/{cycle['id']}").json()["congress_session"] == SESSION
    r = client.post(f"{API}/cycles", headers=world.headers("gov_staff"), json={
        "jurisdiction_code": "lezhi", "year": 2026, "title": "2026", "seats": 3,
        "congress_session": "年会"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_congress_session"


def test_only_congress_staff_of_the_jurisdiction_may_name_it(client, world):
    cycle = _new_cycle(client, world)
    for who in ("gov_staff", "deputy", "resident"):
        assert _put(client, world, cycle["id"], SESSION, who).status_code == 403, who
    assert _put(client, world, cycle["id"], SESSION, "other_congress_staff").status_code == 403
    assert _put(client, world, cycle["id"], SESSION, "anonymous").status_code == 401
    assert client.get(f"{API}/cycles/{cycle['id']}").json()["congress_session"] is None


def test_the_announcement_speaks_for_the_session_and_fixes_its_name(client, world):
    cycle_id, _ = balloting_cycle(client, world, seats=2)
    assert _put(client, world, cycle_id, SESSION).status_code == 200
    publish_round(client, world, cycle_id)
    announce(client, world, cycle_id)
    body = "乐至县" + SESSION

    html = client.get(f"/cycles/{cycle_id}/announcement").text
    assert f"<h1 id=\"notice-h\">{body}关于2025年民生实事项目票决结果的公告</h1>" in html
    assert f"经{body}代表票决通过）" in html
    assert f"{body}对2025年民生实事候选项目进行了票决" in html
    assert f"{body}主席团" in html
    data = client.get(f"{API}/cycles/{cycle_id}/announcement").json()["cycle"]
    assert data["congress_session"] == SESSION and data["issued_by"] == body
    assert f"<dd>{body}</dd>" in client.get(f"/cycles/{cycle_id}").text
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"{API}/cycles/{cycle_id}/open-data.zip")
                                         .content))
    assert f"票决会议 congress session: {body}" in archive.read("README.txt").decode()

    r = _put(client, world, cycle_id, "第十八届人民代表大会第六次会议")
    assert r.status_code == 409 and r.json()["code"] == "already_announced"
    assert client.get(f"{API}/cycles/{cycle_id}").json()["congress_session"] == SESSION
    page_login(client, world.users["congress_staff"].username)  # the panel no longer offers it
    assert 'id="congress-session-form"' not in client.get(f"/cycles/{cycle_id}").text


def test_without_a_session_the_announcement_speaks_for_the_congress(client, world):
    cycle_id, _ = balloting_cycle(client, world, seats=2)
    publish_round(client, world, cycle_id)
    announce(client, world, cycle_id)
    html = client.get(f"/cycles/{cycle_id}/announcement").text
    assert "乐至县人民代表大会关于2025年民生实事项目票决结果的公告" in html
    assert "乐至县人民代表大会主席团" in html
    data = client.get(f"{API}/cycles/{cycle_id}/announcement").json()["cycle"]
    assert data["congress_session"] is None and data["issued_by"] == "乐至县人民代表大会"


def test_the_phase_panel_form_names_it_and_shows_a_mistake_with_the_value_kept(client, world):
    cycle = _new_cycle(client, world)
    page_login(client, world.users["congress_staff"].username)
    page = client.get(f"/cycles/{cycle['id']}").text
    assert 'id="congress-session-form"' in page
    r = client.post(f"/cycles/{cycle['id']}/congress-session",
                    data={"congress_session": "第五次会议", "csrftoken": csrf(client)})
    assert r.status_code == 422
    assert "请填写人代会会议的全称" in r.text and 'value="第五次会议"' in r.text
    r = client.post(f"/cycles/{cycle['id']}/congress-session",
                    data={"congress_session": SESSION, "csrftoken": csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(f"/cycles/{cycle['id']}")
    assert f"<dd>乐至县{SESSION}</dd>" in client.get(f"/cycles/{cycle['id']}").text


def test_the_form_is_not_offered_to_gov_staff(client, world):
    cycle = _new_cycle(client, world)
    page_login(client, world.users["gov_staff"].username)
    assert 'id="congress-session-form"' not in client.get(f"/cycles/{cycle['id']}").text
    r = client.post(f"/cycles/{cycle['id']}/congress-session",
                    data={"congress_session": SESSION, "csrftoken": csrf(client)})
    assert r.status_code == 403
