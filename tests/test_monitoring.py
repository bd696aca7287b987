"""Prometheus metrics behind their token and request ids in the log lines (app/monitoring):
requests counted by route template, a cast and a busy 503 counted, JSON access lines with the
request id and nothing secret.

`minsheng serve` itself (its JSON log lines, the metrics of several workers, HSTS behind a
proxy) is tested in tests/test_serve_monitoring.py.
"""

from __future__ import annotations

import json
import logging
import re
from contextlib import contextmanager

import pytest
from prometheus_client import REGISTRY

from app.monitoring.logs import ACCESS_LOGGER, JsonLines, RequestIdFilter
from tests.ballots.conftest import API, walk_round

TOKEN = "metrics-token-" + "m" * 20


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0

# ------------------------------------------------------------------ /metrics

@pytest.fixture
def metrics_on(client):
    """The test app with MINSHENG_METRICS_TOKEN set; yields the headers that bear it."""
    state = client.app.state
    settings = state.settings
    state.settings = settings.model_copy(update={"metrics_token": TOKEN})
    try:
        yield {"Authorization": f"Bearer {TOKEN}"}
    finally:
        state.settings = settings


def test_metrics_are_not_served_without_a_token_set(client):
    r = client.get("/metrics")
    assert r.status_code == 404 and "MINSHENG_METRICS_TOKEN" in r.text


def test_metrics_need_the_token(client, metrics_on):
    assert client.get("/metrics").status_code == 401
    r = client.get("/metrics", headers={"Authorization": "Bearer wrong-token-0123456789"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = client.get("/metrics", headers=metrics_on)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert r.headers["cache-control"] == "no-store"
    assert "minsheng_http_requests_total" in r.text
    assert "process_cpu_seconds_total" in r.text  # the usual process metrics (one worker)


def test_requests_are_counted_by_route_template_not_by_address(client, world, metrics_on):
    cycle = client.post(f"{API}/cycles", headers=world.headers("gov_staff"), json={
        "jurisdiction_code": "lezhi", "year": 2031, "title": "2031年民生实事", "seats": 3}).json()
    labels = {"method": "GET", "route": "/api/v1/cycles/{cycle_id}", "status": "200"}
    before = sample("minsheng_http_requests_total", **labels)
    latency = sample("minsheng_http_request_duration_seconds_count",
                     method="GET", route="/api/v1/cycles/{cycle_id}")
    client.get(f"{API}/cycles/{cycle['id']}")
    client.get(f"{API}/cycles/{cycle['id']}")
    unknown = sample("minsheng_http_requests_total", method="GET", route="unmatched",
                     status="404")
    client.get("/no/such/address/1")
    client.request("BREW", "/")  # a made-up method is "other"
    assert sample("minsheng_http_requests_total", **labels) == before + 2
    assert sample("minsheng_http_request_duration_seconds_count", method="GET",
                  route="/api/v1/cycles/{cycle_id}") == latency + 2
    assert sample("minsheng_http_requests_total", method="GET", route="unmatched",
                  status="404") == unknown + 1
    text_ = client.get("/metrics", headers=metrics_on).text
    assert cycle["id"] not in text_ and "/no/such/address" not in text_
    assert 'method="BREW"' not in text_ and 'method="other"' in text_


def test_a_cast_is_counted_with_its_outcome(client, world):
    ballot_id = walk_round(client, world, "open")
    first = client.get(f"{API}/ballots/{ballot_id}",
                       headers=world.headers("deputy")).json()["candidates"][0]["id"]
    accepted = sample("minsheng_ballot_casts_total", channel="api", outcome="accepted")
    again = sample("minsheng_ballot_casts_total", channel="api", outcome="already_voted")
    route = {"method": "POST", "route": "/api/v1/ballots/{ballot_id}/votes", "status": "201"}
    answered = sample("minsheng_http_requests_total", **route)
    cast = {"marks": {first: "yes"}}
    assert client.post(f"{API}/ballots/{ballot_id}/votes", json=cast,
                       headers=world.headers("deputy")).status_code == 201
    assert client.post(f"{API}/ballots/{ballot_id}/votes", json=cast,
                       headers=world.headers("deputy")).status_code == 409
    assert sample("minsheng_ballot_casts_total", channel="api", outcome="accepted") \
        == accepted + 1
    assert sample("minsheng_ballot_casts_total", channel="api", outcome="already_voted") \
        == again + 1
    # answered by the fast path, before the router, and still counted under its route
    assert sample("minsheng_http_requests_total", **route) == answered + 1


def test_a_busy_503_is_counted(client, world, impatient):
    busy = sample("minsheng_busy_responses_total", surface="api")
    answered = sample("minsheng_http_requests_total", method="GET", route="/api/v1/cycles",
                      status="503")
    engine = impatient.app.state.engine
    connection = impatient.portal.call(engine.connect)  # the pool's only connection taken
    try:
        r = impatient.get(f"{API}/cycles", headers=world.headers("gov_staff"))
    finally:
        impatient.portal.call(connection.close)
    assert r.status_code == 503 and r.json()["code"] == "busy"
    assert sample("minsheng_busy_responses_total", surface="api") == busy + 1
    assert sample("minsheng_http_requests_total", method="GET", route="/api/v1/cycles",
                  status="503") == answered + 1


def test_a_busy_cast_is_counted(client, world, impatient, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's file-wide write lock (PostgreSQL locks rows)")
    import sqlite3

    ballot_id = walk_round(client, world, "open")
    first = client.get(f"{API}/ballots/{ballot_id}",
                       headers=world.headers("deputy")).json()["candidates"][0]["id"]
    busy = sample("minsheng_ballot_casts_total", channel="api", outcome="busy")
    other = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        r = impatient.post(f"{API}/ballots/{ballot_id}/votes", json={"marks": {first: "yes"}},
                           headers=world.headers("deputy"))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert r.status_code == 503, r.text
    assert sample("minsheng_ballot_casts_total", channel="api", outcome="busy") == busy + 1


# ------------------------------------------------------------------ request ids in the logs

@contextmanager
def json_log_lines(*loggers: str):
    """The lines those loggers write while the block runs, formatted as `minsheng serve` does."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(JsonLines())
    handler.addFilter(RequestIdFilter())
    saved = []
    for name in loggers:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level))
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)
    try:
        yield lines
    finally:
        for logger, level in saved:
            logger.removeHandler(handler)
            logger.setLevel(level)


def test_the_access_log_line_is_json_with_the_request_id_and_no_query_string(client):
    with json_log_lines(ACCESS_LOGGER) as lines:
        r = client.get("/archive?q=secret-word&code=123456",
                       headers={"X-Request-ID": "req-abc.123"})
    assert r.headers["x-request-id"] == "req-abc.123"
    (line,) = [json.loads(x) for x in lines]
    assert line["request_id"] == "req-abc.123" and line["logger"] == ACCESS_LOGGER
    assert line["method"] == "GET" and line["path"] == "/archive"
    assert line["route"] == "/archive" and line["status"] == r.status_code == 200
    assert isinstance(line["duration_ms"], float) and line["level"] == "INFO"
    assert "secret-word" not in json.dumps(line) and "123456" not in json.dumps(line)


def test_an_insane_request_id_is_replaced(client):
    r = client.get("/healthz", headers={"X-Request-ID": "a b\"<script>" + "x" * 80})
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])
    assert client.get("/healthz").headers["x-request-id"] != r.headers["x-request-id"]


def test_every_log_line_of_a_request_carries_its_id(client, world, impatient):
    headers = {**world.headers("gov_staff"), "X-Request-ID": "busy-1"}
    engine = impatient.app.state.engine
    connection = impatient.portal.call(engine.connect)
    try:
        with json_log_lines(ACCESS_LOGGER, "app.errors") as lines:
            impatient.get(f"{API}/cycles", headers=headers)
    finally:
        impatient.portal.call(connection.close)
    parsed = [json.loads(x) for x in lines]
    assert {p["logger"] for p in parsed} == {"app.errors", ACCESS_LOGGER}
    warning = next(p for p in parsed if p["logger"] == "app.errors")
    assert warning["level"] == "WARNING" and warning["message"].startswith("database busy")
    assert all(p.get("request_id") == "busy-1" for p in parsed), parsed


def test_passwords_and_tokens_stay_out_of_the_access_log(client, world):
    world.headers("gov_staff")
    with json_log_lines(ACCESS_LOGGER) as lines:
        client.post(f"{API}/auth/token", json={"username": "gov_staff",
                                                "password": "Very-Secret-Pass-9"})
        client.get(f"{API}/cycles", headers=world.headers("gov_staff"))
    text_ = "\n".join(lines)
    assert "Very-Secret-Pass-9" not in text_
    assert world.headers("gov_staff")["Authorization"].split()[1] not in text_
    assert "Bearer" not in text_ and "cookie" not in text_.lower()

def test_probes_stay_out_of_the_access_log_while_they_succeed(client, caplog):
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        client.get("/healthz")
        client.get("/readyz")
        client.get("/")
    paths = [r.path for r in caplog.records if r.name == ACCESS_LOGGER]
    assert paths == ["/"]


