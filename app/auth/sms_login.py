"""Logging in by SMS code (短信验证码登录): the way out when the password is throttled or forgotten.

For accounts with a phone number on record. Residents register by phone, so every resident has
one; staff and deputies are created without one (POST /users and the roster take none), so they
log in by password only and ask an administrator when locked out.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.errors import Invalid, NotAuthenticated
from app.models import User
from app.ratelimit import RateLimits
from app.residents.service import LOGIN, consume_code, issue_code, limit_sends, normalise_phone


def bad_code() -> NotAuthenticated:
    return NotAuthenticated("The code is wrong or has expired; ask for a new one.",
                            code="bad_code", zh="验证码不正确或已过期，请重新获取。")


async def _account(session: AsyncSession, phone: str) -> User | None:
    user = await session.scalar(select(User).where(User.phone == phone))
    return user if user is not None and user.is_active else None


async def send_code(session: AsyncSession, *, settings: Settings, limits: RateLimits,
                    phone: str, address: str) -> int:
    """Text a log-in code to the number if an active account has it; the answer (its lifetime)
    and the send limits are the same either way, so it does not tell who has an account."""
    phone = normalise_phone(phone)
    await limit_sends(limits, phone=phone, address=address)
    user = await _account(session, phone)
    if user is not None:
        # Filed under the account's jurisdiction: only its staff see it in the outbox.
        await issue_code(session, settings=settings, phone=phone, purpose=LOGIN,
                         jurisdiction_code=user.jurisdiction_code)
    return settings.sms_code_ttl_seconds


async def log_in(session: AsyncSession, *, settings: Settings, limits: RateLimits, phone: str,
                 code: str, address: str) -> User:
    """The account whose number received this log-in code; 401 `bad_code` otherwise, alike for
    a wrong code, an expired one and a number without an account."""
    phone = normalise_phone(phone)
    try:
        await consume_code(session, settings=settings, limits=limits, phone=phone, code=code,
                           purpose=LOGIN, address=address)
    except Invalid:
        raise bad_code() from None
    user = await _account(session, phone)
    if user is None:
        raise bad_code()
    return user
