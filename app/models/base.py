"""Shared pieces of every table: naming convention, ids, UTC timestamps."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import DateTime, String, TypeDecorator
from sqlmodel import SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    """A random opaque id (128 bits, hex)."""
    return uuid.uuid4().hex


# Who says what time it is. None: the system clock. `minsheng demo` sets it to write a past
# year's records with the dates they would have had; nothing else does.
_clock: ContextVar[Callable[[], datetime] | None] = ContextVar("minsheng_clock", default=None)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (the system clock unless `clock_at` says else)."""
    clock = _clock.get()
    return datetime.now(UTC) if clock is None else clock()


@contextmanager
def clock_at(when: Callable[[], datetime]) -> Iterator[None]:
    """Within the block, `utcnow()` (and every date derived from it) answers `when()`."""
    token = _clock.set(when)
    try:
        yield
    finally:
        _clock.reset(token)


class UTCDateTime(TypeDecorator):
    """Stores UTC; always returns timezone-aware datetimes, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StrEnumType(TypeDecorator):
    """A workflow's state stored as its plain value in a VARCHAR(length); Python code gets the
    enum member back. The database type is the same as `String(length)` (no migration).

    A value written (insert, update) must be one of the enum's, else the statement fails with a
    ValueError before it reaches the database; a value compared with (`==`, `in_`) is bound as a
    plain string, so a filter with an unknown string (a page's query string) matches nothing."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int):
        super().__init__(length)
        self.enum = enum

    def coerce_compared_value(self, op, value):
        return String(self.impl.length)

    def process_bind_param(self, value, dialect):
        return None if value is None else self.enum(value).value

    def process_result_value(self, value, dialect):
        return None if value is None else self.enum(value)
