"""A jurisdiction's settings through the API: read by anyone, changed by its congress staff (or
an admin) with a reason, every refusal naming what is allowed, one audit entry per change."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.audit import service as audit
from app.jurisdictions.settings import JurisdictionSettings
from app.models import AuditEntry, Jurisdiction
from tests.helpers import create_jurisdiction, run

API = "/api/v1"
URL = f"{API}/jurisdictions/lezhi/settings"
REASON = "县人大常委会第十二次会议决定"


def put(client, world, body: dict, who: str = "congress_staff", url: str = URL):
    return client.put(url, json=body, headers=world.headers(who))


def stored(client, code: str = "lezhi") -> dict:
    return run(client, lambda s: s.scalar(select(Jurisdiction.settings)
                                          .where(Jurisdiction.code == code)))


def entries(client, code: str = "lezhi") -> list[dict]:
    rows = run(client, lambda s: s.scalars(select(AuditEntry).where(
        AuditEntry.action == "jurisdiction.settings", AuditEntry.entity_id == code)
        .order_by(AuditEntry.seq)))
    return [{"actor": r.actor, **json.loads(r.data)} for r in rows]


def assert_refused(r, code: str, *sentences: str) -> dict:
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == code, body
    for sentence in sentences:
        assert sentence in body["detail"], (sentence, body["detail"])
    assert body["errors"] and all(e["loc"][0] == "body" for e in body["errors"]), body
    return body


# --- reading ----------------------------------------------------------------------------------


def test_anyone_reads_every_setting_with_its_default(client, world):
    r = client.get(URL)
    assert r.status_code == 200, r.text
    assert r.json() == JurisdictionSettings().model_dump()
    assert r.json()["threshold_base"] == "all" and r.json()["quorum_numerator"] == 2


def test_a_province_lists_are_decided_by_the_government_unless_it_says_otherwise(client, world):
    create_jurisdiction(client, "sichuan", "四川省", "province")
    url = f"{API}/jurisdictions/sichuan/settings"
    assert client.get(url).json()["decided_by"] == "government"
    r = put(client, world, {"decided_by": "ballot", "reason": REASON}, "admin", url)
    assert r.status_code == 200 and r.json()["decided_by"] == "ballot", r.text
    assert stored(client, "sichuan") == {"decided_by": "ballot"}
    r = put(client, world, {"decided_by": "government", "reason": "恢复默认"}, "admin", url)
    assert r.json()["decided_by"] == "government"
    assert stored(client, "sichuan") == {}  # back to following its level's default
    assert [e["changes"] for e in entries(client, "sichuan")] == [
        {"decided_by": {"from": "government", "to": "ballot"}},
        {"decided_by": {"from": "ballot", "to": "government"}}]


def test_an_unknown_jurisdiction_is_404(client, world):
    assert client.get(f"{API}/jurisdictions/nowhere/settings").status_code == 404
    r = put(client, world, {"plan_due_days": 40, "reason": REASON}, "admin",
            f"{API}/jurisdictions/nowhere/settings")
    assert r.status_code == 404 and r.json()["code"] == "unknown_jurisdiction"


# --- changing ---------------------------------------------------------------------------------


def test_congress_staff_change_two_settings_and_get_the_whole_settings_back(client, world):
    r = put(client, world, {"soliciting_min_days": 20, "threshold_base": "present",
                            "reason": REASON})
    assert r.status_code == 200, r.text
    expected = JurisdictionSettings(soliciting_min_days=20, threshold_base="present").model_dump()
    assert r.json() == expected
    assert client.get(URL).json() == expected
    # Only what differs from the defaults is stored: the rest follows DOMAIN.md.
    assert stored(client) == {"soliciting_min_days": 20, "threshold_base": "present"}


def test_one_change_is_one_audit_entry_with_each_settings_from_and_to_and_the_reason(client,
                                                                                    world):
    put(client, world, {"plan_due_days": 40, "publish_vote_counts": False,
                        "categories": ["教育", "养老"], "reason": REASON})
    assert entries(client) == [{
        "actor": "congress-staff", "reason": REASON,
        "changes": {"plan_due_days": {"from": 30, "to": 40},
                    "publish_vote_counts": {"from": True, "to": False},
                    "categories": {"from": JurisdictionSettings().categories,
                                   "to": ["教育", "养老"]}}}]
    put(client, world, {"plan_due_days": 45, "reason": "再次调整"}, "admin")
    assert [(e["actor"], e["changes"], e["reason"]) for e in entries(client)][1] == (
        "admin", {"plan_due_days": {"from": 40, "to": 45}}, "再次调整")
    assert run(client, audit.verify).ok


def test_a_change_that_changes_nothing_stores_nothing(client, world):
    put(client, world, {"plan_due_days": 40, "reason": REASON})
    before = run(client, lambda s: s.scalar(select(func.count()).select_from(AuditEntry)))
    for body in ({"plan_due_days": 40, "reason": "重复提交"}, {"plan_due_days": 40},
                 {"threshold_base": "all", "secret_ballot": True}, {}):
        r = put(client, world, body)
        assert r.status_code == 200 and r.json()["plan_due_days"] == 40, (body, r.text)
    after = run(client, lambda s: s.scalar(select(func.count()).select_from(AuditEntry)))
    assert after == before and len(entries(client)) == 1
    assert stored(client) == {"plan_due_days": 40}


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_change_needs_a_reason(client, world, reason):
    body = {"plan_due_days": 40} | ({} if reason is None else {"reason": reason})
    assert_refused(put(client, world, body), "reason_required", "reason")
    assert stored(client) == {} and entries(client) == []


def test_a_reason_over_500_characters_is_refused(client, world):
    assert_refused(put(client, world, {"plan_due_days": 40, "reason": "长" * 501}),
                   "invalid_settings", "at most 500 characters")
    assert stored(client) == {}


def test_an_unknown_setting_is_refused_by_name_with_a_suggestion(client, world):
    body = assert_refused(put(client, world, {"treshold_base": "all", "plan_due_days": 40,
                                              "reason": REASON}),
                          "invalid_settings", "'treshold_base' is not a setting",
                          "did you mean threshold_base?", "GET /api/v1/settings")
    assert body["errors"] == [{"loc": ["body", "treshold_base"], "type": "unknown_setting",
                               "msg": body["errors"][0]["msg"]}]
    assert stored(client) == {}  # the good plan_due_days is not stored either


def test_a_flood_of_unknown_settings_is_refused_naming_the_first_twenty(client, world):
    body = {f"rule_{i}": i for i in range(5000)} | {"reason": REASON}
    refused = assert_refused(put(client, world, body), "invalid_settings",
                             "'rule_0' is not a setting", "and 4980 more unknown settings")
    assert len(refused["errors"]) == 21
    assert stored(client) == {}


BAD_VALUES = [
    ("threshold_base", "half", "threshold_base must be one of all, present, cast"),
    ("threshold_base", None, "threshold_base must be one of all, present, cast"),
    ("shortfall_policy", "vote_again",
     "shortfall_policy must be one of further_round, leave_empty"),
    ("decided_by", "congress", "decided_by must be one of ballot, government"),
    ("planned_progress", 1, "planned_progress must be one of milestones, linear"),
    ("plan_due_days", 0, "plan_due_days must be a whole number from 1 to 365"),
    ("plan_due_days", 366, "plan_due_days must be a whole number from 1 to 365"),
    ("plan_due_days", "40", "plan_due_days must be a whole number from 1 to 365"),
    ("plan_due_days", 30.5, "plan_due_days must be a whole number from 1 to 365"),
    ("plan_due_days", True, "plan_due_days must be a whole number from 1 to 365"),
    ("soliciting_min_days", -1, "soliciting_min_days must be a whole number from 0 to 366"),
    ("scrutineer_signoffs", 11, "scrutineer_signoffs must be a whole number from 1 to 10"),
    ("quorum_denominator", 0, "quorum_denominator must be a whole number from 1 to 100"),
    ("objection_days", 10**30, "objection_days must be a whole number from 1 to 90"),
    ("extra_candidates_ratio", -0.1, "extra_candidates_ratio must be a number from 0 to 5"),
    ("extra_candidates_ratio", 5.5, "extra_candidates_ratio must be a number from 0 to 5"),
    ("extra_candidates_ratio", "0.2", "extra_candidates_ratio must be a number from 0 to 5"),
    ("secret_ballot", "yes", "secret_ballot must be true or false"),
    ("secret_ballot", 1, "secret_ballot must be true or false"),
    ("resident_scoring", None, "resident_scoring must be true or false"),
    ("categories", [], "categories must be a list of 1 to 30 different names"),
    ("categories", "教育", "categories must be a list of 1 to 30 different names"),
    ("categories", [1, 2], "categories must be a list of 1 to 30 different names"),
    ("categories", ["教育", " 教育 "], "'教育' is listed twice"),
    ("categories", ["教育", "  "], "'' is not a category name"),
    ("categories", ["长" * 21], "is not a category name: 1 to 20 characters on one line"),
    ("categories", ["城乡\n建设"], "is not a category name"),
    ("categories", [f"类别{i}" for i in range(31)],
     "categories must be a list of 1 to 30 different names"),
    ("categories", {"教育": 1}, "categories must be a list of 1 to 30 different names"),
]


@pytest.mark.parametrize("setting, value, sentence", BAD_VALUES,
                         ids=[f"{s}={v!r}"[:40] for s, v, _ in BAD_VALUES])
def test_a_bad_value_is_refused_saying_what_is_allowed(client, world, setting, value, sentence):
    body = assert_refused(put(client, world, {setting: value, "reason": REASON}),
                          "invalid_settings", sentence)
    assert [e["loc"] for e in body["errors"]] == [["body", setting]]
    assert body["errors"][0]["type"] == "invalid_value"
    assert stored(client) == {} and entries(client) == []


def test_every_problem_of_a_change_is_named_at_once(client, world):
    body = assert_refused(put(client, world, {"threshold_base": "half", "plan_due_days": 0,
                                              "no_such_rule": 1}),
                          "invalid_settings")
    assert {e["loc"][1] for e in body["errors"]} == {"threshold_base", "plan_due_days",
                                                     "no_such_rule", "reason"}
    body = assert_refused(put(client, world, {"plan_due_days": 0, "red_gap_points": 5,
                                              "reason": REASON}), "invalid_settings")
    assert [(e["loc"][1], e["type"]) for e in body["errors"]] == [
        ("plan_due_days", "invalid_value"), ("red_gap_points", "inconsistent")]
    assert stored(client) == {}


CROSS_FIELD = [
    ({"yellow_gap_points": 20}, "yellow_gap_points (20) must be below red_gap_points (20)",
     "yellow_gap_points"),
    ({"red_gap_points": 5}, "yellow_gap_points (10) must be below red_gap_points (5)",
     "red_gap_points"),
    ({"deputies_weight": 60}, "must add up to 100 (now 60 + 50)", "deputies_weight"),
    ({"residents_weight": 40, "deputies_weight": 40}, "must add up to 100 (now 40 + 40)",
     "deputies_weight"),
    ({"quorum_numerator": 4}, "must not be above 1 (now 4/3)", "quorum_numerator"),
    ({"quorum_denominator": 1}, "must not be above 1 (now 2/1)", "quorum_denominator"),
]


@pytest.mark.parametrize("change, sentence, named", CROSS_FIELD,
                         ids=[",".join(c) for c, _, _ in CROSS_FIELD])
def test_settings_that_do_not_fit_together_are_refused(client, world, change, sentence, named):
    body = assert_refused(put(client, world, change | {"reason": REASON}), "invalid_settings",
                          sentence)
    assert [(e["loc"][1], e["type"]) for e in body["errors"]] == [(named, "inconsistent")]
    assert stored(client) == {}


def test_settings_that_fit_only_together_may_change_together(client, world):
    r = put(client, world, {"yellow_gap_points": 25, "red_gap_points": 30,
                            "deputies_weight": 60, "residents_weight": 40,
                            "quorum_numerator": 3, "quorum_denominator": 4, "reason": REASON})
    assert r.status_code == 200, r.text
    assert (r.json()["yellow_gap_points"], r.json()["red_gap_points"]) == (25, 30)
    assert (r.json()["quorum_numerator"], r.json()["quorum_denominator"]) == (3, 4)


def test_category_names_are_trimmed(client, world):
    r = put(client, world, {"categories": [" 教育 ", "养老服务"], "reason": REASON})
    assert r.json()["categories"] == ["教育", "养老服务"]


def test_a_nul_character_in_a_value_is_refused(client, world):
    r = put(client, world, {"categories": ["教\x00育"], "reason": REASON})
    assert r.status_code == 422 and r.json()["code"] == "invalid_field", r.text
    assert stored(client) == {}


def test_a_body_that_is_not_an_object_is_refused(client, world):
    r = client.put(URL, json=["plan_due_days", 40], headers=world.headers("congress_staff"))
    assert r.status_code in (400, 422) and r.json()["code"]
    r = client.put(URL, json={"plan_due_days": 40, "reason": 7},
                   headers=world.headers("congress_staff"))
    assert r.status_code == 422 and r.json()["code"] == "invalid_field"
    assert stored(client) == {}


# --- who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who, status, code", [
    ("other_congress_staff", 403, "outside_jurisdiction"),
    ("township_congress_staff", 403, "outside_jurisdiction"),
    ("gov_staff", 403, "permission_denied"),
    ("deputy", 403, "permission_denied"),
    ("anonymous", 401, "not_authenticated"),
])
def test_only_congress_staff_of_the_jurisdiction_or_an_admin_change_it(client, world, who,
                                                                       status, code):
    r = put(client, world, {"plan_due_days": 40, "reason": REASON}, who)
    assert r.status_code == status and r.json()["code"] == code, r.text
    assert stored(client) == {} and entries(client) == []


def test_township_congress_staff_change_their_own_townships_settings(client, world):
    url = f"{API}/jurisdictions/jinshun/settings"
    r = put(client, world, {"categories": ["道路", "饮水"], "reason": "镇人大主席团决定"},
            "township_congress_staff", url)
    assert r.status_code == 200, r.text
    assert client.get(URL).json()["categories"] == JurisdictionSettings().categories


def test_a_grant_lets_congress_staff_of_another_county_change_lezhis_settings(client, world):
    r = client.post(f"{API}/users/{world.users['other_congress_staff'].id}/grants",
                    json={"jurisdiction_code": "lezhi"}, headers=world.headers("admin"))
    assert r.status_code == 201, r.text
    r = put(client, world, {"plan_due_days": 40, "reason": REASON}, "other_congress_staff")
    assert r.status_code == 200 and r.json()["plan_due_days"] == 40, r.text


# --- history and the registry -------------------------------------------------------------------


def test_the_history_lists_changes_newest_first_for_the_jurisdictions_staff(client, world):
    put(client, world, {"plan_due_days": 40, "reason": "第一次"})
    put(client, world, {"plan_due_days": 45, "secret_ballot": False, "reason": "第二次"})
    r = client.get(f"{URL}/history", headers=world.headers("gov_staff"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 2
    first, second = body["items"]
    assert (first["reason"], first["by"]) == ("第二次", "congress-staff")
    assert first["changes"] == [{"setting": "secret_ballot", "from": True, "to": False},
                                {"setting": "plan_due_days", "from": 40, "to": 45}]
    assert second["changes"] == [{"setting": "plan_due_days", "from": 30, "to": 40}]
    r = client.get(f"{URL}/history", headers=world.headers("other_gov_staff"))
    assert r.status_code == 403 and r.json()["code"] == "outside_jurisdiction"
    assert client.get(f"{URL}/history", headers=world.headers("resident")).status_code == 403


def test_the_description_of_the_settings_covers_every_setting(client):
    r = client.get(f"{API}/settings")
    assert r.status_code == 200, r.text
    body = r.json()
    assert [s["stage"] for s in body["stages"]] == ["soliciting", "screening", "balloting",
                                                    "announced", "supervising", "evaluating"]
    assert [s["name"] for s in body["settings"]] == list(JurisdictionSettings.model_fields)
    by_name = {s["name"]: s for s in body["settings"]}
    assert by_name["threshold_base"] | {"meaning": ""} == {
        "name": "threshold_base", "zh_name": "通过票数的基数", "meaning": "",
        "stage": "balloting", "stage_name": "票决", "default": "all", "kind": "choice",
        "choices": [{"value": "all", "label": "全体代表"},
                    {"value": "present", "label": "出席代表"},
                    {"value": "cast", "label": "投票的代表"}]}
    assert by_name["plan_due_days"]["minimum"] == 1 and by_name["plan_due_days"]["unit"] == "天"
    assert by_name["decided_by"]["level_defaults"] == {"city": "government",
                                                       "province": "government"}
    assert by_name["categories"]["max_items"] == 30 and by_name["categories"]["max_chars"] == 20
    for s in body["settings"]:
        assert s["zh_name"] and s["meaning"] and s["stage_name"], s
