"""Lists decided by the government (DOMAIN.md): a city's list and a county-level district's list
go from 初定 through a public comment period on the draft (征求意见) to 公开, never through a
ballot; the adopted items become projects that take plans like any other."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from app.models import AuditEntry, Project, StateTransition
from app.timeutil import china_today
from tests.govlist.helpers import (
    API,
    add_government_places,
    adoption,
    answer,
    comment,
    commenting_cycle,
    move,
    new_cycle,
    ok,
    period_began,
    screening_cycle,
)
from tests.helpers import run, set_jurisdiction_settings
from tests.projects.helpers import plan_body, put_plan


def test_a_cycle_records_how_its_list_is_decided_when_it_is_created(client, world):
    add_government_places(client, world)
    city = new_cycle(client, world, "hefei")
    district = new_cycle(client, world, "yaohai")
    county = client.post(f"{API}/cycles", headers=world.headers("gov_staff"), json={
        "jurisdiction_code": "lezhi", "year": 2026, "title": "乐至县2026年民生实事项目",
        "seats": 10}).json()
    assert (city["decided_by"], district["decided_by"], county["decided_by"]) == (
        "government", "government", "ballot")
    assert city["adoption"] is None and county["adoption"] is None
    # the cycle keeps the rule it was created with, whatever the setting becomes
    set_jurisdiction_settings(client, "yaohai", decided_by="ballot")
    set_jurisdiction_settings(client, "lezhi", decided_by="government")
    assert ok(client.get(f"{API}/cycles/{district['id']}"))["decided_by"] == "government"
    assert ok(client.get(f"{API}/cycles/{county['id']}"))["decided_by"] == "ballot"
    listed = {c["id"]: c["decided_by"] for c in ok(client.get(f"{API}/cycles"))["items"]}
    assert listed[city["id"]] == "government" and listed[county["id"]] == "ballot"
    created = run(client, lambda s: s.scalar(select(AuditEntry.data).where(
        AuditEntry.action == "cycle.create", AuditEntry.entity_id == city["id"])))
    assert json.loads(created)["decided_by"] == "government"


def test_a_city_list_goes_from_draft_to_announced_with_projects(client, world):
    add_government_places(client, world)
    cycle_id, items, proposals = screening_cycle(client, world, "hefei", items=3)
    ok(move(client, world, cycle_id, "commenting", "hefei_gov", reason="市政府常务会议同意公开征求意见"))
    listed = ok(client.get(f"{API}/cycles/{cycle_id}/draft-list"))
    assert listed["phase"] == "commenting" and listed["decided_by"] == "government"
    assert [i["id"] for i in listed["items"]] == items
    assert listed["items"][0]["source_proposal_ids"] == [proposals[0]]
    assert listed["period"]["min_days"] == 30 and listed["period"]["days_left"] == 30
    # the public (no account) reads the draft and its items; residents and deputies comment
    assert client.get(f"{API}/candidates/{items[0]}").status_code == 200
    on_list = comment(client, world, cycle_id, "resident", "建议把养老服务站延伸到城郊。")
    on_item = comment(client, world, cycle_id, "deputy", "照明改造应同步检查线路安全。", items[2])
    # staff answer one and note the other
    ok(answer(client, world, on_list["id"], "hefei_gov"))
    ok(answer(client, world, on_item["id"], "hefei_gov", kind="noted", text=""))
    period_began(client, cycle_id, days_ago=31)
    held = china_today().isoformat()
    ok(client.put(f"{API}/cycles/{cycle_id}/adoption", headers=world.headers("hefei_gov"),
                  json=adoption(held, meeting="市政府常务会议", number="合政〔2026〕12号")))
    ok(move(client, world, cycle_id, "announced", "hefei_gov", reason="研究确定，予以公告"))

    cycle = ok(client.get(f"{API}/cycles/{cycle_id}"))
    assert [h["to"] for h in cycle["history"]] == [
        "draft", "soliciting", "screening", "commenting", "announced"]
    assert cycle["adoption"]["meeting"] == "市政府常务会议"
    assert cycle["adoption"]["document_number"] == "合政〔2026〕12号"
    projects = ok(client.get(f"{API}/cycles/{cycle_id}/projects"))["items"]
    assert [p["candidate_id"] for p in projects] == items
    assert all(p["yes"] is None and p["ballot_id"] is None and p["state"] == "announced"
               for p in projects)
    assert projects[0]["source_proposal_ids"] == [proposals[0]]
    # every project was born with a recorded reason naming the meeting and the document
    born = run(client, lambda s: s.scalars(select(StateTransition.reason).where(
        StateTransition.entity_type == "project", StateTransition.from_state.is_(None))))
    assert set(born) == {"市政府常务会议研究确定（合政〔2026〕12号），公告为民生实事项目"}
    # the plans are the same as for a balloted list
    first = date.fromisoformat(projects[0]["created_at"][:10])
    saved = put_plan(client, world, projects[0]["id"],
                     plan_body(first, date(2026, 12, 31),
                               budget=Decimal(projects[0]["budget_wan"])),
                     who="hefei_gov")
    assert saved.status_code == 200, saved.text
    # the cycle then moves on to 监督 like any other (congress staff)
    ok(move(client, world, cycle_id, "supervising", "hefei_congress"))
    assert ok(client.get(f"{API}/cycles/{cycle_id}"))["phase"] == "supervising"


def test_a_district_deciding_by_government_adopts_with_the_move_and_leaves_an_item_out(
        client, world):
    add_government_places(client, world, comment_period_min_days=5)
    cycle_id, items = commenting_cycle(client, world, "yaohai", items=4)
    c = comment(client, world, cycle_id, "yaohai_resident", "加装电梯资金压力大，建议分年实施。",
                items[3])
    ok(answer(client, world, c["id"], "yaohai_gov", text="采纳，电梯项目调整到下一年度统筹。"))
    period_began(client, cycle_id, days_ago=5.01)
    record = adoption(china_today().isoformat(), left_out=[
        {"candidate_id": items[3], "reason": "根据征求意见，资金需分年安排，调整到下一年度。"}],
        number="瑶政[2026]3号")
    ok(move(client, world, cycle_id, "announced", "yaohai_gov", reason="区长办公会研究确定",
            adoption=record))

    projects = ok(client.get(f"{API}/cycles/{cycle_id}/projects"))["items"]
    assert [p["candidate_id"] for p in projects] == items[:3]
    cycle = ok(client.get(f"{API}/cycles/{cycle_id}"))
    assert cycle["phase"] == "announced"
    assert cycle["adoption"]["document_number"] == "瑶政〔2026〕3号"  # brackets made 〔〕
    assert cycle["adoption"]["left_out"] == [{
        "candidate_id": items[3], "title": "老旧小区加装电梯",
        "reason": "根据征求意见，资金需分年安排，调整到下一年度。"}]
    assert cycle["adoption"]["recorded_by"] == "yaohai-gov"
    draft = ok(client.get(f"{API}/cycles/{cycle_id}/draft-list"))
    assert [(i["left_out"], i["left_out_reason"] is not None) for i in draft["items"]] == [
        (False, False)] * 3 + [(True, True)]
    assert draft["period"]["open"] is False and draft["period"]["ended_at"]
    actions = run(client, lambda s: s.scalars(select(AuditEntry.action).where(
        AuditEntry.entity_id == cycle_id)))
    assert {"cycle.adoption", "cycle.transition", "project.create_from_list"} <= set(actions)
    assert run(client, lambda s: s.scalar(select(Project.id).where(
        Project.candidate_id == items[3]))) is None
