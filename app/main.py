"""create_app(): routers, static files, error handlers, middleware."""

from __future__ import annotations

import asyncio
import base64
import gc
import hashlib
import logging
import os
import re
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from app import __version__
from app.admin.views import router as admin_pages
from app.audit.anchors import startup_warning as audit_startup_warning
from app.audit.api import router as audit_api
from app.auth.api import router as auth_api
from app.auth.page_identity import identify
from app.auth.session_views import router as session_pages
from app.auth.sms_api import router as sms_auth_api
from app.auth.sms_views import router as sms_auth_pages
from app.auth.throttle import LoginThrottle, make_storage
from app.auth.views import router as auth_pages
from app.ballots.api import router as ballots_api
from app.ballots.deputy_views import router as ballot_deputy_pages
from app.ballots.fastpath import CastFastPath
from app.ballots.paper_api import router as paper_ballots_api
from app.ballots.paper_views import router as ballot_paper_pages
from app.ballots.public_views import router as ballot_public_pages
from app.ballots.staff_views import router as ballot_staff_pages
from app.caching import HttpCaching
from app.candidates.api import router as candidates_api
from app.candidates.staff_views import router as candidate_staff_pages
from app.candidates.views import router as candidate_pages
from app.comments.api import router as comments_api
from app.compression import Compression
from app.config import Settings, get_settings, retired_variables
from app.cycles.api import router as cycles_api
from app.cycles.views import router as cycle_pages
from app.dataversion import open_version
from app.db import SqliteReaders, SqliteWriter, make_engine, make_hot_pool
from app.errors import ERROR_RESPONSES, NotFound
from app.govlist.api import router as govlist_api
from app.govlist.views import router as govlist_pages
from app.jurisdictions.api import router as jurisdictions_api
from app.jurisdictions.settings_api import router as settings_api
from app.jurisdictions.settings_views import router as settings_pages
from app.middleware import BodyLimitMiddleware, CSRFMiddleware, SecurityHeadersMiddleware
from app.monitoring.health import router as health_routes
from app.monitoring.metrics import router as metrics_routes
from app.monitoring.requests import RequestObserver, RouteProbe
from app.notifications.api import router as notifications_api
from app.notifications.views import router as notification_pages
from app.opendata.api import router as opendata_routes
from app.pages.deps import RedirectTo
from app.pages.errors import install_error_handlers
from app.pages.render import redirect
from app.projects.api import router as projects_api
from app.projects.staff_views import router as project_staff_pages
from app.projects.unit_views import router as project_unit_pages
from app.projects.views import router as project_pages
from app.proposals.api import router as proposals_api
from app.proposals.fastpath import ListFastPath
from app.proposals.hotline_views import router as hotline_pages
from app.proposals.staff_views import router as proposal_staff_pages
from app.proposals.views import router as proposal_pages
from app.ratelimit import RateLimits
from app.residents.api import router as residents_api
from app.residents.views import router as resident_pages
from app.resources import PACKAGE, check_vendor_files, vendor_files
from app.search.text import warm_up as warm_up_search
from app.undecodable import UndecodableInput
from app.users.api import router as users_api

log = logging.getLogger("minsheng")

API_PREFIX = "/api/v1"
SESSION_COOKIE = "minsheng_session"
PHOTO_NAME = re.compile(r"^[0-9a-f]{32}(-s)?\.jpg$")
# Uploads may be larger than the general body limit; the first key that fits a path decides.
UPLOAD_LIMITS = {
    # Photos: 3 × 8 MB.
    "/api/v1/proposals/": 26 * 1024 * 1024, "/proposals/": 26 * 1024 * 1024,
    "/cycles/": 26 * 1024 * 1024,
    # a hall's voting-device CSV (app/ballotbox/paper.py: 1 MB) in its multipart body
    "/api/v1/ballots/": 2 * 1024 * 1024, "/staff/ballots/": 2 * 1024 * 1024,
    # a jurisdictions CSV (app/jurisdictions/imports.py: 1 MB) in its multipart body; the page's
    # confirmation carries it back base64-encoded (4/3 as long)
    "/api/v1/jurisdictions/import": 2 * 1024 * 1024,
    "/admin/jurisdictions/import": 2 * 1024 * 1024,
    # a hotline export (app/proposals/hotline_file.py: 5 MB), with room above it so a larger
    # file still reaches the import and is told so plainly; the page's confirm step posts the
    # previewed file back once more, base64-encoded
    re.compile(r"/api/v1/cycles/[^/]+/proposals/import"): 8 * 1024 * 1024,
    re.compile(r"/staff/cycles/[^/]+/proposals/import(/confirm)?"): 12 * 1024 * 1024,
}


def _api_router() -> APIRouter:
    api = APIRouter(prefix=API_PREFIX, responses=ERROR_RESPONSES)
    for router in (auth_api, sms_auth_api, jurisdictions_api, users_api, cycles_api, proposals_api,
                   comments_api, residents_api, candidates_api, ballots_api, paper_ballots_api,
                   notifications_api,
                   audit_api, projects_api, settings_api,
                   govlist_api):
        api.include_router(router)
    return api


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application: JSON API under /api/v1, pages everywhere else."""
    settings = settings or get_settings()
    # Refuse to start without htmx and Swagger UI rather than serve pages that cannot work.
    vendor = vendor_files(settings.assets_dir)
    check_vendor_files(vendor)
    engine = make_engine(settings)
    for warning in [audit_startup_warning(settings), *retired_variables(os.environ)]:
        if warning:
            log.warning(warning)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await asyncio.to_thread(warm_up_search)  # jieba's dictionary, before the first request
        # Everything loaded so far lives as long as the process: out of the collector's sight,
        # a full collection no longer walks jieba's dictionary (92 ms a time, measured).
        gc.collect()
        gc.freeze()
        # The queue of this worker's SQLite writers (app/db.py), made in the loop that serves.
        app.state.sqlite_write_turn = asyncio.Lock() if settings.is_sqlite else None
        # Hot write transactions (casting) on a SQLite file: one thread, committed in groups.
        database = engine.url.database
        writer = (SqliteWriter(database, settings)
                  if settings.is_sqlite and database and database != ":memory:" else None)
        app.state.sqlite_writer = writer
        if writer:
            writer.start()
        # Small reads outside a request's session (the cached pages' identity lookup).
        readers = app.state.sqlite_readers = (SqliteReaders(database, settings)
                                              if writer else None)
        hot_pool = app.state.hot_pool = make_hot_pool(settings)  # PostgreSQL's casting
        if hot_pool:
            await hot_pool.open()
        try:
            yield
        finally:
            if writer:
                await asyncio.to_thread(writer.stop)
            if readers:
                readers.close()
            if hot_pool:
                await hot_pool.close()
            await engine.dispose()

    app = FastAPI(
        title="minsheng — 民生实事项目人大代表票决制",
        version=__version__,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served below with Swagger UI from our own origin
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    # The data's version, shared by the workers (app/dataversion.py): kept pages go by it.
    app.state.data_version = open_version(settings) if settings.page_cache_seconds > 0 else None
    # Writing requests on SQLite take the write lock at BEGIN (see app/db.py).
    app.state.write_engine = (engine.execution_options(sqlite_immediate=True)
                              if settings.is_sqlite else engine)
    storage = make_storage(settings)
    app.state.login_throttle = LoginThrottle(settings, storage)
    app.state.rate_limits = RateLimits(storage)

    app.include_router(_api_router())
    for router in (auth_pages, sms_auth_pages, cycle_pages, admin_pages, proposal_pages, proposal_staff_pages,
                   hotline_pages,
                   resident_pages, candidate_pages, candidate_staff_pages,
                   notification_pages,
                   ballot_deputy_pages, ballot_staff_pages, ballot_paper_pages,
                   ballot_public_pages, opendata_routes, project_pages, project_staff_pages,
                   project_unit_pages,
                   settings_pages, govlist_pages, session_pages):
        app.include_router(router)

    @app.get("/static/vendor/{name}", include_in_schema=False)
    async def vendor_asset(name: str) -> Response:
        # Installed from the npm registry at pinned versions (package-lock.json); never a CDN,
        # so pages work on a closed government network.
        path = vendor.get(name)
        if path is None or not path.is_file():
            raise NotFound(f"There is no asset {name}.", code="asset_missing")
        return FileResponse(path, headers={"Cache-Control": "public, max-age=604800"})

    @app.get("/media/photos/{filename}", include_in_schema=False)
    async def photo(filename: str) -> Response:
        path = settings.media_dir / filename
        if not PHOTO_NAME.match(filename) or not path.is_file():
            raise NotFound("There is no such photo.", code="unknown_photo", zh="找不到该照片。")
        return FileResponse(path, media_type="image/jpeg",
                            headers={"Cache-Control": "public, max-age=31536000, immutable"})

    docs_page = get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} — API",
                                    swagger_js_url="/static/vendor/swagger-ui-bundle.js",
                                    swagger_css_url="/static/vendor/swagger-ui.css",
                                    swagger_favicon_url="/static/favicon.svg")
    docs_headers = {"Content-Security-Policy": docs_csp(docs_page.body)}

    @app.get("/api/docs", include_in_schema=False)
    async def api_docs() -> Response:
        return Response(docs_page.body, media_type="text/html", headers=docs_headers)

    app.mount("/static", StaticFiles(directory=PACKAGE / "static"), name="static")

    app.include_router(health_routes)  # /healthz, /readyz
    app.include_router(metrics_routes)  # /metrics

    install_error_handlers(app)

    @app.exception_handler(RedirectTo)
    async def _redirect(request: Request, exc: RedirectTo):
        return redirect(request, exc.url)

    # Added innermost first: the request observer wraps everything, sessions sit next to the app.
    app.add_middleware(RouteProbe)  # tells RequestObserver the route template
    app.add_middleware(CastFastPath)  # casting answered before FastAPI's routing (see there)
    app.add_middleware(ListFastPath)  # the public proposal list and similar lookup, likewise
    # Inside the session (it reads who is logged in), outside the app.
    app.add_middleware(HttpCaching, seconds=settings.page_cache_seconds,
                       version=app.state.data_version, identify=identify)
    app.add_middleware(SessionMiddleware, secret_key=settings.effective_secret,
                       session_cookie=SESSION_COOKIE, max_age=settings.session_ttl_seconds,
                       same_site="lax", https_only=settings.cookie_secure)
    app.add_middleware(CSRFMiddleware, secret=settings.effective_secret,
                       secure=settings.cookie_secure)
    app.add_middleware(Compression)  # outside app/caching.py: ETags of the uncompressed body
    app.add_middleware(UndecodableInput)  # text that is not UTF-8: 400 before anyone reads it
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.cookie_secure)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes,
                       overrides=UPLOAD_LIMITS)
    app.add_middleware(RequestObserver)  # request id, metrics, access log
    return app

INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


def docs_csp(page: bytes) -> str:
    """The CSP of Swagger UI's page: our own origin, plus the page's inline start-up script by
    its hash (computed from the page itself, so a FastAPI upgrade that changes it keeps working)."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in INLINE_SCRIPT.findall(page))
    return (f"default-src 'self'; script-src 'self' {hashes}; style-src 'self'; "
            "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'self'")
