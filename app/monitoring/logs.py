"""Log lines: JSON objects or text, each carrying the id of the request it was written for.

`minsheng serve` hands `logging_config()` to uvicorn, which applies it in every worker. The
request id lives in a context variable set by app/monitoring/requests.py; a filter on the
handlers copies it onto every record, whichever logger wrote it (the app's, SQLAlchemy's,
uvicorn's), and tasks and threads started by the request inherit it.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from datetime import UTC, datetime

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

ACCESS_LOGGER = "minsheng.access"


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on each record (none outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        rid = request_id.get()
        if rid is not None and not hasattr(record, "request_id"):
            record.request_id = rid
        return True


class JsonLines(JsonFormatter):
    """One JSON object a line: time, level, logger, pid (the worker), message, request_id and
    the record's extras."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger",
                           "process": "pid"},
            # uvicorn's copy of its message with terminal colours
            reserved_attrs=[*RESERVED_ATTRS, "color_message", "taskName"],
            json_ensure_ascii=False,
        )

    def formatTime(self, record, datefmt=None) -> str:  # noqa: N802 - logging's name
        # ISO 8601 in UTC with milliseconds, as log collectors parse it
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class TextLines(logging.Formatter):
    """`time level logger: message [request id]` for a person reading a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = getattr(record, "request_id", None)
        return f"{line} [{rid}]" if rid else line


def logging_config(fmt: str, level: str = "info", access_log: bool = True) -> dict:
    """The dictConfig of `minsheng serve`: uvicorn's and the app's loggers, JSON or text.

    The access log is ours (minsheng.access, written by app/monitoring/requests.py, with the
    route, the duration and the request id); uvicorn's own (which shows query strings) is off.
    `level` is the server's (--log-level); the application writes warnings and errors.
    """
    level = level.upper()
    numeric = logging.getLevelName(level)
    numeric = numeric if isinstance(numeric, int) else logging.INFO
    formatter = "json" if fmt == "json" else "text"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"json": {"()": JsonLines}, "text": {"()": TextLines}},
        "handlers": {
            # as before: the access log on standard output, everything else on standard error
            "access": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout",
                       "formatter": formatter, "filters": ["request_id"]},
            "default": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                        "formatter": formatter, "filters": ["request_id"]},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            ACCESS_LOGGER: {"handlers": ["access"], "propagate": False,
                            "level": "INFO" if access_log and numeric <= logging.INFO
                            else "WARNING"},
        },
        "root": {"handlers": ["default"], "level": max(numeric, logging.WARNING)},
    }
