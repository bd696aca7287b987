#!/usr/bin/env python3
"""Casting a national congress's ballots over HTTP: every deputy once, many at a time.

One run: a throwaway database (SQLite in a temp dir, or with --database postgresql a throwaway
PostgreSQL database, dropped afterwards) gets `minsheng db upgrade`, then a jurisdiction with
--deputies (3,000, the national congress's size) deputies inserted directly (no password hash;
bearer tokens signed with app.auth.tokens.issue_token), a cycle moved to 票决 through the cycle
service, --candidates (30) reviewed candidates. uvicorn (--server-workers: 1 on SQLite, 2 on
PostgreSQL) serves it; through the API congress staff create the round, record every deputy
present in bulk, name two scrutineers and open it. Then wrk, --connections (64) at a time, sends
each deputy's one ballot (a Lua script gives every request another deputy's token and a valid
random ballot, at most S 'yes'; each thread stops once its deputies are answered) and reports
ballots/s, p50, p99, max and the answers by status.

Afterwards the database must agree: accepted 201s == participation rows (no deputy twice) ==
sealed envelopes; then close (which opens the envelopes; its time is printed) and tally through
the API: filled ballot slots == receipts == cast == accepted, no envelope left, and each
candidate's yes/no/abstain == what was sent. Targets: >= 1,000 ballots/s, p99 < 250 ms,
nothing lost or doubled; each printed MET or MISSED.

    .venv/bin/python bench/ballots_bench.py                              # SQLite, 1 worker
    .venv/bin/python bench/ballots_bench.py --database postgresql       # PostgreSQL, 2 workers
    .venv/bin/python bench/ballots_bench.py --deputies 200 --candidates 10   # a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from http_bench import (  # noqa: E402  (bench/http_bench.py: the shared machinery)
    PG_SERVER_DEFAULT,
    BenchRun,
    cpu_sample,
    free_port,
    log,
    uvicorn_cmd,
    wait_ready,
)
from proposals_bench import postgres_cpu  # noqa: E402

TARGET_BALLOTS_PER_S = 1000.0
TARGET_P99_MS = 250.0
JURISDICTION = "bench"
API = "/api/v1"

# ----------------------------------------------------------------------------- seeding


async def _seed(env: dict[str, str], deputies: int, candidates: int, seats: int) -> dict:
    """Jurisdiction, staff, deputies (bulk), a cycle in 票决 with reviewed candidates."""
    from datetime import date
    from decimal import Decimal

    from sqlalchemy import insert
    from sqlalchemy.ext.asyncio import AsyncSession

    from app.auth.roles import Role
    from app.auth.tokens import issue_token
    from app.config import Settings
    from app.cycles import service as cycles
    from app.db import make_engine
    from app.jurisdictions import service as jurisdictions
    from app.models import Candidate, ResponsibleUnit, User, new_id, utcnow
    from app.workflows.candidate import CandidateState
    from app.workflows.cycle import CyclePhase

    settings = Settings(env="test", database_url=env["MINSHENG_DATABASE_URL"],
                        secret_key=env["MINSHENG_SECRET_KEY"], rate_limit_url="memory://")
    engine = make_engine(settings)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            system = User(username="bench-system", display_name="系统", role=Role.admin,
                          jurisdiction_code=JURISDICTION, password_hash="!", is_active=False)
            await jurisdictions.create(session, actor=system, code=JURISDICTION,
                                       name="票决基准测试人大", level="county", parent_code=None,
                                       settings={"soliciting_min_days": 0})
            gov = User(username="bench-gov", display_name="基准测试民生办", role=Role.gov_staff,
                       jurisdiction_code=JURISDICTION, password_hash="!")
            congress = User(username="bench-congress", display_name="基准测试人大常委会",
                            role=Role.congress_staff, jurisdiction_code=JURISDICTION,
                            password_hash="!")
            session.add_all([gov, congress])
            now = utcnow()
            rows = [{"id": new_id(), "username": f"bench-d{i:05d}", "display_name": f"代表{i}",
                     "role": Role.deputy, "jurisdiction_code": JURISDICTION,
                     "password_hash": "!", "must_change_password": False, "is_active": True,
                     "token_version": 1, "created_at": now} for i in range(1, deputies + 1)]
            for start in range(0, len(rows), 1000):
                await session.execute(insert(User), rows[start:start + 1000])
            unit = ResponsibleUnit(jurisdiction_code=JURISDICTION, name="基准测试责任单位")
            session.add(unit)
            await session.flush()
            cycle = await cycles.create(session, actor=gov, jurisdiction_code=JURISDICTION,
                                        year=2026, title="票决基准测试", seats=seats)
            for to in (CyclePhase.soliciting, CyclePhase.screening):
                await cycles.transition(session, actor=gov, cycle=cycle, to=to, reason="基准测试")
            ids = []
            for i in range(candidates):
                c = Candidate(cycle_id=cycle.id, title=f"候选项目{i + 1}",
                              summary="基准测试候选项目", responsible_unit_id=unit.id,
                              budget_wan=Decimal("100"), deadline=date(2026, 12, 31),
                              state=CandidateState.reviewed, created_by=gov.id)
                session.add(c)
                ids.append(c.id)
            await session.flush()
            await cycles.transition(session, actor=congress, cycle=cycle,
                                    to=CyclePhase.balloting, reason="基准测试")
            await session.commit()
    finally:
        await engine.dispose()
    return {"cycle_id": cycle.id, "candidate_ids": ids,
            "staff_token": issue_token(settings, congress.id, congress.token_version),
            "gov_token": issue_token(settings, gov.id, gov.token_version),
            "deputies": [(r["username"], issue_token(settings, r["id"], 1)) for r in rows]}


def seed(env: dict[str, str], deputies: int, candidates: int, seats: int) -> dict:
    # The app's modules read settings on import: point them at this database.
    os.environ.update({k: v for k, v in env.items() if k.startswith("MINSHENG_")})
    return asyncio.run(_seed(env, deputies, candidates, seats))


def open_round(base: str, staff_token: str, cycle_id: str, seats: int,
               usernames: list[str]) -> tuple[str, float]:
    """Create the round, record everyone present (in bulk), name scrutineers, open it."""
    import httpx

    headers = {"Authorization": f"Bearer {staff_token}"}
    with httpx.Client(base_url=base + API, headers=headers, timeout=300) as http:
        def ok(r: httpx.Response) -> dict:
            if r.status_code >= 300:
                raise RuntimeError(f"{r.request.method} {r.request.url}: {r.status_code} {r.text}")
            return r.json()

        ballot = ok(http.post(f"/cycles/{cycle_id}/ballots", json={"seats": seats}))
        t0 = time.perf_counter()
        for start in range(0, len(usernames), 1000):
            present = ok(http.post(f"/ballots/{ballot['id']}/attendance",
                                   json={"usernames": usernames[start:start + 1000]}))["present"]
        attendance_s = time.perf_counter() - t0
        if present != len(usernames):
            raise RuntimeError(f"{present} present after recording {len(usernames)}")
        ok(http.post(f"/ballots/{ballot['id']}/scrutineers", json={"usernames": usernames[:2]}))
        ok(http.post(f"/ballots/{ballot['id']}/transitions", json={"to": "open"}))
    return ballot["id"], attendance_s


def make_ballots(n: int, candidates: int, seats: int, seed_value: int) -> list[str]:
    """One ballot per deputy as a string of marks per candidate: y(es), n(o), a(bstain), or
    - (left out: counts as abstain); never more than `seats` yes."""
    rng = random.Random(seed_value)
    popularity = [rng.random() for _ in range(candidates)]
    ballots = []
    for _ in range(n):
        marks = []
        for p in popularity:
            roll = rng.random()
            marks.append("y" if roll < p * 0.8 else "n" if roll < 0.85 else
                         "a" if roll < 0.93 else "-")
        yes = [i for i, m in enumerate(marks) if m == "y"]
        rng.shuffle(yes)
        for i in yes[seats:]:
            marks[i] = "n"
        ballots.append("".join(marks))
    return ballots


# ----------------------------------------------------------------------------- load

LUA = r"""
-- Each deputy exactly once: thread t sends deputies t+1, t+1+T, t+1+2T, ...; a connection
-- with nobody left sends an unfinished request (never answered, so never timed) and the
-- thread stops once each of its deputies has an answer. wrk calls request() once on the
-- first thread before any connection, to check the request it makes; that one is not sent.
local tokens = { @@TOKENS@@ }
local ballots = { @@BALLOTS@@ }
local cids = { @@CIDS@@ }
local path = @@PATH@@
local nthreads = @@THREADS@@
local names = { y = '":"yes"', n = '":"no"', a = '":"abstain"' }
local hold = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
local probe = hold .. "\r\n"

local now = function() return 0 end
local ok, ffi = pcall(require, "ffi")
if ok then
  ffi.cdef[[ typedef struct { long sec; long usec; } bench_tv;
             int gettimeofday(bench_tv *tv, void *tz); ]]
  local tv = ffi.new("bench_tv")
  now = function()
    ffi.C.gettimeofday(tv, nil)
    return tonumber(tv.sec) * 1000000 + tonumber(tv.usec)
  end
end

local threads = {}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  nxt = tid + 1
  mine = 0
  for d = tid + 1, #tokens, nthreads do mine = mine + 1 end
  got, first_us, last_us, finished = 0, 0, 0, 0
  statuses = {}
  checking = tid == 0
end

function request()
  if checking then
    checking = false
    return probe
  end
  if nxt > #tokens then return hold end
  local d = nxt
  nxt = nxt + nthreads
  if first_us == 0 then first_us = now() end
  local marks, b = {}, ballots[d]
  for k = 1, #cids do
    local m = names[b:sub(k, k)]
    if m then marks[#marks + 1] = '"' .. cids[k] .. m end
  end
  return wrk.format("POST", path, {["Authorization"] = "Bearer " .. tokens[d],
                                   ["Content-Type"] = "application/json"},
                    '{"marks":{' .. table.concat(marks, ",") .. '}}')
end

function response(status, headers, body)
  got = got + 1
  local k = tostring(status)
  statuses[k] = (statuses[k] or 0) + 1
  if got >= mine and finished == 0 then
    last_us, finished = now(), 1
    io.write("BENCHTHREAD " .. tid .. "\n")
    io.flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local by, first, last, fin = {}, nil, 0, 0
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses") or {}) do by[k] = (by[k] or 0) + v end
    local f, l = t:get("first_us") or 0, t:get("last_us") or 0
    if f > 0 and (first == nil or f < first) then first = f end
    if l > last then last = l end
    fin = fin + (t:get("finished") or 0)
  end
  local parts = {}
  for k, v in pairs(by) do parts[#parts + 1] = string.format('"%s": %d', k, v) end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %f, ' ..
    '"socket_errors": %d, "statuses": {%s}, "first_us": %.0f, "last_us": %.0f, ' ..
    '"finished_threads": %d}\n',
    summary.requests, latency:percentile(50.0), latency:percentile(99.0), latency.max,
    latency.mean, e.connect + e.read + e.write + e.timeout, table.concat(parts, ", "),
    first or 0, last, fin))
end
"""


def write_lua(path: Path, deputies: list[tuple[str, str]], ballots: list[str],
              candidate_ids: list[str], vote_path: str, threads: int) -> None:
    def lua_list(items) -> str:
        return ", ".join(json.dumps(x) for x in items)  # ASCII: valid Lua string literals

    path.write_text(LUA.replace("@@TOKENS@@", lua_list(t for _, t in deputies))
                    .replace("@@BALLOTS@@", lua_list(ballots))
                    .replace("@@CIDS@@", lua_list(candidate_ids))
                    .replace("@@PATH@@", json.dumps(vote_path))
                    .replace("@@THREADS@@", str(threads)), encoding="utf-8")


def run_wrk(base_url: str, script: Path, connections: int, threads: int,
            deadline_s: int) -> dict:
    """Run wrk until every thread has had each of its deputies answered (or `deadline_s`)."""
    cmd = [shutil.which("wrk") or "wrk", f"-t{threads}", f"-c{connections}", f"-d{deadline_s}s",
           "--latency", "--timeout", "30s", "-s", str(script), base_url]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines, finished, wall = [], 0, None
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("BENCHTHREAD"):
                finished += 1
                if finished == threads:
                    wall = time.perf_counter() - t0
                    # wrk's main thread sleeps for -d; SIGINT ends the sleep. Again, should it
                    # reach a worker thread that had not quite exited yet.
                    for _ in range(50):
                        proc.send_signal(signal.SIGINT)
                        try:
                            proc.wait(0.2)
                            break
                        except subprocess.TimeoutExpired:
                            continue
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out = "".join(lines)
    m = re.search(r"^BENCHJSON (\{.*\})$", out, re.MULTILINE)
    if not m:
        raise RuntimeError(f"unexpected wrk output ({proc.returncode}):\n{out}\n"
                           f"{proc.stderr.read() if proc.stderr else ''}")
    r = json.loads(m.group(1))
    r["statuses"] = {int(k): v for k, v in r["statuses"].items()}
    r["answered"] = sum(r["statuses"].values())
    # Sending to the last answer, from the Lua clock (LuaJIT FFI), else from ours.
    span_us = r["last_us"] - r["first_us"]
    r["seconds"] = span_us / 1e6 if r["first_us"] and span_us > 0 else (wall or 0.0)
    r["all_threads_finished"] = r["finished_threads"] == threads
    return r


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its children (uvicorn's supervisor and its workers)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            f = stat.read_text().rsplit(")", 1)[1].split()
            if int(stat.parent.name) == pid or int(f[1]) == pid:  # f[1]: parent pid
                total += int(f[11]) + int(f[12])
        except (OSError, ValueError, IndexError):
            continue
    return total / tick


# ----------------------------------------------------------------------------- checks

def db_counts(database_url: str, ballot_id: str) -> dict:
    from sqlalchemy import create_engine, text

    from app.config import async_database_url

    engine = create_engine(async_database_url(database_url).replace("+aiosqlite", ""))
    try:
        with engine.connect() as conn:
            def one(sql: str) -> int:
                return conn.execute(text(sql), {"r": ballot_id}).scalar_one()

            return {
                "participation": one("SELECT count(*) FROM ballot_participation "
                                     "WHERE round_id = :r"),
                "participants": one("SELECT count(DISTINCT user_id) FROM ballot_participation "
                                    "WHERE round_id = :r"),
                "envelopes": one("SELECT count(*) FROM ballot_envelope WHERE round_id = :r"),
                "filled": one("SELECT count(*) FROM ballot_content WHERE round_id = :r "
                              "AND filled"),
                "receipts": one("SELECT count(*) FROM ballot_receipt WHERE round_id = :r"),
                "distinct_receipts": one("SELECT count(DISTINCT digest) FROM ballot_receipt "
                                         "WHERE round_id = :r"),
            }
    finally:
        engine.dispose()


def close_and_tally(base: str, staff_token: str, ballot_id: str) -> dict:
    import httpx

    headers = {"Authorization": f"Bearer {staff_token}"}
    with httpx.Client(base_url=base + API, headers=headers, timeout=300) as http:
        for call in (lambda: http.post(f"/ballots/{ballot_id}/transitions",
                                       json={"to": "closed"}),
                     lambda: http.post(f"/ballots/{ballot_id}/tally")):
            r = call()
            if r.status_code != 200:
                raise RuntimeError(f"{r.request.url}: {r.status_code} {r.text}")
    return r.json()


def expected_counts(ballots: list[str], candidate_ids: list[str]) -> dict[str, tuple]:
    out = {}
    for k, cid in enumerate(candidate_ids):
        marks = [b[k] for b in ballots]
        out[cid] = (marks.count("y"), marks.count("n"), marks.count("a") + marks.count("-"))
    return out


# ----------------------------------------------------------------------------- main

def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--pg-server", default=os.environ.get("MINSHENG_TEST_PG", PG_SERVER_DEFAULT),
                   help=f"PostgreSQL server for --database postgresql ({PG_SERVER_DEFAULT})")
    p.add_argument("--server-workers", type=int,
                   help="uvicorn worker processes (default: 1 on SQLite, 2 on PostgreSQL)")
    p.add_argument("--deputies", type=int, default=3000,
                   help="deputies, each casting one ballot (3000)")
    p.add_argument("--candidates", type=int, default=30, help="candidates on the ballot (30)")
    p.add_argument("--seats", type=int,
                   help="seats S, the most 'yes' marks a ballot may carry (default: 2/3 of "
                        "the candidates, within the 差额 rule)")
    p.add_argument("--connections", type=int, default=64, help="concurrent connections (64)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    p.add_argument("--seed", type=int, default=2026, help="random seed of the ballots")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON here")
    args = p.parse_args(argv)
    if args.deputies < 3 or args.candidates < 2 or args.connections < 1 or args.threads < 1:
        p.error("--deputies >= 3, --candidates >= 2, --connections and --threads >= 1")
    workers = args.server_workers or (2 if args.database == "postgresql" else 1)
    seats = args.seats or max(1, args.candidates * 2 // 3)
    from app.workflows.candidate import required_candidates

    if required_candidates(seats, 0.2) > args.candidates:
        p.error(f"{seats} seats need at least {required_candidates(seats, 0.2)} candidates "
                "(差额 rule)")
    threads = min(args.threads, args.connections, args.deputies)
    connections = max(args.connections, threads)
    if not shutil.which("wrk"):
        p.error("wrk is not installed")

    run = BenchRun(args.database, args.pg_server, "minsheng-bbench-")
    procs, tmp, env, database_url = run.procs, run.tmp, run.env, run.database_url
    try:
        t0 = time.perf_counter()
        seeded = seed(env, args.deputies, args.candidates, seats)
        log(f"seeded {args.deputies:,} deputies, {args.candidates} reviewed candidates, a cycle "
            f"in 票决 in {time.perf_counter() - t0:.1f}s")

        port = free_port()
        log_path = tmp / "server.log"
        cmd = uvicorn_cmd("app.main:create_app", port, factory=True)
        cmd[cmd.index("--workers") + 1] = str(workers)
        proc = procs.start(cmd, env=env, log_path=log_path)
        base = f"http://127.0.0.1:{port}"
        for _ in range(10 * workers):  # answered on fresh connections: the workers are up
            wait_ready(proc, f"{base}/healthz", log_path)
        usernames = [u for u, _ in seeded["deputies"]]
        ballot_id, attendance_s = open_round(base, seeded["staff_token"], seeded["cycle_id"],
                                             seats, usernames)
        log(f"round {ballot_id} open: {len(usernames):,} present (recorded in bulk in "
            f"{attendance_s:.1f}s), S = {seats}")

        ballots = make_ballots(args.deputies, args.candidates, seats, args.seed)
        script = tmp / "cast.lua"
        write_lua(script, seeded["deputies"], ballots, seeded["candidate_ids"],
                  f"{API}/ballots/{ballot_id}/votes", threads)
        deadline = max(60, 30 + args.deputies // 20)
        log(f"casting: {args.deputies:,} ballots × {args.candidates} candidates, wrk -t{threads} "
            f"-c{connections}, {workers} uvicorn worker(s), database {args.database}")
        before, db_before = cpu_sample(proc.pid), postgres_cpu()
        server_before = tree_cpu(proc.pid)
        r = run_wrk(base, script, connections, threads, deadline)
        after, db_after = cpu_sample(proc.pid), postgres_cpu()
        server_s = tree_cpu(proc.pid) - server_before
        if proc.poll() is not None:
            raise RuntimeError(f"server died:\n{log_path.read_text(errors='replace')[-3000:]}")
        cpu = {}
        if before and after:
            wall = after["t"] - before["t"]
            db = db_after - db_before if args.database == "postgresql" else 0.0
            loadgen = after["loadgen"] - before["loadgen"]
            other = (after["machine"] - before["machine"]) - server_s - db - loadgen
            cpu = {"server_ms_per_ballot": server_s * 1000 / max(1, r["answered"]),
                   "db_ms_per_ballot": db * 1000 / max(1, r["answered"]),
                   "server_cores": server_s / wall, "db_cores": db / wall,
                   "wrk_cores": loadgen / wall, "other_cores": max(0.0, other / wall)}

        accepted = r["statuses"].get(201, 0)
        sealed = db_counts(database_url, ballot_id)  # the round still open
        closing = time.monotonic()
        results = close_and_tally(base, seeded["staff_token"], ballot_id)
        close_s = time.monotonic() - closing
        counts = db_counts(database_url, ballot_id)
        want = expected_counts(ballots, seeded["candidate_ids"])
        got = {c["id"]: (c["yes"], c["no"], c["abstain"]) for c in results["candidates"]}
        server_errors = log_path.read_text(errors="replace").count("Traceback")

        rate = accepted / r["seconds"] if r["seconds"] else 0.0
        p50, p99, worst = r["p50_us"] / 1000, r["p99_us"] / 1000, r["max_us"] / 1000
        lost = args.deputies - accepted
        same = (accepted == sealed["participation"] == sealed["participants"]
                == sealed["envelopes"] == counts["filled"] == counts["receipts"]
                == counts["distinct_receipts"] == results["cast"]) and counts["envelopes"] == 0
        marks_ok = accepted == args.deputies and got == want
        intact = same and marks_ok and lost == 0 and r["all_threads_finished"]

        print(f"\nminsheng ballots bench — {args.database}, {workers} uvicorn worker(s), "
              f"{os.cpu_count()} CPUs; {args.deputies:,} deputies × {args.candidates} candidates "
              f"(S = {seats}), wrk -t{threads} -c{connections}, each deputy once")
        print(f"  sent {r['answered']:,} answered in {r['seconds']:.2f}s: {rate:,.0f} ballots/s; "
              f"latency p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {worst:.1f} ms")
        print("  answers by status: " + ", ".join(f"{s}: {n:,}" for s, n in
                                                 sorted(r["statuses"].items()))
              + f"; socket errors {r['socket_errors']}; server tracebacks {server_errors}"
              + ("" if r["all_threads_finished"] else "; NOT every ballot was answered"))
        if cpu:
            print(f"  CPU per ballot: app {cpu['server_ms_per_ballot']:.2f} ms"
                  + (f", PostgreSQL {cpu['db_ms_per_ballot']:.2f} ms"
                     if args.database == "postgresql" else "")
                  + f"; cores busy: app {cpu['server_cores']:.2f}, database "
                  f"{cpu['db_cores']:.2f}, wrk {cpu['wrk_cores']:.2f}, other "
                  f"{cpu['other_cores']:.2f}")
        print(f"  database while open: participation rows {sealed['participation']:,} "
              f"({sealed['participants']:,} deputies), sealed envelopes {sealed['envelopes']:,}; "
              f"close and tally {close_s:.2f}s; after: envelopes {counts['envelopes']}, "
              f"filled slots {counts['filled']:,}, "
              f"receipts {counts['receipts']:,} ({counts['distinct_receipts']:,} distinct); "
              f"tally: cast {results['cast']:,}, valid {results['valid']:,}, "
              f"invalid {results['invalid']}; per-candidate yes/no/abstain "
              + ("== sent" if got == want else "DIFFER from what was sent"))
        checks = [
            (f"≥ {TARGET_BALLOTS_PER_S:,.0f} ballots/s", rate >= TARGET_BALLOTS_PER_S,
             f"{rate:,.0f}"),
            (f"p99 < {TARGET_P99_MS:g} ms", p99 < TARGET_P99_MS, f"{p99:.1f} ms"),
            ("nothing lost or doubled", intact,
             f"{accepted:,} of {args.deputies:,} accepted; 201s == participation == envelopes "
             f"== slots == receipts == cast: {'yes' if same else 'NO'}"),
        ]
        for name, ok, value in checks:
            print(f"  {verdict(ok):6}  {name:24} {value}")
        print()
        if cpu and cpu["other_cores"] > 0.2:
            log(f"warning: other processes used {cpu['other_cores']:.2f} cores during the run; "
                "the figures are noisy, rerun when the machine is idle")
        if args.json:
            Path(args.json).write_text(json.dumps({
                "meta": {"database": args.database, "server_workers": workers,
                         "deputies": args.deputies, "candidates": args.candidates,
                         "seats": seats, "connections": connections, "threads": threads,
                         "cpus": os.cpu_count(), "attendance_s": attendance_s},
                "load": {k: v for k, v in r.items() if k != "statuses"}
                | {"statuses": {str(k): v for k, v in r["statuses"].items()},
                   "ballots_per_s": rate, "cpu": cpu},
                "database": counts, "tally": {k: results[k] for k in
                                              ("cast", "valid", "invalid", "issued")},
                "targets": {name: {"met": ok, "value": value} for name, ok, value in checks},
            }, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            log(f"JSON written to {args.json}")
        return 0 if intact else 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        run.close()


if __name__ == "__main__":
    sys.exit(main())
