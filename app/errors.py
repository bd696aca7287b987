"""Domain errors carry their HTTP status, a machine code and a sentence; and the JSON shape of
every API error. Rendering them (JSON for /api, a page otherwise) is app/pages/errors.py."""

from __future__ import annotations

import sqlite3

from psycopg import errors as pg_errors
from psycopg_pool import PoolTimeout
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolExhausted


class DomainError(Exception):
    """A refusal a person can act on: status, machine code and a sentence."""

    status = 400
    code = "bad_request"
    # More fields of the JSON answer beside detail and code, e.g. {"errors": [...]} (ErrorOut).
    extra: dict | None = None

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 headers: dict[str, str] | None = None, zh: str | None = None):
        super().__init__(message)
        self.message = message
        # The same sentence in Chinese for pages; the API answers `message`.
        self.zh = zh
        if code:
            self.code = code
        if status:
            self.status = status
        self.headers = headers or {}


class NotAuthenticated(DomainError):
    status, code = 401, "not_authenticated"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


class TooLarge(DomainError):
    status, code = 413, "too_large"


class Invalid(DomainError):
    status, code = 422, "invalid_field"


class TooManyRequests(DomainError):
    status, code = 429, "too_many_requests"


class Busy(DomainError):
    """The database could not take the request in time (SQLite's write lock held past the busy
    timeout, every pooled connection in use past the pool timeout, a PostgreSQL lock or
    statement timeout, a deadlock): nothing was saved; the same request may be sent again."""

    status, code = 503, "busy"


BUSY = Busy("The database is busy and nothing was saved; send the same request again in a "
            "moment.", headers={"Retry-After": "2"},
            zh="系统正忙，本次操作没有保存，请稍后再提交一次。")

# SQLite's codes for "another connection holds the lock" (SQLITE_BUSY, SQLITE_LOCKED).
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")


def as_busy(exc: BaseException) -> Busy | None:
    """BUSY if `exc` means the database was too busy to take the request, else None."""
    if isinstance(exc, (PoolExhausted, PoolTimeout)):
        return BUSY
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(original, sqlite3.OperationalError):
        return BUSY if str(original).startswith(_SQLITE_BUSY) else None
    if isinstance(original, (pg_errors.LockNotAvailable, pg_errors.QueryCanceled,
                             pg_errors.DeadlockDetected, pg_errors.SerializationFailure,
                             pg_errors.TransactionRollback)):
        return BUSY
    return None


STATUS_CODES = {
    400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    422: "invalid_field", 429: "too_many_requests", 503: "busy",
}


class ErrorOut(BaseModel):
    """Every API error: a sentence a person can act on, and a snake_case code."""

    detail: str
    code: str
    errors: list[dict] | None = None


ERROR_RESPONSES = {status: {"model": ErrorOut, "description": code.replace("_", " ")}
                   for status, code in STATUS_CODES.items() if status not in (405, 415)}
