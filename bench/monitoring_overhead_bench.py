#!/usr/bin/env python3
"""What the monitoring adds to each request, measured in-process (no server, no network).

A cast-like request (POST, a 38-byte JSON answer) and a page-like one (GET, a 20 KB HTML answer,
sent to a client that accepts gzip) go through a bare ASGI app, then through the middlewares of
app/monitoring (request id, route template, metrics, access log off as in a bench) and
app/compression.py; and a cast function with and without its count. It prints the CPU time each
adds per request, in microseconds (median of --rounds rounds of --requests requests), so that a
change to them can be compared with the figures in bench/README.md. Whole-request figures are
the cast bench's (ballots_bench.py).

    .venv/bin/python bench/monitoring_overhead_bench.py
    .venv/bin/python bench/monitoring_overhead_bench.py --requests 20000 --rounds 7
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.compression import LEVEL, Compression  # noqa: E402
from app.monitoring import metrics  # noqa: E402
from app.monitoring.requests import RequestObserver, RouteProbe, set_route  # noqa: E402

CAST_BODY = b'{"receipt":"ABCD-EFGH-JKMN-PQRS-TVWX"}'
PAGE_BODY = ("<!doctype html><html lang=zh-CN><body>"
             + "".join(f"<li><a href='/proposals/{i:032x}'>第{i}条建议：修缮老旧小区道路</a></li>"
                       for i in range(200)) + "</body></html>").encode()


async def bare(scope, receive, send):
    if scope["method"] == "POST":
        set_route(scope, "/api/v1/ballots/{ballot_id}/votes")
        body, kind = CAST_BODY, b"application/json"
    else:
        body, kind = PAGE_BODY, b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def receive():
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message):
    pass


def scope(method: str) -> dict:
    headers = [(b"accept-encoding", b"gzip, deflate")] if method == "GET" else [
        (b"content-type", b"application/json"), (b"authorization", b"Bearer x")]
    return {"type": "http", "method": method, "headers": headers, "client": ("127.0.0.1", 1),
            "path": "/api/v1/ballots/b/votes" if method == "POST" else "/cycles/c"}


async def per_request(app, method: str, n: int) -> float:
    start = time.process_time()
    for _ in range(n):
        await app(scope(method), receive, send)
    return (time.process_time() - start) / n * 1e6


@metrics.counts_casts("api")
async def counted_cast() -> str:
    return "receipt"


async def plain_cast() -> str:
    return "receipt"


async def per_call(fn, n: int) -> float:
    start = time.process_time()
    for _ in range(n):
        await fn()
    return (time.process_time() - start) / n * 1e6


async def main(args) -> None:
    observed = RequestObserver(RouteProbe(bare))
    everything = RequestObserver(Compression(RouteProbe(bare)))
    rows: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for method, label in (("POST", "cast"), ("GET", "page")):
            base = await per_request(bare, method, args.requests)
            rows.setdefault(f"{label}: observer + route probe", []).append(
                await per_request(observed, method, args.requests) - base)
            rows.setdefault(f"{label}: all (with compression)", []).append(
                await per_request(everything, method, args.requests) - base)
        rows.setdefault("cast: its count", []).append(
            await per_call(counted_cast, args.requests) - await per_call(plain_cast, args.requests))
    print(f"monitoring overhead, CPU µs per request (median of {args.rounds} × {args.requests}):")
    for label, values in rows.items():
        print(f"  {label:<36} {statistics.median(values):7.1f} µs")
    print(f"  (the page: {len(PAGE_BODY):,} bytes of HTML, compressed at zlib level {LEVEL})")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=20000)
    p.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(p.parse_args()))
