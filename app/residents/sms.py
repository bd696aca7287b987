"""SMS senders, pluggable by configuration (MINSHENG_SMS_SENDER)."""

from __future__ import annotations

import importlib
import logging
from functools import lru_cache
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import SmsMessage

log = logging.getLogger("minsheng.sms")


def masked_phone(phone: str) -> str:
    """138****5678: enough for a person to recognise their own number."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 11 else phone


class SmsSender(Protocol):
    """Sends one text message; raises on failure (the request then fails and nothing is kept)."""

    async def send(self, session: AsyncSession, phone: str, text: str) -> None: ...


class OutboxSender:
    """The built-in sender: no gateway, the message goes to the log and the staff outbox."""

    async def send(self, session: AsyncSession, phone: str, text: str, *,
                   jurisdiction_code: str | None = None) -> None:
        log.info("SMS to %s: %s", phone, text)
        session.add(SmsMessage(phone=phone, body=text, jurisdiction_code=jurisdiction_code))
        await session.flush()


async def deliver(spec: str, session: AsyncSession, phone: str, text: str, *,
                  jurisdiction_code: str | None) -> None:
    """Send through the configured sender; the outbox files the message under the
    jurisdiction whose staff may read it (a gateway needs no such thing)."""
    sender = sender_for(spec)
    if isinstance(sender, OutboxSender):
        await sender.send(session, phone, text, jurisdiction_code=jurisdiction_code)
    else:
        await sender.send(session, phone, text)


@lru_cache
def sender_for(spec: str) -> SmsSender:
    """The sender named by configuration: 'outbox', or 'package.module:ClassName'."""
    if spec == "outbox":
        return OutboxSender()
    module_name, _, class_name = spec.partition(":")
    if not class_name:
        raise ValueError(f"MINSHENG_SMS_SENDER must be 'outbox' or 'module:Class', not {spec!r}")
    return getattr(importlib.import_module(module_name), class_name)()
