"""Photos: real images only, size-limited, re-encoded so no EXIF (GPS) reaches the public."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import func, select

from app.models import ProposalPhoto
from tests.helpers import run
from tests.proposals.conftest import API, propose


def jpeg_with_gps(size=(800, 600)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (30.0, 16.0, 33.0), 3: "E", 4: (105.0, 1.0, 48.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the fixture has GPS
    return data


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (300, 200), (0, 0, 255, 128)).save(out, format="PNG")
    return out.getvalue()


def upload(client, world, pid, files, who="resident"):
    return client.post(f"{API}/proposals/{pid}/photos", headers=world.headers(who),
                       files=[("files", f) for f in files])


def photo_count(client) -> int:
    return run(client, lambda s: s.scalar(select(func.count()).select_from(ProposalPhoto)))


def test_gps_metadata_never_reaches_the_public(client, world, cycle_id):
    pid = propose(client, world, cycle_id)
    r = upload(client, world, pid, [("road.jpg", jpeg_with_gps(), "image/jpeg")])
    assert r.status_code == 201, r.text
    url = r.json()["photos"][0]
    assert client.get(f"{API}/proposals/{pid}").json()["photos"] == [url]
    served = client.get(url)
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(served.content))
    assert image.format == "JPEG" and image.size == (800, 600)
    assert not image.getexif() and b"PhoneMaker" not in served.content
    assert b"Exif" not in served.content[:200]


def test_png_and_webp_are_accepted_and_large_photos_scaled_down(client, world, cycle_id):
    pid = propose(client, world, cycle_id)
    big = io.BytesIO()
    Image.new("RGB", (4000, 3000), "green").save(big, format="WEBP")
    r = upload(client, world, pid, [("a.png", png_bytes(), "image/png"),
                                    ("b.webp", big.getvalue(), "image/webp")])
    assert r.status_code == 201
    sizes = [Image.open(io.BytesIO(client.get(u).content)).size for u in r.json()["photos"]]
    assert sizes == [(300, 200), (1600, 1200)]


def test_a_fake_image_or_another_format_stores_nothing(client, world, cycle_id):
    pid = propose(client, world, cycle_id)
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    for name, data in (("evil.jpg", b"<?php system($_GET['x']); ?>"),
                       ("anim.gif", gif.getvalue()),
                       ("half.jpg", jpeg_with_gps()[:500])):
        r = upload(client, world, pid, [("ok.png", png_bytes(), "image/png"),
                                        (name, data, "image/jpeg")])
        assert r.status_code == 422, (name, r.text)
        assert r.json()["code"] in ("photo_unreadable", "photo_format")
    assert photo_count(client) == 0


def test_at_most_three_photos_and_only_the_proposer(client, world, cycle_id):
    pid = propose(client, world, cycle_id)
    photo = ("p.png", png_bytes(), "image/png")
    assert upload(client, world, pid, [photo, photo]).status_code == 201
    r = upload(client, world, pid, [photo, photo])
    assert r.status_code == 422 and r.json()["code"] == "too_many_photos"
    assert upload(client, world, pid, [photo], who="deputy").status_code == 403
    assert photo_count(client) == 2


def test_an_oversized_photo_is_413_and_a_50_mb_upload_is_refused_early(client, world, cycle_id):
    pid = propose(client, world, cycle_id)
    nine_mb = b"\xff\xd8" + b"0" * (9 * 1024 * 1024)
    r = upload(client, world, pid, [("big.jpg", nine_mb, "image/jpeg")])
    assert r.status_code == 413 and r.json()["code"] in ("photo_too_large", "too_large")
    fifty_mb = b"0" * (50 * 1024 * 1024)
    r = upload(client, world, pid, [("huge.jpg", fifty_mb, "image/jpeg")])
    assert r.status_code == 413
    assert photo_count(client) == 0


def test_photo_urls_cannot_escape_the_media_folder(client, world):
    for name in ("../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "x.jpg", "a" * 32 + ".png"):
        assert client.get(f"/media/photos/{name}").status_code == 404


def test_a_thumbnail_is_stored_beside_each_photo(client, world, cycle_id):
    pid = propose(client, world, cycle_id)
    url = upload(client, world, pid, [("road.jpg", jpeg_with_gps((2000, 1000)), "image/jpeg")]
                 ).json()["photos"][0]
    small = client.get(url.replace(".jpg", "-s.jpg"))
    assert small.status_code == 200
    image = Image.open(io.BytesIO(small.content))
    assert image.size == (320, 160) and not image.getexif()


def test_a_png_with_a_broken_exif_chunk_is_a_bad_photo_not_a_500(client, world, cycle_id):
    import struct
    import zlib

    pid = propose(client, world, cycle_id)
    data = png_bytes()
    chunk = b"eXIf" + b"MM\x00*\x00\x00\x00\x08\x00\x05"  # a truncated TIFF header
    crc = struct.pack(">I", zlib.crc32(chunk) & 0xFFFFFFFF)
    broken = data[:33] + struct.pack(">I", len(chunk) - 4) + chunk + crc + data[33:]
    r = upload(client, world, pid, [("broken.png", broken, "image/png")])
    assert r.status_code in (201, 422), r.text
