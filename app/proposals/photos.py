"""Proposal photos: JPEG/PNG/WebP only, size-limited, re-encoded so no EXIF (GPS) survives."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from PIL import Image, ImageOps
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, DomainError, Forbidden, Invalid, TooLarge
from app.models import Proposal, ProposalPhoto, User, new_id
from app.workflows.proposal import ProposalState

MAX_PHOTOS = 3
MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded
MAX_SIDE = 1600  # stored photos are scaled down to this: enough for a phone, fast to load
THUMB_SIDE = 320  # the copy shown in lists and on the detail page (a few KB on a slow network)
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}


def reencode(data: bytes) -> tuple[bytes, bytes, int, int]:
    """Verify an upload is a real JPEG/PNG/WebP; re-encode it (and a thumbnail) as clean JPEG."""
    if len(data) > MAX_BYTES:
        raise TooLarge(f"A photo may be at most {MAX_BYTES // (1024 * 1024)} MB.",
                       code="photo_too_large", zh="每张照片不能超过 8 MB。")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise Invalid("Photos must be JPEG, PNG or WebP.", code="photo_format",
                              zh="照片须为 JPG、PNG 或 WebP 格式。")
            if probe.width * probe.height > MAX_PIXELS:
                raise Invalid("The photo has too many pixels.", code="photo_too_large",
                              zh="照片像素过大。")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            # Apply the camera's rotation, then drop every piece of metadata (EXIF, GPS, XMP).
            image = ImageOps.exif_transpose(image)
            if image.mode not in ("RGB", "L"):
                background = Image.new("RGB", image.size, "white")
                rgba = image.convert("RGBA")
                background.paste(rgba, mask=rgba.getchannel("A"))
                image = background
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            clean = Image.new(image.mode, image.size)
            clean.paste(image)
            out = io.BytesIO()
            clean.save(out, format="JPEG", quality=82, optimize=True, progressive=True)
            thumb = clean.copy()
            thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
            small = io.BytesIO()
            thumb.save(small, format="JPEG", quality=75, optimize=True)
            return out.getvalue(), small.getvalue(), clean.width, clean.height
    except DomainError:
        raise
    except Exception:  # noqa: BLE001 - any decoder failure (struct.error on a broken EXIF …)
        raise Invalid("The file is not a readable image; choose a JPEG, PNG or WebP photo.",
                      code="photo_unreadable", zh="无法识别该图片，请选择 JPG、PNG 或 WebP 照片。"
                      ) from None


async def add_photos(session: AsyncSession, *, actor: User, proposal: Proposal,
                     uploads: list[bytes], media_dir: Path) -> list[ProposalPhoto]:
    """Store up to three photos of a submitted proposal (its proposer or recorder only)."""
    if actor.id not in (proposal.proposer_id, proposal.recorded_by):
        raise Forbidden("Only the proposer (or the staff member who recorded it) adds photos.",
                        code="not_yours", zh="只有建议人可以上传照片。")
    if proposal.state != ProposalState.submitted:
        raise Conflict("Photos can be added while the proposal awaits review only.",
                       code="not_open", zh="建议已处理，不能再上传照片。")
    have = await session.scalar(select(func.count()).select_from(ProposalPhoto)
                                .where(ProposalPhoto.proposal_id == proposal.id)) or 0
    if have + len(uploads) > MAX_PHOTOS:
        raise Invalid(f"At most {MAX_PHOTOS} photos per proposal.", code="too_many_photos",
                      zh=f"每条建议最多 {MAX_PHOTOS} 张照片。")
    # Every photo is checked before any is stored: all or nothing.
    encoded = [await asyncio.to_thread(reencode, data) for data in uploads]
    await asyncio.to_thread(media_dir.mkdir, parents=True, exist_ok=True)
    photos = []
    for data, small, width, height in encoded:
        photo = ProposalPhoto(id=new_id(), proposal_id=proposal.id, filename="",
                              width=width, height=height, bytes=len(data))
        photo.filename = f"{photo.id}.jpg"
        await asyncio.to_thread((media_dir / photo.filename).write_bytes, data)
        await asyncio.to_thread((media_dir / f"{photo.id}-s.jpg").write_bytes, small)
        session.add(photo)
        photos.append(photo)
    await session.flush()
    return photos


async def photos_of(session: AsyncSession, proposal_id: str) -> list[ProposalPhoto]:
    return list(await session.scalars(select(ProposalPhoto).where(
        ProposalPhoto.proposal_id == proposal_id).order_by(ProposalPhoto.created_at)))


def photo_url(photo: ProposalPhoto) -> str:
    return f"/media/photos/{photo.filename}"


def thumbnail_url(photo: ProposalPhoto) -> str:
    return f"/media/photos/{photo.id}-s.jpg"
