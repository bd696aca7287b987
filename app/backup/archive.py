"""The backup archive: a gzip'd tar of the database copy, the media folder and a manifest.

Members, in this order: `database.sqlite3` or `database.pgdump` (pg_dump's custom format), then
`media/<file>` for every file of the media folder, then `manifest.json` naming each member with
its size and SHA-256. The manifest comes last so that the archive can be written as a stream
(also to standard output); a reader checks every member against it, so a truncated or altered
archive is refused before anything is restored.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO

FORMAT = "minsheng-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MEDIA_PREFIX = "media/"
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
CHUNK = 1024 * 1024


class ArchiveError(Exception):
    """The archive cannot be read: not one of ours, truncated or altered (exit 2)."""


@dataclass
class Manifest:
    """What a backup holds (manifest.json)."""

    database: str  # "sqlite" or "postgresql"
    alembic_revision: str
    created_at: str
    app_version: str
    tables: dict[str, int]  # rows per table, counted in the copied snapshot
    files: dict[str, dict] = field(default_factory=dict)  # member → {"size", "sha256"}
    extra: dict = field(default_factory=dict)  # e.g. the server and pg_dump versions

    @property
    def database_member(self) -> str:
        return DATABASE_MEMBERS[self.database]

    @property
    def media_files(self) -> list[str]:
        return sorted(n.removeprefix(MEDIA_PREFIX) for n in self.files if n.startswith(MEDIA_PREFIX))

    def to_json(self) -> bytes:
        data = {"format": FORMAT, "format_version": FORMAT_VERSION,
                "app_version": self.app_version, "database": self.database,
                "alembic_revision": self.alembic_revision, "created_at": self.created_at,
                "tables": self.tables, "media_files": len(self.media_files),
                "files": self.files, **self.extra}
        return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ArchiveError(f"its manifest is not JSON ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ArchiveError("it is not a minsheng backup (its manifest names another format)")
        if data.get("format_version") != FORMAT_VERSION:
            raise ArchiveError(f"it is in backup format {data.get('format_version')!r}; this "
                               f"minsheng reads format {FORMAT_VERSION}: restore it with the "
                               f"minsheng version that wrote it ({data.get('app_version')})")
        try:
            known = {"format", "format_version", "app_version", "database", "alembic_revision",
                     "created_at", "tables", "media_files", "files"}
            manifest = cls(database=data["database"], alembic_revision=data["alembic_revision"],
                           created_at=data["created_at"], app_version=data["app_version"],
                           tables={str(k): int(v) for k, v in data["tables"].items()},
                           files={str(k): {"size": int(v["size"]), "sha256": str(v["sha256"])}
                                  for k, v in data["files"].items()},
                           extra={k: v for k, v in data.items() if k not in known})
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ArchiveError(f"its manifest lacks or mangles a field ({exc!r})") from None
        if manifest.database not in DATABASE_MEMBERS:
            raise ArchiveError(f"its manifest names an unknown database kind {manifest.database!r}")
        if manifest.database_member not in manifest.files:
            raise ArchiveError("its manifest names no database copy")
        return manifest


class _Hashing:
    """A file read through, hashing what passes (tarfile copies exactly `size` bytes)."""

    def __init__(self, f: BinaryIO) -> None:
        self.f, self.sha256, self.read_bytes = f, hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(n)
        self.sha256.update(data)
        self.read_bytes += len(data)
        return data


class Writer:
    """Writes an archive as a stream: add the database copy, the media files, then close()."""

    def __init__(self, out: IO[bytes]) -> None:
        # gzip level 6: level 9 costs far more time for little (photos are JPEG already).
        self._gzip = gzip.GzipFile(fileobj=out, mode="wb", compresslevel=6, mtime=0)
        self._tar = tarfile.open(fileobj=self._gzip, mode="w|", format=tarfile.PAX_FORMAT)
        self.files: dict[str, dict] = {}

    def add_file(self, name: str, path: Path) -> None:
        """Add `path` as member `name`; its size is what it holds when opened."""
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = st.st_size, int(st.st_mtime), 0o600
            reader = _Hashing(f)
            self._tar.addfile(info, reader)
        self.files[name] = {"size": info.size, "sha256": reader.sha256.hexdigest()}

    def add_media(self, media_dir: Path) -> int:
        """Add every file under the media folder (as `media/<relative path>`)."""
        count = 0
        if not media_dir.is_dir():
            return 0
        for path in sorted(media_dir.rglob("*")):
            if path.is_file() and not path.is_symlink():
                self.add_file(MEDIA_PREFIX + path.relative_to(media_dir).as_posix(), path)
                count += 1
        return count

    def close(self, manifest: Manifest) -> None:
        manifest.files = self.files
        raw = manifest.to_json()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mode, info.mtime = len(raw), 0o600, int(time.time())
        self._tar.addfile(info, io.BytesIO(raw))
        self._tar.close()
        self._gzip.close()


def _safe_member_name(name: str) -> str:
    """A member's path under the staging folder, refusing anything that would leave it."""
    parts = Path(name).parts
    if not parts or Path(name).is_absolute() or any(p in ("..", "") for p in parts):
        raise ArchiveError(f"it holds a member with an unsafe name: {name!r}")
    return name


def read(source: BinaryIO, staging: Path) -> Manifest:
    """Unpack an archive into `staging`, checking every member against the manifest."""
    seen: dict[str, dict] = {}
    raw_manifest: bytes | None = None
    try:
        # gzip's own reader checks the CRC and length at the end, which tarfile's stream
        # mode skips; the padding after the last member is read too, so no byte goes unchecked.
        unzipped = gzip.GzipFile(fileobj=source, mode="rb")
        with tarfile.open(fileobj=unzipped, mode="r|") as tar:
            for member in tar:
                name = _safe_member_name(member.name)
                if not member.isfile():
                    raise ArchiveError(f"it holds {name!r}, which is not a plain file")
                extracted = tar.extractfile(member)
                if name == MANIFEST:
                    raw_manifest = extracted.read(MAX_MANIFEST_BYTES + 1)
                    if len(raw_manifest) > MAX_MANIFEST_BYTES:
                        raise ArchiveError("its manifest is too large")
                    continue
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                digest, size = hashlib.sha256(), 0
                with open(target, "xb") as out:
                    while chunk := extracted.read(CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                seen[name] = {"size": size, "sha256": digest.hexdigest()}
        while unzipped.read(CHUNK):
            pass
    except ArchiveError:
        raise
    except FileExistsError as exc:
        raise ArchiveError(f"it holds the member {exc.filename!r} twice") from None
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        # gzip.BadGzipFile is an OSError; a cut-off stream is EOFError or a ReadError.
        raise ArchiveError(f"it is not a complete gzip'd tar archive ({exc})") from None
    if raw_manifest is None:
        raise ArchiveError("it has no manifest.json (cut off before its end, or not a "
                           "minsheng backup)")
    manifest = Manifest.from_json(raw_manifest)
    missing = sorted(set(manifest.files) - set(seen))
    extra = sorted(set(seen) - set(manifest.files))
    changed = sorted(n for n in manifest.files if n in seen and seen[n] != manifest.files[n])
    if missing or extra or changed:
        problems = [f"{len(missing)} member(s) missing (e.g. {missing[0]})" if missing else "",
                    f"{len(extra)} member(s) not in the manifest (e.g. {extra[0]})" if extra else "",
                    f"{len(changed)} member(s) differ from their checksum (e.g. {changed[0]})"
                    if changed else ""]
        raise ArchiveError("it does not match its manifest: "
                           + "; ".join(p for p in problems if p))
    return manifest
