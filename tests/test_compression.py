"""gzip (app/compression.py): text answers and assets compressed, photos and ZIPs not; ETags and
304 still work, on the shared copy of public pages too; streamed answers compress chunk by chunk.
"""

from __future__ import annotations

import gzip
import zlib

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route

from app.compression import Compression
from app.main import create_app
from tests.conftest import make_settings
from tests.helpers import World

GZIP = {"Accept-Encoding": "gzip"}


def raw(client, url: str, **headers):
    """GET without decoding: the bytes as sent, and the answer."""
    with client.stream("GET", url, headers=headers) as r:
        body = b"".join(r.iter_raw())
    return r, body


def test_a_page_is_gzipped(client):
    r, body = raw(client, "/archive", **GZIP)
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in r.headers["vary"]
    page = gzip.decompress(body).decode()
    assert "<html" in page and len(body) < len(page.encode())
    assert int(r.headers["content-length"]) == len(body)


def test_a_page_is_sent_plain_to_a_client_without_gzip(client):
    r, body = raw(client, "/archive", **{"Accept-Encoding": "identity"})
    assert "content-encoding" not in r.headers and b"<html" in body
    assert "Accept-Encoding" in r.headers["vary"]  # a shared cache keeps the two apart


def test_htmx_and_swagger_ui_are_gzipped(client):
    for name in ("htmx.min.js", "swagger-ui-bundle.js", "swagger-ui.css"):
        r, body = raw(client, f"/static/vendor/{name}", **GZIP)
        assert r.headers["content-encoding"] == "gzip", name
        assert len(gzip.decompress(body)) > 2 * len(body), name
        # the bytes differ from the file's: its ETag can only be weak
        assert r.headers.get("etag", 'W/"').startswith('W/"'), name


def test_css_and_svg_of_our_own_are_gzipped(client):
    r, _ = raw(client, "/static/favicon.svg", **GZIP)
    size = int(r.headers.get("content-length") or 0)
    assert r.headers.get("content-encoding") == "gzip" or 0 < size < 500
    r, _ = raw(client, "/static/app.css", **GZIP)
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"


def test_small_answers_are_not_compressed(client):
    r, body = raw(client, "/healthz", **GZIP)
    assert "content-encoding" not in r.headers and body == b'{"ok":true}'


def test_a_photo_is_not_gzipped(client, tmp_path, monkeypatch):
    monkeypatch.setattr(client.app.state.settings, "media_dir", tmp_path)
    name = "0123456789abcdef0123456789abcdef.jpg"
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 4000 + b"\xff\xd9"
    (tmp_path / name).write_bytes(jpeg)
    r, body = raw(client, f"/media/photos/{name}", **GZIP)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert "content-encoding" not in r.headers and body == jpeg


def test_the_open_data_zip_is_not_gzipped(client, world: World):
    cycle = client.post("/api/v1/cycles", headers=world.headers("gov_staff"), json={
        "jurisdiction_code": "lezhi", "year": 2031, "title": "2031年民生实事", "seats": 3}).json()
    r, body = raw(client, f"/api/v1/cycles/{cycle['id']}/open-data.zip", **GZIP)
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert "content-encoding" not in r.headers and body.startswith(b"PK")


def test_etag_and_304_work_on_a_gzipped_page(client):
    first, _ = raw(client, "/archive", **GZIP)
    etag = first.headers["etag"]
    assert etag.startswith('W/"') and first.headers["content-encoding"] == "gzip"
    plain, _ = raw(client, "/archive")
    assert plain.headers["etag"] == etag  # one weak validator for both codings
    again = client.get("/archive", headers={**GZIP, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert "content-encoding" not in again.headers
    again = client.get("/archive", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_a_static_file_answers_304_to_its_weakened_etag(client):
    first, _ = raw(client, "/static/app.css", **GZIP)
    again = client.get("/static/app.css", headers={**GZIP, "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


@pytest.fixture
def cached(database_url):
    """An app whose shared copy of public pages is on (MINSHENG_PAGE_CACHE_SECONDS=10)."""
    with TestClient(create_app(make_settings(database_url, page_cache_seconds=10))) as c:
        yield c


def test_the_shared_copy_of_a_public_page_is_gzipped_and_revalidates(client, cached):
    first, body = raw(cached, "/archive", **GZIP)
    second, body2 = raw(cached, "/archive", **GZIP)  # served from the shared copy
    assert first.headers["content-encoding"] == second.headers["content-encoding"] == "gzip"
    assert gzip.decompress(body).startswith(b"<!doctype") or b"<html" in gzip.decompress(body)
    # each visitor's own CSRF token goes into the page, so each is compressed for its visitor
    assert b"<html" in gzip.decompress(body2)
    etag = second.headers["etag"]
    r = cached.get("/archive", headers={**GZIP, "If-None-Match": etag})
    assert r.status_code == 304


def test_a_streamed_answer_is_compressed_chunk_by_chunk():
    rows = [f"{i},第{i}号建议,{'x' * 40}\n".encode() for i in range(2000)]

    async def chunks():
        for row in rows:
            yield row

    app = Starlette(routes=[Route("/export.csv", lambda request: StreamingResponse(
        chunks(), media_type="text/csv; charset=utf-8"))])
    with TestClient(Compression(app)) as c:
        r, body = raw(c, "/export.csv", **GZIP)
    assert r.headers["content-encoding"] == "gzip" and "content-length" not in r.headers
    assert zlib.decompress(body, 16 + zlib.MAX_WBITS) == b"".join(rows)
