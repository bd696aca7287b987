"""The `minsheng` command."""

from __future__ import annotations

import argparse
import asyncio
import sys


def get_settings():
    # Imported on use: `minsheng tally` must start fast and needs no settings.
    from app.config import get_settings as settings

    return settings()


async def _with_session(fn, write: bool = True):
    from sqlalchemy.ext.asyncio import AsyncSession

    from app.db import make_engine, run_after_commit

    settings = get_settings()
    engine = make_engine(settings)
    try:
        # write=False: a reading session, which on SQLite does not take the write lock at BEGIN.
        async with AsyncSession(engine.execution_options(sqlite_immediate=write),
                                expire_on_commit=False) as session:
            session.info["settings"] = settings
            result = await fn(session)
            await session.commit()
            await run_after_commit(session)
    finally:
        await engine.dispose()
    if write:  # the workers' kept pages may show what this changed (app/dataversion.py)
        from app.dataversion import bump_for_command

        bump_for_command(settings)
    return result


def cmd_db_upgrade(args) -> int:
    from app.migrate import upgrade

    upgrade(revision=args.revision)
    from app.dataversion import bump_for_command

    bump_for_command(get_settings())
    print(f"database at revision {args.revision}: {get_settings().database_url.split('@')[-1]}")
    return 0


def cmd_create_admin(args) -> int:
    from app.auth.passwords import check_policy
    from app.errors import DomainError
    from app.users import service as users

    if not args.password_stdin:
        print("give --password-stdin and write the password on standard input", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        check_policy(password, username=args.username)
    except DomainError as exc:
        print(exc.message, file=sys.stderr)
        return 2

    async def create(session):
        await users.create_admin(session, username=args.username, password=password,
                                 display_name=args.display_name)

    try:
        asyncio.run(_with_session(create))
    except DomainError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(f"admin '{args.username}' created; log in and add the jurisdictions "
          "(/admin/jurisdictions, or `minsheng jurisdictions import FILE`)")
    return 0


def cmd_jurisdictions_import(args) -> int:
    from app.errors import DomainError
    from app.jurisdictions import imports

    try:
        if args.file == "-":
            data = sys.stdin.buffer.read(imports.MAX_IMPORT_BYTES + 1)
        else:
            with open(args.file, "rb") as f:
                data = f.read(imports.MAX_IMPORT_BYTES + 1)
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2

    async def run(session):
        return await imports.import_file(session, actor="cli", data=data)

    try:
        result = asyncio.run(_with_session(run))
    except imports.JurisdictionFileInvalid as exc:
        bad = exc.check.bad
        print(f"nothing was imported: {len(bad)} line(s) to fix", file=sys.stderr)
        for row in bad:
            for problem in row.problems:
                print(f"  line {row.line}: {problem.message}", file=sys.stderr)
        return 1
    except DomainError as exc:
        print(f"nothing was imported: {exc.message}", file=sys.stderr)
        return 2 if exc.code in imports.UNREADABLE_CODES else 1
    print(f"created {len(result.new)}, unchanged {len(result.unchanged)} "
          f"({result.encoding} file, {len(result.rows)} rows)")
    return 0


def cmd_demo(args) -> int:
    from app import demo
    from app.errors import DomainError

    try:
        result = asyncio.run(_with_session(demo.load))
    except DomainError as exc:
        print(f"the demo was not loaded: {exc.message}", file=sys.stderr)
        return 1
    print("demo data loaded" if result.loaded else "demo data already present; nothing changed")
    print(demo.logins_text())
    print()
    print(demo.guide_text(result, args.url.rstrip("/")))
    return 0


def cmd_serve(args) -> int:
    import uvicorn

    from app.resources import MissingAssets, check_vendor_files, vendor_files

    settings = get_settings()  # refuse to start on a bad configuration before forking workers
    try:
        check_vendor_files(vendor_files(settings.assets_dir))
    except MissingAssets as exc:
        print(f"minsheng: {exc}", file=sys.stderr)
        return 2
    from app.monitoring.logs import logging_config

    multiproc_dir = _metrics_multiproc_dir(args.workers, settings)
    try:
        # Our access log (app/monitoring/requests.py) replaces uvicorn's: it has the route, the
        # duration and the request id, and never a query string.
        uvicorn.run("app.main:create_app", factory=True, host=args.host, port=args.port,
                    workers=args.workers, proxy_headers=True,
                    forwarded_allow_ips=args.forwarded_allow_ips, log_level=args.log_level,
                    access_log=False,
                    log_config=logging_config(settings.effective_log_format, args.log_level,
                                              access_log=not args.no_access_log))
    finally:
        if multiproc_dir is not None:
            multiproc_dir.cleanup()
    return 0


def _metrics_multiproc_dir(workers: int, settings):
    """Prepare Prometheus' multiprocess mode: the folder in PROMETHEUS_MULTIPROC_DIR emptied of
    the last run's figures, or with several workers and metrics on, a temporary one made (and
    returned, to be removed at exit). The workers inherit the variable."""
    import os
    import tempfile
    from pathlib import Path

    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
        return None
    if workers > 1 and settings.metrics_token:
        made = tempfile.TemporaryDirectory(prefix="minsheng-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = made.name
        return made
    return None


def cmd_audit_verify(args) -> int:
    from pathlib import Path

    from app.audit import anchors as anchoring
    from app.audit import service as audit

    settings = get_settings()
    keys, sources, anchor_file = {}, {}, None
    try:
        if args.public_key:
            given = [anchoring.load_public_key(value) for value in args.public_key]
        else:
            given = [k for k in [anchoring.configured_public_key(settings)] if k is not None]
        keys = {anchoring.key_id(k): k for k in given}
        for path in args.anchors or []:
            sources[path] = anchoring.read_anchor_file(Path(path))
        if settings.audit_anchor_file.is_file():
            anchor_file = f"the anchor file {settings.audit_anchor_file}"
            sources[anchor_file] = anchoring.read_anchor_file(settings.audit_anchor_file)
    except anchoring.AnchorInputError as exc:
        print(exc, file=sys.stderr)
        return 2

    async def check(session):
        chain = await audit.verify(session)
        sources["the database"] = await anchoring.database_anchors(session)
        if not keys or not any(sources.values()):
            return chain, None
        return chain, await anchoring.check(session, sources, keys, anchor_file=anchor_file)

    chain, report = asyncio.run(_with_session(check, write=False))  # no write lock while reading
    if chain.ok:
        print(f"audit chain intact: {chain.checked} entries")
    else:
        print(f"audit chain BROKEN at entry {chain.broken_seq}: {chain.problem} "
              f"({chain.checked} entries checked before it)")
    found = sum(len(a) for a in sources.values())
    if report is None and found:
        print(f"{found} anchor(s) found but no public key to check their signatures: give "
              "--public-key or set MINSHENG_AUDIT_KEY_FILE", file=sys.stderr)
        return 2
    if report is None:
        print("warning: nothing anchors the chain, so deleting its newest entries or re-hashing "
              "it would not show: set MINSHENG_AUDIT_KEY_FILE and run `minsheng audit anchor` "
              "from cron (docs/audit.md)", file=sys.stderr)
        return 0 if chain.ok else 1
    names = ", ".join(name for name, anchors in sources.items() if anchors)
    if report.problems:
        print(f"audit anchors: {len(report.problems)} problem(s), the first at entry "
              f"#{report.first_seq}:")
        for problem in report.problems:
            print(f"  {problem}")
    else:
        latest = report.latest
        print(f"anchored: {report.checked} anchor(s) checked ({names}); the newest, signed at "
              f"{latest.signed_at}, names entry #{latest.seq}")
    if anchor_file is None and not args.anchors:
        report.warnings.append(
            f"the anchor file {settings.audit_anchor_file} does not exist: only the database's "
            "anchors were checked, and whoever can change the database can delete them")
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0 if chain.ok and not report.problems else 1


def cmd_audit_anchor(args) -> int:
    from app.audit import anchors as anchoring

    settings = get_settings()
    if not settings.audit_key_file:
        print("no signing key: set MINSHENG_AUDIT_KEY_FILE to the private key's file (create one "
              "with `minsheng audit keygen FILE`)", file=sys.stderr)
        return 2
    try:
        key = anchoring.load_private_key(settings.audit_key_file)
        if settings.audit_key_file.stat().st_mode & 0o077:
            print(f"warning: {settings.audit_key_file} is readable by others than its owner "
                  "(chmod 600)", file=sys.stderr)
        with anchoring.AnchorLog(settings.audit_anchor_file) as anchor_log:
            # The chain is read without the write lock (on SQLite it would stop every writer
            # while a long chain is walked); then, under it, only what was added meanwhile.
            refused, checked = asyncio.run(_with_session(
                lambda session: anchoring.check_extension(session, key, anchor_log),
                write=False))
            outcome = (anchoring.AnchorOutcome(refused=refused) if refused else asyncio.run(
                _with_session(lambda session: anchoring.anchor_head(session, key, anchor_log,
                                                                    checked))))
    except anchoring.AnchorInputError as exc:
        print(exc, file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"cannot write the anchor file {settings.audit_anchor_file}: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return 2
    for note in outcome.notes:
        print(note, file=sys.stderr)
    if outcome.refused:
        print(f"nothing signed: the chain no longer extends its last anchor: {outcome.refused}. "
              "Run `minsheng audit verify`.", file=sys.stderr)
        return 1
    anchor = outcome.anchor
    if anchor is None:
        print("the audit log is empty: nothing to anchor")
    elif outcome.created:
        print(f"anchored entry #{anchor.seq} (hash {anchor.hash}, {anchor.count} entries), "
              f"signed at {anchor.signed_at}; appended to {settings.audit_anchor_file}")
    else:
        print(f"already anchored: entry #{anchor.seq}, signed at {anchor.signed_at}")
    return 0


def cmd_audit_keygen(args) -> int:
    from pathlib import Path

    from app.audit import anchors as anchoring

    path = Path(args.file)
    try:
        key = anchoring.generate_key_file(path)
    except FileExistsError:
        print(f"{path} exists; a key is never replaced (anchors signed with it are checked with "
              "its public key)", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    public = key.public_key()
    print(f"private key written to {path} (mode 0600); set "
          f"MINSHENG_AUDIT_KEY_FILE={path.resolve()}")
    print(f"key id: {anchoring.key_id(public)}")
    print(f"public key: {anchoring.public_key_text(public)}")
    return 0


def cmd_backup(args) -> int:
    from app.backup import service as backups

    settings = get_settings()
    try:
        manifest, size = backups.backup(settings, args.file)
    except backups.Failed as exc:
        print(f"minsheng backup: {exc.message}", file=sys.stderr)
        return exc.status
    where = "standard output" if args.file == "-" else f"{args.file} ({size / 1e6:.1f} MB)"
    print(f"backup written to {where}: {manifest.database} database at revision "
          f"{manifest.alembic_revision}, {sum(manifest.tables.values())} rows in "
          f"{len(manifest.tables)} tables, {len(manifest.media_files)} media files",
          file=sys.stderr if args.file == "-" else sys.stdout)
    return 0


def cmd_restore(args) -> int:
    from app.audit import service as audit
    from app.backup import service as backups

    settings = get_settings()
    try:
        done = backups.restore(settings, args.file, force=args.force)
    except backups.Failed as exc:
        print(f"minsheng restore: {exc.message}", file=sys.stderr)
        return exc.status
    for warning in done.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    m = done.manifest
    print(f"restored the {m.database} backup of {m.created_at} (minsheng {m.app_version}, "
          f"revision {m.alembic_revision}): {sum(done.counts.values())} rows in "
          f"{len(done.counts)} tables, {done.media_files} media files")
    for table, rows in sorted(done.counts.items()):
        print(f"  {table}: {rows}")
    if done.upgraded_from:
        print(f"migrated from revision {done.upgraded_from} to this version's schema (head)")
    result = asyncio.run(_with_session(audit.verify))
    if not result.ok:
        print(f"audit chain BROKEN at entry {result.broken_seq}: {result.problem}: the backup's "
              "audit log was changed; keep this copy for inquiry and restore another one")
        return 1
    print(f"audit chain intact: {result.checked} entries")
    _warn_of_newer_anchors(settings, result.checked)
    return 0


def _warn_of_newer_anchors(settings, restored_entries: int) -> None:
    """After a restore: the anchor file may name entries the restored chain no longer has."""
    from app.audit import anchors as anchoring

    path = settings.audit_anchor_file
    try:
        newest = max((a.count for a in anchoring.read_anchor_file(path)), default=0)
    except Exception:  # noqa: BLE001 - a hint only; `minsheng audit verify` reports the file
        return
    if newest > restored_entries:
        print(f"warning: the anchor file {path} names entry #{newest}, but the restored chain "
              f"ends at #{restored_entries}: the entries after the backup were lost with the "
              "restore, and `minsheng audit verify` will say `truncated` until that file is "
              "moved aside (docs/audit.md, 'After restoring a backup')", file=sys.stderr)


def cmd_tally(args) -> int:
    import json

    from app.ballotbox.bulletin import BulletinError, differences
    from app.ballots.bulletin import recompute

    try:
        if args.file == "-":
            data = json.load(sys.stdin)
        else:
            with open(args.file, encoding="utf-8") as f:
                data = json.load(f)
        results, published = recompute(data)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, BulletinError) as exc:
        print(f"cannot read the bulletin: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(results, ensure_ascii=False, indent=2))
    if published is None:
        return 0
    diffs = differences(published, results)
    if diffs:
        print(f"the bulletin's results differ from the recount in {len(diffs)} place(s):",
              file=sys.stderr)
        for line in diffs[:50]:
            print(f"  {line}", file=sys.stderr)
        return 1
    print("the bulletin's results match the recount", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="minsheng",
        description="民生实事项目人大代表票决制 — the minsheng platform. Configured by MINSHENG_* "
                    "environment variables (see docs/operations.md).")
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="apply the migrations to MINSHENG_DATABASE_URL")
    up.add_argument("--revision", default="head", help="target revision (default: head)")
    up.set_defaults(func=cmd_db_upgrade)

    admin = sub.add_parser(
        "create-admin", help="create an administrator account (works on an empty database)",
        description="Creates an administrator. An administrator belongs to no jurisdiction and "
                    "acts in all of them, so this works on a freshly migrated, empty database; "
                    "the administrator then adds the jurisdictions and the staff accounts.")
    admin.add_argument("--username", required=True,
                       help="the login name: 3–64 letters, digits or . _ @ -")
    admin.add_argument("--password-stdin", action="store_true",
                       help="read the password from the first line of standard input")
    admin.add_argument("--display-name", default="系统管理员",
                       help="the name shown on pages (default: 系统管理员)")
    admin.set_defaults(func=cmd_create_admin)

    juris = sub.add_parser("jurisdictions", help="jurisdictions (行政区域)")
    juris_sub = juris.add_subparsers(dest="jurisdictions_command", required=True)
    imp = juris_sub.add_parser(
        "import", help="add jurisdictions from a CSV file; running it again duplicates nothing",
        description="Reads a CSV file with the header code,name,level,parent_code[,division_code] "
                    "(UTF-8 or GBK/GB18030; levels province, city, county, township, street) and "
                    "adds the jurisdictions it names, parents first. The whole file is checked "
                    "before anything is stored. Prints how many were created and how many were "
                    "there already unchanged. Exit 0 on success; 1 if lines break the rules "
                    "(each printed, nothing stored); 2 if the file cannot be read as CSV text. "
                    "See docs/install.md.")
    imp.add_argument("file", help="the CSV file, or - for standard input")
    imp.set_defaults(func=cmd_jurisdictions_import)

    demo = sub.add_parser("demo", help="load the demo county, townships, people, a finished year "
                                       "and a year in 征集 (once)")
    demo.add_argument("--url", default="http://127.0.0.1:8000",
                      help="where the service will be reached, for the printed guide's addresses "
                           "(default: http://127.0.0.1:8000)")
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="run the web service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--forwarded-allow-ips", default="127.0.0.1",
                       help="proxies trusted for X-Forwarded-For and X-Forwarded-Proto "
                            "(default: 127.0.0.1)")
    serve.add_argument("--log-level", default="info",
                       help="the server's messages and the access log: info (default); "
                            "warning and above drop the access log. Lines are JSON or text as "
                            "MINSHENG_LOG_FORMAT says (JSON in production)")
    serve.add_argument("--no-access-log", action="store_true",
                       help="write no line per request")
    serve.set_defaults(func=cmd_serve)

    backup = sub.add_parser(
        "backup", help="write a consistent copy of the database and the media folder, while "
                       "the service runs",
        description="Writes one archive (a gzip'd tar) holding a copy of the whole database "
                    "(SQLite: its online backup API; PostgreSQL: pg_dump's custom format, which "
                    "needs the PostgreSQL client programs of the server's version or newer), "
                    "every file of the media folder (MINSHENG_MEDIA_DIR) and a manifest with "
                    "the schema revision, the rows per table and a SHA-256 for each file. The "
                    "copy is consistent while the service goes on writing. The file is written "
                    "beside FILE and renamed over it when complete, readable by its owner only "
                    "(mode 0600): it holds password hashes, phone numbers and the secret "
                    "ballots. Exit 0 when written; 2 if the database cannot be read or the "
                    "file not written. See docs/operations.md#backups.")
    backup.add_argument("file", help="the archive to write (e.g. minsheng-2025-03-01.tar.gz), "
                                     "or - for standard output")
    backup.set_defaults(func=cmd_backup)

    restore = sub.add_parser(
        "restore", help="put a backup back into the configured database and media folder",
        description="Restores an archive written by `minsheng backup` into MINSHENG_DATABASE_URL "
                    "and MINSHENG_MEDIA_DIR; stop the service first. The archive is checked "
                    "whole (every file against the manifest's checksum) before anything "
                    "changes. A SQLite backup restores into SQLite and a PostgreSQL one into "
                    "PostgreSQL (not across). It refuses a database that holds any rows (a "
                    "migrated one included) or a media folder that holds files, unless --force. "
                    "A backup of an older schema is migrated to this version's afterwards; one "
                    "from a newer minsheng is refused. Then the row counts are compared with the "
                    "backup's and the audit chain is verified. Exit 0 when restored and "
                    "verified; 1 when refused or not matching (nothing changed, except after a "
                    "failed count or audit check); 2 when the archive is unreadable, truncated "
                    "or altered, or the database cannot be reached (nothing changed).")
    restore.add_argument("file", help="the archive, or - for standard input")
    restore.add_argument("--force", action="store_true",
                         help="replace everything in a non-empty database and media folder by "
                              "the backup (what is there now is lost)")
    restore.set_defaults(func=cmd_restore)

    tally = sub.add_parser(
        "tally", help="recompute a ballot round's results from its published bulletin",
        description="Reads a bulletin (GET /api/v1/ballots/{id}/bulletin), recomputes the "
                    "results and prints them as JSON. Exit 0 if they equal the bulletin's own "
                    "results (or it has none), 1 if not (naming where), 2 if the file is "
                    "unreadable or malformed.")
    tally.add_argument("file", help="the bulletin JSON file, or - for standard input")
    tally.set_defaults(func=cmd_tally)

    audit = sub.add_parser("audit", help="the audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser(
        "verify", help="check the hash chain and its signed anchors; exit 1 at the first problem",
        description="Recomputes the audit log's hash chain, then checks every anchor it finds "
                    "(the database's, the anchor file MINSHENG_AUDIT_ANCHOR_FILE, and each "
                    "--anchors FILE): its signature, and that the chain still holds the entry it "
                    "names with the hash it names. Says 'truncated' when the chain ends before an "
                    "anchored entry, 'rewritten' when an anchored entry's hash differs. Exit 0 if "
                    "all is well, 1 naming the first problem, 2 if a key or an anchor file cannot "
                    "be read or anchors exist but no public key was given. See docs/audit.md.")
    verify.add_argument("--anchors", action="append", metavar="FILE",
                        help="anchors to check besides the database's and the anchor file: an "
                             "anchor file (JSON lines) or a download of GET "
                             "/api/v1/audit/anchors (repeatable)")
    verify.add_argument("--public-key", action="append", metavar="KEY",
                        help="the public key that signed the anchors: its base64 text (GET "
                             "/api/v1/audit/public-key) or a PEM file (repeatable; default: the "
                             "public half of MINSHENG_AUDIT_KEY_FILE, or "
                             "MINSHENG_AUDIT_PUBLIC_KEY)")
    verify.set_defaults(func=cmd_audit_verify)
    anchor = audit_sub.add_parser(
        "anchor", help="sign the chain's head and publish it (from cron every few minutes)",
        description="Signs the audit chain's newest entry with MINSHENG_AUDIT_KEY_FILE, appends "
                    "the anchor to MINSHENG_AUDIT_ANCHOR_FILE and stores it in the database, "
                    "where GET /api/v1/audit/anchors publishes it. Nothing new when the head has "
                    "not moved. Refuses (exit 1) when the chain no longer extends the last "
                    "anchor; exit 2 without a readable key.")
    anchor.set_defaults(func=cmd_audit_anchor)
    keygen = audit_sub.add_parser(
        "keygen", help="create the Ed25519 key that signs the anchors",
        description="Writes a new Ed25519 private key (PEM, mode 0600) to FILE, which must not "
                    "exist, and prints its key id and public key (base64) to publish.")
    keygen.add_argument("file", help="where to write the private key")
    keygen.set_defaults(func=cmd_audit_keygen)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `minsheng` console script."""
    args = build_parser().parse_args(argv)
    if args.func is cmd_tally:  # no database, no settings: start fast
        return cmd_tally(args)
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        return args.func(args)
    except (OperationalError, ProgrammingError) as exc:
        print(f"database error: {exc.orig or exc}\n(is MINSHENG_DATABASE_URL right, and has "
              "`minsheng db upgrade` been run?)", file=sys.stderr)
        return 2
    except ValueError as exc:  # pydantic's settings validation (e.g. no secret in production)
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
