"""票决 → 公开: a cycle is announced on a published ballot result that fills its seats, or with
the reason the remaining seats stay empty (DOMAIN.md 票决 6, issue 5 item 8)."""

from __future__ import annotations

import pytest

from tests.ballots.conftest import (
    API,
    add_deputies,
    balloting_cycle,
    move,
    publish_round,
    walk_round,
)
from tests.helpers import csrf, page_login, set_jurisdiction_settings


def announce(client, world, cycle_id: str, reason: str = ""):
    return client.post(f"{API}/cycles/{cycle_id}/transitions",
                       json={"to": "announced", "reason": reason},
                       headers=world.headers("congress_staff"))


def refused(r, *words: str) -> str:
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["code"] == "guard_failed", body
    for word in words:
        assert word in body["detail"], body
    return body["detail"]


def cycle_of(client, cycle_id: str) -> dict:
    return client.get(f"{API}/cycles/{cycle_id}").json()


def shortfall_of_two(client, world, cycle_id: str, candidates: list[str]) -> dict:
    """A published round of the 10-seat cycle in which only 8 candidates pass."""
    eight = {c: "yes" for c in candidates[:8]}
    results = publish_round(client, world, cycle_id,
                            ballots=[("deputy", eight), ("dep-1", eight)])
    assert results["outcome"] == "shortfall" and results["remaining_seats"] == 2
    return results


@pytest.mark.parametrize("state", ["created", "open", "closed", "tallied"])
def test_an_unfinished_round_is_named_and_refused(client, world, state):
    cycle_id, _ = balloting_cycle(client, world)
    walk_round(client, world, state, cycle_id=cycle_id)
    detail = refused(announce(client, world, cycle_id, reason="急于公开"), "Round 1", state)
    assert "publish or void" in detail
    cycle = cycle_of(client, cycle_id)
    assert cycle["phase"] == "balloting" and cycle["history"][-1]["to"] == "balloting"


def test_an_unfinished_runoff_after_a_published_round_is_refused(client, world):
    cycle_id, candidates = balloting_cycle(client, world)
    first = shortfall_of_two(client, world, cycle_id, candidates)
    r = client.post(f"{API}/ballots/{first['ballot_id']}/runoff",
                    headers=world.headers("congress_staff"))
    assert r.status_code == 201, r.text
    refused(announce(client, world, cycle_id, reason="不再投票"), "Round 2")


def test_nothing_published_is_refused(client, world):
    cycle_id, _ = balloting_cycle(client, world)
    refused(announce(client, world, cycle_id), "No ballot round", "published")
    # a voided round is finished but publishes nothing
    ballot_id = walk_round(client, world, "open", cycle_id=cycle_id)
    move(client, world, ballot_id, "void", reason="表决器故障")
    refused(announce(client, world, cycle_id, reason="直接公开"), "No ballot round")
    assert cycle_of(client, cycle_id)["phase"] == "balloting"


def test_all_seats_filled_in_one_round_is_announced_without_a_reason(client, world):
    cycle_id, _ = balloting_cycle(client, world)
    results = publish_round(client, world, cycle_id)
    assert results["outcome"] == "complete" and len(results["selected_ids"]) == 10
    r = announce(client, world, cycle_id)
    assert r.status_code == 200 and r.json() == {"phase": "announced"}, r.text


def test_seats_left_by_a_shortfall_need_the_reason_they_stay_empty(client, world):
    cycle_id, candidates = balloting_cycle(client, world)
    shortfall_of_two(client, world, cycle_id, candidates)
    refused(announce(client, world, cycle_id), "2 of 10 seats", "reason")
    refused(announce(client, world, cycle_id, reason="   "), "2 of 10 seats")  # blank
    assert cycle_of(client, cycle_id)["phase"] == "balloting"

    why = "经主任会议研究，其余 2 个项目纳入储备库，明年再议，本次不再投票"
    r = announce(client, world, cycle_id, reason=why)
    assert r.status_code == 200 and r.json() == {"phase": "announced"}, r.text
    last = cycle_of(client, cycle_id)["history"][-1]
    assert (last["from"], last["to"], last["by"], last["reason"]) == (
        "balloting", "announced", "congress-staff", why)
    assert last["at"]


def test_a_round_for_fewer_seats_than_the_cycle_also_needs_a_reason(client, world):
    cycle_id, _ = balloting_cycle(client, world)
    publish_round(client, world, cycle_id, seats=3)
    refused(announce(client, world, cycle_id), "7 of 10 seats")
    assert announce(client, world, cycle_id, reason="本级仅安排 3 个项目").status_code == 200


def test_seats_a_leave_empty_jurisdiction_leaves_empty_need_no_reason(client, world):
    cycle_id, candidates = balloting_cycle(client, world)
    set_jurisdiction_settings(client, "lezhi", shortfall_policy="leave_empty")  # before the round
    shortfall_of_two(client, world, cycle_id, candidates)
    r = announce(client, world, cycle_id)
    assert r.status_code == 200 and r.json() == {"phase": "announced"}, r.text


def test_a_tie_then_a_published_runoff_fills_every_seat(client, world):
    # T = 3 (threshold 2), 3 seats: c0 gets 3 yes, c1, c2 and c3 2 each — tied across the
    # 3rd seat, so c0 is in and c1–c3 go to a run-off for 2 seats.
    add_deputies(client, world, 2)
    cycle_id, (c0, c1, c2, c3) = balloting_cycle(client, world, candidates=4, seats=3)
    first = publish_round(client, world, cycle_id, candidate_ids=[c0, c1, c2, c3], ballots=[
        ("deputy", {c0: "yes", c1: "yes", c2: "yes"}),
        ("dep-1", {c0: "yes", c1: "yes", c3: "yes"}),
        ("dep-2", {c0: "yes", c2: "yes", c3: "yes"})])
    assert first["outcome"] == "runoff" and first["selected_ids"] == [c0]
    assert first["remaining_seats"] == 2 and first["runoff_candidate_ids"] == [c1, c2, c3]
    refused(announce(client, world, cycle_id), "2 of 3 seats")

    second = publish_round(client, world, cycle_id, runoff_of=first["ballot_id"])
    assert second["round"] == 2 and second["outcome"] == "complete"
    assert second["selected_ids"] == [c1, c2]
    r = announce(client, world, cycle_id)
    assert r.status_code == 200 and r.json() == {"phase": "announced"}, r.text
    assert cycle_of(client, cycle_id)["history"][-1]["reason"] == ""


# --- the cycle page ------------------------------------------------------------------------------


def test_the_cycle_page_asks_for_the_reason_and_keeps_it_without_javascript(client, world):
    cycle_id, candidates = balloting_cycle(client, world)
    url = f"/cycles/{cycle_id}"
    assert page_login(client, "congress-staff").status_code == 303
    page = client.get(url).text
    assert 'id="seat-status"' in page and "尚无公布的票决结果" in page
    r = client.post(url + "/transition", data={"to": "announced", "csrftoken": csrf(client)})
    assert r.status_code == 409 and "本年度还没有公布的票决结果" in r.text

    shortfall_of_two(client, world, cycle_id, candidates)
    page = client.get(url).text
    assert "产生 8 个项目（共 10 个名额）" in page and "还有 2 个名额未产生：如不再投票" in page
    r = client.post(url + "/transition", data={"to": "announced", "csrftoken": csrf(client)})
    assert r.status_code == 409 and 'data-phase="balloting"' in r.text
    assert "还有 2 个名额未产生：请再次投票，或说明剩余名额空缺的理由。" in r.text
    assert 'name="reason"' in r.text and 'aria-describedby="phase-error seat-status"' in r.text

    why = "其余名额空缺：候选项目未获过半数赞成"
    r = client.post(url + "/transition", data={"to": "announced", "reason": why,
                                               "csrftoken": csrf(client)})
    assert r.status_code == 200 and 'data-phase="announced"' in r.text and why in r.text
    assert 'id="seat-status"' not in r.text
    assert cycle_of(client, cycle_id)["history"][-1]["reason"] == why


def test_the_htmx_refusal_swaps_the_panel_with_the_message(client, world):
    cycle_id, candidates = balloting_cycle(client, world)
    shortfall_of_two(client, world, cycle_id, candidates)
    page_login(client, "congress-staff")
    r = client.post(f"/cycles/{cycle_id}/transition",
                    data={"to": "announced", "reason": "", "csrftoken": csrf(client)},
                    headers={"HX-Request": "true"})
    assert r.status_code == 409
    assert r.text.lstrip().startswith('<section id="phase-panel"')
    assert "还有 2 个名额未产生" in r.text
