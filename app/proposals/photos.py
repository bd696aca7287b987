"""Proposal photos: JPEG/PNG/WebP only, size-limited, re-encoded so no EXIF (GPS) survives.

A photo costs a worker little memory and never holds the database: its size is checked from
the file's header before any pixel is decoded, a JPEG is decoded at a reduced scale (libjpeg's
DCT scaling), a worker decodes one photo at a time (`encode`, on a thread of its own), and the
routes do it before the request's database transaction begins (app/proposals/api.py and
views.py: the photos are a dependency resolved ahead of the session); `add_photos` then only
stores the finished files.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO, NamedTuple

from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, DomainError, Forbidden, Invalid, TooLarge
from app.models import Proposal, ProposalPhoto, User, new_id
from app.workflows.proposal import ProposalState

MAX_PHOTOS = 3
MAX_BYTES = 8 * 1024 * 1024
# Pixels a (baseline) JPEG's header may claim. A phone's photo is 12 MP, its largest
# full-resolution mode about 50 MP (8160×6120); 64 MP is beyond every phone, and such a JPEG is
# decoded at 1/2, 1/4 or 1/8 scale: under 30 MB of pixels.
MAX_PIXELS = 64_000_000
# Pixels of anything decoded whole: PNG and WebP cannot be decoded at a reduced scale, and a
# progressive JPEG keeps every DCT coefficient at full scale (6 bytes a pixel at most). This
# bounds a photo's memory: 4096×4096 RGBA is 64 MiB. A phone's screenshot is 3–4 MP, its
# 12 MP photo as PNG over 8 MB anyway.
MAX_DECODED_PIXELS = 4096 * 4096
MAX_SIDE = 1600  # stored photos are scaled down to this: enough for a phone, fast to load
THUMB_SIDE = 320  # the copy shown in lists and on the detail page (a few KB on a slow network)
# MPO: a phone's JPEG with a second picture (depth map, portrait blur) after the photo; Pillow
# reads it as a JPEG whose first frame is the photo, and only that frame is kept.
JPEG_FORMATS = {"JPEG", "MPO"}
ACCEPTED_FORMATS = {*JPEG_FORMATS, "PNG", "WEBP"}
ORIENTATION = 0x0112  # the EXIF tag
# EXIF orientation → the transposition that makes the picture upright (as ImageOps.exif_transpose).
UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
           4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
           6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
           8: Image.Transpose.ROTATE_90}


class EncodedPhoto(NamedTuple):
    """A checked photo, ready to store: clean JPEG bytes, its thumbnail, its size."""

    data: bytes
    thumbnail: bytes
    width: int
    height: int


def too_many_pixels() -> Invalid:
    return Invalid(f"The photo has too many pixels: at most {MAX_PIXELS // 1_000_000} megapixels "
                   f"as JPEG, {MAX_DECODED_PIXELS // 1_000_000} as PNG, WebP or progressive "
                   "JPEG; send a smaller copy.", code="photo_too_large",
                   zh="照片像素过大（JPG 最多 6400 万像素，PNG、WebP 和渐进式 JPG 最多 1600 万"
                      "像素），请缩小后再传。")


def reencode(data: bytes) -> EncodedPhoto:
    """Verify an upload is a real JPEG/PNG/WebP; re-encode it (and a thumbnail) as clean JPEG.

    Blocking, and ~170 MB at its peak (a 4096×4096 RGBA PNG): the app calls it through
    `encode`, one photo at a time per worker and never inside a database transaction.
    """
    if len(data) > MAX_BYTES:
        raise TooLarge(f"A photo may be at most {MAX_BYTES // (1024 * 1024)} MB.",
                       code="photo_too_large", zh="每张照片不能超过 8 MB。")
    try:
        return _reencode(data)
    except DomainError:
        raise
    except Image.DecompressionBombError:  # Pillow's own ceiling (over 2 × 89 MP), at open
        raise too_many_pixels() from None
    except Exception:  # noqa: BLE001 - any decoder failure (struct.error on a broken EXIF …)
        raise Invalid("The file is not a readable image; choose a JPEG, PNG or WebP photo.",
                      code="photo_unreadable", zh="无法识别该图片，请选择 JPG、PNG 或 WebP 照片。"
                      ) from None
    finally:
        _return_freed_memory()


def _reencode(data: bytes) -> EncodedPhoto:
    with Image.open(io.BytesIO(data)) as probe:  # reads the header only
        if probe.format not in ACCEPTED_FORMATS:
            raise Invalid("Photos must be JPEG, PNG or WebP.", code="photo_format",
                          zh="照片须为 JPG、PNG 或 WebP 格式。")
        scalable = probe.format in JPEG_FORMATS and not probe.info.get("progressive")
        if probe.width * probe.height > (MAX_PIXELS if scalable else MAX_DECODED_PIXELS):
            raise too_many_pixels()
        probe.verify()
    with Image.open(io.BytesIO(data)) as image:
        # JPEG: decode at the smallest of 1/8, 1/4, 1/2 that still covers the stored size, in
        # libjpeg (DCT scaling); the full image never exists. Other formats: nothing to do.
        image.draft(None, _fit(image.size, MAX_SIDE))
        if image.width * image.height > MAX_DECODED_PIXELS:
            raise too_many_pixels()
        image.load()
        # The camera's rotation, applied below; then every piece of metadata is dropped.
        upright = UPRIGHT.get(image.getexif().get(ORIENTATION))
        picture = _on_white(image)
        picture.thumbnail((MAX_SIDE, MAX_SIDE))
        if upright is not None:
            picture = picture.transpose(upright)
    clean = Image.new(picture.mode, picture.size)
    clean.paste(picture)
    del picture
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=82, optimize=True, progressive=True)
    thumb = clean.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    small = io.BytesIO()
    thumb.save(small, format="JPEG", quality=75, optimize=True)
    return EncodedPhoto(out.getvalue(), small.getvalue(), clean.width, clean.height)


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    """`size` scaled down to fit a square of `side` (as Image.thumbnail does, to a pixel)."""
    width, height = size
    scale = min(1.0, side / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _on_white(image: Image.Image) -> Image.Image:
    """The picture as RGB or L; transparency (and every other mode) flattened onto white."""
    if image.mode in ("RGB", "L"):
        return image
    rgba = image if image.mode == "RGBA" else image.convert("RGBA")
    background = Image.new("RGB", image.size, "white")
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, where there is one."""
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return None


_TRIM = _malloc_trim()


def _return_freed_memory() -> None:
    """Give a decode's freed memory back to the system at once: image buffers are large blocks
    (Pillow allocates 16 MB at a time) that glibc would otherwise keep for the process."""
    if _TRIM is not None:
        _TRIM(0)


# One thread a worker: photos are decoded one at a time, whatever the number of uploads, so a
# worker's photo memory is that of one photo; and one thread keeps it in one malloc arena.
_decoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="photo-decode")


async def encode(uploads: list[bytes | BinaryIO]) -> list[EncodedPhoto]:
    """Check and re-encode photos on the worker's decoding thread, in turn with other requests'.

    Each upload is its bytes or its (spooled) file, read only when its turn comes, so uploads
    waiting for the thread keep their photos on disk rather than in memory. Call it before the
    request's session begins (the routes take the photos as a dependency declared ahead of
    SessionDep): a refused photo raises, and nothing is stored.
    """
    loop = asyncio.get_running_loop()
    return [await loop.run_in_executor(_decoder, _read_and_reencode, upload)
            for upload in uploads]


def size_of(file: BinaryIO) -> int:
    """An uploaded (spooled) file's size in bytes, without reading it."""
    return file.seek(0, io.SEEK_END)


def _read_and_reencode(upload: bytes | BinaryIO) -> EncodedPhoto:
    if not isinstance(upload, bytes):
        upload.seek(0)
        upload = upload.read(MAX_BYTES + 1)
    return reencode(upload)


async def add_photos(session: AsyncSession, *, actor: User, proposal: Proposal,
                     photos: list[EncodedPhoto], media_dir: Path) -> list[ProposalPhoto]:
    """Store up to three photos of a submitted proposal (its proposer or recorder only)."""
    if actor.id not in (proposal.proposer_id, proposal.recorded_by):
        raise Forbidden("Only the proposer (or the staff member who recorded it) adds photos.",
                        code="not_yours", zh="只有建议人可以上传照片。")
    if proposal.state != ProposalState.submitted:
        raise Conflict("Photos can be added while the proposal awaits review only.",
                       code="not_open", zh="建议已处理，不能再上传照片。")
    have = await session.scalar(select(func.count()).select_from(ProposalPhoto)
                                .where(ProposalPhoto.proposal_id == proposal.id)) or 0
    if have + len(photos) > MAX_PHOTOS:
        raise too_many_photos()
    await asyncio.to_thread(media_dir.mkdir, parents=True, exist_ok=True)
    stored = []
    for encoded in photos:
        photo = ProposalPhoto(id=new_id(), proposal_id=proposal.id, filename="",
                              width=encoded.width, height=encoded.height,
                              bytes=len(encoded.data))
        photo.filename = f"{photo.id}.jpg"
        await asyncio.to_thread((media_dir / photo.filename).write_bytes, encoded.data)
        await asyncio.to_thread((media_dir / f"{photo.id}-s.jpg").write_bytes, encoded.thumbnail)
        session.add(photo)
        stored.append(photo)
    await session.flush()
    return stored


def too_many_photos() -> Invalid:
    return Invalid(f"At most {MAX_PHOTOS} photos per proposal.", code="too_many_photos",
                   zh=f"每条建议最多 {MAX_PHOTOS} 张照片。")


async def photos_of(session: AsyncSession, proposal_id: str) -> list[ProposalPhoto]:
    return list(await session.scalars(select(ProposalPhoto).where(
        ProposalPhoto.proposal_id == proposal_id).order_by(ProposalPhoto.created_at)))


def photo_url(photo: ProposalPhoto) -> str:
    return f"/media/photos/{photo.filename}"
