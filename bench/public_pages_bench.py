#!/usr/bin/env python3
"""The public pages a crowd reads after the vote, side by side with FastAPI's hello world.

One run: a throwaway database (SQLite in a temp dir, or --database postgresql) gets a cycle
walked through the API of a running server up to 公开: --deputies deputies cast their ballots over
--candidates candidates, the round is closed, tallied, signed off and published, the cycle is
announced and one project gets its implementation plan. Then, each on its own 1-worker uvicorn
and under the same wrk load (--connections, 64), are measured: FastAPI's hello world
(bench/hello_app.py, the reference), the public results page GET /ballots/{id}/results and the
cycle page GET /cycles/{id} — as anonymous visitors read them (the shared copy of app/caching.py,
MINSHENG_PAGE_CACHE_SECONDS default 2) and, for comparison, rendered for every request (0).

Targets (issue 6): each page served at >= 40 % of hello world's req/s with p99 < 50 ms at 64
connections on 1 worker; printed MET or MISSED for the cached rows (the uncached rows show what one
rendering costs).

    .venv/bin/python bench/public_pages_bench.py                       # SQLite
    .venv/bin/python bench/public_pages_bench.py --database postgresql
    .venv/bin/python bench/public_pages_bench.py --duration 3 --deputies 60   # a smoke run
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ballots_bench import API, close_and_tally, open_round, seed  # noqa: E402
from http_bench import (  # noqa: E402
    BENCH_DIR,
    PG_SERVER_DEFAULT,
    BenchRun,
    Target,
    free_port,
    log,
    measure,
    print_table,
    run_wrk,
    uvicorn_cmd,
    wait_ready,
)

TARGET_RATIO = 0.40
TARGET_P99_MS = 50.0


def walk_to_announced(base: str, seeded: dict, seats: int) -> str:
    """Through the API: open, every deputy votes, close, tally, sign off, publish, announce,
    one plan. Returns the published round's id."""
    import httpx

    deputies = seeded["deputies"]
    ballot_id, _ = open_round(base, seeded["staff_token"], seeded["cycle_id"], seats,
                              [u for u, _ in deputies])
    cids = seeded["candidate_ids"]
    with httpx.Client(base_url=base + API, timeout=60) as http:
        for i, (_, token) in enumerate(deputies):
            # the first S candidates pass with different yes counts (no tie at the last seat)
            marks = {c: ("yes" if n < seats and i % (n + 2) else "no")
                     for n, c in enumerate(cids)}
            r = http.post(f"/ballots/{ballot_id}/votes", json={"marks": marks},
                          headers={"Authorization": f"Bearer {token}"})
            if r.status_code != 201:
                raise RuntimeError(f"vote: {r.status_code} {r.text}")
    close_and_tally(base, seeded["staff_token"], ballot_id)
    staff = {"Authorization": f"Bearer {seeded['staff_token']}"}
    with httpx.Client(base_url=base + API, timeout=60) as http:
        for _, token in deputies[:2]:  # the two scrutineers open_round named
            r = http.post(f"/ballots/{ballot_id}/sign-off",
                          headers={"Authorization": f"Bearer {token}"})
            if r.status_code != 200:
                raise RuntimeError(f"sign-off: {r.status_code} {r.text}")
        for path, body in ((f"/ballots/{ballot_id}/transitions", {"to": "published"}),
                           (f"/cycles/{seeded['cycle_id']}/transitions",
                            {"to": "announced", "reason": "基准测试：按票决结果公告"})):
            r = http.post(path, json=body, headers=staff)
            if r.status_code != 200:
                raise RuntimeError(f"{path}: {r.status_code} {r.text}")
        projects = http.get(f"/cycles/{seeded['cycle_id']}/projects").json()["items"]
        if not projects:
            raise RuntimeError("the announced cycle has no projects")
        p = projects[0]
        r = http.put(f"/projects/{p['id']}/plan", headers={
            "Authorization": f"Bearer {seeded['gov_token']}"}, json={
            "milestones": [{"title": "完成设计", "due": p["deadline"]}],
            "funding": [{"source": "县级财政", "amount_wan": str(p["budget_wan"])}],
            "targets": ["按期建成并投入使用"]})
        if r.status_code != 200:
            raise RuntimeError(f"plan: {r.status_code} {r.text}")
    return ballot_id


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--pg-server", default=os.environ.get("MINSHENG_TEST_PG", PG_SERVER_DEFAULT))
    p.add_argument("--deputies", type=int, default=280, help="deputies who vote (280, a county)")
    p.add_argument("--candidates", type=int, default=12, help="candidates on the ballot (12)")
    p.add_argument("--seats", type=int, default=10, help="seats (10)")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of load per row (10)")
    p.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per row (2)")
    p.add_argument("--connections", type=int, default=64, help="concurrent connections (64)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    p.add_argument("--page-cache-seconds", type=float,
                   help="MINSHENG_PAGE_CACHE_SECONDS for the shared-copy rows (the app's default)")
    args = p.parse_args(argv)
    if not shutil.which("wrk"):
        p.error("wrk is not installed")

    run = BenchRun(args.database, args.pg_server, "minsheng-pagebench-")
    procs, tmp, env = run.procs, run.tmp, run.env
    if args.page_cache_seconds is not None:
        env["MINSHENG_PAGE_CACHE_SECONDS"] = str(args.page_cache_seconds)
    try:
        seeded = seed(env, args.deputies, args.candidates, args.seats)
        port = free_port()
        proc = procs.start(uvicorn_cmd("app.main:create_app", port, factory=True), env=env,
                           log_path=tmp / "setup.log")
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(proc, f"{base}/healthz", tmp / "setup.log")
            ballot_id = walk_to_announced(base, seeded, args.seats)
        finally:
            procs.stop(proc)
        log(f"cycle {seeded['cycle_id']} announced, round {ballot_id} published")

        hello_env = {k: v for k, v in os.environ.items() if not k.startswith("MINSHENG_")}
        uncached = {**env, "MINSHENG_PAGE_CACHE_SECONDS": "0"}
        pages = [("results", "results page GET /ballots/{id}/results", f"/ballots/{ballot_id}/results"),
                 ("cycle", "cycle page   GET /cycles/{id}", f"/cycles/{seeded['cycle_id']}")]
        targets = [Target("hello", "hello world  GET / (FastAPI)",
                          uvicorn_cmd("hello_app:app", port := free_port(), app_dir=BENCH_DIR),
                          hello_env, "/", port)]
        for name, label, path in pages:
            targets.append(Target(name, label + ", shared copy",
                                  uvicorn_cmd("app.main:create_app", port := free_port(),
                                              factory=True), env, path, port))
        for name, label, path in pages:
            targets.append(Target(name + "-uncached", label + ", rendered each time",
                                  uvicorn_cmd("app.main:create_app", port := free_port(),
                                              factory=True), uncached, path, port))
        results = [measure(t, procs, tmp, run_wrk, args) for t in targets]
        hello = results[0].requests_per_sec
        for r in results:
            r.ratio = r.requests_per_sec / hello if hello else None
        print_table(results, {"loadgen": f"wrk -t{args.threads} -c{args.connections}",
                              "connections": args.connections, "duration_s": args.duration,
                              "warmup_s": args.warmup, "database": args.database,
                              "cpus": os.cpu_count()})
        for r in results:
            other = r.extra.get("other_cpu_cores") or 0
            if other > 0.2:  # with PostgreSQL that includes its background work (autovacuum…)
                log(f"{r.endpoint.split(',')[0]}: other processes used {other:.2f} cores "
                    "during the measurement")
        missed = False
        for r in results[1:3]:
            ok_ratio = (r.ratio or 0) >= TARGET_RATIO
            ok_p99 = r.p99_ms is not None and r.p99_ms < TARGET_P99_MS
            missed |= not (ok_ratio and ok_p99 and not r.errors)
            print(f"  {'MET   ' if ok_ratio else 'MISSED'}  {r.endpoint}: "
                  f"{r.ratio:.2f}× hello world (target ≥ {TARGET_RATIO:.2f}×)")
            print(f"  {'MET   ' if ok_p99 else 'MISSED'}  {r.endpoint}: p99 {r.p99_ms:.1f} ms "
                  f"(target < {TARGET_P99_MS:.0f} ms)" + (f", {r.errors} errors" if r.errors
                                                         else ""))
        return 1 if missed else 0
    finally:
        run.close()

if __name__ == "__main__":
    sys.exit(main())
