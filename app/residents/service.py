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
from app.models import SmsCode, SmsMessage, User, utcnow
from app.ratelimit import CODE_CHECKS_PER_PHONE, SMS_PER_ADDRESS, SMS_PER_PHONE, RateLimits
from app.residents.sms import sender_for

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


async def send_code(session: AsyncSession, *, settings: Settings, limits: RateLimits,
                    phone: str, address: str) -> int:
    """Send a fresh 6-digit code; returns its lifetime in seconds."""
    phone = normalise_phone(phone)
    await limits.consume(SMS_PER_ADDRESS, address)
    await limits.consume(SMS_PER_PHONE, phone)
    code = f"{secrets.randbelow(1_000_000):06d}"
    ttl = settings.sms_code_ttl_seconds
    session.add(SmsCode(phone=phone, code_hash=_digest(settings, phone, code),
                        expires_at=utcnow() + timedelta(seconds=ttl)))
    await session.flush()
    await sender_for(settings.sms_sender).send(
        session, phone, f"【民生实事】您的验证码是 {code}，{ttl // 60} 分钟内有效。请勿告诉他人。")
    return ttl


async def _consume_code(session: AsyncSession, *, settings: Settings, limits: RateLimits,
                        phone: str, code: str) -> None:
    await limits.consume(CODE_CHECKS_PER_PHONE, phone)
    row = await session.scalar(select(SmsCode).where(SmsCode.phone == phone,
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
    row.consumed_at = utcnow()
    session.add(row)


async def outbox(session: AsyncSession, limit: int = 100) -> list[SmsMessage]:
    """The built-in sender's latest messages, newest first (staff read codes here)."""
    return list(await session.scalars(select(SmsMessage).order_by(SmsMessage.created_at.desc())
                                      .limit(limit)))


async def register(session: AsyncSession, *, settings: Settings, limits: RateLimits,
                   phone: str, code: str, password: str, display_name: str,
                   jurisdiction_code: str) -> User:
    """Create a resident whose username is their verified mobile number."""
    phone = normalise_phone(phone)
    display_name = (display_name or "").strip()
    if not 1 <= len(display_name) <= 50:
        raise Invalid("Give your name (1–50 characters).", code="display_name_required",
                      zh="请填写称呼（1–50 字）。" if not display_name
                      else f"称呼太长：最多 50 字，现有 {len(display_name)} 字。")
    jurisdiction = await jurisdictions.get(session, jurisdiction_code)
    check_policy(password, username=phone, phone=phone, display_name=display_name)
    taken = await session.scalar(select(User.id).where(
        (User.username == phone) | (User.phone == phone)))
    if taken:
        raise Conflict("This number is registered already; log in instead.",
                       code="phone_registered", zh="该手机号已注册，请直接登录。")
    await _consume_code(session, settings=settings, limits=limits, phone=phone, code=code)
    user = User(username=phone, phone=phone, display_name=display_name, role=Role.resident,
                jurisdiction_code=jurisdiction.code,
                password_hash=await hash_password_async(password))
    session.add(user)
    await session.flush()
    await audit.record(session, actor=phone, action="resident.register", entity_type="user",
                       entity_id=user.id, data={"jurisdiction_code": jurisdiction.code})
    return user
