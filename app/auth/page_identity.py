"""Who a page's visitor is, in one statement: for serving a kept page to a logged-in person
(app/caching.py) without the request's database session.

The signed session cookie (already decoded by Starlette's SessionMiddleware) names the user, the
token version and the login session's secret; one statement reads that session's row with its
account, the account's grants and the count of unread messages — what decides which kept copy
fits (role, jurisdiction, grants) and what is filled into it (name, unread count). The rules
are those of app/auth/login_sessions.py `user_of`; anything else (no such session, ended,
expired, a generated password still to change, a session due to be touched) answers None and
the request goes the ordinary way.

What the statement read is remembered per worker (`state.page_identities`, IdentityMemo) under
the stamp it was read at: the data's version and the sessions' version (app/dataversion.py).
Every write that went through moves one of them on — ending a session, a new or read message, a
changed account or role, a command of the `minsheng` tool — and the next request reads again.
What only time changes (the session's expiry, its touch) is checked on every request against
what was read; when that says no, the statement runs again before the answer is no. A remembered
row is also read again after MEMO_SECONDS, for changes made outside the app. The requests that
find no row for one session while its statement is on its way wait for that statement's answer
instead of each sending its own (a crowd of one session's requests, as when a kept row expires
under load, costs one statement).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from app.auth.login_sessions import (
    SESSION_ID,
    SESSION_USER,
    SESSION_VERSION,
    needs_touch,
    session_key,
)
from app.db import fetch_one
from app.models import utcnow

IDENTITY_SQL = """
SELECT u.id, u.username, u.display_name, u.role, u.jurisdiction_code, u.is_active,
       u.token_version, u.must_change_password, s.user_id, s.ended_at, s.expires_at,
       s.last_seen_at,
       (SELECT count(*) FROM notification n WHERE n.user_id = u.id AND n.read_at IS NULL),
       (SELECT count(*) FROM jurisdiction_grant g WHERE g.user_id = u.id)
FROM login_session s JOIN user_account u ON u.id = s.user_id
WHERE s.id = :key
"""


@dataclass(frozen=True)
class PageIdentity:
    """PageIdentity — 页面访问者: the logged-in person as the kept pages need them."""

    id: str
    username: str
    display_name: str
    role: str
    jurisdiction_code: str | None
    unread: int
    has_grants: bool
    session_key: str

    @property
    def audience(self) -> tuple:
        """Who sees the same shared page: one role in one jurisdiction; a person holding grants
        into other jurisdictions sees their own copy."""
        return (self.role, self.jurisdiction_code or "", self.id if self.has_grants else "")


def _utc(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)  # SQLite: naive UTC text


MEMO_SECONDS = 10.0
MEMO_ENTRIES = 100_000


class IdentityMemo:
    """IdentityMemo — 访问者缓存: the identity rows one worker read, for one stamp (the data's and
    the sessions' versions). A request with a newer stamp starts it afresh; one with an older
    stamp (read before a write that another request has seen already) neither uses nor fills it."""

    def __init__(self) -> None:
        self.stamp: tuple[int, int] | None = None
        self.rows: dict[str, tuple[float, tuple]] = {}
        # the statements on their way, by (stamp, session key): their rows, once answered
        self.reading: dict[tuple, asyncio.Future] = {}

    def clear(self) -> None:
        self.stamp = None
        self.rows.clear()

    def get(self, stamp: tuple[int, int], key: str) -> tuple | None:
        if stamp != self.stamp:
            return None
        found = self.rows.get(key)
        if found is None or found[0] <= time.monotonic():
            return None
        return found[1]

    def put(self, stamp: tuple[int, int], key: str, row: tuple) -> None:
        if self.stamp != stamp:
            if self.stamp is not None and not (stamp[0] >= self.stamp[0]
                                               and stamp[1] >= self.stamp[1]):
                return  # an older stamp: what it read may already be out of date
            self.stamp = stamp
            self.rows.clear()
        elif len(self.rows) >= MEMO_ENTRIES:
            self.rows.clear()
        self.rows[key] = (time.monotonic() + MEMO_SECONDS, row)


def _admitted(row: tuple, uid: str, version: int, key: str) -> PageIdentity | None:
    (user_id, username, display_name, role, jurisdiction, active, token_version, must_change,
     session_user, ended, expires, last_seen, unread, grants) = row
    now = utcnow()
    if (user_id != uid or session_user != uid or not active or token_version != version
            or must_change or ended is not None or _utc(expires) <= now
            or needs_touch(_utc(last_seen), now)):
        return None
    return PageIdentity(user_id, username, display_name, role, jurisdiction, int(unread),
                        bool(grants), key)


async def identify(state, session: dict,
                   stamp: tuple[int, int] | None = None) -> PageIdentity | None:
    """The visitor of a running session whose page may come from a kept copy, else None.

    `stamp`: the data's and the sessions' versions, read before this call; with it the row is
    remembered (IdentityMemo) until either moves on."""
    uid, version, secret = (session.get(SESSION_USER), session.get(SESSION_VERSION),
                            session.get(SESSION_ID))
    if not (isinstance(uid, str) and isinstance(version, int) and isinstance(secret, str)
            and secret):
        return None
    key = session_key(secret)
    memo: IdentityMemo | None = None
    if stamp is not None:
        memo = getattr(state, "page_identities", None)
        if memo is None:
            memo = state.page_identities = IdentityMemo()
        row = memo.get(stamp, key)
        if row is not None:
            who = _admitted(row, uid, version, key)
            if who is not None:
                return who  # else time has passed (expiry, touch): read the row again
        row = await _read_once(state, memo, stamp, key)
    else:
        row = await fetch_one(state, IDENTITY_SQL, {"key": key})
    return None if row is None else _admitted(row, uid, version, key)


async def _read_once(state, memo: IdentityMemo, stamp: tuple[int, int], key: str) -> tuple | None:
    """The session's row read at `stamp`, by this request's statement or by the one another
    request of this worker already sent for the same stamp (the row is remembered either way)."""
    failed = None
    while (pending := memo.reading.get((stamp, key))) is not None and pending is not failed:
        try:
            return await asyncio.shield(pending)
        except Exception:  # noqa: BLE001 - that statement failed: join a newer one, or send
            failed = pending
    pending = memo.reading[(stamp, key)] = asyncio.get_running_loop().create_future()
    try:
        row = await fetch_one(state, IDENTITY_SQL, {"key": key})
        row = None if row is None else tuple(row)
        if row is not None:
            memo.put(stamp, key, row)
        pending.set_result(row)
        return row
    except BaseException as exc:
        pending.set_exception(exc if isinstance(exc, Exception) else RuntimeError("cancelled"))
        pending.exception()  # retrieved: no "never retrieved" warning when nobody waits
        raise
    finally:
        if memo.reading.get((stamp, key)) is pending:
            del memo.reading[(stamp, key)]
