"""Every request gets an id, its route template, its metrics and one access-log line.

`RequestObserver` sits outside every other middleware: it takes the request id from
`X-Request-ID` when that is sane (what a proxy or a load balancer makes: up to 64 letters,
digits and `-_.:`) or makes one, sets it for the log lines written while the request runs,
echoes it in the answer's `X-Request-ID`, and when the answer is done counts it
(app/monitoring/metrics.py) and writes the access-log line: method, path without the query
string, route template, status, duration and client address — never a query string, a body, a
cookie or a token. The probes (/healthz, /readyz, /metrics) are logged only when they fail.

The route template is learnt by `RouteProbe`, the innermost middleware, which sees the scope the
router fills in (the middlewares between them copy the scope, so the two share a small record);
the cast fast path, which answers before the router, names its route itself (`set_route`).
"""

from __future__ import annotations

import logging
import os
import re
from time import perf_counter

from app.monitoring.logs import ACCESS_LOGGER, request_id
from app.monitoring.metrics import UNMATCHED, observe_request

access_log = logging.getLogger(ACCESS_LOGGER)

SANE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")
SCOPE_KEY = "minsheng.observed"
PROBES = frozenset({"/healthz", "/readyz", "/metrics"})


class _Observed:
    __slots__ = ("route",)

    def __init__(self) -> None:
        self.route: str | None = None


def set_route(scope, template: str) -> None:
    """Name the route template of a request answered without the router."""
    observed = scope.get(SCOPE_KEY)
    if observed is not None:
        observed.route = template


def _incoming_id(headers) -> str | None:
    for name, value in headers:
        if name == b"x-request-id":
            return value.decode("ascii") if SANE_ID.fullmatch(value) else None
    return None


class RequestObserver:
    """ASGI middleware: request id, metrics and the access log (see the module)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        rid = _incoming_id(scope.get("headers", ())) or os.urandom(16).hex()
        # Not reset afterwards: uvicorn runs each request in a task of its own, and the error
        # handler that logs a crash runs outside this middleware, after it.
        request_id.set(rid)
        observed = scope[SCOPE_KEY] = _Observed()
        header = (b"x-request-id", rid.encode("ascii"))
        status = 500  # if the app fails before answering, Starlette answers 500
        start = perf_counter()

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = perf_counter() - start
            route = observed.route or UNMATCHED
            observe_request(scope["method"], route, status, seconds)
            path = scope["path"]
            if access_log.isEnabledFor(logging.INFO) and (path not in PROBES or status >= 400):
                client = scope.get("client")
                access_log.info(
                    "%s %s %d %.1f ms", scope["method"], path, status, seconds * 1000,
                    extra={"method": scope["method"], "path": path, "route": route,
                           "status": status, "duration_ms": round(seconds * 1000, 2),
                           "client": client[0] if client else None})


def route_template(path: str, route) -> str | None:
    """The template of the whole path, e.g. /api/v1/ballots/{ballot_id}/votes.

    FastAPI may keep an included router's routes under it, each with its own part of the path
    only (`/ballots/{ballot_id}/votes`); the prefix before that part is a router's fixed prefix,
    taken from the path itself.
    """
    template = getattr(route, "path", None)
    regex = getattr(route, "path_regex", None)
    if template is None or regex is None or regex.match(path):
        return template
    cut = path.find("/", 1)
    while cut != -1:
        if regex.match(path[cut:]):
            return path[:cut] + template
        cut = path.find("/", cut + 1)
    return template


class RouteProbe:
    """ASGI middleware, innermost: tells RequestObserver which route answered."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        try:
            await self.app(scope, receive, send)
        finally:
            observed = scope.get(SCOPE_KEY)
            route = scope.get("route")
            if observed is not None and route is not None and observed.route is None:
                observed.route = route_template(scope["path"], route)
