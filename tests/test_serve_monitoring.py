"""`minsheng serve` as an operator runs it: two workers, JSON logs, metrics behind a token.

Its log lines are JSON objects (uvicorn's own too), each access line with the request id; the
metrics of both workers are summed whichever answers /metrics (Prometheus' multiprocess mode in
a folder `minsheng serve` makes and removes); HSTS follows a trusted proxy's X-Forwarded-Proto.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, TEST_SECRET, _free_port

TOKEN = "serve-metrics-token-0123456789"
ACCESS_LOGGER = "minsheng.access"


class Served:
    def __init__(self, base: str, out: Path, err: Path) -> None:
        self.base, self.out, self.err = base, out, err

    def lines(self, path: Path) -> list[dict]:
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def served(database_url, tmp_path_factory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("serve")
    out, err = folder / "stdout.log", folder / "stderr.log"
    port = _free_port()
    env = {**os.environ, "MINSHENG_ENV": "test", "MINSHENG_DATABASE_URL": database_url,
           "MINSHENG_SECRET_KEY": TEST_SECRET, "MINSHENG_RATE_LIMIT_URL": "memory://",
           "MINSHENG_LOG_FORMAT": "json", "MINSHENG_METRICS_TOKEN": TOKEN,
           "TMPDIR": str(folder)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "2"],
            cwd=ROOT, env=env, stdout=stdout, stderr=stderr, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        ready = 0
        while ready < 6:  # several answers in a row: both workers are likely up
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"minsheng serve did not start:\n{err.read_text()[-3000:]}")
            try:
                ready = ready + 1 if httpx.get(f"{base}/healthz", timeout=1).is_success else 0
            except httpx.HTTPError:
                ready = 0
                time.sleep(0.2)
        yield Served(base, out, err)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    # the multiprocess folder it made is gone with it
    assert not list(folder.glob("minsheng-metrics-*"))


def test_access_lines_are_json_with_the_request_id(served):
    r = httpx.get(f"{served.base}/archive?code=654321", headers={"X-Request-ID": "serve-1"})
    assert r.status_code == 200 and r.headers["x-request-id"] == "serve-1"
    time.sleep(0.3)  # the line is written after the answer
    lines = [x for x in served.lines(served.out) if x.get("request_id") == "serve-1"]
    assert len(lines) == 1, served.out.read_text()[-2000:]
    (line,) = lines
    assert line["logger"] == ACCESS_LOGGER and line["level"] == "INFO"
    assert (line["method"], line["path"], line["route"], line["status"]) == \
        ("GET", "/archive", "/archive", 200)
    assert line["duration_ms"] > 0 and line["client"] == "127.0.0.1"
    assert "654321" not in served.out.read_text()  # no query string, ever
    # uvicorn's own messages are JSON too, on standard error
    started = [x for x in served.lines(served.err) if x["logger"].startswith("uvicorn")]
    assert any("Started server process" in x["message"] for x in started)


def test_the_metrics_of_both_workers_are_summed(served):
    n = 40
    for i in range(n):  # a new connection each: either worker may take it
        assert httpx.get(f"{served.base}/lang/zh_Hans", headers={"X-Request-ID": f"m-{i}"},
                         follow_redirects=False).status_code < 400
    time.sleep(0.3)
    pattern = re.compile(r'^minsheng_http_requests_total\{method="GET",route="/lang/\{code\}",'
                         r'status="(\d+)"\} (\S+)$', re.M)
    for _ in range(4):  # whichever worker answers, it reports both
        text = httpx.get(f"{served.base}/metrics",
                         headers={"Authorization": f"Bearer {TOKEN}"}).text
        assert sum(float(v) for _, v in pattern.findall(text)) == n, text[:3000]
    workers = {x["pid"] for x in served.lines(served.out) if x.get("request_id", "")[:2] == "m-"}
    print(f"answered by {len(workers)} worker(s)")  # two nearly always; the sum holds either way
    assert httpx.get(f"{served.base}/metrics").status_code == 401


def test_hsts_behind_a_trusted_proxy_speaking_https(served):
    plain = httpx.get(f"{served.base}/healthz")
    assert "strict-transport-security" not in plain.headers
    # 127.0.0.1 is the default --forwarded-allow-ips: its X-Forwarded-Proto is believed
    proxied = httpx.get(f"{served.base}/healthz", headers={"X-Forwarded-Proto": "https"})
    assert proxied.headers["strict-transport-security"] == "max-age=31536000"
