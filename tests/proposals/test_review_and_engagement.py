"""Endorsements, staff review (accept, reject, merge), the reserve, comments, the inbox."""

from __future__ import annotations

from tests.helpers import create_user, set_jurisdiction_settings, token_headers
from tests.proposals.conftest import API, open_cycle, propose


def review(client, world, pid, **body):
    return client.post(f"{API}/proposals/{pid}/review", json=body,
                       headers=world.headers("gov_staff"))


def test_endorse_once_per_person_and_not_ones_own(client, world, cycle_id):
    pid = propose(client, world, cycle_id)
    r = client.post(f"{API}/proposals/{pid}/endorsements", headers=world.headers("deputy"))
    assert r.status_code == 201 and r.json()["endorsements"] == 1
    r = client.post(f"{API}/proposals/{pid}/endorsements", headers=world.headers("deputy"))
    assert r.status_code == 409 and r.json()["code"] == "already_endorsed"
    r = client.post(f"{API}/proposals/{pid}/endorsements", headers=world.headers("resident"))
    assert r.status_code == 409 and r.json()["code"] == "own_proposal"
    r = client.post(f"{API}/proposals/{pid}/endorsements", headers=world.headers("gov_staff"))
    assert r.status_code == 403
    assert client.get(f"{API}/proposals/{pid}").json()["endorsements"] == 1


def test_accept_and_reject_are_recorded_with_public_reasons_and_the_proposer_told(
        client, world, cycle_id):
    a = propose(client, world, cycle_id, title="村道硬化工程")
    b = propose(client, world, cycle_id, title="新建县政府办公楼")
    assert review(client, world, a, decision="accept").json() == {"state": "accepted"}
    r = review(client, world, b, decision="reject")
    assert r.status_code == 422 and r.json()["code"] == "reason_required"
    r = review(client, world, b, decision="reject", reason="属于楼堂馆所建设，列入负面清单")
    assert r.json() == {"state": "rejected"}
    history = client.get(f"{API}/proposals/{b}").json()["history"]
    assert history[-1]["to"] == "rejected" and "负面清单" in history[-1]["reason"]
    assert history[-1]["by"] == "gov-staff"
    inbox = client.get(f"{API}/users/me/notifications", headers=world.headers("resident")).json()
    messages = [n["message"] for n in inbox["items"]]
    assert any("负面清单" in m for m in messages) and any("储备库" in m for m in messages)
    assert inbox["total"] == 2 and not inbox["items"][0]["read"]
    client.post(f"{API}/users/me/notifications/read", headers=world.headers("resident"))
    inbox = client.get(f"{API}/users/me/notifications", headers=world.headers("resident")).json()
    assert all(n["read"] for n in inbox["items"])
    # A decided proposal cannot be decided again.
    r = review(client, world, b, decision="accept")
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"


def test_merge_moves_endorsements_without_counting_anyone_twice(client, world, cycle_id):
    create_user(client, "r2", "resident")
    create_user(client, "r3", "resident")
    target = propose(client, world, cycle_id, title="金顺镇道路改造")
    source = propose(client, world, cycle_id, who="deputy", title="金顺镇公路提档升级")
    # r2 backs both; r3 backs only the source; the resident (target's proposer) backs the source.
    for who, pid in (("r2", target), ("r2", source), ("r3", source)):
        client.post(f"{API}/proposals/{pid}/endorsements", headers=token_headers(client, who))
    client.post(f"{API}/proposals/{source}/endorsements", headers=world.headers("resident"))
    r = review(client, world, source, decision="merge", merge_into_id=target)
    assert r.json() == {"state": "merged"}
    t = client.get(f"{API}/proposals/{target}").json()
    # r2 once, r3, and the source's proposer (the deputy); not the target's own proposer.
    assert t["endorsements"] == 3
    s = client.get(f"{API}/proposals/{source}").json()
    assert s["merged_into_id"] == target and s["state"] == "merged"
    assert "金顺镇道路改造" in s["history"][-1]["reason"]
    r = client.post(f"{API}/proposals/{source}/endorsements", headers=token_headers(client, "r2"))
    assert r.status_code == 409 and r.json()["code"] == "proposal_merged"


def test_merge_refuses_bad_targets(client, world, cycle_id):
    a = propose(client, world, cycle_id, title="村道硬化工程")
    b = propose(client, world, cycle_id, who="deputy", title="新建县政府办公楼")
    review(client, world, b, decision="reject", reason="负面清单")
    for target, code in ((None, "merge_target_required"), (a, "bad_merge_target"),
                         (b, "bad_merge_target"), ("nope", "unknown_proposal")):
        r = review(client, world, a, decision="merge", merge_into_id=target)
        assert r.json()["code"] == code, (target, r.text)
    assert client.get(f"{API}/proposals/{a}").json()["state"] == "submitted"


def test_review_is_gov_staffs_and_scoped(client, world, cycle_id):
    pid = propose(client, world, cycle_id)
    for who in ("congress_staff", "resident", "deputy"):
        r = client.post(f"{API}/proposals/{pid}/review", json={"decision": "accept"},
                        headers=world.headers(who))
        assert r.status_code == 403, who
    r = client.post(f"{API}/proposals/{pid}/review", json={"decision": "accept"},
                    headers=world.headers("other_gov_staff"))
    assert r.status_code == 403 and r.json()["code"] == "outside_jurisdiction"


def test_reserve_proposals_carry_into_next_year_with_history_and_endorsements(client, world):
    set_jurisdiction_settings(client, "lezhi", soliciting_min_days=0)
    old_cycle = open_cycle(client, world, year=2024)
    kept = propose(client, world, old_cycle, title="农村饮水安全提升")
    client.post(f"{API}/proposals/{kept}/endorsements", headers=world.headers("deputy"))
    review(client, world, kept, decision="accept", reason="进入储备库")
    new_cycle = open_cycle(client, world, year=2025)
    reserve = client.get(f"{API}/jurisdictions/lezhi/reserve?before_year=2025",
                         headers=world.headers("gov_staff")).json()
    assert [p["id"] for p in reserve] == [kept]
    r = client.post(f"{API}/cycles/{new_cycle}/reserve", json={"proposal_ids": [kept]},
                    headers=world.headers("gov_staff"))
    assert r.status_code == 201
    copy_id = r.json()["carried"][0]["id"]
    copy = client.get(f"{API}/proposals/{copy_id}").json()
    assert copy["state"] == "accepted" and copy["endorsements"] == 1
    assert copy["carried_from_id"] == kept and copy["cycle_id"] == new_cycle
    assert [h["to"] for h in copy["history"]] == ["submitted", "accepted", "carried", "accepted"]
    assert client.get(f"{API}/proposals/{kept}").json()["state"] == "carried"
    assert client.get(f"{API}/jurisdictions/lezhi/reserve?before_year=2025",
                      headers=world.headers("gov_staff")).json() == []
    r = client.post(f"{API}/cycles/{new_cycle}/reserve", json={"proposal_ids": [kept]},
                    headers=world.headers("gov_staff"))
    assert r.status_code == 409
    # Carrying a proposal of the same year is refused.
    same = propose(client, world, new_cycle, title="本年度建议")
    r = client.post(f"{API}/cycles/{new_cycle}/reserve", json={"proposal_ids": [same]},
                    headers=world.headers("gov_staff"))
    assert r.status_code == 422 and r.json()["code"] == "not_in_reserve"


def test_comments_reports_and_hiding_keep_everything(client, world, cycle_id):
    pid = propose(client, world, cycle_id)
    r = client.post(f"{API}/proposals/{pid}/comments", json={"body": "支持！这条路确实该修了。"},
                    headers=world.headers("deputy"))
    assert r.status_code == 201
    bad = client.post(f"{API}/proposals/{pid}/comments", json={"body": "广告：办证 138xxxx"},
                      headers=world.headers("resident")).json()["id"]
    assert client.post(f"{API}/comments/{bad}/reports", json={"reason": "广告"},
                       headers=world.headers("deputy")).status_code == 201
    r = client.post(f"{API}/comments/{bad}/reports", json={"reason": "广告"},
                    headers=world.headers("deputy"))
    assert r.status_code == 409
    assert client.post(f"{API}/comments/{bad}/hide", json={"reason": "广告"},
                       headers=world.headers("resident")).status_code == 403
    r = client.post(f"{API}/comments/{bad}/hide", json={"reason": "广告信息"},
                    headers=world.headers("gov_staff"))
    assert r.status_code == 200 and r.json()["hidden"] is True
    public = client.get(f"{API}/proposals/{pid}/comments").json()
    hidden = [c for c in public if c["id"] == bad][0]
    assert hidden["body"] is None and hidden["hidden_reason"] == "广告信息"
    staff_view = client.get(f"{API}/proposals/{pid}/comments",
                            headers=world.headers("congress_staff")).json()
    assert [c for c in staff_view if c["id"] == bad][0]["body"].startswith("广告")
    r = client.post(f"{API}/comments/{bad}/hide", json={"reason": "again"},
                    headers=world.headers("gov_staff"))
    assert r.status_code == 409
    for body in ("", " " * 3, "长" * 2001):
        r = client.post(f"{API}/proposals/{pid}/comments", json={"body": body},
                        headers=world.headers("deputy"))
        assert r.status_code == 422, body
    assert client.post(f"{API}/proposals/{pid}/comments", json={"body": "hi"}).status_code == 401
