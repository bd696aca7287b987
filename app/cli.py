"""The `minsheng` command."""

from __future__ import annotations

import argparse
import asyncio
import sys


def get_settings():
    # Imported on use: `minsheng tally` must start fast and needs no settings.
    from app.config import get_settings as settings

    return settings()


async def _with_session(fn):
    from sqlalchemy.ext.asyncio import AsyncSession

    from app.db import make_engine

    settings = get_settings()
    engine = make_engine(settings)
    try:
        async with AsyncSession(engine.execution_options(sqlite_immediate=True),
                                expire_on_commit=False) as session:
            result = await fn(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


def cmd_db_upgrade(args) -> int:
    from app.migrate import upgrade

    upgrade(revision=args.revision)
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
        check_policy(password)
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

    result = asyncio.run(_with_session(demo.load))
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
    from app.audit import service as audit

    result = asyncio.run(_with_session(audit.verify))
    if result.ok:
        print(f"audit chain intact: {result.checked} entries")
        return 0
    print(f"audit chain BROKEN at entry {result.broken_seq}: {result.problem} "
          f"({result.checked} entries checked before it)")
    return 1


def cmd_tally(args) -> int:
    import json

    from app.ballots.bulletin import BulletinError, differences, recompute

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
    verify = audit_sub.add_parser("verify", help="check the hash chain; exit 1 at a broken entry")
    verify.set_defaults(func=cmd_audit_verify)
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
