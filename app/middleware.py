"""ASGI middleware: request body limit, CSRF for pages, security headers."""

from __future__ import annotations

import json
import re

import asgi_csrf
import python_multipart
from asgi_csrf import asgi_csrf_decorator


class _CompatFormParser(python_multipart.FormParser):
    """asgi-csrf 0.11 passes `FileClass`, which current python-multipart no longer takes.

    asgi-csrf wants a file part met before the token to fail the check; the parser's `on_file`
    callback (called when a file part ends) now raises that instead.
    """

    def __init__(self, content_type, on_field, on_file, *, boundary=None, FileClass=None,  # noqa: N803
                 **kwargs):
        def file_before_token(_file):
            raise asgi_csrf.FileBeforeToken

        super().__init__(content_type, on_field, file_before_token, boundary=boundary, **kwargs)


asgi_csrf.FormParser = _CompatFormParser


class BodyLimitMiddleware:
    """Refuse request bodies over `max_bytes` with 413, whether announced or streamed."""

    def __init__(self, app, max_bytes: int,
                 overrides: dict[str | re.Pattern, int] | None = None):
        self.app = app
        self.max_bytes = max_bytes
        # A path prefix, or a pattern the whole path matches → its limit; the first that fits.
        self.overrides = overrides or {}

    def _limit(self, path: str) -> int:
        for key, limit in self.overrides.items():
            if path.startswith(key) if isinstance(key, str) else key.fullmatch(path):
                return limit
        return self.max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if b"%00" in scope.get("raw_path", b"") or b"\x00" in scope.get("raw_path", b"") or (
                b"%00" in scope.get("query_string", b"")):
            return await _reject(scope, send, 400, "invalid_characters",
                                 "The address contains a NUL character.")
        limit = self._limit(scope["path"])
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    return await _reject(scope, send, 400, "bad_request",
                                         "The Content-Length header is not a number.")
                if too_big:
                    return await _reject(scope, send, 413, "too_large",
                                         f"The request body is larger than {limit // 1024} KB.")
        received = 0
        response_started = False
        rejected = False

        async def limited_receive():
            nonlocal received, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Answer 413 now and tell the app the client went away, so it stops
                    # reading; whatever the app sends afterwards is dropped.
                    rejected = True
                    if not response_started:
                        await _reject(scope, send, 413, "too_large",
                                      f"The request body is larger than {limit // 1024} KB.")
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message):
            nonlocal response_started
            if rejected:
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except Exception:
            if not rejected:
                raise


async def _reject(scope, send, status: int, code: str, detail: str) -> None:
    if scope["path"].startswith("/api/"):
        body = json.dumps({"detail": detail, "code": code}).encode()
        ctype = b"application/json"
    else:
        body = f"<!doctype html><meta charset=utf-8><title>{status}</title><p>提交的内容有误或太大（{status}），请返回修改后重试。</p>".encode()
        ctype = b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


class CSRFMiddleware:
    """asgi-csrf's double-submit cookie on every page form and htmx request (not the bearer API).

    asgi-csrf lets a POST that carries no cookie at all through unchecked, unless its path is
    listed. Here every page POST needs the token: a cross-site form could otherwise log the
    browser in to the attacker's account (login CSRF) or have an SMS code sent. With no cookie
    there is no token to match, so such a request is refused before its body is read. A real
    visitor gets the csrftoken cookie with the page whose form they fill in.
    """

    def __init__(self, app, secret: str, secure: bool):
        self.inner = app
        self.app = asgi_csrf_decorator(
            signing_secret=secret,
            cookie_secure=secure,
            send_csrf_failed=_csrf_failed_page,
        )(app)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith(("/api/", "/static/")):
            # The bearer-token API and static files need no CSRF token: skip its signing work.
            return await self.inner(scope, receive, send)
        ctype = dict(scope.get("headers", [])).get(b"content-type", b"")
        # asgi-csrf would fail with an IndexError on a multipart body without a boundary.
        if ctype.startswith(b"multipart/form-data") and b"; boundary=" not in ctype:
            return await _reject(scope, send, 400, "bad_request", "multipart without boundary")
        if scope["method"] not in SAFE_METHODS and not any(
                name == b"cookie" and value for name, value in scope.get("headers", [])):
            return await _csrf_failed_page(scope, send, None)
        await self.app(scope, receive, send)


async def _csrf_failed_page(scope, send, message_id) -> None:
    body = ("<!doctype html><html lang=zh-CN><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width,initial-scale=1'>"
            "<title>页面已过期</title><body style='font:18px sans-serif;padding:1rem'>"
            "<h1>页面已过期</h1><p>为了安全，表单需要重新打开。请返回上一页，刷新后再提交。</p>"
            "<p><a href='/'>返回首页</a></p></body></html>").encode()
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"text/html; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]
PAGE_CSP = (b"content-security-policy",
            b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            b"form-action 'self'; frame-ancestors 'none'; base-uri 'self'")


# One year; this host only (no includeSubDomains): other sites under the same parent domain may
# not speak HTTPS, and a proxy can still widen it (docs/operations.md).
HSTS = (b"strict-transport-security", b"max-age=31536000")


class SecurityHeadersMiddleware:
    """Adds nosniff, frame and referrer headers everywhere, and a strict CSP on pages.

    Strict-Transport-Security goes on every answer when cookies are Secure (the service is
    behind HTTPS) or the request came over HTTPS — directly, or through a trusted proxy's
    X-Forwarded-Proto, which uvicorn's proxy-headers handling has put into the scope.
    """

    def __init__(self, app, hsts: bool = False):
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        is_page = not scope["path"].startswith(("/api/", "/static/"))
        hsts = self.hsts or scope.get("scheme") == "https"

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(SECURITY_HEADERS)
                if hsts:
                    headers.append(HSTS)
                if is_page:
                    headers.append(PAGE_CSP)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
