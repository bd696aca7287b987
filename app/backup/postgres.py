"""PostgreSQL: pg_dump in the custom format from one exported snapshot, and back with psql.

The client programs come from /usr/lib/postgresql/<server major>/bin when that exists (Debian
and Ubuntu install each version there), else from PATH. The password goes to them in
PGPASSWORD, never on a command line (where `ps` shows it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from app.backup.archive import ArchiveError


class ClientMissing(Exception):
    """pg_dump, pg_restore or psql is missing or too old for the server."""


@dataclass
class Connection:
    """How to reach the configured database: libpq key=value parameters and the password."""

    conninfo: str
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> Connection:
        u = make_url(url)
        params = {"host": u.host, "port": u.port, "dbname": u.database, "user": u.username}
        for key, value in u.query.items():
            params[key] = value[-1] if isinstance(value, tuple) else value
        conninfo = psycopg.conninfo.make_conninfo(
            **{k: str(v) for k, v in params.items() if v is not None})
        return cls(conninfo, u.password)

    def connect(self, **kwargs) -> psycopg.Connection:
        return psycopg.connect(self.conninfo, password=self.password, connect_timeout=10,
                               **kwargs)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        return env


def server_major(conn: psycopg.Connection) -> int:
    return conn.info.server_version // 10000


def client(name: str, major: int) -> tuple[str, int]:
    """The path of client program `name` for a server of version `major`, and its version."""
    candidates = [f"/usr/lib/postgresql/{major}/bin/{name}", shutil.which(name)]
    path = next((c for c in candidates if c and os.access(c, os.X_OK)), None)
    if path is None:
        raise ClientMissing(f"{name} is not installed: install the PostgreSQL client programs "
                            f"of version {major} or newer (Debian/Ubuntu: apt-get install "
                            "postgresql-client)")
    out = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
    found = re.search(r"(\d+)(?:\.\d+)?", out)
    version = int(found.group(1)) if found else 0
    if version < major:
        raise ClientMissing(f"{path} is version {version}, older than the PostgreSQL {major} "
                            f"server: install postgresql-client-{major} (or newer)")
    return path, version


def _tables(conn: psycopg.Connection) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
        "AND table_type = 'BASE TABLE' ORDER BY table_name")]


def row_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Rows in every table of the public schema."""
    counts = {}
    for name in _tables(conn):
        ident = psycopg.sql.Identifier(name)
        counts[name] = conn.execute(
            psycopg.sql.SQL("SELECT count(*) FROM public.{}").format(ident)).fetchone()[0]
    return counts


def _revision(conn: psycopg.Connection) -> str | None:
    if "alembic_version" not in _tables(conn):
        return None
    row = conn.execute("SELECT version_num FROM public.alembic_version").fetchone()
    return row[0] if row else None


def snapshot(url: str, dest: Path) -> tuple[str | None, dict[str, int], dict]:
    """pg_dump into `dest`; the revision and row counts read in the very snapshot it dumps.

    A repeatable-read transaction exports its snapshot, counts the rows and hands the snapshot
    to pg_dump (--snapshot), staying open until pg_dump is done: the counts in the manifest are
    those of the copy, while the service goes on writing.
    """
    target = Connection.from_url(url)
    with target.connect() as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        snapshot_id = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        revision, counts = _revision(conn), row_counts(conn)
        major = server_major(conn)
        pg_dump, version = client("pg_dump", major)
        r = subprocess.run([pg_dump, "--format=custom", f"--snapshot={snapshot_id}",
                            f"--file={dest}", f"--dbname={target.conninfo}"],
                           env=target.env(), capture_output=True, text=True)
        conn.rollback()
    if r.returncode != 0:
        raise RuntimeError(f"pg_dump failed: {r.stderr.strip()}")
    return revision, counts, {"server_version": major, "pg_dump_version": version}


def check_copy(staged: Path) -> None:
    """pg_restore can read the staged dump (its table of contents)."""
    pg_restore = shutil.which("pg_restore") or "pg_restore"
    try:
        r = subprocess.run([pg_restore, "--list", str(staged)], capture_output=True, text=True)
    except FileNotFoundError:
        return  # found missing, with advice, when restoring
    if r.returncode != 0:
        raise ArchiveError(f"its database copy is not a readable pg_dump archive "
                           f"({r.stderr.strip()})")


def contents(url: str) -> tuple[dict[str, int], int]:
    """Row counts of the tables holding rows, and how many tables there are."""
    with Connection.from_url(url).connect(autocommit=True) as conn:
        counts = row_counts(conn)
    return {n: c for n, c in counts.items() if c}, len(counts)


def other_sessions(url: str) -> int:
    """How many other connections the configured database has (a running service has some)."""
    with Connection.from_url(url).connect(autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                            "current_database() AND pid <> pg_backend_pid()").fetchone()[0]


# Empties the public schema, keeping its owner, privileges and comment: run in the restore's
# own transaction, so a failed restore leaves the old contents in place.
EMPTY_PUBLIC_SCHEMA = """
DO $$
DECLARE
  owner text; acl aclitem[]; note text; g record;
BEGIN
  SELECT pg_get_userbyid(nspowner), nspacl, obj_description(oid, 'pg_namespace')
    INTO owner, acl, note FROM pg_namespace WHERE nspname = 'public';
  DROP SCHEMA public CASCADE;
  EXECUTE format('CREATE SCHEMA public AUTHORIZATION %I', owner);
  FOR g IN SELECT grantee, privilege_type FROM aclexplode(acl) LOOP
    EXECUTE format('GRANT %s ON SCHEMA public TO %s', g.privilege_type,
                   CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(g.grantee)) END);
  END LOOP;
  IF note IS NOT NULL THEN EXECUTE format('COMMENT ON SCHEMA public IS %L', note); END IF;
END $$;
"""


def for_server(script: Iterable[bytes], *, client: int, server: int) -> Iterator[bytes]:
    """pg_restore's script lines, without the settings of a newer client the server lacks.

    pg_restore 17 and newer write `SET transaction_timeout = 0;` in the script's header, which a
    server before 17 refuses (and ON_ERROR_STOP would stop the restore on).
    """
    drop = client >= 17 > server
    header = True
    for line in script:
        if header and line.startswith((b"CREATE ", b"COPY ", b"ALTER ")):
            header = False
        if header and drop and line.startswith(b"SET transaction_timeout"):
            continue
        yield line


def restore(staged: Path, url: str, *, replace: bool) -> dict[str, int]:
    """Load the dump into the configured database in one transaction; its row counts after.

    pg_restore writes the dump as SQL and psql runs it with --single-transaction, preceded
    (when `replace`) by emptying the public schema: all or nothing. Objects are owned by the
    configured user (--no-owner); grants to other roles are not restored (--no-privileges).
    """
    target = Connection.from_url(url)
    with target.connect(autocommit=True) as conn:
        major = server_major(conn)
    pg_restore, restore_version = client("pg_restore", major)
    psql, _ = client("psql", major)
    with tempfile.TemporaryFile() as errors:
        prelude = ["-c", EMPTY_PUBLIC_SCHEMA] if replace else []
        loader = subprocess.Popen(
            [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", *prelude,
             "-f", "-", f"--dbname={target.conninfo}"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors, env=target.env())
        writer = subprocess.Popen([pg_restore, "--no-owner", "--no-privileges", "--file=-",
                                   str(staged)], stdout=subprocess.PIPE, stderr=errors)
        try:
            for line in for_server(writer.stdout, client=restore_version, server=major):
                loader.stdin.write(line)
        except BrokenPipeError:
            pass  # psql stopped at an error: reported below
        finally:
            try:
                loader.stdin.close()
            except BrokenPipeError:
                pass
            writer.stdout.close()
            writer.wait()
            loader.wait()
        if writer.returncode != 0 or loader.returncode != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()
            raise RuntimeError(f"the database was not restored (nothing in it changed): "
                               f"{message[-2000:]}")
    with target.connect(autocommit=True) as conn:
        return row_counts(conn)
