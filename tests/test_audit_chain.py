"""The audit log's hash chain: intact after normal use, and names an edited or deleted entry."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from app.audit import service as audit
from app.models import AuditEntry
from tests.helpers import run


def make_history(client, world):
    for year in (2024, 2025, 2026):
        r = client.post("/api/v1/cycles", json={"jurisdiction_code": "lezhi", "year": year,
                                                "title": f"{year}年", "seats": 5},
                        headers=world.headers("gov_staff"))
        client.post(f"/api/v1/cycles/{r.json()['id']}/transitions",
                    json={"to": "soliciting", "reason": "开始"}, headers=world.headers("gov_staff"))


def test_every_transition_lands_in_the_audit_log(client, world):
    make_history(client, world)
    entries = run(client, lambda s: s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    entries = list(entries)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    transitions = [e for e in entries if e.action == "cycle.transition"]
    assert len(transitions) == 3 and all(e.actor == "gov-staff" for e in transitions)
    assert '"to":"soliciting"' in transitions[0].data


def test_an_intact_chain_verifies(client, world):
    make_history(client, world)
    result = run(client, audit.verify)
    assert result.ok and result.checked == 6
    r = client.get("/api/v1/audit/verify", headers=world.headers("congress_staff"))
    assert r.json() == {"ok": True, "checked": 6, "broken_seq": None, "problem": ""}


def test_an_edited_entry_is_named(client, world):
    make_history(client, world)
    run(client, lambda s: s.execute(update(AuditEntry).where(AuditEntry.seq == 3)
                                    .values(data='{"to":"closed"}')))
    result = run(client, audit.verify)
    assert not result.ok and result.broken_seq == 3 and "changed" in result.problem


def test_a_deleted_entry_is_named(client, world):
    make_history(client, world)
    run(client, lambda s: s.execute(delete(AuditEntry).where(AuditEntry.seq == 2)))
    result = run(client, audit.verify)
    assert not result.ok and result.broken_seq == 2 and "missing" in result.problem


def test_a_rewritten_entry_with_a_fresh_hash_breaks_the_next_link(client, world):
    make_history(client, world)

    async def forge(session):
        entry = await session.get(AuditEntry, 2)
        entry.actor = "someone-else"
        entry.hash = audit.entry_hash(entry)

    run(client, forge)
    result = run(client, audit.verify)
    assert not result.ok and result.broken_seq == 3


def test_cli_audit_verify_exit_codes(client, world, database_url):
    from tests.test_config_and_cli import minsheng

    make_history(client, world)
    r = minsheng(database_url, "audit", "verify")
    assert r.returncode == 0 and "intact: 6 entries" in r.stdout
    run(client, lambda s: s.execute(update(AuditEntry).where(AuditEntry.seq == 4)
                                    .values(actor="x")))
    r = minsheng(database_url, "audit", "verify")
    assert r.returncode == 1 and "entry 4" in r.stdout
