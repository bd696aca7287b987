"""`minsheng backup` and `minsheng restore`: the steps, and what each failure tells the operator.

Exit statuses (Failed.status): 1 refused or not matching (a non-empty target without --force, a
backup of the other database kind or of a newer minsheng, counts that differ after restoring),
2 unreadable (the archive is not a complete minsheng backup, the database cannot be reached or
copied, a client program is missing).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from app.backup import postgres, sqlite
from app.backup.archive import DATABASE_MEMBERS, MEDIA_PREFIX, ArchiveError, Manifest, Writer
from app.backup.archive import read as read_archive
from app.config import Settings

REFUSED, UNREADABLE = 1, 2


class Failed(Exception):
    """The command stops with `status` (1 refused or mismatch, 2 unreadable) and `message`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def kind_of(settings: Settings) -> str:
    return "sqlite" if settings.is_sqlite else "postgresql"


def _sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.async_url).database
    if not database or database == ":memory:":
        raise Failed(UNREADABLE, "MINSHENG_DATABASE_URL names an in-memory SQLite database, "
                                 "which no other process can read")
    return Path(database)


def _timeout(settings: Settings) -> float:
    return settings.sqlite_busy_timeout_ms / 1000


def _app_version() -> str:
    try:
        return metadata.version("minsheng")
    except metadata.PackageNotFoundError:  # pragma: no cover - a checkout without install
        return "unknown"


def _copy_database(settings: Settings, dest: Path) -> tuple[str | None, dict[str, int], dict]:
    try:
        if settings.is_sqlite:
            revision, counts = sqlite.snapshot(_sqlite_path(settings), dest, _timeout(settings))
            return revision, counts, {}
        return postgres.snapshot(settings.database_url, dest)
    except sqlite.NoDatabase as exc:
        raise Failed(UNREADABLE, f"there is no SQLite database at {exc}: is "
                                 "MINSHENG_DATABASE_URL right?") from None
    except postgres.ClientMissing as exc:
        raise Failed(UNREADABLE, str(exc)) from None
    except (OSError, RuntimeError) as exc:
        raise Failed(UNREADABLE, f"the database could not be copied: {exc}") from None
    except (psycopg.Error, sqlite3.Error) as exc:
        raise Failed(UNREADABLE, f"the database could not be read: {str(exc).strip()} (is "
                                 "MINSHENG_DATABASE_URL right?)") from None


def backup(settings: Settings, target: str) -> tuple[Manifest, int]:
    """Write the archive to `target` (`-`: standard output); its manifest and its size."""
    kind = kind_of(settings)
    out_dir = None if target == "-" else Path(target).absolute().parent
    if out_dir is not None and not out_dir.is_dir():
        raise Failed(UNREADABLE, f"cannot write {target}: there is no folder {out_dir}")
    try:
        staging = Path(tempfile.mkdtemp(prefix=".minsheng-backup-", dir=out_dir))
    except OSError as exc:
        raise Failed(UNREADABLE, f"cannot write in {out_dir or tempfile.gettempdir()}: "
                                 f"{exc.strerror or exc}") from None
    part: str | None = None
    try:
        copy = staging / DATABASE_MEMBERS[kind]
        revision, counts, extra = _copy_database(settings, copy)
        if revision is None:
            raise Failed(UNREADABLE, "the database has no schema version (alembic_version): is "
                                     "MINSHENG_DATABASE_URL right, and has `minsheng db upgrade` "
                                     "been run?")
        manifest = Manifest(database=kind, alembic_revision=revision,
                            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                            app_version=_app_version(), tables=counts, extra=extra)
        if target == "-":
            _write(sys.stdout.buffer, copy, settings.media_dir, manifest)
            return manifest, 0
        # Written beside the target, then renamed over it: a reader never sees half a backup.
        fd, part = tempfile.mkstemp(prefix=f".{Path(target).name}.", suffix=".part", dir=out_dir)
        with os.fdopen(fd, "wb") as out:  # mkstemp: mode 0600, the archive holds secrets
            _write(out, copy, settings.media_dir, manifest)
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, target)
        part = None
        _fsync_dir(out_dir)
        return manifest, Path(target).stat().st_size
    except OSError as exc:
        raise Failed(UNREADABLE, f"cannot write the backup: {exc}") from None
    finally:
        if part is not None:
            Path(part).unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)


def _write(out, database_copy: Path, media_dir: Path, manifest: Manifest) -> None:
    # The database first, then the media: a photo's file is written before its row commits, so
    # the folder copied after the snapshot holds every photo the copy names.
    writer = Writer(out)
    writer.add_file(database_copy.name, database_copy)
    writer.add_media(media_dir)
    writer.close(manifest)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class Restored:
    """What `restore` did."""

    manifest: Manifest
    counts: dict[str, int]
    media_files: int
    upgraded_from: str | None  # the backup's revision, if migrations ran after restoring
    warnings: list[str]


def _known_revision(revision: str) -> tuple[bool, bool]:
    """(this code knows the revision, it is the newest)."""
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    from app.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    try:
        script.get_revision(revision)
    except CommandError:
        return False, False
    return True, revision in script.get_heads()


def _media_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return [p for p in folder.rglob("*") if p.is_file() or p.is_symlink()]


def _describe(rows: dict[str, int]) -> str:
    biggest = sorted(rows.items(), key=lambda item: -item[1])[:4]
    more = ", …" if len(rows) > 4 else ""
    return ", ".join(f"{name}: {n}" for name, n in biggest) + more


def restore(settings: Settings, source: str, *, force: bool) -> Restored:
    """Restore the archive at `source` (`-`: standard input) into the configured database."""
    kind = kind_of(settings)
    media_dir = settings.media_dir.absolute()
    try:
        media_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".minsheng-restore-", dir=media_dir.parent))
    except OSError as exc:
        raise Failed(UNREADABLE, f"cannot unpack beside the media folder {media_dir}: "
                                 f"{exc.strerror or exc}") from None
    try:
        manifest = _unpack(source, staging)
        copy = staging / manifest.database_member
        if manifest.database != kind:
            raise Failed(REFUSED, f"{source} holds a {manifest.database} database and "
                                  f"MINSHENG_DATABASE_URL names a {kind} one: restore it into "
                                  f"{manifest.database} (restoring across the two kinds is not "
                                  "supported)")
        known, newest = _known_revision(manifest.alembic_revision)
        if not known:
            raise Failed(REFUSED, f"{source} was written by a newer minsheng "
                                  f"({manifest.app_version}, schema revision "
                                  f"{manifest.alembic_revision}, unknown to this one): install "
                                  "that version or a later one, then restore")
        _check_copy(source, manifest, copy)
        warnings = _check_target(settings, force=force)
        # Photos first, adding only: a failed database restore leaves the old rows with
        # their photos; files the backup lacks go once the database is replaced.
        incoming = _add_media(staging / MEDIA_PREFIX.rstrip("/"), media_dir)
        counts = _restore_database(settings, copy)
        if force:
            _remove_media_except(media_dir, incoming)
        if counts != manifest.tables:
            differ = sorted(n for n in set(counts) | set(manifest.tables)
                            if counts.get(n) != manifest.tables.get(n))
            raise Failed(REFUSED, "the restored database does not hold what the backup counted: "
                                  + ", ".join(f"{n} {counts.get(n)} (backup: "
                                              f"{manifest.tables.get(n)})" for n in differ[:10]))
        upgraded_from = None
        if not newest:
            from app.migrate import upgrade

            upgrade(settings.database_url)
            upgraded_from = manifest.alembic_revision
        return Restored(manifest, counts, len(incoming), upgraded_from, warnings)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _unpack(source: str, staging: Path) -> Manifest:
    try:
        if source == "-":
            return read_archive(sys.stdin.buffer, staging)
        with open(source, "rb") as f:
            return read_archive(f, staging)
    except ArchiveError as exc:
        raise Failed(UNREADABLE, f"{source} cannot be restored: {exc}. Nothing was changed; "
                                 "use another copy of the backup") from None
    except OSError as exc:  # opening it
        raise Failed(UNREADABLE, f"cannot read {source}: {exc.strerror or exc}") from None


def _check_copy(source: str, manifest: Manifest, copy: Path) -> None:
    try:
        if manifest.database == "sqlite":
            revision, counts = sqlite.open_copy(copy)
            if (revision, counts) != (manifest.alembic_revision, manifest.tables):
                raise ArchiveError("its database copy does not hold what its manifest counts")
        else:
            postgres.check_copy(copy)
    except ArchiveError as exc:
        raise Failed(UNREADABLE, f"{source} cannot be restored: {exc}. Nothing was "
                                 "changed; use another copy of the backup") from None


def _check_target(settings: Settings, *, force: bool) -> list[str]:
    """Refuse a database holding rows, or a media folder holding files, unless `force`."""
    warnings: list[str] = []
    try:
        if settings.is_sqlite:
            rows = sqlite.contents(_sqlite_path(settings), _timeout(settings))
        else:
            rows, _ = postgres.contents(settings.database_url)
            others = postgres.other_sessions(settings.database_url)
            if others:
                warnings.append(f"{others} other connection(s) to the database: stop the "
                                "service before restoring")
    except (psycopg.Error, sqlite3.Error) as exc:
        hint = ("is MINSHENG_DATABASE_URL right? A new database is made with "
                "`createdb --owner USER NAME`" if not settings.is_sqlite
                else "is MINSHENG_DATABASE_URL right?")
        raise Failed(UNREADABLE, f"cannot open the database to restore into: "
                                 f"{str(exc).strip()} ({hint})") from None
    media = _media_files(settings.media_dir)
    problems = []
    if rows:
        revision = "" if "alembic_version" not in rows else " and is migrated"
        problems.append(f"the database holds rows in {len(rows)} table(s){revision} "
                        f"({_describe(rows)})")
    if media:
        problems.append(f"the media folder {settings.media_dir} holds {len(media)} file(s)")
    if problems and not force:
        raise Failed(REFUSED, "nothing was restored: " + "; ".join(problems) + ". Restore into "
                              "an empty database and media folder, or give --force to replace "
                              "everything in them by the backup")
    return warnings


def _add_media(staged: Path, media_dir: Path) -> set[Path]:
    """Move the backup's files into the media folder; their paths relative to it."""
    incoming = {p.relative_to(staged) for p in _media_files(staged)}
    media_dir.mkdir(parents=True, exist_ok=True)
    for rel in sorted(incoming):
        dest = media_dir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(staged / rel, dest)
    return incoming


def _remove_media_except(media_dir: Path, keep: set[Path]) -> None:
    for path in _media_files(media_dir):
        if path.relative_to(media_dir) not in keep:
            path.unlink()


def _restore_database(settings: Settings, copy: Path) -> dict[str, int]:
    try:
        if settings.is_sqlite:
            return sqlite.restore(copy, _sqlite_path(settings), _timeout(settings))
        _, tables = postgres.contents(settings.database_url)
        return postgres.restore(copy, settings.database_url, replace=tables > 0)
    except postgres.ClientMissing as exc:
        raise Failed(UNREADABLE, str(exc)) from None
    except (OSError, RuntimeError, psycopg.Error, sqlite3.Error) as exc:
        raise Failed(UNREADABLE, f"the database was not restored: {exc}") from None
