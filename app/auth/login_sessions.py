"""Server-side page sessions (登录会话): started at log-in, checked on every page, ended by logging
out, by logging out everywhere (退出所有设备) and by a password change.

The page cookie (Starlette's SessionMiddleware, signed, MINSHENG_SESSION_TTL_SECONDS) carries the
user id, their token version and a random secret; the LoginSession row is found by the secret's
SHA-256. A cookie whose row has ended or expired logs nobody in, so a copy kept after logging out
is worth nothing. The per-request cost is the one indexed lookup that loads the user anyway
(a join on the row's primary key); `last_seen_at` is written at most every TOUCH_EVERY, after the
answer has gone out. Expired rows are deleted at the next log-in (any account's).

Bearer tokens stay stateless: logging out everywhere bumps the account's token version, which
ends every token at once; a single token lives token_ttl_seconds.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

import ua_parser
from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from app.audit import service as audit
from app.db import _sqlite_writer_turn
from app.models import LoginSession, User, utcnow

log = logging.getLogger("minsheng")

# What the signed cookie holds.
SESSION_USER = "uid"
SESSION_VERSION = "v"
SESSION_ID = "sid"
# last_seen_at is written at most this often per session.
TOUCH_EVERY = timedelta(minutes=5)
DEVICE_MAX = 120
# A log-in by SMS code proves the phone: for this long afterwards, in that browser, a new password
# may be set without the current one (a forgotten password, 找回密码). Kept in the signed cookie,
# which is worth nothing once its session row has ended.
SMS_RESET_WINDOW = timedelta(minutes=15)
PHONE_PROVEN = "sms"
# Why a session ended (LoginSession.ended_reason).
LOGOUT, LOGOUT_ALL, PASSWORD_CHANGE, REPLACED = "logout", "logout_all", "password_change", (
    "replaced")


def session_key(secret: str) -> str:
    """The row id of a cookie's secret: its SHA-256, so the table holds nothing usable."""
    return hashlib.sha256(secret.encode()).hexdigest()


def current_key(request: Request) -> str | None:
    """The row id of this browser's session, if its cookie names one."""
    secret = request.session.get(SESSION_ID)
    return session_key(secret) if isinstance(secret, str) and secret else None


def prove_phone(request: Request) -> None:
    """Note that this browser's log-in just proved the account's phone by an SMS code."""
    request.session[PHONE_PROVEN] = utcnow().timestamp()


def phone_recently_proven(request: Request) -> bool:
    """Whether this browser logged in by SMS code within SMS_RESET_WINDOW."""
    at = request.session.get(PHONE_PROVEN)
    if not isinstance(at, int | float):
        return False
    return 0 <= utcnow().timestamp() - at <= SMS_RESET_WINDOW.total_seconds()


def forget_phone_proof(request: Request) -> None:
    request.session.pop(PHONE_PROVEN, None)


def device_label(user_agent: str) -> str:
    """A short name of the browser and system ("Chrome Mobile · Android 13 · Pixel 7")."""
    user_agent = user_agent.strip()[:500]
    if not user_agent:
        return ""
    parsed = ua_parser.parse(user_agent)
    parts = []
    if parsed.user_agent and parsed.user_agent.family != "Other":
        parts.append(parsed.user_agent.family)
    if parsed.os and parsed.os.family != "Other":
        parts.append(f"{parsed.os.family} {parsed.os.major or ''}".strip())
    if parsed.device and parsed.device.family not in ("Other", "Generic Smartphone", "Mac", "K"):
        parts.append(parsed.device.family)
    return (" · ".join(parts) or user_agent)[:DEVICE_MAX]


async def start(session: AsyncSession, request: Request, user: User) -> None:
    """Log `user` in on this browser: a new session with a new secret (never the one the
    browser came with, against session fixation); the browser's earlier session ends."""
    now = utcnow()
    await session.execute(delete(LoginSession).where(LoginSession.expires_at < now))
    await end_current(session, request, REPLACED)
    secret = secrets.token_urlsafe(32)
    ttl = timedelta(seconds=request.app.state.settings.session_ttl_seconds)
    session.add(LoginSession(
        id=session_key(secret), user_id=user.id, created_at=now, last_seen_at=now,
        expires_at=now + ttl, device=device_label(request.headers.get("user-agent", "")),
        address=(request.client.host if request.client else "")[:64]))
    await session.flush()
    request.session.clear()
    request.session.update({SESSION_USER: user.id, SESSION_VERSION: user.token_version,
                            SESSION_ID: secret})


async def end_current(session: AsyncSession, request: Request, reason: str = LOGOUT) -> None:
    """End this browser's session (log out); the cookie itself is cleared by the caller."""
    key = current_key(request)
    if key is not None:
        await session.execute(update(LoginSession).where(
            LoginSession.id == key, LoginSession.ended_at.is_(None)).values(
            ended_at=utcnow(), ended_reason=reason))


async def end_all(session: AsyncSession, user_id: str, reason: str, *,
                  keep: str | None = None) -> int:
    """End every session of the account (but `keep`, a row id); how many were running."""
    query = update(LoginSession).where(LoginSession.user_id == user_id,
                                       LoginSession.ended_at.is_(None))
    if keep is not None:
        query = query.where(LoginSession.id != keep)
    result = await session.execute(query.values(ended_at=utcnow(), ended_reason=reason))
    return result.rowcount or 0


async def log_out_everywhere(session: AsyncSession, user: User) -> int:
    """退出所有设备: every page session ends and every bearer token stops working (the token
    version moves on); how many page sessions were running."""
    user.token_version += 1
    session.add(user)
    await session.flush()
    ended = await end_all(session, user.id, LOGOUT_ALL)
    await audit.record(session, actor=user.username, action="user.logout_all",
                       entity_type="user", entity_id=user.id, data={"sessions": ended})
    return ended


async def active(session: AsyncSession, user_id: str) -> list[LoginSession]:
    """The account's running sessions, the most recently used first."""
    return list(await session.scalars(select(LoginSession).where(
        LoginSession.user_id == user_id, LoginSession.ended_at.is_(None),
        LoginSession.expires_at > utcnow()).order_by(LoginSession.last_seen_at.desc())))


async def user_of(session: AsyncSession, request: Request) -> tuple[User, datetime] | None:
    """The page's logged-in user and when their session was last seen, or None (the cookie is
    then cleared): one query for the session row and its account."""
    data = request.session
    uid, version, key = data.get(SESSION_USER), data.get(SESSION_VERSION), current_key(request)
    if not isinstance(uid, str) or not isinstance(version, int) or key is None:
        if SESSION_USER in data:
            data.clear()  # a cookie of no session (one from before sessions were kept)
        return None
    row = (await session.execute(
        select(User, LoginSession.last_seen_at).join(LoginSession, LoginSession.user_id == User.id)
        .where(LoginSession.id == key, LoginSession.ended_at.is_(None),
               LoginSession.expires_at > utcnow()))).first()
    if row is None or row[0].id != uid or not row[0].is_active or (
            row[0].token_version != version):
        data.clear()
        return None
    return row[0], row[1]


def needs_touch(last_seen: datetime, now: datetime | None = None) -> bool:
    return (now or utcnow()) - last_seen >= TOUCH_EVERY


async def touch(state, key: str) -> None:
    """Record that the session was used now, in a short transaction of its own (run after the
    answer has gone out); a busy database only means it is written next time."""
    try:
        async with _sqlite_writer_turn(state, True), AsyncSession(state.write_engine) as db:
            await db.execute(update(LoginSession).where(
                LoginSession.id == key, LoginSession.ended_at.is_(None)).values(
                last_seen_at=utcnow()))
            await db.commit()
    except SQLAlchemyError as exc:
        log.warning("login session last_seen not written: %s", exc.__class__.__name__)
