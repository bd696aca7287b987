"""`minsheng backup` / `minsheng restore` (app/backup/), run as an operator runs them.

The drill: a live server (uvicorn) takes proposals, photos, comments and casts from several
threads; a backup is taken in the middle of it; restored into an empty database and media
folder, it holds every write acknowledged before the backup started, nothing it was not told,
every photo, and its audit chain verifies. Then the refusals: a non-empty database without
--force (and --force replacing it), a truncated or altered archive (exit 2), a backup of the
other database kind or of a newer schema (exit 1); an older schema is migrated after restoring.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from app.auth.roles import Role
from app.auth.tokens import issue_token
from app.main import create_app
from tests.ballots.conftest import (
    add_deputies,
    balloting_cycle,
    create_round,
    move,
    name_scrutineers,
    record_attendance,
)
from tests.conftest import (
    ROOT,
    TEST_SECRET,
    app_server,
    make_settings,
    pg_database,
    unavailable,
)
from tests.helpers import build_world, create_user
from tests.proposals.conftest import open_cycle, proposal_body
from tests.test_proposal_pages import png

API = "/api/v1"


# ------------------------------------------------------------------------------ databases

def empty_pg_database():
    """A new PostgreSQL database with nothing in it (not migrated), dropped afterwards."""
    return pg_database("minsheng_restore", migrated=False)


@contextmanager
def fresh_database(kind: str, tmp_path: Path, *, migrated: bool = True):
    """A database of `kind` of its own for one test: migrated, or empty."""
    if kind == "sqlite":
        path = tmp_path / f"{uuid.uuid4().hex[:8]}.db"
        url = f"sqlite:///{path}"
        if migrated:
            from app.migrate import upgrade

            upgrade(url)
        yield url
    elif migrated:
        with pg_database("minsheng_backup") as url:
            yield url
    else:
        with empty_pg_database() as url:
            yield url


@pytest.fixture
def kind(database_url) -> str:
    """The database kind under test (the session database itself is not used)."""
    if database_url.startswith("sqlite"):
        return "sqlite"
    missing = [p for p in ("pg_dump", "pg_restore", "psql") if shutil.which(p) is None]
    if missing:
        unavailable(f"the PostgreSQL client programs are missing ({', '.join(missing)}; "
                    "apt-get install postgresql-client)")
    return "postgresql"


def minsheng(database_url: str, media_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MINSHENG_DATABASE_URL": database_url, "MINSHENG_ENV": "test",
           "MINSHENG_SECRET_KEY": TEST_SECRET, "MINSHENG_RATE_LIMIT_URL": "memory://",
           "MINSHENG_MEDIA_DIR": str(media_dir)}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def query(database_url: str, sql: str) -> list[tuple]:
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
            return db.execute(sql).fetchall()
    with psycopg.connect(database_url) as db:
        return db.execute(sql).fetchall()


def seed(database_url: str, media_dir: Path) -> None:
    """A little of everything: the test world, a cycle with a proposal and a photo."""
    app = create_app(make_settings(database_url, media_dir=media_dir))
    with TestClient(app) as client:
        world = build_world(client)
        cycle_id = open_cycle(client, world)
        r = client.post(f"{API}/cycles/{cycle_id}/proposals", json=proposal_body(),
                        headers=world.headers("resident"))
        proposal_id = r.json()["id"]
        r = client.post(f"{API}/proposals/{proposal_id}/photos",
                        files=[("files", ("a.png", png(), "image/png"))],
                        headers=world.headers("resident"))
        assert r.status_code == 201, r.text


# ------------------------------------------------------------------------------ the drill

class Load:
    """Writers through the live server, each recording when every write was acknowledged."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.acked: dict[str, list[tuple[float, str]]] = {
            "proposal": [], "photo": [], "comment": [], "cast": []}
        self.refused: list[str] = []
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self, jobs) -> None:
        for job in jobs:
            t = threading.Thread(target=self._run, args=(job,), daemon=True)
            t.start()
            self.threads.append(t)

    def finish(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)

    def _run(self, job) -> None:
        with httpx.Client(base_url=self.base, timeout=30) as http:
            for what, request, ident in job():
                if self.stop.is_set():
                    return
                r = http.request(*request[:2], **request[2])
                if r.status_code in (200, 201):
                    self.acked[what].append((time.monotonic(), ident(r)))
                elif r.status_code >= 500 and r.status_code != 503:
                    self.refused.append(f"{request[0]} {request[1]}: {r.status_code} {r.text}")

    def before(self, what: str, moment: float) -> set[str]:
        return {ident for at, ident in self.acked[what] if at < moment}

    def during(self, start: float, end: float) -> int:
        return sum(start <= at <= end for acks in self.acked.values() for at, _ in acks)

    def every(self, what: str) -> set[str]:
        return {ident for _, ident in self.acked[what]}


def drill_world(database_url: str, media_dir: Path) -> dict:
    """Staff, residents and deputies with their tokens; a cycle in 征集 and an open round."""
    app = create_app(make_settings(database_url, media_dir=media_dir))
    with TestClient(app) as client:
        world = build_world(client)
        settings = client.app.state.settings
        gov = world.headers("gov_staff")
        ballot_cycle, candidates = balloting_cycle(client, world, candidates=12, year=2024)
        soliciting = open_cycle(client, world, year=2025)
        r = client.post(f"{API}/cycles/{soliciting}/proposals",
                        json=proposal_body(channel="hotline", proposer_name="张三"), headers=gov)
        assert r.status_code == 201, r.text
        target = r.json()["id"]
        residents = []
        for i in range(40):
            user = create_user(client, f"res-{i}", Role.resident)
            token = issue_token(settings, user.id, user.token_version)
            residents.append({"Authorization": f"Bearer {token}"})
        deputies = add_deputies(client, world, 150)
        ballot_id = create_round(client, world, ballot_cycle)["id"]
        record_attendance(client, world, ballot_id, deputies)
        name_scrutineers(client, world, ballot_id, deputies[:2])
        move(client, world, ballot_id, "open")
        return {"gov": gov, "soliciting": soliciting, "target": target,
                "residents": residents, "ballot": ballot_id, "candidate": candidates[0],
                "deputies": [(world.users[k].id, world.headers(k)) for k in deputies]}


def proposals_and_photos(w: dict):
    def job():
        for i in range(10_000):
            body = proposal_body(title=f"负载测试建议{i}", channel="hotline", proposer_name="张三")
            yield ("proposal", ("POST", f"{API}/cycles/{w['soliciting']}/proposals",
                                {"json": body, "headers": w["gov"]}), lambda r: r.json()["id"])
    return job


def photos(w: dict, load: Load):
    def job():
        done = set()
        while not load.stop.is_set():
            fresh = next((i for _, i in list(load.acked["proposal"]) if i not in done), None)
            if fresh is None:
                time.sleep(0.02)
                continue
            done.add(fresh)
            yield ("photo", ("POST", f"{API}/proposals/{fresh}/photos",
                             {"files": [("files", ("p.png", png(size=(32, 24)), "image/png"))],
                              "headers": w["gov"]}),
                   lambda r: r.json()["photos"][0].rsplit("/", 1)[1])
    return job


def comments(w: dict):
    def job():
        for i in range(120):
            headers = w["residents"][i % len(w["residents"])]
            yield ("comment", ("POST", f"{API}/proposals/{w['target']}/comments",
                               {"json": {"body": f"负载测试评论第{i}条"}, "headers": headers}),
                   lambda r: r.json()["id"])
    return job


def casts(w: dict):
    def job():
        for user_id, headers in w["deputies"]:
            yield ("cast", ("POST", f"{API}/ballots/{w['ballot']}/votes",
                            {"json": {"marks": {w["candidate"]: "yes"}}, "headers": headers}),
                   lambda r, user_id=user_id: user_id)
    return job


def test_a_backup_under_write_load_restores_every_acknowledged_write(kind, tmp_path,
                                                                     monkeypatch):
    source_media, target_media = tmp_path / "media", tmp_path / "restored-media"
    archive = tmp_path / "drill.tar.gz"
    with fresh_database(kind, tmp_path) as source, \
            fresh_database(kind, tmp_path, migrated=False) as target:
        w = drill_world(source, source_media)
        monkeypatch.setenv("MINSHENG_MEDIA_DIR", str(source_media))
        with app_server(source, tmp_path / "server.log") as base:
            load = Load(base)
            load.start([proposals_and_photos(w), photos(w, load), comments(w), casts(w)])
            time.sleep(1.0)
            started = time.monotonic()
            r = minsheng(source, source_media, "backup", str(archive))
            ended = time.monotonic()
            time.sleep(0.3)
            load.finish()
        assert r.returncode == 0, r.stderr
        assert not load.refused, load.refused[:5]
        written_during = load.during(started, ended)
        assert written_during > 0, "no write was acknowledged while the backup ran"

        r = minsheng(target, target_media, "restore", str(archive))
        assert r.returncode == 0, r.stdout + r.stderr
        assert "audit chain intact" in r.stdout

        proposals = {i for (i,) in query(target, "SELECT id FROM proposal")}
        assert load.before("proposal", started) <= proposals
        assert proposals - {w["target"]} <= load.every("proposal")  # nothing else
        commented = {i for (i,) in query(target, "SELECT id FROM comment")}
        assert load.before("comment", started) <= commented <= load.every("comment")
        voters = {i for (i,) in query(target, "SELECT user_id FROM ballot_participation")}
        assert load.before("cast", started) <= voters <= load.every("cast")
        (ballots,) = query(target, "SELECT (SELECT count(*) FROM ballot_content WHERE marks IS "
                                   "NOT NULL) + (SELECT count(*) FROM ballot_envelope)")[0]
        assert ballots == len(voters)  # every participation with its ballot (sealed), no other

        files = {f for (f,) in query(target, "SELECT filename FROM proposal_photo")}
        assert load.before("photo", started) <= files
        for name in files:
            restored = target_media / name
            assert restored.read_bytes() == (source_media / name).read_bytes(), name
            assert (target_media / name.replace(".jpg", "-s.jpg")).is_file()
        if kind == "sqlite":
            assert query(target, "PRAGMA integrity_check") == [("ok",)]
    print(f"\n{kind}: acknowledged before the backup: "
          f"{sum(len(load.before(k, started)) for k in load.acked)}, during it: "
          f"{written_during}, in all: {sum(len(v) for v in load.acked.values())}; "
          f"backup took {ended - started:.2f} s")


# ------------------------------------------------------------------------------ refusals

@pytest.fixture
def backed_up(kind, tmp_path):
    """A seeded database of `kind`, its media folder and a backup of both."""
    media = tmp_path / "media"
    archive = tmp_path / "backup.tar.gz"
    with fresh_database(kind, tmp_path) as url:
        seed(url, media)
        r = minsheng(url, media, "backup", str(archive))
        assert r.returncode == 0, r.stderr
        yield url, media, archive


def test_the_archive_is_readable_by_its_owner_only_and_written_whole(backed_up, tmp_path):
    url, media, archive = backed_up
    assert archive.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    assert names[-1] == "manifest.json" and names[0].startswith("database.")
    assert len([n for n in names if n.startswith("media/")]) == 2  # the photo, its thumbnail
    assert manifest["alembic_revision"] and manifest["tables"]["proposal"] == 1
    assert manifest["database"] in ("sqlite", "postgresql")
    # Overwriting an older backup keeps the mode (the new file replaces it).
    archive.chmod(0o644)
    assert minsheng(url, media, "backup", str(archive)).returncode == 0
    assert archive.stat().st_mode & 0o777 == 0o600


def test_restore_refuses_a_non_empty_database_and_force_replaces_it(backed_up, kind, tmp_path):
    url, media, archive = backed_up
    before = query(url, "SELECT count(*) FROM user_account")[0][0]
    extra = media / "not-in-the-backup.jpg"
    extra.write_bytes(b"x")

    r = minsheng(url, media, "restore", str(archive))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "nothing was restored" in r.stderr and "--force" in r.stderr
    assert "user_account" in r.stderr and "media folder" in r.stderr
    assert extra.exists()

    with fresh_database(kind, tmp_path) as migrated_only:  # a migrated, empty database
        r = minsheng(migrated_only, tmp_path / "empty-media", "restore", str(archive))
        assert r.returncode == 1 and "migrated" in r.stderr, r.stderr

    query_write(url, "UPDATE user_account SET display_name = '后来改的'")  # after the backup
    r = minsheng(url, media, "restore", "--force", str(archive))
    assert r.returncode == 0, r.stdout + r.stderr
    assert query(url, "SELECT count(*) FROM user_account WHERE display_name = '后来改的'") \
        == [(0,)]
    assert query(url, "SELECT count(*) FROM user_account")[0][0] == before
    assert not extra.exists()
    assert len(list(media.iterdir())) == 2
    assert "audit chain intact" in r.stdout


def query_write(database_url: str, sql: str) -> None:
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
            db.execute(sql)
        return
    with psycopg.connect(database_url, autocommit=True) as db:
        db.execute(sql)


def repack(archive: Path, out: Path, *, manifest=None, rename=None) -> None:
    """A copy of `archive` with its manifest edited and members renamed."""
    members = []
    with tarfile.open(archive) as tar:
        for m in tar.getmembers():
            members.append((m.name, tar.extractfile(m).read()))
    with tarfile.open(out, "w:gz") as tar:
        for name, data in members:
            if name == "manifest.json" and manifest is not None:
                data = json.dumps(manifest(json.loads(data))).encode()
            name = (rename or {}).get(name, name)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("damage", ["truncated", "flipped", "member_changed", "not_a_backup",
                                    "missing"])
def test_an_unreadable_archive_is_refused_with_exit_2_and_nothing_changes(
        backed_up, kind, tmp_path, damage):
    url, media, archive = backed_up
    bad = tmp_path / "bad.tar.gz"
    data = archive.read_bytes()
    if damage == "truncated":
        bad.write_bytes(data[:len(data) // 2])
    elif damage == "flipped":
        bad.write_bytes(data[:-40] + bytes([data[-40] ^ 0xFF]) + data[-39:])
    elif damage == "member_changed":  # a whole, valid gzip: the checksum catches it
        def edit(m):
            name = next(n for n in m["files"] if n.startswith("media/"))
            m["files"][name]["sha256"] = "0" * 64
            return m
        repack(archive, bad, manifest=edit)
    elif damage == "not_a_backup":
        bad.write_bytes(gzip.compress(b"hello"))
    with fresh_database(kind, tmp_path, migrated=False) as target:
        r = minsheng(target, tmp_path / "target-media", "restore", str(bad))
        assert r.returncode == 2, r.stdout + r.stderr
        assert ("cannot read" if damage == "missing" else "cannot be restored") in r.stderr
        assert "Traceback" not in r.stderr
        if damage != "missing":
            assert "Nothing was changed" in r.stderr
        assert not (tmp_path / "target-media").exists() or \
            not list((tmp_path / "target-media").iterdir())
        if kind == "sqlite":
            assert not Path(target.removeprefix("sqlite:///")).exists()
        else:
            assert query(target, "SELECT count(*) FROM information_schema.tables WHERE "
                                 "table_schema = 'public'") == [(0,)]


def test_a_backup_of_the_other_kind_or_a_newer_schema_is_refused(backed_up, kind, tmp_path):
    url, media, archive = backed_up
    other = "postgresql" if kind == "sqlite" else "sqlite"
    members = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
    crossed = tmp_path / "crossed.tar.gz"

    def cross(m):
        m["database"] = other
        m["files"][members[other]] = m["files"].pop(members[kind])
        return m
    repack(archive, crossed, manifest=cross, rename={members[kind]: members[other]})
    newer = tmp_path / "newer.tar.gz"
    repack(archive, newer, manifest=lambda m: {**m, "alembic_revision": "ffff00000000",
                                                "app_version": "9.0.0"})
    with fresh_database(kind, tmp_path, migrated=False) as target:
        r = minsheng(target, tmp_path / "m", "restore", str(crossed))
        assert r.returncode == 1, r.stderr
        assert f"holds a {other} database" in r.stderr and "not supported" in r.stderr
        r = minsheng(target, tmp_path / "m", "restore", str(newer))
        assert r.returncode == 1, r.stderr
        assert "newer minsheng (9.0.0" in r.stderr


def test_a_backup_of_an_older_schema_is_migrated_after_restoring(kind, tmp_path):
    from alembic.script import ScriptDirectory

    from app.migrate import alembic_config, upgrade

    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    previous = script.get_revision(head).down_revision
    media = tmp_path / "media"
    archive = tmp_path / "old.tar.gz"
    with fresh_database(kind, tmp_path, migrated=False) as old:
        upgrade(old, revision=previous)
        r = minsheng(old, media, "backup", str(archive))
        assert r.returncode == 0, r.stderr
    with fresh_database(kind, tmp_path, migrated=False) as target:
        r = minsheng(target, tmp_path / "m", "restore", str(archive))
        assert r.returncode == 0, r.stdout + r.stderr
        assert f"migrated from revision {previous}" in r.stdout
        assert query(target, "SELECT version_num FROM alembic_version") == [(head,)]


def test_backup_explains_a_database_it_cannot_read(tmp_path):
    r = minsheng(f"sqlite:///{tmp_path}/nothing-here.db", tmp_path / "m", "backup",
                 str(tmp_path / "x.tar.gz"))
    assert r.returncode == 2 and "no SQLite database" in r.stderr, r.stderr
    assert not list(tmp_path.glob("*.tar.gz")) and not list(tmp_path.glob(".*"))
    r = minsheng(f"sqlite:///{tmp_path}/nothing-here.db", tmp_path / "m", "restore",
                 str(tmp_path / "no-such.tar.gz"))
    assert r.returncode == 2 and "cannot read" in r.stderr, r.stderr


def test_the_archive_checksums_match_its_members(backed_up):
    _, _, archive = backed_up
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        for name, entry in manifest["files"].items():
            data = tar.extractfile(name).read()
            assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["size"],
                                                                     entry["sha256"])


def test_a_newer_pg_restore_s_timeout_setting_is_left_out_for_an_older_server():
    from app.backup.postgres import for_server

    script = [b"SET statement_timeout = 0;\n", b"SET transaction_timeout = 0;\n",
              b"CREATE TABLE public.t (x text);\n", b"COPY public.t (x) FROM stdin;\n",
              b"SET transaction_timeout = 0;\n", b"\\.\n"]
    assert list(for_server(script, client=17, server=15)) == script[:1] + script[2:]
    assert list(for_server(script, client=17, server=17)) == script
    assert list(for_server(script, client=15, server=15)) == script


def test_the_postgresql_password_goes_to_the_client_programs_in_the_environment_only():
    from app.backup.postgres import Connection

    c = Connection.from_url("postgresql://minsheng:s3cr%40t@db.example:5433/minsheng"
                            "?sslmode=require")
    assert "s3cr" not in c.conninfo
    assert "sslmode=require" in c.conninfo and "port=5433" in c.conninfo
    assert c.env()["PGPASSWORD"] == "s3cr@t"
