"""A hidden comment's text is read by the moderators whose jurisdiction covers its cycle (and
admins), nobody else: not the public, not staff of another county — on every face."""

from __future__ import annotations

from datetime import timedelta

from app.timeutil import china_today
from tests.candidates.conftest import accepted, candidate_body, to_screening
from tests.govlist.helpers import add_government_places, comment, commenting_cycle, ok
from tests.helpers import csrf, page_login, set_jurisdiction_settings
from tests.proposals.conftest import API, open_cycle, propose

SECRET = "加微信领补贴 xxx-hidden-text"
OUTSIDERS = ("other_gov_staff", "other_congress_staff")


def _hidden_proposal_comment(client, world) -> tuple[str, str]:
    cycle_id = open_cycle(client, world)
    pid = propose(client, world, cycle_id)
    c = ok(client.post(f"{API}/proposals/{pid}/comments", json={"body": SECRET},
                       headers=world.headers("deputy")), 201)
    ok(client.post(f"{API}/comments/{c['id']}/hide", json={"reason": "广告信息"},
                   headers=world.headers("gov_staff")))
    return pid, c["id"]


def test_a_hidden_proposal_comment_is_read_by_its_own_moderators_only(client, world):
    pid, cid = _hidden_proposal_comment(client, world)
    for who in OUTSIDERS + ("resident", "anonymous"):
        body = ok(client.get(f"{API}/proposals/{pid}/comments", headers=world.headers(who)))
        assert body[0]["hidden"] and body[0]["body"] is None, who
    for who in ("gov_staff", "congress_staff", "admin"):
        body = ok(client.get(f"{API}/proposals/{pid}/comments", headers=world.headers(who)))
        assert body[0]["body"] == SECRET, who


def test_the_proposal_page_and_its_fragments_keep_hidden_text_in_scope(client, world):
    pid, cid = _hidden_proposal_comment(client, world)
    assert page_login(client, "other-gov-staff").status_code == 303
    page = client.get(f"/proposals/{pid}")
    assert page.status_code == 200 and "广告信息" in page.text and SECRET not in page.text
    assert 'action="/staff/comments/' not in page.text  # no hide form for another county
    # The answer to a report (htmx: the one comment again) neither.
    r = client.post(f"/comments/{cid}/report", data={"reason": "广告", "csrftoken": csrf(client)},
                    headers={"HX-Request": "true"})
    assert r.status_code in (200, 409) and SECRET not in r.text
    client.cookies.clear()
    assert page_login(client, "gov-staff").status_code == 303
    assert SECRET in client.get(f"/proposals/{pid}").text


def test_a_hidden_comment_on_a_published_candidate_is_read_in_scope_only(client, world):
    set_jurisdiction_settings(client, "lezhi", soliciting_min_days=0)
    cycle_id = open_cycle(client, world)
    ids = accepted(client, world, cycle_id, 1)
    to_screening(client, world, cycle_id)
    ok(client.post(f"{API}/jurisdictions/lezhi/units", json={"name": "县交通运输局"},
                   headers=world.headers("gov_staff")), 201)
    cand = ok(client.post(f"{API}/cycles/{cycle_id}/candidates", json=candidate_body(ids),
                          headers=world.headers("gov_staff")), 201)["id"]
    for to, who in (("gov_approved", "gov_staff"), ("reviewed", "congress_staff")):
        ok(client.post(f"{API}/candidates/{cand}/transitions", json={"to": to, "reason": ""},
                       headers=world.headers(who)))
    today = china_today()
    ok(client.put(f"{API}/cycles/{cycle_id}/publicity", headers=world.headers("congress_staff"),
                  json={"start": today.isoformat(),
                        "end": (today + timedelta(days=7)).isoformat()}))
    c = ok(client.post(f"{API}/candidates/{cand}/comments", json={"body": SECRET},
                       headers=world.headers("resident")), 201)
    ok(client.post(f"{API}/comments/{c['id']}/hide", json={"reason": "广告信息"},
                   headers=world.headers("congress_staff")))
    for who in OUTSIDERS:
        body = ok(client.get(f"{API}/candidates/{cand}/comments", headers=world.headers(who)))
        assert body[0]["body"] is None, who
    body = ok(client.get(f"{API}/candidates/{cand}/comments", headers=world.headers("gov_staff")))
    assert body[0]["body"] == SECRET


def test_a_hidden_comment_on_a_draft_list_is_read_in_scope_only(client, world):
    add_government_places(client, world)
    cycle_id, _ = commenting_cycle(client, world, "yaohai", items=2)
    c = comment(client, world, cycle_id, "yaohai_resident", SECRET)
    ok(client.post(f"{API}/comments/{c['id']}/hide", json={"reason": "广告信息"},
                   headers=world.headers("yaohai_congress")))
    url = f"{API}/cycles/{cycle_id}/draft-list/comments"
    for who in ("gov_staff", "congress_staff"):  # 乐至县's staff: another county
        assert ok(client.get(url, headers=world.headers(who)))["items"][0]["body"] is None, who
    assert ok(client.get(url, headers=world.headers("yaohai_gov")))["items"][0]["body"] == SECRET
