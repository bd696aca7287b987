"""Casting a ballot in secret (投票): the one ballot per deputy, receipts.

Secrecy rests on the tables (app/models/ballot.py): casting writes a participation row (who)
and fills a random empty content slot (what) in one transaction; the two share no key and
nothing about the content row follows the order of casting. Logs and the audit trail say that
a deputy voted, never how. Closing a round (waiting for the casts under way, the reshuffle,
the seal) is app/ballots/service.py `move`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from dataclasses import dataclass
from functools import partial

from psycopg import DatabaseError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import ensure_token_user, invalid_token, password_change_required
from app.auth.roles import Role
from app.ballots.errors import (
    already_voted,
    deputy_elsewhere,
    no_ballot_left,
    not_a_deputy,
    not_checked_in,
    round_not_open,
    unknown_ballot,
)
from app.ballots.marks import canonical, check_marks
from app.ballots.queries import ROUND_LOCK_CLASS
from app.db import pg_autocommit, run_on_sqlite_thread, sqlite_write
from app.errors import Invalid
from app.models import BallotRound, User, new_id
from app.monitoring.metrics import counts_casts
from app.workflows.ballot import BallotState

# A receipt code: 80 random bits in Crockford-style base32 (no I, L, O, U), in groups of four.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_receipt() -> str:
    n = secrets.randbits(80)
    chars = "".join(_ALPHABET[(n >> (5 * i)) & 31] for i in range(16))
    return "-".join(chars[i:i + 4] for i in range(0, 16, 4))


def receipt_digest(code: str) -> str:
    """SHA-256 hex of the code as shown (upper case, with its dashes)."""
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


# ----------------------------------------------------------------------------- casting
#
# A cast is the one hot path of a session hall (a national congress's 3,000 deputies vote within
# minutes), so it is written at the driver level: every refusal is checked first (round, deputy,
# attendance, the candidates on the paper), then the writes claim the deputy's one ballot, fill a
# random empty slot and store the receipt's hash. On PostgreSQL all of it is one call of the
# stored function minsheng_cast; on SQLite _cast_sqlite runs it on the worker's writer thread
# (app/db.py SqliteWriter), several casts to a commit. _FACTS is that first read on SQLite; on
# PostgreSQL it only words a refusal of the marks, which the function names by its code.
#
# No audit entry is written per ballot: the participation row is the record that a deputy voted,
# and closing the round seals all of them in the audit chain at once (seal(), below). Every cast
# appending to the one hash chain serialised all casting on its lock.

_FACTS = """
SELECT r.state, r.seats, r.secret, c.jurisdiction_code,
       u.id, u.role, u.jurisdiction_code, u.is_active, u.token_version, u.must_change_password,
       EXISTS (SELECT 1 FROM ballot_attendance a WHERE a.round_id = r.id AND a.user_id = u.id),
       (SELECT {agg}(bc.candidate_id, ',') FROM ballot_candidate bc WHERE bc.round_id = r.id)
FROM ballot_round r JOIN cycle c ON c.id = r.cycle_id LEFT JOIN user_account u ON u.id = {uid}
WHERE r.id = {rid}"""
# PostgreSQL: the whole cast is one call of minsheng_cast (migration 2026-11-23-0300), which
# holds the round's advisory lock (ROUND_LOCK_CLASS) shared until it commits; closing the round
# (service.stop_casting) takes it exclusively first, so the close waits for the casts under way
# and later casts see the round closed. A refusal comes back as its code, with nothing written.
_PG_CAST = ("SELECT minsheng_cast(%(rid)s, %(uid)s, %(version)s, %(marks)s::jsonb, %(pid)s, "
            "%(start)s, %(digest)s, %(lock_class)s)")
_PG_FACTS = _FACTS.format(agg="string_agg", uid="%(uid)s", rid="%(rid)s")
_SQLITE_FACTS = _FACTS.format(agg="group_concat", uid="?", rid="?")

_SQLITE_CLAIM = ("INSERT INTO ballot_participation (id, round_id, user_id) VALUES (?, ?, ?) "
                 "ON CONFLICT (round_id, user_id) DO NOTHING")
_SQLITE_FILL = ("UPDATE ballot_content SET filled = 1, marks = ?, voter_id = ? WHERE id = ("
                "SELECT id FROM ballot_content WHERE round_id = ? AND filled = 0 AND paper = 0 "
                "AND id {op} ? ORDER BY id LIMIT 1)")
_SQLITE_FILL_AT, _SQLITE_FILL_BEFORE = _SQLITE_FILL.format(op=">="), _SQLITE_FILL.format(op="<")
_SQLITE_RECEIPT = "INSERT INTO ballot_receipt (round_id, digest) VALUES (?, ?)"


@dataclass(frozen=True)
class _Facts:
    """What the refusals of a cast look at, read in one query."""

    state: str
    seats: int
    secret: bool
    cycle_jurisdiction: str
    user_id: str | None
    role: str | None
    user_jurisdiction: str | None
    is_active: bool
    token_version: int | None
    must_change_password: bool
    checked_in: bool
    candidate_ids: frozenset[str]

    @classmethod
    def of(cls, row) -> _Facts | None:
        if row is None:
            return None
        (state, seats, secret, cycle_j, uid, role, user_j, active, version, must_change,
         present, cids) = row
        return cls(state, seats, bool(secret), cycle_j, uid, role, user_j, bool(active), version,
                   bool(must_change), bool(present), frozenset((cids or "").split(",")) - {""})


def _checked(facts: _Facts | None, marks: dict[str, str], token_version: int | None) -> _Facts:
    """Every refusal of a cast, in the order the API gives them; nothing is written before."""
    if facts is None:
        raise unknown_ballot()
    if token_version is not None:  # the API's bearer token: the account as it is now
        ensure_token_user(facts.user_id is not None and facts.is_active
                          and facts.token_version == token_version,
                          facts.must_change_password)
    if facts.role != Role.deputy:
        raise not_a_deputy()
    if facts.user_jurisdiction != facts.cycle_jurisdiction:
        raise deputy_elsewhere()
    if facts.state != BallotState.open:
        raise round_not_open()
    if not facts.checked_in:
        raise not_checked_in()
    check_marks(facts.seats, facts.candidate_ids, marks)
    return facts


def _content(facts: _Facts, marks: dict[str, str]) -> str:
    return canonical({c: marks.get(c, "abstain") for c in facts.candidate_ids})


@counts_casts("page")  # counted when written; the request commits it afterwards
async def cast(session: AsyncSession, ballot: BallotRound, user: User,
               marks: dict[str, str]) -> str:
    """Cast `user`'s one ballot in the session's transaction (the deputy pages); the receipt code."""
    code = new_receipt()
    if session.bind.dialect.name == "postgresql":
        connection = await session.connection()

        async def first_row(sql: str, params: dict) -> tuple | None:
            return (await connection.exec_driver_sql(sql, params)).first()

        await _cast_pg(first_row, ballot.id, user.id, marks, None, receipt_digest(code))
    else:
        await run_on_sqlite_thread(session, partial(
            _cast_sqlite, round_id=ballot.id, user_id=user.id, marks=marks, token_version=None,
            digest=receipt_digest(code)))
    return code


@counts_casts("api")
async def cast_in_own_transaction(state, round_id: str, user_id: str, marks: dict[str, str], *,
                                  token_version: int) -> str:
    """Cast the API caller's one ballot in a transaction of its own (POST /ballots/{id}/votes).

    The account is checked here (active, token not revoked, password changed) in the cast's one
    read, so the API's hot path loads no ORM objects and opens no session. A second submission
    (another device, a replay) claims nothing, also when it races the first, whose commit it
    waits for, and is refused with nothing written.
    """
    code = new_receipt()
    if state.settings.is_sqlite:
        await sqlite_write(state, partial(
            _cast_sqlite, round_id=round_id, user_id=user_id, marks=marks,
            token_version=token_version, digest=receipt_digest(code)))
        return code
    async with pg_autocommit(state) as connection:
        async def first_row(sql: str, params: dict) -> tuple | None:
            return await (await connection.execute(sql, params, prepare=True)).fetchone()

        await _cast_pg(first_row, round_id, user_id, marks, token_version, receipt_digest(code))
    return code


async def _cast_pg(first_row, round_id: str, user_id: str, marks: dict[str, str],
                   token_version: int | None, digest: str) -> None:
    """Cast through minsheng_cast with `first_row(sql, params)` on one connection; a refusal
    raises the same error as the SQLite path (the facts are read again to word it)."""
    params = {"rid": round_id, "uid": user_id, "version": token_version,
              "marks": json.dumps(marks), "pid": new_id(), "start": secrets.token_hex(16),
              "digest": digest, "lock_class": ROUND_LOCK_CLASS}
    try:
        (outcome,) = await first_row(_PG_CAST, params)
    except (DatabaseError, DBAPIError) as exc:  # the driver's, or SQLAlchemy's around it
        diag = getattr(getattr(exc, "orig", exc), "diag", None)
        if getattr(diag, "message_hint", None) == "no_ballot_left":
            raise no_ballot_left() from None
        raise
    if outcome == "ok":
        return
    if outcome in _REFUSALS:
        raise _REFUSALS[outcome]()
    # unknown_candidate / too_many_yes: the facts again, for the message naming the marks
    _checked(_Facts.of(await first_row(_PG_FACTS, params)), marks, token_version)
    raise Invalid(f"The ballot was refused: {outcome}.", code=outcome)


def _cast_sqlite(db: sqlite3.Connection, *, round_id: str, user_id: str, marks: dict[str, str],
                 token_version: int | None, digest: str) -> None:
    """The refusals, then the writes, on the connection's own thread (one hand-over)."""
    facts = _checked(_Facts.of(db.execute(_SQLITE_FACTS, (user_id, round_id)).fetchone()),
                     marks, token_version)
    if db.execute(_SQLITE_CLAIM, (new_id(), round_id, user_id)).rowcount != 1:
        raise already_voted()
    fill = (_content(facts, marks), None if facts.secret else user_id, round_id,
            secrets.token_hex(16))
    if (db.execute(_SQLITE_FILL_AT, fill).rowcount != 1
            and db.execute(_SQLITE_FILL_BEFORE, fill).rowcount != 1):
        raise no_ballot_left()
    db.execute(_SQLITE_RECEIPT, (round_id, digest))


def ensure_may_cast(ballot: BallotRound, *, checked_in: bool, voted: bool = False) -> None:
    """The refusals before a deputy's ballot is taken: voted already, round not open, absent.

    cast() claims the one ballot itself (so `voted` is for pages that ask first).
    """
    if voted:
        raise already_voted()
    if ballot.state != BallotState.open:
        raise round_not_open()
    if not checked_in:
        raise not_checked_in()


# minsheng_cast's refusal codes (the marks' two are worded from the facts, see _cast_pg)
_REFUSALS = {
    "unknown_ballot": unknown_ballot, "invalid_token": invalid_token,
    "password_change_required": password_change_required, "not_a_deputy": not_a_deputy,
    "outside_jurisdiction": deputy_elsewhere, "round_not_open": round_not_open,
    "not_checked_in": not_checked_in, "already_voted": already_voted,
}
