"""gzip for text answers to GET and assets: pages, JSON, CSV, CSS, JavaScript, SVG, feeds.

Starlette's GZipMiddleware compresses an answer of at least MINIMUM_SIZE bytes when the client
accepts gzip, streamed answers (bulletins, exports) chunk by chunk, and sends `Vary:
Accept-Encoding` on every answer it could have compressed. It leaves alone partial answers (206),
answers already encoded, and the media types listed below: photos (JPEG), ZIP (the open data),
xlsx and other formats that are compressed already.

It sits outside app/caching.py, which computes its weak ETags on the uncompressed body and keeps
its shared copies uncompressed: the gzip and the plain answer carry the same weak ETag (RFC 9110
allows a weak validator for both codings), so If-None-Match and 304 work either way. A strong
ETag (the static files') is made weak when the body is compressed, since the bytes differ.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware

MINIMUM_SIZE = 500
# zlib's level 1, as nginx's default: a 26 KB page in about 50 µs where level 6 takes 2.7 times
# as long for a result 10 % smaller (measured on the demo's cycle page). Each answer is
# compressed as it goes out (the shared copies hold each visitor's own CSRF token).
LEVEL = 1
ALREADY_COMPRESSED = (
    *DEFAULT_EXCLUDED_CONTENT_TYPES,
    "application/x-zip-compressed",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/pdf",
    "application/octet-stream",
)


class Compression(GZipMiddleware):
    """GZipMiddleware with our exclusions and level, and weak ETags on compressed answers."""

    def __init__(self, app) -> None:
        super().__init__(app, minimum_size=MINIMUM_SIZE, compresslevel=LEVEL,
                         exclude_content_types=ALREADY_COMPRESSED)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET":
            # Only what is read: pages, assets, exports. A write's answer is small (a cast's
            # receipt, a redirect) or a form shown again, and casting stays as fast as it was.
            return await self.app(scope, receive, send)

        if b"gzip" not in _accept_encoding(scope):
            # Nothing to compress for this client: skip GZipMiddleware's per-answer machinery
            # (its responder and content-type checks cost a cached page about a tenth of its
            # time), keeping only the Vary it would send.
            return await self.app(scope, receive, _with_vary(send))

        async def weak_etag_if_compressed(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=message["headers"])
                etag = headers.get("etag")
                if etag and not etag.startswith("W/") and "content-encoding" in headers:
                    headers["etag"] = "W/" + etag
            await send(message)

        await super().__call__(scope, receive, weak_etag_if_compressed)


def _accept_encoding(scope) -> bytes:
    for name, value in scope.get("headers", ()):
        if name == b"accept-encoding":
            return value.lower()
    return b""


def _with_vary(send):
    """`send`, adding `Vary: Accept-Encoding` as GZipMiddleware does to an answer it could have
    compressed (any answer but a 206 or one already encoded)."""

    async def sending(message):
        if message["type"] == "http.response.start" and message["status"] != 206:
            headers = MutableHeaders(raw=message["headers"])
            if "content-encoding" not in headers:
                headers.add_vary_header("Accept-Encoding")
        await send(message)

    return sending
