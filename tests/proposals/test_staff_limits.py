"""Rate limits on filing: staff recording others' proposals have their own (higher) limit, and
only what was stored uses up anyone's quota — on the API and on the page."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.models import Proposal
from app.ratelimit import HOTLINE_IMPORTS_PER_ACCOUNT, STAFF_PROPOSALS_PER_ACCOUNT
from tests.helpers import csrf, page_login, run
from tests.proposals.conftest import API, proposal_body
from tests.proposals.hotline_files import GOOD, csv_bytes, upload


def count(client) -> int:
    return run(client, lambda s: s.scalar(select(func.count()).select_from(Proposal)))


def use_up(client, rule, user_id: str, n: int) -> None:
    """`n` units of `rule` used by `user_id`, as n stored proposals would have."""
    async def hits():
        for _ in range(n):
            await client.app.state.rate_limits.hit(rule, user_id)

    client.portal.call(hits)


def record(client, world, cycle_id, i: int, who: str = "gov_staff", **overrides):
    return client.post(f"{API}/cycles/{cycle_id}/proposals", headers=world.headers(who),
                       json=proposal_body(title=f"第{i}条热线来电：村道硬化", channel="hotline",
                                          proposer_name=f"来电群众{i}", **overrides))


def test_staff_recording_a_busy_hotline_hour_are_not_held_to_the_residents_limit(
        client, world, cycle_id):
    for i in range(12):  # a resident is stopped after 5 an hour
        r = record(client, world, cycle_id, i)
        assert r.status_code == 201, (i, r.text)
    assert count(client) == 12


def test_the_staff_limit_stops_a_runaway_script(client, world, cycle_id):
    staff = world.users["gov_staff"].id
    use_up(client, STAFF_PROPOSALS_PER_ACCOUNT, staff, 299)
    assert record(client, world, cycle_id, 1).status_code == 201
    r = record(client, world, cycle_id, 2)
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    assert int(r.headers["retry-after"]) > 0 and count(client) == 1
    # Another staff account, and the residents, have limits of their own.
    r = client.post(f"{API}/cycles/{cycle_id}/proposals", json=proposal_body(),
                    headers=world.headers("resident"))
    assert r.status_code == 201


def test_refused_attempts_use_up_no_quota_on_the_api(client, world, cycle_id):
    bad = proposal_body(category="不存在的类别")
    for _ in range(8):  # the service refuses each (422): nothing stored, nothing counted
        r = client.post(f"{API}/cycles/{cycle_id}/proposals", json=bad,
                        headers=world.headers("resident"))
        assert r.status_code == 422 and r.json()["code"] == "unknown_category"
    for i in range(5):
        r = client.post(f"{API}/cycles/{cycle_id}/proposals",
                        json=proposal_body(title=f"第{i}条建议：修路灯"),
                        headers=world.headers("resident"))
        assert r.status_code == 201, (i, r.text)
    r = client.post(f"{API}/cycles/{cycle_id}/proposals", json=proposal_body(),
                    headers=world.headers("resident"))
    assert r.status_code == 429 and count(client) == 5


def test_a_refused_duplicate_record_uses_up_no_staff_quota(client, world, cycle_id):
    staff = world.users["gov_staff"].id
    use_up(client, STAFF_PROPOSALS_PER_ACCOUNT, staff, 298)
    assert record(client, world, cycle_id, 1, source_ref="GD-1").status_code == 201
    for _ in range(5):  # 409 duplicate_source_ref, again and again
        r = record(client, world, cycle_id, 1, source_ref="GD-1")
        assert r.status_code == 409 and r.json()["code"] == "duplicate_source_ref"
    assert record(client, world, cycle_id, 2, source_ref="GD-2").status_code == 201
    assert record(client, world, cycle_id, 3).status_code == 429


def page_form(client, **fields) -> dict:
    return {"csrftoken": csrf(client), "title": "南塔街道人民路安装路灯",
            "description": "人民路晚上没有路灯，散步的老人和放学的孩子都看不清路。",
            "category": "公共安全", "location_code": "nanta", "place": "人民路中段", **fields}


def submit(client, cycle_id, data):
    return client.post(f"/cycles/{cycle_id}/proposals/new", data=data, follow_redirects=False)


def test_refused_attempts_use_up_no_quota_on_the_page(client, world, cycle_id):
    page_login(client, "resident")
    for _ in range(7):
        r = submit(client, cycle_id, page_form(client, category="不存在的类别"))
        assert r.status_code == 422
    for i in range(5):
        r = submit(client, cycle_id, page_form(client, title=f"第{i + 1}条建议：人民路路灯"))
        assert r.status_code == 303, (i, r.text)
    r = submit(client, cycle_id, page_form(client, title="第六条建议：人民路路灯"))
    assert r.status_code == 429 and "每小时最多 5 条" in r.text
    assert count(client) == 5


def test_staff_on_the_page_have_the_staff_limit(client, world, cycle_id):
    page_login(client, "gov-staff")
    for i in range(7):
        r = submit(client, cycle_id, page_form(client, title=f"第{i + 1}条热线：人民路路灯",
                                               channel="hotline", proposer_name="王大妈"))
        assert r.status_code == 303, (i, r.text)
    use_up(client, STAFF_PROPOSALS_PER_ACCOUNT, world.users["gov_staff"].id, 300)
    r = submit(client, cycle_id, page_form(client, channel="hotline", proposer_name="王大妈"))
    assert r.status_code == 429 and "每小时最多 300 条" in r.text
    assert re.search(r'value="王大妈"', r.text) and count(client) == 7


def test_only_imports_that_stored_something_count_against_the_import_limit(
        client, world, cycle_id):
    staff = world.users["gov_staff"].id
    use_up(client, HOTLINE_IMPORTS_PER_ACCOUNT, staff, 19)
    bad = csv_bytes([["", *GOOD[0][1:]]])
    for _ in range(3):  # refused (422), previews and a re-import that creates nothing
        assert upload(client, world, cycle_id, bad).status_code == 422
        assert upload(client, world, cycle_id, csv_bytes(GOOD), dry_run=True).status_code == 200
    assert upload(client, world, cycle_id, csv_bytes(GOOD)).status_code == 201
    r = upload(client, world, cycle_id, csv_bytes(GOOD[:1]))
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    assert upload(client, world, cycle_id, csv_bytes(GOOD), dry_run=True).status_code == 200
