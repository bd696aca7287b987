"""SQLite: copy a live database with the online backup API, and copy it back."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from app.backup.archive import ArchiveError


class NoDatabase(Exception):
    """The configured SQLite file does not exist."""


def _connect(path: Path, timeout_s: float) -> sqlite3.Connection:
    # mode=rw: never create a file where the operator expected a database.
    db = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=timeout_s,
                         isolation_level=None)
    db.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
    return db


def row_counts(db: sqlite3.Connection) -> dict[str, int]:
    """Rows in every table (SQLite's own sqlite_* tables left out)."""
    names = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name")]
    return {n: db.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def revision(db: sqlite3.Connection) -> str | None:
    try:
        row = db.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def snapshot(path: Path, dest: Path, timeout_s: float) -> tuple[str | None, dict[str, int]]:
    """Copy the database at `path` into the new file `dest`; its revision and row counts.

    The backup API in one step copies one read transaction's snapshot: with WAL, writers go on
    meanwhile and nothing they commit after it began is in the copy. (Step by step, each write
    by another connection would restart the copy, and under steady writing it might never end.)
    """
    if not path.is_file():
        raise NoDatabase(str(path))
    with closing(_connect(path, timeout_s)) as source, closing(sqlite3.connect(dest)) as copy:
        source.backup(copy)
    with closing(sqlite3.connect(dest)) as copy:
        check = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise RuntimeError(f"the copy fails SQLite's integrity check: {check}")
        return revision(copy), row_counts(copy)


def open_copy(staged: Path) -> tuple[str | None, dict[str, int]]:
    """The revision and row counts of a staged copy, after SQLite's integrity check."""
    try:
        with closing(sqlite3.connect(f"file:{staged}?mode=ro", uri=True)) as copy:
            check = copy.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise ArchiveError(f"its database copy fails SQLite's integrity check: {check}")
            return revision(copy), row_counts(copy)
    except sqlite3.DatabaseError as exc:
        raise ArchiveError(f"its database copy is not a readable SQLite file ({exc})") from None


def contents(path: Path, timeout_s: float) -> dict[str, int]:
    """Row counts of the tables holding rows in the database at `path` ({} if none or no file)."""
    if not path.exists() or path.stat().st_size == 0:
        return {}
    with closing(_connect(path, timeout_s)) as db:
        return {n: c for n, c in row_counts(db).items() if c}


def restore(staged: Path, path: Path, timeout_s: float) -> dict[str, int]:
    """Replace the database at `path` (created if missing) by the copy; its row counts.

    The backup API writes every page in one write transaction on the target, so a connection
    still open elsewhere sees the old database or the new one, and the WAL and shared-memory
    files stay consistent (replacing the file would leave a stale WAL beside it).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(f"file:{staged}?mode=ro", uri=True)) as source, \
            closing(sqlite3.connect(path, timeout=timeout_s, isolation_level=None)) as target:
        target.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
        source.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
        check = target.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise RuntimeError(f"the restored database fails SQLite's integrity check: {check}")
        return row_counts(target)
