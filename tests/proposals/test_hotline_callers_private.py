"""A hotline caller's name and phone are never public: every public face is read for them, and
the jurisdiction's gov_staff see them where they follow calls up (the triage page)."""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import select

from app.models import Proposal
from tests.helpers import create_user, page_login, run, token_headers
from tests.proposals.conftest import API, proposal_body
from tests.proposals.hotline_files import HEADER, csv_bytes, upload

CALLER, PHONE = "赵铁柱", "13912340000"
IMPORTED_CALLER, IMPORTED_PHONE = "钱多多", "0832-7654321"
# Each as it might be written: the phone's digits without separators too.
SECRETS = [CALLER, PHONE, IMPORTED_CALLER, IMPORTED_PHONE, "7654321", "GD-PRIV-1"]


def hotline_proposals(client, world, cycle_id) -> list[str]:
    """One recorded by hand with a phone and a 工单号, one imported; the second accepted."""
    r = client.post(f"{API}/cycles/{cycle_id}/proposals", headers=world.headers("gov_staff"),
                    json=proposal_body(title="古乐路金顺镇段路面修补", channel="hotline",
                                       proposer_name=CALLER, proposer_phone=PHONE))
    assert r.status_code == 201, r.text
    typed = r.json()["id"]
    row = ["GD-PRIV-1", "2025-03-15 09:12", IMPORTED_CALLER, IMPORTED_PHONE, "人民路安装路灯",
           "人民路晚上没有路灯，散步的老人和放学的孩子都看不清路。", "公共安全", "南塔街道", "人民路", ""]
    r = upload(client, world, cycle_id, csv_bytes([row], HEADER))
    assert r.status_code == 201, r.text
    imported = r.json()["items"][0]["proposal_id"]
    r = client.post(f"{API}/proposals/{imported}/review", json={"decision": "accept"},
                    headers=world.headers("gov_staff"))
    assert r.status_code == 200
    return [typed, imported]


def public_faces(client, cycle_id: str, ids: list[str]) -> dict[str, bytes]:
    """Everything anyone can read about the cycle and its proposals, without an account."""
    client.cookies.clear()
    urls = [f"{API}/cycles/{cycle_id}", f"{API}/cycles/{cycle_id}/proposals",
            f"{API}/cycles/{cycle_id}/proposals?state=accepted",
            f"{API}/cycles/{cycle_id}/proposals?q=路灯",
            f"{API}/cycles/{cycle_id}/proposals/similar?text=人民路路灯",
            f"/cycles/{cycle_id}", f"/cycles/{cycle_id}/proposals",
            f"/cycles/{cycle_id}/proposals?q=路灯", f"/cycles/{cycle_id}/proposals/similar?title=路灯",
            "/", "/archive", "/feed.atom"]
    urls += [f"{API}/proposals/{pid}" for pid in ids] + [f"/proposals/{pid}" for pid in ids]
    faces = {}
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
        faces[url] = r.content
    r = client.get(f"{API}/cycles/{cycle_id}/open-data.zip")
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        for name in z.namelist():
            faces[f"open-data.zip:{name}"] = z.read(name)
    return faces


def test_no_public_face_shows_a_callers_name_or_phone(client, world, cycle_id):
    ids = hotline_proposals(client, world, cycle_id)
    faces = public_faces(client, cycle_id, ids)
    for where, body in faces.items():
        for secret in SECRETS:
            assert secret.encode() not in body, f"{secret} leaked into {where}"
    # The public sees the channel's people instead.
    for pid in ids:
        assert "12345热线群众".encode() in faces[f"/proposals/{pid}"]
        assert json.loads(faces[f"{API}/proposals/{pid}"])["proposer"] == "12345热线群众"
    assert "12345热线群众".encode() in faces["open-data.zip:proposals.csv"]


def test_searching_for_a_callers_name_or_phone_finds_nothing(client, world, cycle_id):
    hotline_proposals(client, world, cycle_id)
    for q in (CALLER, PHONE, IMPORTED_CALLER, "7654321"):
        r = client.get(f"{API}/cycles/{cycle_id}/proposals", params={"q": q})
        assert r.json()["total"] == 0, q
        assert client.get(f"{API}/cycles/{cycle_id}/proposals/similar",
                          params={"text": q}).json() == []
    texts = run(client, lambda s: s.scalars(select(Proposal.search_text)))
    assert not any(secret in t for t in texts.all() for secret in SECRETS)


def test_a_logged_in_resident_and_congress_staff_do_not_see_them_either(client, world, cycle_id):
    ids = hotline_proposals(client, world, cycle_id)
    for who in ("resident", "congress_staff"):
        headers = token_headers(client, world.users[who].username)
        for pid in ids:
            body = client.get(f"{API}/proposals/{pid}", headers=headers).text
            assert CALLER not in body and IMPORTED_PHONE not in body
    page_login(client, "deputy")
    for pid in ids:
        html = client.get(f"/proposals/{pid}").text
        assert CALLER not in html and IMPORTED_CALLER not in html and PHONE not in html


def test_the_jurisdictions_gov_staff_see_name_phone_and_record_number_on_triage(
        client, world, cycle_id):
    ids = hotline_proposals(client, world, cycle_id)
    page_login(client, "gov-staff")
    html = client.get(f"/staff/cycles/{cycle_id}/triage").text
    assert CALLER in html and f'href="tel:{PHONE}"' in html  # the one still to be reviewed
    assert f"/staff/cycles/{cycle_id}/proposals/import" in html
    assert ids[1] not in html  # accepted: off the queue
    # Staff of another county cannot open the page.
    create_user(client, "anyue-gov", "gov_staff", "anyue")
    page_login(client, "anyue-gov")
    r = client.get(f"/staff/cycles/{cycle_id}/triage")
    assert r.status_code == 403 and CALLER not in r.text


def test_the_staff_export_has_the_record_number_and_no_phone(client, world, cycle_id):
    hotline_proposals(client, world, cycle_id)
    r = client.get(f"{API}/cycles/{cycle_id}/proposals.csv", headers=world.headers("gov_staff"))
    text = r.content.decode("utf-8-sig")
    assert text.splitlines()[0].endswith(",source_ref") and ",GD-PRIV-1" in text
    assert PHONE not in text and IMPORTED_PHONE not in text
