"""The answer to every failure: `{"detail", "code"}` for /api, a Chinese error page otherwise.

The error classes themselves are app/errors.py; install_error_handlers registers the handlers
(app/main.py)."""

from __future__ import annotations

import logging
import sqlite3
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from psycopg import errors as pg_errors
from psycopg_pool import PoolTimeout
from sqlalchemy.exc import DataError, DBAPIError
from sqlalchemy.exc import TimeoutError as PoolExhausted
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.routing import Match

from app.errors import STATUS_CODES, Busy, DomainError, as_busy
from app.monitoring.metrics import count_busy
from app.pages.render import redirect, render

# The logger kept its name from when this was app/errors.py: log filters select it.
log = logging.getLogger("app.errors")

PAGE_MESSAGES = {
    400: "请求有误，请检查后重试。",
    401: "请先登录。",
    403: "您没有权限进行此操作。如需权限，请联系本级人大常委会或系统管理员。",
    404: "找不到该页面，可能已被移动或地址有误。",
    405: "不支持该操作方式。",
    409: "当前状态不允许此操作。",
    413: "提交的内容太大。",
    422: "填写的内容有误，请修改后重试。",
    429: "操作太频繁，请稍后再试。",
    503: "系统正忙，请稍后再试。",
    500: "系统出错了，请稍后再试。",
}


def render_error(request: Request, status: int, message: str | None,
                 headers: dict[str, str] | None = None) -> Response:
    """The Chinese error page; 401 on a page sends the person to the log-in form."""
    if status == 401:
        return redirect(request, f"/login?next={quote(request.url.path)}")
    return render(request, "error.html", {"status": status, "message": message,
                                          "advice": PAGE_MESSAGES.get(status, "")},
                  status=status, headers=headers)


def wants_json(request: Request) -> bool:
    """API paths answer JSON; pages answer HTML."""
    return request.url.path.startswith("/api/")


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at the request's path (for a 405's Allow header).

    Each method is tried against the routes as the router would (FastAPI keeps included
    routers as routes of their own, so there is no flat list of routes to read)."""
    return [method for method in METHODS
            if any(route.matches({**request.scope, "method": method})[0] == Match.FULL
                   for route in request.app.router.routes)]


def _form_part_too_large(exc: BaseException) -> bool:
    """Starlette's form parser answers a field or part over its size limit (1 MB) with a 400
    (an HTTPException raised from its MultiPartException, which FastAPI may wrap once more);
    too large is 413."""
    seen: BaseException | None = exc
    for _ in range(4):
        seen = seen.__cause__ or seen.__context__ if seen is not None else None
        if isinstance(seen, MultiPartException):
            return "exceeded maximum size" in seen.message
    return False


def _field_sentence(errors: list[dict]) -> str:
    parts = []
    for err in errors[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        msg = err.get("msg", "is invalid")
        parts.append(f"{loc or 'body'}: {msg}")
    return "Fix these fields: " + "; ".join(parts) + "."


def error_response(request: Request, status: int, code: str, message: str,
                   headers: dict[str, str] | None = None, extra: dict | None = None,
                   zh: str | None = None) -> Response:
    """Render one error, as JSON or as a Chinese page."""
    if wants_json(request):
        body = {"detail": message, "code": code}
        if extra:
            body.update(extra)
        return JSONResponse(body, status_code=status, headers=headers)
    return render_error(request, status, zh, headers=headers)


def domain_error_response(request: Request, exc: DomainError) -> Response:
    """The answer to a refusal of the domain (DomainError): its status, code and sentence."""
    if isinstance(exc, Busy):
        count_busy(request.scope["path"])
    return error_response(request, exc.status, exc.code, exc.message, exc.headers,
                          extra=exc.extra, zh=exc.zh)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every failure into {detail, code} or an error page."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError):
        return domain_error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(request, 400, "malformed_json",
                                  "The request body is not valid JSON; send a JSON object.")
        if any(e.get("loc", ())[:1] == ("body",) and e.get("type") == "missing"
               and len(e.get("loc", ())) == 1 for e in errors):
            return error_response(request, 400, "missing_body", "Send a JSON request body.")
        if any(e.get("type") in ("model_attributes_type", "dict_type") and
               tuple(e.get("loc", ())) == ("body",) for e in errors):
            return error_response(request, 400, "malformed_body",
                                  "The request body must be a JSON object.")
        safe = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")}
                for e in errors]
        return error_response(request, 422, "invalid_field", _field_sentence(errors),
                              extra={"errors": safe})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if _form_part_too_large(exc):
            return error_response(request, 413, "too_large",
                                  "A field of the form is larger than 1 MB; shorten it.",
                                  zh="提交的内容太大：表单中的一项超过 1 MB，请删减后再提交。")
        code = STATUS_CODES.get(exc.status_code, "error")
        detail = exc.detail if isinstance(exc.detail, str) else code
        if exc.status_code == 404 and detail == "Not Found":
            detail = "Nothing is at this address; check the URL."
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            detail = f"{request.method} is not allowed here."
            # Starlette names the methods of the first route that matched the path only.
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
        return error_response(request, exc.status_code, code, detail, headers=headers)

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError):
        # e.g. a NUL character, which PostgreSQL text cannot hold: the input is at fault.
        return error_response(request, 422, "invalid_characters",
                              "The input contains characters that cannot be stored "
                              "(such as NUL); remove them and try again.",
                              zh="输入中含有无法保存的字符，请删除后重试。")

    async def _database(request: Request, exc: Exception):
        busy = as_busy(exc)
        if busy is None:
            raise exc  # a bug: on to the 500 below, which logs it
        log.warning("database busy on %s %s: %s", request.method, request.url.path, exc)
        return domain_error_response(request, busy)

    for kind in (DBAPIError, PoolExhausted, PoolTimeout, sqlite3.OperationalError,
                 pg_errors.OperationalError):
        app.add_exception_handler(kind, _database)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):  # pragma: no cover - a bug
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(request, 500, "internal_error",
                              "Something went wrong on our side; the request was not saved.")
