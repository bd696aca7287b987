"""Resident self-registration with a mobile number verified by a 6-digit SMS code."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.passwords import check_policy, hash_password_async
from app.auth.roles import Role
from app.config import Settings
from app.errors import Conflict, Invalid
from app.jurisdictions import service as jurisdictions
from app.models import Jurisdiction, JurisdictionGrant, SmsCode, SmsMessage, User, utcnow
from app.ratelimit import (
    CODE_CHECKS_PER_ADDRESS,
    CODE_CHECKS_PER_PHONE,
    SMS_PER_ADDRESS,
    SMS_PER_PHONE,
    RateLimits,
)
from app.residents.sms import deliver

PHONE = re.compile(r"^1[3-9]\d{9}$")


def normalise_phone(raw: str) -> str:
    """A mainland mobile number as 11 digits, or 422."""
    phone = re.sub(r"[\s-]", "", raw or "").removeprefix("+86")
    if not PHONE.match(phone):
        raise Invalid("Give an 11-digit mainland mobile number.", code="invalid_phone",
                      zh="请输入 11 位手机号码。")
    return phone


def _digest(settings: Settings, phone: str, code: str) -> str:
    key = settings.effective_secret.encode()
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


REGISTER, LOGIN = "register", "login"  # what a code is for (SmsCode.purpose)
_TEXTS = {
    REGISTER: "【民生实事】您的验证码是 {code}，{minutes} 分钟内有效。请勿告诉他人。",
    LOGIN: "【民生实事】您的登录验证码是 {code}，{minutes} 分钟内有效。如非本人操作请忽略，"
           "请勿告诉他人。",
}


async def issue_code(session: AsyncSession, *, settings: Settings, phone: str, purpose: str,
                     jurisdiction_code: str | None) -> int:
    """Store and text a fresh 6-digit code (the caller has applied the send limits); returns
    its lifetime in seconds."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    ttl = settings.sms_code_ttl_seconds
    session.add(SmsCode(phone=phone, purpose=purpose, jurisdiction_code=jurisdiction_code,
                        code_hash=_digest(settings, phone, code),
                        expires_at=utcnow() + timedelta(seconds=ttl)))
    await session.flush()
    await deliver(settings.sms_sender, session, phone,
                  _TEXTS[purpose].format(code=code, minutes=ttl // 60),
                  jurisdiction_code=jurisdiction_code)
    return ttl


async def limit_sends(limits: RateLimits, *, phone: str, address: str) -> None:
    """The send limits shared by every kind of code: per network address and per number."""
    await limits.consume(SMS_PER_ADDRESS, address)
    await limits.consume(SMS_PER_PHONE, phone)


async def send_code(session: AsyncSession, *, settings: Settings, limits: RateLimits,
                    phone: str, address: str, jurisdiction_code: str | None = None) -> int:
    """Send a fresh registration code, whether or not the number is registered already (the
    answer must not tell); returns its lifetime in seconds."""
    phone = normalise_phone(phone)
    if jurisdiction_code:
        jurisdiction_code = (await jurisdictions.get(session, jurisdiction_code)).code
    await limit_sends(limits, phone=phone, address=address)
    return await issue_code(session, settings=settings, phone=phone, purpose=REGISTER,
                            jurisdiction_code=jurisdiction_code or None)


async def consume_code(session: AsyncSession, *, settings: Settings, limits: RateLimits,
                       phone: str, code: str, purpose: str, address: str,
                       jurisdiction_code: str | None = None) -> SmsCode:
    """Use up the number's latest code of `purpose`, or 422 (expired / wrong); 429 past the
    limits on tries per number and per address."""
    await limits.consume(CODE_CHECKS_PER_ADDRESS, address)
    await limits.consume(CODE_CHECKS_PER_PHONE, phone)
    row = await session.scalar(select(SmsCode).where(SmsCode.phone == phone,
                                                     SmsCode.purpose == purpose,
                                                     SmsCode.consumed_at.is_(None))
                               .order_by(SmsCode.created_at.desc()).limit(1))
    expired = row is None or row.expires_at <= utcnow()
    if expired:
        raise Invalid("The code has expired or was not requested; ask for a new one.",
                      code="code_expired", zh="验证码已过期或未获取，请重新获取。")
    # Constant-time comparison of the stored digest. Guessing is bounded by the rate limit on
    # checks per number (kept outside this transaction, which a wrong code rolls back).
    if not hmac.compare_digest(row.code_hash, _digest(settings, phone, (code or "").strip())):
        raise Invalid("The code is wrong.", code="code_wrong", zh="验证码不正确。")
    # A code asked for one jurisdiction was readable by that jurisdiction's staff in the outbox:
    # it serves there only.
    if row.jurisdiction_code and jurisdiction_code and row.jurisdiction_code != jurisdiction_code:
        raise Invalid("The code was requested for another jurisdiction; ask for a new one.",
                      code="code_wrong", zh="验证码是按另一所在地获取的，请重新获取。")
    row.consumed_at = utcnow()
    session.add(row)
    return row


async def _scope(session: AsyncSession, viewer: User) -> set[str]:
    """The viewer's jurisdictions (their own and granted ones) and every one nested in them."""
    granted = set(await session.scalars(select(JurisdictionGrant.jurisdiction_code)
                                        .where(JurisdictionGrant.user_id == viewer.id)))
    roots = granted | ({viewer.jurisdiction_code} if viewer.jurisdiction_code else set())
    children: dict[str | None, list[str]] = {}
    for code, parent in await session.execute(select(Jurisdiction.code,
                                                     Jurisdiction.parent_code)):
        children.setdefault(parent, []).append(code)
    scope, todo = set(), list(roots)
    while todo:
        code = todo.pop()
        if code not in scope:
            scope.add(code)
            todo.extend(children.get(code, []))
    return scope


async def outbox(session: AsyncSession, viewer: User, limit: int = 100) -> list[SmsMessage]:
    """The built-in sender's latest messages that `viewer` may read, newest first: an admin all,
    staff those of their jurisdictions and the ones nested in them."""
    query = select(SmsMessage)
    if viewer.role != Role.admin:
        query = query.where(SmsMessage.jurisdiction_code.in_(await _scope(session, viewer)))
    return list(await session.scalars(query.order_by(SmsMessage.created_at.desc()).limit(limit)))


async def register(session: AsyncSession, *, settings: Settings, limits: RateLimits,
                   phone: str, code: str, password: str, display_name: str,
                   jurisdiction_code: str, address: str) -> User:
    """Create a resident whose username is their verified mobile number.

    The code is checked before anything that depends on the number being registered, so a
    wrong code is answered alike for every number.
    """
    phone, display_name, jurisdiction = await _checked(session, phone, password, display_name,
                                                       jurisdiction_code)
    await consume_code(session, settings=settings, limits=limits, phone=phone, code=code,
                       purpose=REGISTER, address=address, jurisdiction_code=jurisdiction.code)
    return await _enrol(session, phone, password, display_name, jurisdiction)


async def register_verified(session: AsyncSession, *, phone: str, password: str,
                            display_name: str, jurisdiction_code: str) -> User:
    """`register` for a number proved some other way than by a code this service texted: the
    same checks, account and `resident.register` entry. No face calls it (a person registers
    with a code); the demo's residents, whose numbers reach no phone, are registered by it."""
    phone, display_name, jurisdiction = await _checked(session, phone, password, display_name,
                                                       jurisdiction_code)
    return await _enrol(session, phone, password, display_name, jurisdiction)


async def _checked(session: AsyncSession, phone: str, password: str, display_name: str,
                   jurisdiction_code: str) -> tuple[str, str, Jurisdiction]:
    """The registration's number, name and jurisdiction, or 422/404 saying what is wrong."""
    phone = normalise_phone(phone)
    display_name = (display_name or "").strip()
    if not 1 <= len(display_name) <= 50:
        raise Invalid("Give your name (1–50 characters).", code="display_name_required",
                      zh="请填写称呼（1–50 字）。" if not display_name
                      else f"称呼太长：最多 50 字，现有 {len(display_name)} 字。")
    jurisdiction = await jurisdictions.get(session, jurisdiction_code)
    check_policy(password, username=phone, phone=phone, display_name=display_name)
    return phone, display_name, jurisdiction


async def _enrol(session: AsyncSession, phone: str, password: str, display_name: str,
                 jurisdiction: Jurisdiction) -> User:
    taken = await session.scalar(select(User.id).where(
        (User.username == phone) | (User.phone == phone)))
    if taken:
        raise Conflict("This number is registered already; log in instead, with the password "
                       "or a code sent by SMS.", code="phone_registered",
                       zh="该手机号已注册，请直接登录（可用密码或短信验证码）。")
    user = User(username=phone, phone=phone, display_name=display_name, role=Role.resident,
                jurisdiction_code=jurisdiction.code,
                password_hash=await hash_password_async(password))
    session.add(user)
    await session.flush()
    await audit.record(session, actor=phone, action="resident.register", entity_type="user",
                       entity_id=user.id, data={"jurisdiction_code": jurisdiction.code})
    return user
