"""Casting a ballot in secret (投票): the one ballot per deputy, receipts — of either form (票决
or 测评: the round's form checks and completes the marks, app/ballotbox/forms.py).

A cast records that the deputy voted (the participation row) and stores their ballot as a sealed
envelope (app/ballotbox/envelopes.py): the canonical content and the receipt's hash, encrypted
under the round's key, which the database holds only wrapped under the server's ballot key.
Whoever reads the database sees who voted and an envelope written with it, never what is in it.
The close opens the envelopes and writes contents and receipts in one transaction, in an order
that follows the contents (app/ballotbox/rounds.py `move`, app/ballotbox/opening.py). Logs and the audit trail
say that a deputy voted, never how.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import ensure_token_user, invalid_token, password_change_required
from app.auth.roles import Role
from app.ballotbox import envelopes, keys
from app.ballotbox.errors import (
    already_voted,
    deputy_elsewhere,
    not_a_deputy,
    not_checked_in,
    round_not_open,
    unknown_ballot,
)
from app.ballotbox.forms import BallotForm, form_of
from app.ballotbox.queries import ROUND_LOCK_CLASS
from app.ballotbox.receipts import new_receipt, receipt_digest
from app.db import pg_autocommit, run_on_sqlite_thread, sqlite_write
from app.errors import Invalid
from app.models import BallotRound, User, new_id
from app.monitoring.metrics import counts_casts
from app.workflows.ballot import BallotState

# ----------------------------------------------------------------------------- casting
#
# A cast is the one hot path of a session hall (a national congress's 3,000 deputies vote within
# minutes), so it is written at the driver level: every refusal is checked first (round, deputy,
# attendance, the items on the paper), then the writes claim the deputy's one ballot and
# store its sealed envelope. On PostgreSQL the refusals and writes are one call of the stored
# function minsheng_cast_sealed; on SQLite _cast_sqlite runs them on the worker's writer thread
# (app/db.py SqliteWriter), several casts to a commit. _FACTS is that first read on SQLite; on
# PostgreSQL it only words a refusal of the marks.
#
# No audit entry is written per ballot: the participation row is the record that a deputy voted,
# and closing the round seals all of them in the audit chain at once (rounds.seal). Every cast
# appending to the one hash chain serialised all casting on its lock.

_FACTS = """
SELECT r.state, r.seats, r.secret, c.jurisdiction_code,
       u.id, u.role, u.jurisdiction_code, u.is_active, u.token_version, u.must_change_password,
       EXISTS (SELECT 1 FROM ballot_attendance a WHERE a.round_id = r.id AND a.user_id = u.id),
       (SELECT {agg}(bi.item_id, ',') FROM ballot_item bi WHERE bi.round_id = r.id), r.form
FROM ballot_round r JOIN cycle c ON c.id = r.cycle_id LEFT JOIN user_account u ON u.id = {uid}
WHERE r.id = {rid}"""
# PostgreSQL: the whole cast is one call of minsheng_cast_sealed (migration 2026-12-07-0720),
# which holds the round's advisory lock (ROUND_LOCK_CLASS) shared until it commits; closing the
# round (rounds.stop_casting) takes it exclusively first, so the close waits for the casts under
# way and later casts see the round closed. A refusal comes back as its code, nothing written.
# The marks are checked and sealed before the call, against what _PG_BOX read of the round
# (remembered by the worker while the round is open: its seats, items and form never change).
_PG_CAST = ("SELECT minsheng_cast_sealed(%(rid)s, %(uid)s, %(version)s, %(pid)s, %(eid)s, "
            "%(sealed)s, %(lock_class)s)")
_PG_FACTS = _FACTS.format(agg="string_agg", uid="%(uid)s", rid="%(rid)s")
_SQLITE_FACTS = _FACTS.format(agg="group_concat", uid="?", rid="?")
_BOX = """
SELECT r.state, r.seats, r.secret,
       (SELECT {agg}(bi.item_id, ',') FROM ballot_item bi WHERE bi.round_id = r.id),
       k.wrapped, k.key_id, r.form
FROM ballot_round r LEFT JOIN ballot_box_key k ON k.round_id = r.id WHERE r.id = {rid}"""
_PG_BOX = _BOX.format(agg="string_agg", rid="%(rid)s")
_PG_NEW_KEY = ("INSERT INTO ballot_box_key (round_id, wrapped, key_id) "
               "VALUES (%(rid)s, %(wrapped)s, %(key_id)s) ON CONFLICT (round_id) DO NOTHING "
               "RETURNING round_id")
_SQLITE_KEY = "SELECT wrapped, key_id FROM ballot_box_key WHERE round_id = ?"
_SQLITE_NEW_KEY = "INSERT INTO ballot_box_key (round_id, wrapped, key_id) VALUES (?, ?, ?)"

_SQLITE_CLAIM = ("INSERT INTO ballot_participation (id, round_id, user_id) VALUES (?, ?, ?) "
                 "ON CONFLICT (round_id, user_id) DO NOTHING")
_SQLITE_ENVELOPE = "INSERT INTO ballot_envelope (round_id, id, sealed) VALUES (?, ?, ?)"


@dataclass(frozen=True)
class _Box:
    """What sealing a ballot of an open round needs, remembered per worker (app/ballotbox/keys.py)."""

    seats: int
    secret: bool
    item_ids: frozenset[str]
    form: BallotForm
    key: bytes
    wrapped: bytes = b""  # as stored: SQLite checks its copy against the row on every cast


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
    item_ids: frozenset[str]
    form: BallotForm

    @classmethod
    def of(cls, row) -> _Facts | None:
        if row is None:
            return None
        (state, seats, secret, cycle_j, uid, role, user_j, active, version, must_change,
         present, ids, form) = row
        return cls(state, seats, bool(secret), cycle_j, uid, role, user_j, bool(active), version,
                   bool(must_change), bool(present), _ids(ids), form_of(form))


def _ids(joined: str | None) -> frozenset[str]:
    return frozenset((joined or "").split(",")) - {""}


def _checked(facts: _Facts | None, marks: dict[str, str], token_version: int | None,
             form: str | None = None) -> _Facts:
    """Every refusal of a cast, in the order the API gives them; nothing is written before.
    `form`: the form the caller casts on (None: the round was loaded by its stage already)."""
    if facts is None or form not in (None, facts.form.name):
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
    facts.form.check(facts.item_ids, marks, facts.seats)
    return facts


def _seal(box: _Box, round_id: str, user_id: str, marks: dict[str, str], digest: str) -> bytes:
    return envelopes.seal(box.key, round_id, len(box.item_ids),
                          box.form.content(box.item_ids, marks), digest,
                          None if box.secret else user_id)


@counts_casts("page")  # counted when written; the request commits it afterwards
async def cast(session: AsyncSession, ballot: BallotRound, user: User,
               marks: dict[str, str]) -> str:
    """Cast `user`'s one ballot in the session's transaction (the deputy pages); the receipt code."""
    code = new_receipt()
    wrapper = envelopes.wrapper_for(session=session)
    if session.bind.dialect.name == "postgresql":
        connection = await session.connection()

        async def first_row(sql: str, params: dict) -> tuple | None:
            return (await connection.exec_driver_sql(sql, params)).first()

        await _cast_pg(first_row, ballot.id, user.id, marks, None, receipt_digest(code),
                       wrapper, committed=False)
    else:
        await run_on_sqlite_thread(session, partial(
            _cast_sqlite, round_id=ballot.id, user_id=user.id, marks=marks, token_version=None,
            digest=receipt_digest(code), wrapper=wrapper))
    return code


@counts_casts("api")
async def cast_in_own_transaction(state, round_id: str, user_id: str, marks: dict[str, str], *,
                                  token_version: int, form: str) -> str:
    """Cast the API caller's one ballot in a transaction of its own (POST /ballots/{id}/votes)
    in a round of the given form (a round of another form is refused as unknown: each stage's
    API casts on its own rounds).

    The account is checked here (active, token not revoked, password changed) in the cast's one
    read, so the API's hot path loads no ORM objects and opens no session. A second submission
    (another device, a replay) claims nothing, also when it races the first, whose commit it
    waits for, and is refused with nothing written.
    """
    code = new_receipt()
    wrapper = envelopes.wrapper_for(state.settings)
    if state.settings.is_sqlite:
        await sqlite_write(state, partial(
            _cast_sqlite, round_id=round_id, user_id=user_id, marks=marks,
            token_version=token_version, digest=receipt_digest(code), wrapper=wrapper,
            form=form))
        return code
    async with pg_autocommit(state) as connection:
        async def first_row(sql: str, params: dict) -> tuple | None:
            return await (await connection.execute(sql, params, prepare=True)).fetchone()

        await _cast_pg(first_row, round_id, user_id, marks, token_version, receipt_digest(code),
                       wrapper, committed=True, form=form)
    return code


async def _box_pg(first_row, round_id: str, wrapper: envelopes.Wrapper,
                  committed: bool) -> _Box | None:
    """The open round's _Box (its key made if it has none yet), or None: no such round, or not
    open (minsheng_cast_sealed then says which refusal). `committed`: statements commit as they
    run (the API's autocommit connection), so a key made here may be remembered."""
    box = keys.recall(round_id, wrapper.key_id)
    if box is not None:
        return box
    row = await first_row(_PG_BOX, {"rid": round_id})
    if row is None or row[0] != BallotState.open:
        return None
    made = row[4] is None
    if made:
        await first_row(_PG_NEW_KEY, {"rid": round_id, "key_id": wrapper.key_id,
                                      "wrapped": wrapper.wrap(round_id,
                                                              envelopes.new_round_key())})
        row = await first_row(_PG_BOX, {"rid": round_id})  # ours, or a racing cast's
    state, seats, secret, ids, wrapped, key_id, form = row
    box = _Box(seats, bool(secret), _ids(ids), form_of(form),
               wrapper.unwrap(round_id, wrapped, key_id))
    if committed or not made:  # a key made in a transaction still open may yet be rolled back
        keys.remember(round_id, wrapper.key_id, box)
    return box


async def _cast_pg(first_row, round_id: str, user_id: str, marks: dict[str, str],
                   token_version: int | None, digest: str, wrapper: envelopes.Wrapper, *,
                   committed: bool, form: str | None = None) -> None:
    """Cast through minsheng_cast_sealed with `first_row(sql, params)` on one connection; a
    refusal raises the same error as the SQLite path (the facts are read to word a refusal of
    the marks, which comes after every other refusal)."""
    params = {"rid": round_id, "uid": user_id, "version": token_version, "pid": new_id(),
              "eid": new_id(), "sealed": b"", "lock_class": ROUND_LOCK_CLASS}
    box = await _box_pg(first_row, round_id, wrapper, committed)
    if box is not None and form not in (None, box.form.name):
        raise unknown_ballot()
    if box is not None:
        try:
            box.form.check(box.item_ids, marks, box.seats)
        except Invalid:
            _checked(_Facts.of(await first_row(_PG_FACTS, params)), marks, token_version)
            raise
        params["sealed"] = _seal(box, round_id, user_id, marks, digest)
    (outcome,) = await first_row(_PG_CAST, params)
    if outcome == "ok":
        if box is None:  # cannot happen: a round not open refuses every cast
            raise round_not_open()
        return
    if outcome == "round_not_open":
        keys.forget(round_id)
    raise _REFUSALS[outcome]()


def _box_sqlite(db: sqlite3.Connection, facts: _Facts, round_id: str,
                wrapper: envelopes.Wrapper) -> _Box:
    """The round's key as its row holds it now, read on every cast (a few microseconds): the
    writer commits casts in groups, so a key read in a group that then fails to commit must not
    outlive it. Only the unwrapping is remembered, for the wrapped bytes it came from."""
    row = db.execute(_SQLITE_KEY, (round_id,)).fetchone()
    if row is None:  # the round's first cast: its key
        key = envelopes.new_round_key()
        db.execute(_SQLITE_NEW_KEY, (round_id, wrapper.wrap(round_id, key), wrapper.key_id))
        return _Box(facts.seats, facts.secret, facts.item_ids, facts.form, key)
    box = keys.recall(round_id, wrapper.key_id)
    if box is not None and box.wrapped == row[0]:
        return box
    box = _Box(facts.seats, facts.secret, facts.item_ids, facts.form,
               wrapper.unwrap(round_id, row[0], row[1]), bytes(row[0]))
    keys.remember(round_id, wrapper.key_id, box)
    return box


def _cast_sqlite(db: sqlite3.Connection, *, round_id: str, user_id: str, marks: dict[str, str],
                 token_version: int | None, digest: str, wrapper: envelopes.Wrapper,
                 form: str | None = None) -> None:
    """The refusals, then the writes, on the connection's own thread (one hand-over)."""
    facts = _checked(_Facts.of(db.execute(_SQLITE_FACTS, (user_id, round_id)).fetchone()),
                     marks, token_version, form)
    if db.execute(_SQLITE_CLAIM, (new_id(), round_id, user_id)).rowcount != 1:
        raise already_voted()
    box = _box_sqlite(db, facts, round_id, wrapper)
    db.execute(_SQLITE_ENVELOPE, (round_id, new_id(), _seal(box, round_id, user_id, marks,
                                                            digest)))


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


# minsheng_cast_sealed's refusal codes
_REFUSALS = {
    "unknown_ballot": unknown_ballot, "invalid_token": invalid_token,
    "password_change_required": password_change_required, "not_a_deputy": not_a_deputy,
    "outside_jurisdiction": deputy_elsewhere, "round_not_open": round_not_open,
    "not_checked_in": not_checked_in, "already_voted": already_voted,
}
