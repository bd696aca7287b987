"""Audit anchors: the chain's head signed with a key outside the database, so that deleting the
newest entries (truncation) or editing one and recomputing every later hash (re-hashing) is caught
by `minsheng audit verify`, which says which."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete, func, select, update

from app.audit import service as audit
from app.models import AuditAnchor, AuditEntry
from tests.helpers import run
from tests.test_audit_chain import make_history


def minsheng(database_url, tmp_path, *args, key=True, anchor_file=True):
    """`minsheng ...` in its own process, with a signing key and an anchor file in tmp_path."""
    env = {**os.environ, "MINSHENG_DATABASE_URL": database_url, "MINSHENG_ENV": "development"}
    for name in ("MINSHENG_AUDIT_KEY_FILE", "MINSHENG_AUDIT_ANCHOR_FILE",
                 "MINSHENG_AUDIT_PUBLIC_KEY"):
        env.pop(name, None)
    if key:
        env["MINSHENG_AUDIT_KEY_FILE"] = str(tmp_path / "audit-key.pem")
    env["MINSHENG_AUDIT_ANCHOR_FILE"] = str(tmp_path / ("anchors.jsonl" if anchor_file
                                                        else "no-such-file.jsonl"))
    return subprocess.run([sys.executable, "-m", "app.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def keygen(database_url, tmp_path) -> str:
    r = minsheng(database_url, tmp_path, "audit", "keygen", str(tmp_path / "audit-key.pem"))
    assert r.returncode == 0, r.stderr
    return r.stdout


def more_history(client, world):
    """Six more entries (three more cycles, each moved to 征集)."""
    for year in (2027, 2028, 2029):
        r = client.post("/api/v1/cycles", json={"jurisdiction_code": "lezhi", "year": year,
                                                "title": f"{year}年", "seats": 5},
                        headers=world.headers("gov_staff"))
        client.post(f"/api/v1/cycles/{r.json()['id']}/transitions",
                    json={"to": "soliciting", "reason": "开始"}, headers=world.headers("gov_staff"))


def anchored_history(client, world, database_url, tmp_path):
    """Six entries, anchored at #6 (the file and the database)."""
    make_history(client, world)
    keygen(database_url, tmp_path)
    r = minsheng(database_url, tmp_path, "audit", "anchor")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "entry #6" in r.stdout


def rehash_from(session_seq: int):
    """Edit entry `session_seq` and recompute its hash and every later one (a careful forger)."""

    async def forge(session):
        entries = (await session.scalars(select(AuditEntry).where(AuditEntry.seq >= session_seq)
                                         .order_by(AuditEntry.seq))).all()
        prev = (await session.get(AuditEntry, session_seq - 1)).hash
        entries[0].actor = "someone-else"
        for entry in entries:
            entry.prev_hash = prev
            entry.hash = prev = audit.entry_hash(entry)
            await session.flush()  # hash is unique: one row at a time

    return forge


def test_without_anchors_verify_passes_but_warns_that_nothing_anchors_the_chain(
        client, world, database_url, tmp_path):
    make_history(client, world)
    r = minsheng(database_url, tmp_path, "audit", "verify", key=False)
    assert r.returncode == 0 and "intact: 6 entries" in r.stdout
    assert "nothing anchors the chain" in r.stdout + r.stderr


def test_keygen_writes_a_private_key_only_its_owner_reads_and_prints_the_public_key(
        client, database_url, tmp_path):
    out = keygen(database_url, tmp_path)
    path = tmp_path / "audit-key.pem"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    public = [line.split()[-1] for line in out.splitlines() if "public key" in line][0]
    assert len(base64.b64decode(public)) == 32
    r = minsheng(database_url, tmp_path, "audit", "keygen", str(path))
    assert r.returncode == 2 and "exists" in r.stderr  # never overwrites a key


def test_an_anchored_intact_chain_verifies(client, world, database_url, tmp_path):
    anchored_history(client, world, database_url, tmp_path)
    r = minsheng(database_url, tmp_path, "audit", "verify")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "intact: 6 entries" in r.stdout and "1 anchor" in r.stdout
    assert "nothing anchors" not in r.stdout + r.stderr


def test_the_anchor_command_is_idempotent(client, world, database_url, tmp_path):
    anchored_history(client, world, database_url, tmp_path)
    r = minsheng(database_url, tmp_path, "audit", "anchor")
    assert r.returncode == 0 and "already anchored" in r.stdout
    assert len((tmp_path / "anchors.jsonl").read_text().splitlines()) == 1
    assert run(client, lambda s: s.scalar(select(func.count()).select_from(AuditAnchor))) == 1
    more_history(client, world)  # the head moves: a new anchor
    r = minsheng(database_url, tmp_path, "audit", "anchor")
    assert r.returncode == 0 and "entry #12" in r.stdout
    assert len((tmp_path / "anchors.jsonl").read_text().splitlines()) == 2
    assert run(client, lambda s: s.scalar(select(func.count()).select_from(AuditAnchor))) == 2


def test_anchor_without_a_key_exits_2(client, world, database_url, tmp_path):
    make_history(client, world)
    r = minsheng(database_url, tmp_path, "audit", "anchor", key=False)
    assert r.returncode == 2 and "MINSHENG_AUDIT_KEY_FILE" in r.stderr


def test_deleting_the_newest_entries_is_caught_as_truncation(client, world, database_url,
                                                             tmp_path):
    anchored_history(client, world, database_url, tmp_path)
    run(client, lambda s: s.execute(delete(AuditEntry).where(AuditEntry.seq >= 5)))
    assert run(client, audit.verify).ok  # the chain alone cannot tell
    r = minsheng(database_url, tmp_path, "audit", "verify")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "truncated" in r.stdout and "names entry #6" in r.stdout
    assert "the chain ends at #4" in r.stdout


def test_an_edit_with_every_later_hash_recomputed_is_caught_as_rewriting(
        client, world, database_url, tmp_path):
    anchored_history(client, world, database_url, tmp_path)
    run(client, rehash_from(3))
    assert run(client, audit.verify).ok  # the chain alone cannot tell
    r = minsheng(database_url, tmp_path, "audit", "verify")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "rewritten: entry #6's hash differs from the anchor signed at" in r.stdout
    # and the anchor command refuses to sign the rewritten head
    more_history(client, world)
    r = minsheng(database_url, tmp_path, "audit", "anchor")
    assert r.returncode == 1 and "entry #6" in r.stdout + r.stderr
    assert len((tmp_path / "anchors.jsonl").read_text().splitlines()) == 1


def test_a_database_only_attacker_is_caught_by_the_anchor_file(client, world, database_url,
                                                               tmp_path):
    """Delete the anchors from the database and re-hash: the file still names the old head."""
    anchored_history(client, world, database_url, tmp_path)
    run(client, lambda s: s.execute(delete(AuditAnchor)))
    run(client, rehash_from(2))
    r = minsheng(database_url, tmp_path, "audit", "verify")
    assert r.returncode == 1
    assert "rewritten: entry #6" in r.stdout
    assert "missing from the database" in r.stdout


def test_a_forged_anchor_is_caught(client, world, database_url, tmp_path):
    anchored_history(client, world, database_url, tmp_path)
    run(client, rehash_from(4))
    # the forger signs the rewritten head with a key of their own and replaces the database's copy
    new_hash = run(client, lambda s: s.scalar(select(AuditEntry.hash).where(AuditEntry.seq == 6)))
    run(client, lambda s: s.execute(update(AuditAnchor).where(AuditAnchor.seq == 6)
                                    .values(hash=new_hash)))
    r = minsheng(database_url, tmp_path, "audit", "verify", anchor_file=False)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "anchor signature invalid" in r.stdout and "entry #6" in r.stdout


def test_verify_with_downloaded_anchors_and_only_the_public_key(client, world, database_url,
                                                                tmp_path, monkeypatch):
    anchored_history(client, world, database_url, tmp_path)
    settings = client.app.state.settings.model_copy(
        update={"audit_key_file": tmp_path / "audit-key.pem"})
    monkeypatch.setitem(client.app.state._state, "settings", settings)
    (tmp_path / "download.json").write_text(client.get("/api/v1/audit/anchors").text)
    public = client.get("/api/v1/audit/public-key").json()["public_key"]
    run(client, lambda s: s.execute(delete(AuditEntry).where(AuditEntry.seq == 6)))
    run(client, lambda s: s.execute(delete(AuditAnchor)))
    os.remove(tmp_path / "anchors.jsonl")  # everything on the server is gone or altered
    r = minsheng(database_url, tmp_path, "audit", "verify", "--anchors",
                 str(tmp_path / "download.json"), "--public-key", public, key=False)
    assert r.returncode == 1 and "truncated" in r.stdout, r.stdout + r.stderr
    # unreadable input: exit 2
    (tmp_path / "bad.json").write_text("{not json")
    r = minsheng(database_url, tmp_path, "audit", "verify", "--anchors",
                 str(tmp_path / "bad.json"), "--public-key", public, key=False)
    assert r.returncode == 2 and "bad.json" in r.stderr


def test_anchors_found_without_a_public_key_exit_2(client, world, database_url, tmp_path):
    anchored_history(client, world, database_url, tmp_path)
    r = minsheng(database_url, tmp_path, "audit", "verify", key=False)
    assert r.returncode == 2 and "public key" in r.stderr


def test_the_api_publishes_signed_anchors_and_the_public_key(client, world, database_url,
                                                             tmp_path, monkeypatch):
    assert client.get("/api/v1/audit/anchors/latest").status_code == 404
    assert client.get("/api/v1/audit/public-key").json()["code"] == "no_audit_key"
    anchored_history(client, world, database_url, tmp_path)
    more_history(client, world)
    minsheng(database_url, tmp_path, "audit", "anchor")
    settings = client.app.state.settings.model_copy(
        update={"audit_key_file": tmp_path / "audit-key.pem"})
    monkeypatch.setitem(client.app.state._state, "settings", settings)

    page = client.get("/api/v1/audit/anchors", params={"per_page": 1}).json()  # anyone
    assert page["total"] == 2 and page["page"] == 1 and page["per_page"] == 1
    latest = client.get("/api/v1/audit/anchors/latest").json()
    assert page["items"] == [latest] and latest["seq"] == 12 and latest["count"] == 12
    key = client.get("/api/v1/audit/public-key").json()
    assert key["algorithm"] == "Ed25519" and key["key_id"] == latest["key_id"]

    # An auditor's own check, with nothing of minsheng: the signature covers every other field.
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key["public_key"]))
    signed = {k: v for k, v in latest.items() if k != "signature"}
    message = json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    public.verify(base64.b64decode(latest["signature"]), message.encode("utf-8"))  # no raise
    entry_hash = run(client, lambda s: s.scalar(select(AuditEntry.hash)
                                                .where(AuditEntry.seq == 12)))
    assert latest["hash"] == entry_hash
    # the anchor file's line is the same anchor
    line = json.loads((tmp_path / "anchors.jsonl").read_text().splitlines()[-1])
    assert line == latest


def test_the_api_check_of_the_chain_uses_the_anchors(client, world, database_url, tmp_path,
                                                     monkeypatch):
    anchored_history(client, world, database_url, tmp_path)
    settings = client.app.state.settings.model_copy(
        update={"audit_key_file": tmp_path / "audit-key.pem",
                "audit_anchor_file": tmp_path / "anchors.jsonl"})
    monkeypatch.setitem(client.app.state._state, "settings", settings)
    staff = world.headers("congress_staff")
    assert client.get("/api/v1/audit/verify", headers=staff).json()["ok"] is True
    run(client, lambda s: s.execute(delete(AuditAnchor)))
    run(client, lambda s: s.execute(delete(AuditEntry).where(AuditEntry.seq == 6)))
    r = client.get("/api/v1/audit/verify", headers=staff).json()
    assert r["ok"] is False and r["broken_seq"] == 6 and r["problem"].startswith("truncated")


def test_production_without_a_key_starts_but_warns():
    from app.audit.anchors import startup_warning
    from app.config import Settings

    base = dict(env="production", secret_key="s" * 40, ballot_key="b" * 40,
                rate_limit_url="redis://127.0.0.1:6379/0",
                sms_outbox_in_production=True)
    assert "MINSHENG_AUDIT_KEY_FILE" in startup_warning(Settings(**base))
    assert startup_warning(Settings(**base, audit_public_key=base64.b64encode(b"k" * 32).decode())
                           ) is None
    assert "cannot read" in startup_warning(Settings(**base, audit_key_file="/no/such/key.pem"))
    assert startup_warning(Settings(env="development")) is None


def test_an_anchor_the_database_lost_is_stored_again_from_the_file(client, world, database_url,
                                                                   tmp_path):
    anchored_history(client, world, database_url, tmp_path)
    run(client, lambda s: s.execute(delete(AuditAnchor)))
    r = minsheng(database_url, tmp_path, "audit", "verify")
    assert r.returncode == 1 and "anchors missing from the database" in r.stdout
    r = minsheng(database_url, tmp_path, "audit", "anchor")
    assert r.returncode == 0 and "stored it again" in r.stderr and "already anchored" in r.stdout
    assert minsheng(database_url, tmp_path, "audit", "verify").returncode == 0


def test_a_restore_behind_the_newest_anchor_says_what_was_lost(tmp_path, capsys):
    """After restoring an older backup, restore warns that the anchor file names lost entries."""
    from types import SimpleNamespace

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from app.audit import anchors as anchoring
    from app.cli import _warn_of_newer_anchors

    path = tmp_path / "anchors.jsonl"
    anchor = anchoring.sign(Ed25519PrivateKey.generate(), seq=120, hash="ab" * 32, count=120)
    path.write_text(json.dumps(anchor.to_json()) + "\n", encoding="utf-8")
    settings = SimpleNamespace(audit_anchor_file=path)
    _warn_of_newer_anchors(settings, 120)
    assert capsys.readouterr().err == ""
    _warn_of_newer_anchors(settings, 100)
    err = capsys.readouterr().err
    assert "#120" in err and "#100" in err and "moved aside" in err
    _warn_of_newer_anchors(SimpleNamespace(audit_anchor_file=tmp_path / "none.jsonl"), 1)
    assert capsys.readouterr().err == ""
