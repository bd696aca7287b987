"""HTTP caching of GET answers: ETag and Cache-Control everywhere, 304 on revalidation, and a
short-lived shared copy of the public pages anonymous visitors read (公开: the results, the cycle
story, the 公告, project pages) so that a crowd reading them costs one rendering per interval.

Every GET answered 200 (up to MAX_BODY bytes, and unless the route set Cache-Control itself, as
the ballot and receipt pages do with no-store) gets a weak ETag of its body and
`Cache-Control: private, no-cache` — pages carry the visitor's CSRF token, so no shared cache may
keep them — or, for the JSON API asked without a token, `public, no-cache`. A request whose
If-None-Match names that ETag gets 304 and no body.

The shared copy: an anonymous GET of a page (no session cookie, not an htmx request) is rendered
once with a placeholder where the visitor's CSRF token goes, kept for `page_cache_seconds`
(MINSHENG_PAGE_CACHE_SECONDS, default 10; 0 turns it off), and served to everyone with their own
token put in. A write this worker handles (a POST, PUT, PATCH or DELETE) empties it once it has
gone through (answered 2xx or 3xx: committed, app/db.py) and if it can change a public page, so
the writer sees the change at once; other workers show it within the interval. A refused or
junk request empties nothing (else anyone could switch the copy off with anonymous POSTs), nor
do writes that change no public page (PRIVATE_WRITES): casting a ballot (nothing of it is
public until the tally is published; the live turnout is polled by htmx, which the copy never
serves), logging in and out, registering, one's own account and inbox. Nothing is kept for a
logged-in visitor, an answer that sets a cookie of the app's session, or anything but a 200.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from http.cookies import SimpleCookie

MAX_BODY = 4 * 1024 * 1024  # bigger answers pass through untouched
MAX_ENTRIES = 512
STALE_GRACE = 10.0  # seconds a copy past its time may still go out while it is being rendered
RENDER_WAIT = 10.0  # seconds a request waits for another's rendering of the same page
TOKEN_PLACEHOLDER = "csrf-token-placeholder-0f3c9a1e7b5d4c2a9e8f"
SAFE = ("GET", "HEAD")
# Writes that change no public page (see the module's docstring); any other write that went
# through empties the copies.
PRIVATE_WRITES = re.compile(
    r"/api/v1/ballots/[^/]+/votes|/ballots/[^/]+/vote"  # casting (app/ballots/fastpath.py too)
    r"|/login|/logout|/account/.*|/register(/.*)?"  # pages: logging in, one's own account
    r"|/api/v1/auth/.*|/api/v1/residents(/.*)?|/api/v1/users/me/.*")
UNCACHED_PREFIXES = ("/api/", "/static/", "/media/", "/healthz", "/lang/", "/staff/", "/login",
                     "/logout")


@dataclass
class _Entry:
    expires: float
    headers: list[tuple[bytes, bytes]]
    body: bytes
    tagged: bool  # the body holds TOKEN_PLACEHOLDER


def etag_of(body: bytes) -> str:
    return 'W/"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def _matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    # weak comparison: W/"x" and "x" name the same representation
    wanted = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return etag.removeprefix("W/") in wanted


class HttpCaching:
    """ASGI middleware: ETag / Cache-Control / 304 on GETs and the shared copy of public pages.

    It sits inside asgi-csrf (which hands it the visitor's token) and outside the page session.
    """

    def __init__(self, app, *, seconds: float, session_cookie: str,
                 max_entries: int = MAX_ENTRIES) -> None:
        self.app = app
        self.seconds = seconds
        self.session_cookie = session_cookie
        self.max_entries = max_entries
        self.entries: OrderedDict[tuple, _Entry] = OrderedDict()
        self.rendering: dict[tuple, asyncio.Event] = {}
        self.generation = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["method"] not in SAFE:
            if PRIVATE_WRITES.fullmatch(scope["path"]):
                return await self.app(scope, receive, send)
            return await self.app(scope, receive, self._emptying_after_success(send))
        if scope["method"] != "GET" or scope["path"].startswith(("/static/", "/media/")):
            return await self.app(scope, receive, send)  # files carry their own validators
        headers = {k: v for k, v in scope.get("headers", ())}
        path: str = scope["path"]
        is_api = path.startswith("/api/")
        cookies = _cookies(headers.get(b"cookie", b""))
        key = None
        if (self.seconds > 0 and not path.startswith(UNCACHED_PREFIXES)
                and self.session_cookie not in cookies and b"hx-request" not in headers):
            key = (path, scope.get("query_string", b""), cookies.get("lang", ""))
        get_token = scope.get("csrftoken")
        if key is not None:
            entry = await self._usable(key)
            if entry is not None:
                body = entry.body
                if entry.tagged and get_token is not None:
                    body = body.replace(TOKEN_PLACEHOLDER.encode(), get_token().encode())
                return await _answer(send, headers, 200, entry.headers, body, is_api)
            if key not in self.rendering:  # else another began meanwhile: render for this one
                done = self.rendering[key] = asyncio.Event()  # the others wait for this one
                try:
                    return await self._render(scope, receive, send, headers, key, get_token,
                                              is_api)
                finally:
                    self.rendering.pop(key, None)
                    done.set()
        return await self._render(scope, receive, send, headers, None, get_token, is_api)

    def _emptying_after_success(self, send):
        """`send`, emptying the copies as a write's answer starts with 2xx or 3xx — after its
        commit, so nothing kept (or being rendered: see `generation`) is older than it."""

        async def sending(message):
            if message["type"] == "http.response.start" and 200 <= message["status"] < 400:
                self.entries.clear()  # nothing kept may be out of date for the writer
                self.generation += 1
            await send(message)

        return sending

    async def _usable(self, key: tuple) -> _Entry | None:
        """The copy to serve, or None if this request is to render the page.

        One request at a time renders a page (the others wait for it, or meanwhile get the copy
        that just went out of date), so a crowd arriving as the copy expires costs one rendering.
        """
        now = time.monotonic()
        entry = self.entries.get(key)
        if entry is not None and (entry.expires > now or (
                key in self.rendering and entry.expires + STALE_GRACE > now)):
            self.entries.move_to_end(key)
            return entry
        waiting = self.rendering.get(key)
        if waiting is None:
            return None
        try:
            await asyncio.wait_for(waiting.wait(), RENDER_WAIT)
        except TimeoutError:
            return None
        entry = self.entries.get(key)
        return entry if entry is not None and entry.expires > time.monotonic() else None

    async def _render(self, scope, receive, send, headers, key, get_token, is_api) -> None:
        generation = self.generation  # a write while rendering: the result is not kept
        used_token = False
        if key is not None and get_token is not None:
            def placeholder() -> str:
                nonlocal used_token
                used_token = True
                get_token()  # asgi-csrf sets the visitor's cookie when one is needed
                return TOKEN_PLACEHOLDER

            scope = {**scope, "csrftoken": placeholder}

        start: dict | None = None
        chunks: list[bytes] = []
        size = 0
        passing = False  # too big or not cacheable: forwarded as it comes

        async def capture(message):
            nonlocal start, size, passing
            if passing:
                if message["type"] == "http.response.body":
                    message = {**message, "body": _put_token(message.get("body", b""),
                                                             used_token, get_token)}
                return await send(message)
            if message["type"] == "http.response.start":
                start = message
                if message["status"] != 200 or any(
                        k == b"cache-control" for k, _ in message.get("headers", ())):
                    passing = True
                    await send(_restored(message, used_token, get_token))
                return None
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if size > MAX_BODY:
                    passing = True
                    await send(_restored(start, used_token, get_token))
                    for chunk in chunks:
                        await send({"type": "http.response.body",
                                     "body": _put_token(chunk, used_token, get_token),
                                     "more_body": True})
                    chunks.clear()
                    if not message.get("more_body", False):
                        await send({"type": "http.response.body", "body": b""})
                    return None
                if not message.get("more_body", False):
                    keep = key if self.generation == generation else None
                    await self._finish(send, headers, keep, start, b"".join(chunks), used_token,
                                       get_token, is_api)
                return None
            return await send(message)

        await self.app(scope, receive, capture)

    async def _finish(self, send, request_headers, key, start, body, used_token, get_token,
                      is_api) -> None:
        response_headers = [(k, v) for k, v in start.get("headers", ())
                            if k != b"content-length"]
        sets_cookie = any(k == b"set-cookie" for k, _ in response_headers)
        if key is not None and not sets_cookie:
            self.entries[key] = _Entry(time.monotonic() + self.seconds, response_headers, body,
                                       used_token)
            self.entries.move_to_end(key)
            while len(self.entries) > self.max_entries:
                self.entries.popitem(last=False)
        await _answer(send, request_headers, 200, response_headers,
                      _put_token(body, used_token, get_token), is_api)


def _cookies(raw: bytes) -> dict[str, str]:
    if not raw:
        return {}
    jar = SimpleCookie()
    try:
        jar.load(raw.decode("latin-1"))
    except Exception:  # noqa: BLE001 - a malformed Cookie header is no cookie
        return {}
    return {k: m.value for k, m in jar.items()}


def _put_token(body: bytes, used_token: bool, get_token) -> bytes:
    if not used_token or get_token is None:
        return body
    return body.replace(TOKEN_PLACEHOLDER.encode(), get_token().encode())


def _restored(start: dict, used_token: bool, get_token) -> dict:
    """A start message forwarded as it is (its body gets the real token as it passes)."""
    if used_token and get_token is not None:
        return {**start, "headers": [(k, v) for k, v in start.get("headers", ())
                                     if k != b"content-length"]}
    return start


async def _answer(send, request_headers: dict, status: int, headers: list, body: bytes,
                  is_api: bool) -> None:
    anonymous = b"authorization" not in request_headers
    etag = etag_of(body)
    control = b"public, no-cache" if is_api and anonymous else b"private, no-cache"
    out = [(k, v) for k, v in headers
           if k not in (b"content-length", b"etag", b"cache-control")]
    out += [(b"etag", etag.encode()), (b"cache-control", control)]
    if _matches(request_headers.get(b"if-none-match", b"").decode("latin-1"), etag):
        await send({"type": "http.response.start", "status": 304,
                    "headers": [(k, v) for k, v in out if k != b"content-type"]})
        await send({"type": "http.response.body", "body": b""})
        return
    out.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": body})
