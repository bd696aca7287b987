"""HTTP caching of GET answers: ETag and Cache-Control everywhere, 304 on revalidation, and kept
renderings of pages (保留页面), keyed by the data's version, served to visitors and logged-in
people alike with their own parts filled in.

Every GET answered 200 (up to MAX_BODY bytes, and unless the route set Cache-Control itself, as
the ballot and receipt pages do with no-store) gets a weak ETag of its body and
`Cache-Control: private, no-cache` — pages carry the visitor's CSRF token, so no shared cache may
keep them — or, for the JSON API asked without a token, `public, no-cache`. A request whose
If-None-Match names that ETag gets 304 and no body.

Kept renderings. A GET of a page (not the JSON API, files, staff pages or htmx requests) is
rendered once and kept for the data's version it was read at (app/dataversion.py, shared by all
workers) and at most `page_cache_seconds` (MINSHENG_PAGE_CACHE_SECONDS, default 10; 0 turns it
off: pages may say how long ago something happened). Each visitor's own parts are placeholders in
the kept body and are filled in per request: the CSRF token, and for a logged-in person their
name and unread count (and id and user name on shared pages). Who shares a rendering:

- anonymous visitors (no one logged in) share one per page, language and query;
- a logged-in person is recognised in one statement (app/auth/page_identity.py). A page whose
  view says it shows the same to everyone of one role in one jurisdiction (`render(...,
  shared=True)`: the cycle story, the results) is shared by that audience; any other page is
  kept for that login session alone (the proposal page shows one's own support, the deputy's
  round page one's own check-in and vote).

A write (a POST, PUT, PATCH or DELETE) that went through (answered 2xx or 3xx: committed,
app/db.py) moves the data's version on before its answer leaves, so the writer, and every
request that starts after, on any worker, gets a fresh rendering. A refused or junk request moves
nothing (else anyone could switch the keeping off with anonymous POSTs), nor do writes that change
no page beyond the parts filled in per request (PRIVATE_WRITES): logging in and out,
registering, one's own account: those move the sessions' version on, after which who a
logged-in visitor is gets read again (app/auth/page_identity.py). Casting does move it: the deputy's own page and the turnout
change. Nothing is kept of an answer that sets a cookie, or of anything but a 200.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from http.cookies import SimpleCookie

from markupsafe import escape

log = logging.getLogger("minsheng")

MAX_BODY = 4 * 1024 * 1024  # bigger answers pass through untouched
MAX_ENTRIES = 512
MAX_BYTES = 64 * 1024 * 1024  # the kept bodies of one worker, all together
STALE_GRACE = 10.0  # seconds a copy past its time may still go out while it is being rendered
RENDER_WAIT = 10.0  # seconds a request waits for another's rendering of the same page
SAFE = ("GET", "HEAD")
# What stands in a kept body for each visitor's own parts (app/pages/render.py puts them there).
TOKEN_PLACEHOLDER = "csrf-token-placeholder-0f3c9a1e7b5d4c2a9e8f"
NAME_PLACEHOLDER = "visitor-name-placeholder-7d2e4b9a1c6f"
ID_PLACEHOLDER = "visitor-id-placeholder-3b8f1e6c9a2d"
USERNAME_PLACEHOLDER = "visitor-username-placeholder-5c1a7e3f9b4d"
UNREAD_PLACEHOLDER = "visitor-unread-placeholder-9e4c2a7b1f3d"
# The unread badge as base.html draws it, removed whole when nothing is unread.
BADGE = re.compile(rb' <span class="badge"[^>]*>' + UNREAD_PLACEHOLDER.encode() + rb"</span>")
# The request scope's key through which render() learns it renders for keeping, and says for whom.
PAGE_CACHE_MARK = "minsheng.page_cache"
SESSION_USER = "uid"  # app/auth/login_sessions.py; the signed cookie's user id
# Writes that change no page beyond the parts filled in per request (see the module's
# docstring); any other write that went through moves the data's version on.
PRIVATE_WRITES = re.compile(
    r"/login(/.*)?|/logout|/account/.*|/register(/.*)?"  # pages: logging in, one's own account
    r"|/api/v1/auth/.*|/api/v1/residents(/.*)?|/api/v1/users/me/.*")
UNCACHED_PREFIXES = ("/api/", "/static/", "/media/", "/healthz", "/readyz", "/metrics",
                     "/lang/", "/staff/", "/admin/", "/login", "/logout", "/account/", "/inbox")


class _UnreadPlaceholder:
    """The unread count of a kept body: true (the badge is drawn) and shown as its placeholder."""

    def __bool__(self) -> bool:
        return True

    def __str__(self) -> str:
        return UNREAD_PLACEHOLDER

    __html__ = __str__


UNREAD = _UnreadPlaceholder()


@dataclass
class _Entry:
    expires: float
    version: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    tagged: bool  # the body holds TOKEN_PLACEHOLDER
    shared: bool  # a logged-in audience's copy: id and user name are placeholders too
    badge: bytes | None  # the unread badge as drawn with UNREAD_PLACEHOLDER
    per_session: bool = False  # no body: this page is kept per login session (see _key_of)


@dataclass
class _Visitor:
    """The request's own parts, filled into a kept body."""

    get_token: object  # asgi-csrf's getter, or None
    who: object | None  # app.auth.page_identity.PageIdentity, or None (anonymous)
    used_token: bool = False

    def fill(self, body: bytes, entry_shared: bool, badge: bytes | None) -> bytes:
        if self.used_token and self.get_token is not None:
            body = body.replace(TOKEN_PLACEHOLDER.encode(), self.get_token().encode())
        who = self.who
        if who is None:
            return body
        body = body.replace(NAME_PLACEHOLDER.encode(),
                            str(escape(who.display_name)).encode())
        if not who.unread:
            body = body.replace(badge, b"") if badge is not None else BADGE.sub(b"", body)
        body = body.replace(UNREAD_PLACEHOLDER.encode(), str(who.unread).encode())
        if entry_shared:
            body = body.replace(ID_PLACEHOLDER.encode(), str(escape(who.id)).encode())
            body = body.replace(USERNAME_PLACEHOLDER.encode(),
                                str(escape(who.username)).encode())
        return body


def etag_of(body: bytes) -> str:
    return 'W/"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def _matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    # weak comparison: W/"x" and "x" name the same representation
    wanted = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return etag.removeprefix("W/") in wanted


class HttpCaching:
    """ASGI middleware: ETag / Cache-Control / 304 on GETs and the kept renderings of pages.

    It sits inside asgi-csrf (which hands it the visitor's token) and Starlette's
    SessionMiddleware (the decoded session says who is logged in), outside the app.
    """

    def __init__(self, app, *, seconds: float, version=None, identify=None,
                 max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.app = app
        self.seconds = seconds
        self.version = version  # app/dataversion.py; None: nothing is kept
        self.identify = identify  # app/auth/page_identity.py identify(state, session)
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.entries: OrderedDict[tuple, _Entry] = OrderedDict()
        self.size = 0
        self.rendering: dict[tuple, asyncio.Event] = {}
        self.hits = self.renders = 0  # pages served from a kept copy / drawn by the app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["method"] not in SAFE:
            if self.version is None:
                return await self.app(scope, receive, send)
            private = PRIVATE_WRITES.fullmatch(scope["path"]) is not None
            return await self.app(scope, receive, self._moving_on_after_success(
                send, private, scope.get("app")))
        if scope["method"] != "GET" or scope["path"].startswith(("/static/", "/media/")):
            return await self.app(scope, receive, send)  # files carry their own validators
        headers = {k: v for k, v in scope.get("headers", ())}
        path: str = scope["path"]
        is_api = path.startswith("/api/")
        visitor = _Visitor(scope.get("csrftoken"), None)
        if (self.seconds <= 0 or self.version is None or path.startswith(UNCACHED_PREFIXES)
                or b"hx-request" in headers):
            return await self._render(scope, receive, send, headers, None, visitor, is_api)
        try:
            found = await self._key_of(scope, headers, visitor)
        except Exception as exc:  # noqa: BLE001 - no version or identity: render as usual
            log.warning("kept pages skipped: %s: %s", exc.__class__.__name__, exc)
            found = None
        if found is None:
            return await self._render(scope, receive, send, headers, None, visitor, is_api)
        key, version = found
        entry = await self._usable(key, version)
        if entry is not None and entry.per_session:
            key = key[:3] + ("session", visitor.who.session_key)
            entry = await self._usable(key, version)
        if entry is not None:
            self.hits += 1
            visitor.used_token = entry.tagged
            return await _answer(send, headers, 200, entry.headers,
                                 visitor.fill(entry.body, entry.shared, entry.badge), is_api)
        if key in self.rendering:  # another began meanwhile: render for this one alone
            return await self._render(scope, receive, send, headers, None, visitor, is_api)
        done = self.rendering[key] = asyncio.Event()  # the others wait for this one
        try:
            return await self._render(scope, receive, send, headers, (key, version), visitor,
                                      is_api)
        finally:
            self.rendering.pop(key, None)
            done.set()

    async def _key_of(self, scope, headers: dict, visitor: _Visitor) -> tuple | None:
        """(the kept copy's key, the data's version read now), or None: render, keep nothing.

        The version is read before anything of the page is, so no rendering is kept under a
        version newer than what it shows."""
        session = scope.get("session") or {}
        lang = _cookies(headers.get(b"cookie", b"")).get("lang", "")
        base = (scope["path"], scope.get("query_string", b""), lang)
        if SESSION_USER not in session:
            return base + ("anonymous",), await self.version.current()
        if self.identify is None:
            return None
        version, sessions = await self.version.both()
        visitor.who = await self.identify(scope["app"].state, session, (version, sessions))
        if visitor.who is None:
            return None  # ended, expired, a password to change, due a touch: the usual way
        return base + ("audience", visitor.who.audience), version

    def _moving_on_after_success(self, send, private: bool, app=None):
        """`send`, moving the data's version on (a `private` write: the sessions' version) as a
        write's answer starts with 2xx or 3xx — after its commit, so nothing kept (or being
        rendered) is counted newer than it."""

        async def sending(message):
            if message["type"] == "http.response.start" and 200 <= message["status"] < 400:
                try:
                    await (self.version.bump_sessions() if private else self.version.bump())
                except Exception as exc:  # noqa: BLE001 - the write stands; copies expire
                    log.warning("the data version was not moved on (%s: %s); kept pages "
                                "expire within MINSHENG_PAGE_CACHE_SECONDS",
                                exc.__class__.__name__, exc)
                    self._forget_all()
                    # who is logged in is read again (app/auth/page_identity.py)
                    memo = getattr(getattr(app, "state", None), "page_identities", None)
                    if memo is not None:
                        memo.clear()
            await send(message)

        return sending

    def _forget_all(self) -> None:
        self.entries.clear()
        self.size = 0

    async def _usable(self, key: tuple, version: int) -> _Entry | None:
        """The copy to serve, or None if this request is to render the page.

        A copy serves a request that read the same version or an older one. One request at a
        time renders a page (the others wait for it, or meanwhile get the copy that just went
        past its time, if the data has not changed), so a crowd arriving as the copy expires
        costs one rendering.
        """
        now = time.monotonic()
        entry = self.entries.get(key)
        if entry is not None and entry.version >= version and (entry.expires > now or (
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
        return (entry if entry is not None and entry.version >= version
                and entry.expires > time.monotonic() else None)

    def _keep(self, key: tuple, entry: _Entry) -> None:
        old = self.entries.pop(key, None)
        if old is not None:
            self.size -= len(old.body)
        self.entries[key] = entry
        self.size += len(entry.body)
        while self.entries and (len(self.entries) > self.max_entries
                                or self.size > self.max_bytes):
            _, gone = self.entries.popitem(last=False)
            self.size -= len(gone.body)

    async def _render(self, scope, receive, send, headers, keeping, visitor: _Visitor,
                      is_api) -> None:
        """Run the app; with `keeping` ((key, version)), keep a 200 it answers, its visitor's
        own parts as placeholders (render() puts them in and says for whom it drew the page)."""
        self.renders += 1
        get_token = visitor.get_token
        mark: dict = {}
        if keeping is not None:
            if get_token is not None:
                def placeholder() -> str:
                    visitor.used_token = True
                    get_token()  # asgi-csrf sets the visitor's cookie when one is needed
                    return TOKEN_PLACEHOLDER

                scope = {**scope, "csrftoken": placeholder}
            scope = {**scope, PAGE_CACHE_MARK: mark}

        start: dict | None = None
        chunks: list[bytes] = []
        size = 0
        passing = False  # too big or not cacheable: forwarded as it comes

        def filled(body: bytes) -> bytes:
            return visitor.fill(body, mark.get("shared", False), None)

        async def capture(message):
            nonlocal start, size, passing
            if passing:
                if message["type"] == "http.response.body":
                    message = {**message, "body": filled(message.get("body", b""))}
                return await send(message)
            if message["type"] == "http.response.start":
                start = message
                if message["status"] != 200 or any(
                        k == b"cache-control" for k, _ in message.get("headers", ())):
                    passing = True
                    await send(_restored(message, visitor))
                return None
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if size > MAX_BODY:
                    passing = True
                    await send(_restored(start, visitor))
                    for chunk in chunks:
                        await send({"type": "http.response.body", "body": filled(chunk),
                                    "more_body": True})
                    chunks.clear()
                    if not message.get("more_body", False):
                        await send({"type": "http.response.body", "body": b""})
                    return None
                if not message.get("more_body", False):
                    await self._finish(send, headers, keeping, start, b"".join(chunks), visitor,
                                       mark, is_api)
                return None
            return await send(message)

        await self.app(scope, receive, capture)

    async def _finish(self, send, request_headers, keeping, start, body, visitor: _Visitor,
                      mark: dict, is_api) -> None:
        response_headers = [(k, v) for k, v in start.get("headers", ())
                            if k != b"content-length"]
        sets_cookie = any(k == b"set-cookie" for k, _ in response_headers)
        shared = mark.get("shared", False)
        badge = None
        if keeping is not None and not sets_cookie and (visitor.who is None or "shared" in mark):
            key, version = keeping
            found = BADGE.search(body) if visitor.who is not None else None
            badge = found.group(0) if found else None
            entry = _Entry(time.monotonic() + self.seconds, version, response_headers, body,
                           visitor.used_token, shared, badge)
            if visitor.who is not None and not shared:  # this login session's own copy
                self._keep(key, _Entry(entry.expires, version, [], b"", False, False, None,
                                       per_session=True))
                key = key[:3] + ("session", visitor.who.session_key)
            self._keep(key, entry)
        await _answer(send, request_headers, 200, response_headers,
                      visitor.fill(body, shared, badge), is_api)


def _cookies(raw: bytes) -> dict[str, str]:
    if not raw:
        return {}
    jar = SimpleCookie()
    try:
        jar.load(raw.decode("latin-1"))
    except Exception:  # noqa: BLE001 - a malformed Cookie header is no cookie
        return {}
    return {k: m.value for k, m in jar.items()}


def _restored(start: dict, visitor: _Visitor) -> dict:
    """A start message forwarded as it is (its body gets the visitor's parts as it passes)."""
    if visitor.used_token or visitor.who is not None:
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
