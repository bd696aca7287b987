"""A real installation starts from an empty database without ever loading the demo.

The operator runs the real command line (`minsheng db upgrade`, `minsheng create-admin`,
`minsheng jurisdictions import`) in its own process against a database nothing else has
touched; then the administrator and the staff go on through the API, as a county would: the
jurisdictions from a CSV file, the responsible units, the staff and deputies, a cycle opened
for proposals (征集)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.main import create_app
from app.models import AuditEntry, User
from tests.conftest import make_settings, pg_database
from tests.helpers import run
from tests.test_config_and_cli import minsheng

API = "/api/v1"
LEZHI_CSV = """code,name,level,parent_code,division_code
tianchi,天池镇,township,lezhi,512022100
lezhi,乐至县,county,,512022
nanta,南塔街道,street,lezhi,512022001
jinshun,金顺镇,township,lezhi,512022104
"""


@contextmanager
def empty_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, on the backend of `database_url`; dropped after."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    with pg_database("minsheng_fresh", migrated=False) as url:
        yield url


def login(client: TestClient, username: str, password: str) -> dict:
    r = client.post(f"{API}/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_an_empty_database_becomes_a_county_soliciting_proposals(database_url, tmp_path):
    with empty_database(database_url, tmp_path) as url:
        # The operator: schema, the first administrator, nothing else.
        r = minsheng(url, "db", "upgrade")
        assert r.returncode == 0, r.stderr
        r = minsheng(url, "create-admin", "--username", "root", "--password-stdin",
                     stdin="kettle-pass-2026\n")
        assert r.returncode == 0, r.stderr
        assert "admin 'root' created" in r.stdout

        with TestClient(create_app(make_settings(url))) as client:
            root = login(client, "root", "kettle-pass-2026")
            me = client.get(f"{API}/users/me", headers=root).json()
            assert (me["role"], me["jurisdiction_code"]) == ("admin", None)
            assert client.get(f"{API}/jurisdictions").json()["total"] == 0

            # The administrator imports the county with its townships and street.
            r = client.post(f"{API}/jurisdictions/import", headers=root,
                            files={"file": ("lezhi.csv", LEZHI_CSV.encode("gbk"), "text/csv")})
            assert r.status_code == 201 and r.json() == {"created": 4, "unchanged": 0}, r.text

            # Staff accounts: each belongs to the county (a staff account without one is refused).
            staff = {"lezhi-gov": "gov_staff", "lezhi-rd": "congress_staff"}
            r = client.post(f"{API}/users", headers=root, json={
                "username": "lezhi-gov", "password": "gov-pass-2026", "display_name": "县民生办",
                "role": "gov_staff", "jurisdiction_code": None})
            assert r.status_code == 422 and r.json()["code"] == "jurisdiction_required"
            for username, role in staff.items():
                r = client.post(f"{API}/users", headers=root, json={
                    "username": username, "password": f"pw-{username[::-1]}-77", "display_name": username,
                    "role": role, "jurisdiction_code": "lezhi"})
                assert r.status_code == 201 and r.json()["role"] == role, r.text
            gov = login(client, "lezhi-gov", "pw-vog-ihzel-77")
            congress = login(client, "lezhi-rd", "pw-dr-ihzel-77")

            # Government staff list the responsible units (责任单位).
            for name in ("县交通运输局", "县教育和体育局"):
                r = client.post(f"{API}/jurisdictions/lezhi/units", json={"name": name},
                                headers=gov)
                assert r.status_code == 201, r.text
            assert len(client.get(f"{API}/jurisdictions/lezhi/units").json()) == 2

            # Congress staff import the county's deputies; a township's congress has its own.
            roster = "username,display_name\n" + "".join(
                f"lz-d{i:03d},代表{i}\n" for i in range(1, 8))
            r = client.post(f"{API}/jurisdictions/lezhi/deputies", headers=congress,
                            files={"file": ("roster.csv", roster.encode(), "text/csv")})
            assert r.status_code == 201 and r.json()["created"] == 7, r.text
            credentials = {c["username"]: c["initial_password"] for c in r.json()["credentials"]}
            r = client.post(f"{API}/jurisdictions/tianchi/deputies", headers=root,
                            files={"file": ("roster.csv", b"username,display_name\ntc-d001,x\n",
                                            "text/csv")})
            assert r.status_code == 201, r.text

            # Government staff create the year's cycle and open it for proposals (征集).
            r = client.post(f"{API}/cycles", headers=gov, json={
                "jurisdiction_code": "lezhi", "year": 2027, "title": "乐至县2027年民生实事项目",
                "seats": 10})
            assert r.status_code == 201 and r.json()["phase"] == "draft", r.text
            cycle_id = r.json()["id"]
            r = client.post(f"{API}/cycles/{cycle_id}/transitions", headers=gov,
                            json={"to": "soliciting", "reason": "县政府常务会议决定启动征集"})
            assert r.status_code == 200 and r.json()["phase"] == "soliciting", r.text

            # A deputy changes the generated password and proposes, located in a township.
            first = login(client, "lz-d001", credentials["lz-d001"])
            r = client.post(f"{API}/users/me/password", headers=first, json={
                "current_password": credentials["lz-d001"], "new_password": "deputy-pass-1"})
            assert r.status_code == 204, r.text
            deputy = login(client, "lz-d001", "deputy-pass-1")
            r = client.post(f"{API}/cycles/{cycle_id}/proposals", headers=deputy, json={
                "title": "天池镇卫生院改扩建", "description": "卫生院用房紧张，群众看病排长队，需要扩建门诊楼。",
                "category": "卫生健康", "location_code": "tianchi", "place": "天池镇场镇"})
            assert r.status_code == 201 and r.json()["state"] == "submitted", r.text
            history = client.get(f"{API}/cycles/{cycle_id}").json()["history"]
            assert [(h["from"], h["to"], h["by"]) for h in history] == [
                (None, "draft", "lezhi-gov"), ("draft", "soliciting", "lezhi-gov")]

            # Nothing of the demo is there; the audit log names who did what, from the CLI on.
            names = set(run(client, lambda s: s.scalars(select(User.username))))
            assert "admin" not in names and "lezhi-d001" not in names and "root" in names
            entries = list(run(client, lambda s: s.scalars(
                select(AuditEntry).order_by(AuditEntry.seq))))
            assert (entries[0].actor, entries[0].action) == ("cli", "user.create")
            imported = next(e for e in entries if e.action == "jurisdiction.import")
            assert json.loads(imported.data)["created"] == 4 and imported.actor == "root"
        r = minsheng(url, "audit", "verify")
        assert r.returncode == 0 and "intact" in r.stdout, r.stdout + r.stderr


def test_create_admin_on_an_empty_database_makes_an_admin_of_no_jurisdiction(client,
                                                                             database_url):
    assert run(client, lambda s: s.scalar(select(User.id).limit(1))) is None
    r = minsheng(database_url, "create-admin", "--username", "root", "--password-stdin",
                 stdin="kettle-pass-2026\n")
    assert r.returncode == 0, r.stderr
    user = run(client, lambda s: s.scalar(select(User).where(User.username == "root")))
    assert (user.role, user.jurisdiction_code, user.must_change_password) == ("admin", None, False)
    entry = run(client, lambda s: s.scalar(select(AuditEntry).where(
        AuditEntry.action == "user.create")))
    assert entry.actor == "cli" and entry.entity_id == user.id
    # A second admin, a taken name, a bad name.
    r = minsheng(database_url, "create-admin", "--username", "root", "--password-stdin",
                 stdin="kettle-pass-2026\n")
    assert r.returncode == 1 and "taken" in r.stderr
    r = minsheng(database_url, "create-admin", "--username", "a b", "--password-stdin",
                 stdin="kettle-pass-2026\n")
    assert r.returncode == 1 and "must be 3–64 letters" in r.stderr
    # --jurisdiction is gone: an admin belongs to none.
    r = minsheng(database_url, "create-admin", "--username", "root2", "--jurisdiction", "lezhi",
                 "--password-stdin", stdin="kettle-pass-2026\n")
    assert r.returncode == 2 and "unrecognized arguments: --jurisdiction" in r.stderr
    r = minsheng(database_url, "create-admin", "--help")
    assert "belongs to no jurisdiction" in r.stdout and "--jurisdiction" not in r.stdout
