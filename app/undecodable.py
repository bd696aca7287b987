"""UndecodableInput: text a request carries must be UTF-8, or it gets 400 — never a 500 deeper in.

Our pages and API are UTF-8 throughout, and every layer below reads text its own way: asgi-csrf
decodes a form body and a multipart token as strict UTF-8 (a UnicodeDecodeError: 500) and
compares tokens with `secrets.compare_digest`, which refuses non-ASCII text (a TypeError: 500);
Starlette falls back to latin-1 for undecodable form and multipart text and to U+FFFD for
undecodable percent-escapes, so garbled text would otherwise reach the services as if it were
meant. So, before any of them reads a byte:

- the path and the query string, percent-decoded, must be UTF-8;
- a form body (application/x-www-form-urlencoded), percent-decoded, must be UTF-8 — it is read
  whole here (it is small: the body limit outside bounds it, and asgi-csrf reads it whole too);
- a multipart body is checked as the app reads it, without keeping it: each part's
  Content-Disposition (its field name and file name) and every part that is not a file must be
  UTF-8; a file's bytes are not text and pass;
- a CSRF token (the `csrftoken` field, the `x-csrftoken` header) must be ASCII, as ours are;
- a cookie that is not UTF-8 cannot be one of ours: it is left out of the Cookie header.

Other headers are latin-1 by definition, and nothing reads them as anything else. A refusal is
the project's short error (`app.middleware._reject`): a page for pages, `{"detail", "code":
"invalid_encoding"}` under /api/.
"""

from __future__ import annotations

import codecs
from urllib.parse import unquote_to_bytes

from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header

from app.middleware import _reject

CODE = "invalid_encoding"
DETAIL = "The request contains text that is not UTF-8; send it encoded as UTF-8."
TOKEN_FIELD = b"csrftoken"
TOKEN_HEADER = b"x-csrftoken"


class _Undecodable(Exception):
    """Raised through the app from `receive` when a multipart body turns out not to be text."""


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _utf8_escaped(data: bytes) -> bool:
    """Whether percent-encoded `data` (a path, a query string, a form body) decodes to UTF-8.
    The separators (&, =, ;, /) are ASCII, so the whole decodes iff every field does."""
    return _utf8(unquote_to_bytes(data.replace(b"+", b" ")))


def _form_token_ascii(body: bytes) -> bool:
    for pair in body.split(b"&"):
        name, _, value = pair.partition(b"=")
        if unquote_to_bytes(name.replace(b"+", b" ")) == TOKEN_FIELD and not unquote_to_bytes(
                value.replace(b"+", b" ")).isascii():
            return False
    return True


def _cookies_kept(raw: bytes) -> bytes:
    """The Cookie header without the pairs that are not UTF-8."""
    return b";".join(pair for pair in raw.split(b";") if _utf8(pair)).strip()


class _MultipartCheck:
    """Feeds a multipart body through python-multipart's streaming parser and notes the first
    part whose name, file name or (not a file) value is not UTF-8; keeps nothing."""

    def __init__(self, boundary: bytes) -> None:
        self.bad = False
        self.gave_up = False  # malformed: Starlette's parser will say so; nothing more to check
        self._field = bytearray()
        self._value = bytearray()
        self._disposition = b""
        self._decoder = None
        self._token = False
        self._parser = MultipartParser(boundary, {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self._field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._value.extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        })

    def write(self, chunk: bytes) -> None:
        if self.bad or self.gave_up or not chunk:
            return
        try:
            self._parser.write(chunk)
        except FormParserError:
            self.gave_up = True

    def _part_begin(self) -> None:
        self._disposition, self._decoder, self._token = b"", None, False

    def _header_end(self) -> None:
        if bytes(self._field).strip().lower() == b"content-disposition":
            self._disposition = bytes(self._value)
        self._field.clear()
        self._value.clear()

    def _headers_finished(self) -> None:
        if not _utf8(self._disposition):
            self.bad = True
            return
        _, options = parse_options_header(self._disposition)
        if b"filename" not in options and b"filename*" not in options:
            self._decoder = codecs.getincrementaldecoder("utf-8")()
            self._token = options.get(b"name") == TOKEN_FIELD

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._decoder is None or self.bad:
            return
        piece = data[start:end]
        try:
            self._decoder.decode(piece)
        except UnicodeDecodeError:
            self.bad = True
        if self._token and not piece.isascii():
            self.bad = True

    def _part_end(self) -> None:
        if self._decoder is not None and not self.bad:
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self.bad = True
        self._decoder = None


class UndecodableInput:
    """ASGI middleware: 400 for request text that is not UTF-8 (see the module's docstring).
    It sits inside the body limit and outside asgi-csrf."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if not (_utf8_escaped(scope.get("raw_path") or b"")
                and _utf8_escaped(scope.get("query_string") or b"")):
            return await _reject(scope, send, 400, CODE, DETAIL)
        headers = []
        content_type = b""
        for name, value in scope.get("headers", ()):
            if name == b"cookie":
                value = _cookies_kept(value)
                if not value:
                    continue
            elif name == TOKEN_HEADER and not value.isascii():
                return await _reject(scope, send, 400, CODE, DETAIL)
            elif name == b"content-type":
                content_type = value
            headers.append((name, value))
        scope = {**scope, "headers": headers}
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        kind, options = parse_options_header(content_type)
        if kind == b"application/x-www-form-urlencoded":
            return await self._form(scope, receive, send)
        if kind == b"multipart/form-data" and options.get(b"boundary"):
            return await self._multipart(scope, receive, send, options[b"boundary"])
        return await self.app(scope, receive, send)

    async def _form(self, scope, receive, send) -> None:
        messages: list[dict] = []
        body = bytearray()
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # gone, or refused by the body limit: the app finds out as it reads
            body += message.get("body", b"")
            if not message.get("more_body", False):
                if not (_utf8_escaped(bytes(body)) and _form_token_ascii(bytes(body))):
                    return await _reject(scope, send, 400, CODE, DETAIL)
                break
        del body

        async def replay():
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _multipart(self, scope, receive, send, boundary: bytes) -> None:
        check = _MultipartCheck(boundary)
        started = False

        async def checked_receive():
            message = await receive()
            if message["type"] == "http.request":
                check.write(message.get("body", b""))
                if check.bad:
                    raise _Undecodable
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, checked_receive, tracking_send)
        except _Undecodable:
            if started:
                raise
            await _reject(scope, send, 400, CODE, DETAIL)
