"""Prometheus metrics (prometheus-client) and `GET /metrics`, for a bearer of the metrics token.

Requests are counted by method, route template (`/api/v1/ballots/{ballot_id}/votes`, never the
address asked for, so the number of series stays bounded) and status, with a latency histogram;
ballots cast by channel and outcome; 503 busy answers. With several workers each writes its
figures to files in PROMETHEUS_MULTIPROC_DIR (`minsheng serve` makes one when it is not set) and
/metrics sums them, whichever worker answers. docs/monitoring.md lists the metrics.
"""

from __future__ import annotations

import functools
import hmac
import os

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from app.errors import DomainError, as_busy

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
NO_STORE = {"Cache-Control": "no-store"}
# Methods beyond these are counted as "other": a client cannot make up new series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # the route of an address no route serves (404)

REQUESTS = Counter(
    "minsheng_http_requests", "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"])
LATENCY = Histogram(
    "minsheng_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
CASTS = Counter(
    "minsheng_ballot_casts",
    "Ballots cast (投票), by channel (api: the deputy's device; page: the deputy pages) and "
    "outcome (accepted, busy, or the refusal's code such as already_voted).",
    ["channel", "outcome"])
BUSY = Counter(
    "minsheng_busy_responses",
    "Requests answered 503 busy because the database could not take them in time, by surface "
    "(api or page).",
    ["surface"])


# (method, route, status) → its counter and histogram: labels() takes a lock and checks its
# arguments each time, twice a request; the series are few (routes × statuses seen).
_series: dict[tuple[str, str, int], tuple] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request and its duration."""
    series = _series.get((method, route, status))
    if series is None:
        label = method if method in METHODS else "other"
        series = _series[(method, route, status)] = (
            REQUESTS.labels(label, route, str(status)), LATENCY.labels(label, route))
    series[0].inc()
    series[1].observe(seconds)


def counts_casts(channel: str):
    """Decorates a cast function: each call counted by its outcome (accepted, busy, the refusal's
    code, or error) in minsheng_ballot_casts_total{channel}."""
    def decorate(cast):
        @functools.wraps(cast)
        async def counted(*args, **kwargs):
            try:
                result = await cast(*args, **kwargs)
            except DomainError as exc:
                CASTS.labels(channel, exc.code).inc()
                raise
            except Exception as exc:
                CASTS.labels(channel, "busy" if as_busy(exc) else "error").inc()
                raise
            CASTS.labels(channel, "accepted").inc()
            return result

        return counted

    return decorate


def count_busy(path: str) -> None:
    BUSY.labels("api" if path.startswith("/api/") else "page").inc()


def exposition() -> bytes:
    """The text format of every metric: summed over the workers' files in multiprocess mode,
    else this process's own (with the process and Python collectors)."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


router = APIRouter()


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """The metrics, for a request bearing MINSHENG_METRICS_TOKEN; 404 while no token is set."""
    token = request.app.state.settings.metrics_token
    if not token:
        return Response("Not found: set MINSHENG_METRICS_TOKEN to serve metrics.\n",
                        status_code=404, media_type="text/plain", headers=NO_STORE)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                             token.encode()):
        return Response("Send the metrics token: Authorization: Bearer <token>.\n",
                        status_code=401, media_type="text/plain",
                        headers={**NO_STORE, "WWW-Authenticate": "Bearer"})
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST, headers=NO_STORE)
