"""A drafted candidate's title stays the staff's until the list is public (公示): the history
of the proposals it answers, their pages and the open data name no draft title."""

from __future__ import annotations

import csv
import io
import zipfile

from tests.candidates.conftest import candidate_body
from tests.proposals.conftest import API

DRAFT_TITLE = "古乐路金顺镇至冯店镇段改建"
RENAMED = "古乐路改建（修改稿）"


def _public_faces(client, cycle_id, pid) -> str:
    """Everything anonymous visitors can read about proposal `pid`, as one text."""
    api = client.get(f"{API}/proposals/{pid}")
    page = client.get(f"/proposals/{pid}")
    assert api.status_code == 200 and page.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"{API}/cycles/{cycle_id}/open-data.zip")
                                         .content))
    rows = list(csv.DictReader(io.StringIO(archive.read("proposals.csv").decode("utf-8-sig"))))
    reasons = " ".join(r["state_reason"] for r in rows)
    return api.text + page.text + reasons + archive.read("proposals.csv").decode("utf-8-sig")


def test_a_drafted_candidates_title_is_not_public_through_its_proposals(client, world,
                                                                        screening):
    cycle_id, ids = screening
    r = client.post(f"{API}/cycles/{cycle_id}/candidates",
                    json=candidate_body(ids[:2], title=DRAFT_TITLE),
                    headers=world.headers("gov_staff"))
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    # Edited while a draft: a proposal taken off goes back to the reserve, a new one is adopted.
    r = client.patch(f"{API}/candidates/{cid}", json={"title": RENAMED,
                     "proposal_ids": [ids[0], ids[2]]}, headers=world.headers("gov_staff"))
    assert r.status_code == 200, r.text
    for pid in ids[:3]:
        text = _public_faces(client, cycle_id, pid)
        assert DRAFT_TITLE not in text and RENAMED not in text
    history = client.get(f"{API}/proposals/{ids[0]}").json()["history"]
    assert history[-1]["to"] == "adopted" and history[-1]["reason"] == "列入候选项目"
    history = client.get(f"{API}/proposals/{ids[1]}").json()["history"]
    assert history[-1]["to"] == "accepted" and "回到储备库" in history[-1]["reason"]
    # Reviewed, the candidate is public (公示): the proposal's page points at it by name.
    for to, who in (("gov_approved", "gov_staff"), ("reviewed", "congress_staff")):
        r = client.post(f"{API}/candidates/{cid}/transitions", json={"to": to, "reason": ""},
                        headers=world.headers(who))
        assert r.status_code == 200, r.text
    page = client.get(f"/proposals/{ids[0]}").text
    assert RENAMED in page and f'href="/candidates/{cid}"' in page
    assert RENAMED not in client.get(f"/proposals/{ids[1]}").text
