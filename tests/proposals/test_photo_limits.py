"""Photos cost a worker little: sizes checked from the header before decoding, JPEG decoded at a
reduced scale, one decode at a time per worker, and never while the request holds the database
(issue 14, finding 1: a 150 KB PNG of 6300×6300 RGBA took a worker to 4 GB and held SQLite's
write lock for seconds)."""

from __future__ import annotations

import asyncio
import functools
import io
import sqlite3
import struct
import threading
import time
import zlib

import httpx
import psycopg
import pytest
from PIL import Image, ImageFile
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.errors import Invalid
from app.models import ProposalPhoto
from app.proposals import photos
from tests.helpers import csrf, page_login, run
from tests.proposals.conftest import API, propose


def _chunk(kind: bytes, body: bytes) -> bytes:
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))


@functools.cache
def blank_png(width: int, height: int) -> bytes:
    """A real, fully decodable RGBA PNG of transparent pixels: tiny on disk, huge decoded."""
    z = zlib.compressobj(9)
    row = b"\0" * (1 + 4 * width)  # filter byte + RGBA pixels
    data = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    return (b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + _chunk(b"IDAT", data) + _chunk(b"IEND", b""))


@functools.cache
def big_jpeg(size=(4800, 3600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (40, 120, 200)).save(out, format="JPEG", quality=70)
    return out.getvalue()


def small_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (300, 200), (0, 0, 255, 128)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def decoded_sizes(monkeypatch) -> list[tuple[str, tuple[int, int]]]:
    """Every image Pillow decodes from here on: (format, size at the time of decoding)."""
    seen: list[tuple[str, tuple[int, int]]] = []
    load = ImageFile.ImageFile.load

    def spy(self):
        if self.tile:  # not yet decoded: this call decodes it
            seen.append((self.format, self.size))
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return seen


@pytest.fixture(autouse=True)
def _media_in_tmp(request, tmp_path, monkeypatch):
    if "client" in request.fixturenames:
        settings = request.getfixturevalue("client").app.state.settings
        monkeypatch.setattr(settings, "media_dir", tmp_path / "media")


def photo_count(client) -> int:
    return run(client, lambda s: s.scalar(select(func.count()).select_from(ProposalPhoto)))


# ------------------------------------------------------------------ checked before decoding

def test_the_reviews_6300_square_rgba_png_is_refused_from_its_header(decoded_sizes):
    data = blank_png(6300, 6300)
    assert len(data) < 200_000  # the review's 150 KB file: 159 MB once decoded
    with pytest.raises(Invalid) as refused:
        photos.reencode(data)
    assert refused.value.code == "photo_too_large" and refused.value.zh
    assert decoded_sizes == []  # refused from the header: not one pixel decoded


def test_a_png_or_webp_over_the_decoded_limit_is_refused_and_one_under_is_stored(decoded_sizes):
    side = 4096
    assert side * side <= photos.MAX_DECODED_PIXELS < (side + 1) * (side + 1)
    with pytest.raises(Invalid) as refused:
        photos.reencode(blank_png(side + 1, side + 1))
    assert refused.value.code == "photo_too_large" and decoded_sizes == []
    full, small, width, height = photos.reencode(blank_png(2400, 1800))
    assert (width, height) == (1600, 1200) and decoded_sizes == [("PNG", (2400, 1800))]
    assert Image.open(io.BytesIO(full)).getpixel((0, 0)) == (255, 255, 255)  # on white


def test_a_large_jpeg_is_decoded_at_a_reduced_scale(decoded_sizes):
    full, small, width, height = photos.reencode(big_jpeg())
    assert (width, height) == (1600, 1200)
    assert Image.open(io.BytesIO(small)).size == (320, 240)
    # libjpeg's DCT scaling: 4800×3600 decoded as 2400×1800 (a quarter of the pixels), never whole.
    assert decoded_sizes == [("JPEG", (2400, 1800))]


def test_a_phone_photo_with_depth_data_read_as_mpo_is_a_jpeg(decoded_sizes):
    # Phones add a second picture (depth map, portrait blur) after the photo in one file, in
    # CIPA's Multi-Picture format: Pillow reads it as "MPO", a JPEG whose first picture is the photo.
    out = io.BytesIO()
    photo = Image.new("RGB", (4000, 3000), (200, 80, 40))
    photo.save(out, format="MPO", save_all=True, append_images=[Image.new("RGB", (640, 480))])
    assert Image.open(io.BytesIO(out.getvalue())).format == "MPO"
    full, _small, width, height = photos.reencode(out.getvalue())
    assert (width, height) == (1600, 1200)
    assert decoded_sizes == [("MPO", (2000, 1500))]  # the photo alone, at half its size
    assert Image.open(io.BytesIO(full)).getpixel((5, 5)) == pytest.approx((200, 80, 40), abs=3)


def test_a_jpeg_over_the_header_limit_is_refused_before_decoding(decoded_sizes):
    # A JPEG header claiming 10000×7000 (70 MP): only the start of the file is needed to know.
    header = big_jpeg((64, 48))
    sof = header.index(b"\xff\xc0")
    patched = header[:sof + 5] + struct.pack(">HH", 7000, 10000) + header[sof + 9:]
    assert Image.open(io.BytesIO(patched)).size == (10000, 7000)
    with pytest.raises(Invalid) as refused:
        photos.reencode(patched)
    assert refused.value.code == "photo_too_large" and decoded_sizes == []


def test_a_progressive_jpeg_has_the_limit_of_a_png(decoded_sizes):
    # libjpeg keeps a progressive JPEG's every coefficient, at full scale, whatever the draft:
    # 48 MP would cost ~290 MB. So it may have as many pixels as a PNG, not as a baseline JPEG.
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(out, format="JPEG", progressive=True)
    small = out.getvalue()
    sof = small.index(b"\xff\xc2")
    patched = small[:sof + 5] + struct.pack(">HH", 3000, 6000) + small[sof + 9:]  # 18 MP
    with pytest.raises(Invalid) as refused:
        photos.reencode(patched)
    assert refused.value.code == "photo_too_large" and decoded_sizes == []
    assert photos.reencode(small).width == 64


def test_the_big_png_is_422_on_the_api_and_nothing_is_stored(client, world, cycle_id):
    pid = propose(client, world, cycle_id)
    r = client.post(f"{API}/proposals/{pid}/photos", headers=world.headers("resident"),
                    files=[("files", ("big.png", blank_png(6300, 6300), "image/png"))])
    assert r.status_code == 422 and r.json()["code"] == "photo_too_large", r.text
    assert "pixels" in r.json()["detail"]
    assert photo_count(client) == 0


# ------------------------------------------------------------------ never while holding the database

def open_transactions(app) -> list[str]:
    """What of the app holds the database right now (called from the decoding thread)."""
    settings, held = app.state.settings, []
    if settings.is_sqlite:
        turn = app.state.sqlite_write_turn
        if turn is not None and turn.locked():
            held.append("the worker's SQLite write turn")
        db = sqlite3.connect(app.state.engine.url.database, timeout=0, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")  # fails at once while another connection writes
            db.execute("ROLLBACK")
        except sqlite3.OperationalError as exc:
            held.append(f"SQLite's write lock ({exc})")
        finally:
            db.close()
    else:
        url = make_url(settings.async_url).set(drivername="postgresql")
        with psycopg.connect(url.render_as_string(hide_password=False)) as db:
            states = db.execute(
                "SELECT state FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL").fetchall()
        held += [f"a PostgreSQL transaction ({state})" for (state,) in states]
    return held


@pytest.fixture
def decodes(client, monkeypatch) -> list[list[str]]:
    """Each photo decoded by the app: what held the database meanwhile (empty lists, please)."""
    seen: list[list[str]] = []
    reencode = photos.reencode

    def spy(data: bytes):
        seen.append(open_transactions(client.app))
        return reencode(data)

    monkeypatch.setattr(photos, "reencode", spy)
    return seen


def test_an_api_upload_decodes_before_its_transaction_begins(client, world, cycle_id, decodes):
    pid = propose(client, world, cycle_id)
    r = client.post(f"{API}/proposals/{pid}/photos", headers=world.headers("resident"),
                    files=[("files", ("a.png", small_png(), "image/png")),
                           ("files", ("b.jpg", big_jpeg((1200, 900)), "image/jpeg"))])
    assert r.status_code == 201, r.text
    assert decodes == [[], []]
    assert photo_count(client) == 2


def test_a_proposal_page_decodes_its_photos_before_its_transaction_begins(client, world,
                                                                          cycle_id, decodes):
    page_login(client, "resident")
    data = {"csrftoken": csrf(client), "title": "南塔街道人民路安装路灯",
            "description": "人民路晚上没有路灯，散步的老人和放学的孩子都看不清路。",
            "category": "公共安全", "location_code": "nanta", "place": "人民路中段"}
    r = client.post(f"/cycles/{cycle_id}/proposals/new", data=data,
                    files=[("photos", ("road.png", small_png(), "image/png"))],
                    follow_redirects=False)
    assert r.status_code == 303, r.text[:2000]
    assert decodes == [[]]
    assert photo_count(client) == 1
    # A refused photo re-shows the form with the message, as before.
    r = client.post(f"/cycles/{cycle_id}/proposals/new", data=data,
                    files=[("photos", ("big.png", blank_png(6300, 6300), "image/png"))],
                    follow_redirects=False)
    assert r.status_code == 422 and "照片像素过大" in r.text and "照片没有保存" in r.text
    assert photo_count(client) == 1


def test_an_anonymous_upload_is_refused_before_anything_is_decoded(client, world, cycle_id,
                                                                  decodes):
    pid = propose(client, world, cycle_id)
    r = client.post(f"{API}/proposals/{pid}/photos",
                    files=[("files", ("a.png", small_png(), "image/png"))])
    assert r.status_code == 401 and decodes == []
    r = client.post(f"{API}/proposals/{pid}/photos", headers={"Authorization": "Bearer forged"},
                    files=[("files", ("a.png", small_png(), "image/png"))])
    assert r.status_code == 401 and decodes == []


# ------------------------------------------------------------------ one decode at a time

def test_concurrent_uploads_decode_one_photo_at_a_time(client, world, cycle_id, monkeypatch):
    pids = [propose(client, world, cycle_id, title=f"南塔街道人民路安装路灯{i}") for i in range(4)]
    headers = world.headers("resident")
    lock, active, most = threading.Lock(), [0], [0]
    reencode = photos.reencode

    def slow(data: bytes):
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        try:
            time.sleep(0.05)
            return reencode(data)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(photos, "reencode", slow)

    async def upload_all():
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await asyncio.gather(*(
                http.post(f"{API}/proposals/{pid}/photos", headers=headers,
                          files=[("files", (f"{n}.png", small_png(), "image/png"))
                                 for n in range(2)])
                for pid in pids))

    answers = client.portal.call(upload_all)
    assert [r.status_code for r in answers] == [201] * 4, [r.text for r in answers]
    assert most[0] == 1
    assert photo_count(client) == 8
