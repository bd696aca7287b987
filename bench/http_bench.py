#!/usr/bin/env python3
"""HTTP throughput of minsheng against FastAPI's hello world, under the same load, in one run.

Three endpoints, each served by its own single-worker uvicorn process (default loop/http
settings, so the same for all three), measured one after the other on 127.0.0.1:

  1. hello     GET /                    FastAPI's hello-world JSON (bench/hello_app.py), the reference
  2. home      GET /                    our home page (HTML; jurisdictions and cycles from the database)
  3. cycle     GET /api/v1/cycles/{id}  one cycle with its phase history (JSON)

2 and 3 run against a throwaway database (SQLite in a temp dir, or with --database postgresql a
throwaway PostgreSQL database) migrated with `minsheng db upgrade` and loaded with `minsheng demo`.
Load comes from wrk when it is installed, else from a bounded async httpx load generator.

    .venv/bin/python bench/http_bench.py --duration 5
    .venv/bin/python bench/http_bench.py --database postgresql --json /tmp/bench.json
"""

from __future__ import annotations

import argparse
import asyncio
import http.cookiejar
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
PG_SERVER_DEFAULT = "postgresql://postgres@127.0.0.1:5432"
READY_TIMEOUT = 30.0


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- processes

class Processes:
    """Every server this script starts; all of them are stopped by `stop_all`, whatever happens."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start(self, cmd: list[str], *, env: dict[str, str], log_path: Path) -> subprocess.Popen:
        with open(log_path, "wb") as out:
            # A session of its own: Ctrl-C in the terminal reaches only us, and we stop it.
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen, timeout: float = 10.0) -> None:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)  # the group of the process we started
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(5)
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in list(self.procs):
            try:
                self.stop(proc)
            except (OSError, subprocess.SubprocessError) as exc:  # stop the others too
                log(f"could not stop pid {proc.pid}: {exc}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BenchRun:
    """A bench run's servers, temp dir and migrated throwaway database (SQLite in the temp dir, or
    a PostgreSQL database on `pg_server`): `close()`, in the caller's `finally`, stops, drops and
    deletes all of it. SIGTERM and SIGHUP take the same way out as Ctrl-C (also in the
    background, where SIGINT is otherwise ignored)."""

    def __init__(self, database: str, pg_server: str, prefix: str) -> None:
        def _exit(signum, _frame):
            raise SystemExit(128 + signum)

        signal.signal(signal.SIGTERM, _exit)
        signal.signal(signal.SIGHUP, _exit)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        self.procs = Processes()
        self.tmp = Path(tempfile.mkdtemp(prefix=prefix))
        self.pg: PostgresDatabase | None = None
        try:
            if database == "postgresql":
                self.pg = PostgresDatabase(pg_server)
                self.pg.create()
                self.database_url = self.pg.url
            else:
                self.database_url = f"sqlite:///{self.tmp / 'bench.db'}"  # sqlite:////tmp/…
            self.env = app_env(self.database_url)
            log(f"database {self.database_url}: db upgrade")
            minsheng(["db", "upgrade"], self.env)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self.procs.stop_all()
        if self.pg is not None:
            import psycopg

            try:
                self.pg.drop()
            except psycopg.Error as exc:
                log(f"could not drop PostgreSQL database {self.pg.name}: {exc}")
        shutil.rmtree(self.tmp, ignore_errors=True)


def uvicorn_cmd(target: str, port: int, *, factory: bool = False,
                app_dir: Path | None = None) -> list[str]:
    cmd = [PYTHON, "-m", "uvicorn", target]
    if factory:
        cmd.append("--factory")
    if app_dir is not None:
        cmd += ["--app-dir", str(app_dir)]
    # No --loop/--http: uvicorn's defaults ("auto") for all three servers alike.
    return cmd + ["--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                  "--no-access-log", "--log-level", "warning"]


def wait_ready(proc: subprocess.Popen, url: str, log_path: Path) -> None:
    import httpx

    deadline = time.monotonic() + READY_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {proc.returncode}:\n"
                               f"{log_path.read_text(errors='replace')[-3000:]}")
        try:
            r = httpx.get(url, timeout=2.0)
            if r.status_code == 200:
                return
            last = f"HTTP {r.status_code}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.1)
    raise RuntimeError(f"server for {url} not ready after {READY_TIMEOUT:.0f}s ({last}):\n"
                       f"{log_path.read_text(errors='replace')[-3000:]}")


def tree_cpu_ticks(pid: int) -> int:
    """utime + stime of `pid` and of every process below it (uvicorn --workers N serves from
    children of its supervisor), plus what their reaped children used. Raises OSError if `pid`
    is gone."""
    stats: dict[int, tuple[int, int]] = {}  # pid → (parent, ticks)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            f = stat.read_text().rsplit(")", 1)[1].split()
            stats[int(stat.parent.name)] = (int(f[1]), sum(int(x) for x in f[11:15]))
        except (OSError, ValueError, IndexError):
            continue
    if pid not in stats:
        raise OSError(f"no process {pid}")
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += stats[p][1]
        todo.extend(c for c, (parent, _) in stats.items() if parent == p)
    return total


def cpu_sample(pid: int) -> dict | None:
    """CPU seconds so far: the server process, our load generator (wrk is a waited child, or
    this process for httpx) and the whole machine (busy time from /proc/stat). Linux only."""
    try:
        tick = os.sysconf("SC_CLK_TCK")
        server = tree_cpu_ticks(pid) / tick
        cpu = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        machine = (sum(cpu[:8]) - cpu[3] - cpu[4]) / tick  # all but idle and iowait
    except (OSError, ValueError, IndexError):
        return None
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    loadgen = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    return {"t": time.monotonic(), "server": server, "loadgen": loadgen, "machine": machine}


def cpu_usage(before: dict | None, after: dict | None, requests: int) -> dict:
    if not before or not after:
        return {}
    wall = after["t"] - before["t"]
    server = after["server"] - before["server"]
    loadgen = after["loadgen"] - before["loadgen"]
    other = max(0.0, (after["machine"] - before["machine"]) - server - loadgen)
    return {"server_cpu_cores": round(server / wall, 2),
            "server_cpu_ms_per_request": round(server * 1000 / requests, 3) if requests else None,
            "loadgen_cpu_cores": round(loadgen / wall, 2),
            # Everything else on the machine (with PostgreSQL, the database server too).
            "other_cpu_cores": round(other / wall, 2)}


# ----------------------------------------------------------------------------- databases

def app_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINSHENG_")}
    env.update({
        "MINSHENG_DATABASE_URL": database_url,
        "MINSHENG_ENV": "test",
        "MINSHENG_SECRET_KEY": secrets.token_urlsafe(48),  # 64 characters
        "MINSHENG_RATE_LIMIT_URL": "memory://",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def minsheng(args: list[str], env: dict[str, str]) -> None:
    exe = VENV_BIN / "minsheng"
    cmd = [str(exe)] if exe.exists() else [PYTHON, "-m", "app.cli"]
    done = subprocess.run(cmd + args, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"`minsheng {' '.join(args)}` failed ({done.returncode}):\n"
                           f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}")


class PostgresDatabase:
    """A throwaway database on a local PostgreSQL server, dropped afterwards."""

    def __init__(self, server: str) -> None:
        self.server = server.rstrip("/")
        self.name = f"minsheng_bench_{secrets.token_hex(4)}"
        self.created = False

    @property
    def url(self) -> str:
        return f"{self.server}/{self.name}"

    def _admin(self):
        import psycopg

        return psycopg.connect(f"{self.server}/postgres", autocommit=True, connect_timeout=5)

    def create(self) -> None:
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        self.created = True

    def drop(self) -> None:
        if not self.created:
            return
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.created = False


# ----------------------------------------------------------------------------- load

@dataclass
class Result:
    endpoint: str
    url: str
    requests_per_sec: float
    p50_ms: float | None
    p99_ms: float | None
    requests: int = 0
    errors: int = 0
    response_bytes: int = 0
    ratio: float | None = None
    extra: dict = field(default_factory=dict)


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"cannot read latency {text!r}")
    return float(m.group(1)) * _UNIT_MS[m.group(2)]


def parse_wrk(out: str) -> dict:
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.MULTILINE)
    if not rps:
        raise RuntimeError(f"no Requests/sec in wrk output:\n{out}")
    pct = {m.group(1): _ms(m.group(2))
           for m in re.finditer(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.MULTILINE)}
    total = re.search(r"^\s+(\d+) requests in", out, re.MULTILINE)
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if non2xx:
        errors += int(non2xx.group(1))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors += sum(int(x) for x in sock.groups())
    return {"rps": float(rps.group(1)), "p50": pct.get("50"), "p99": pct.get("99"),
            "requests": int(total.group(1)) if total else 0, "errors": errors}


def run_wrk(url: str, seconds: float, connections: int, threads: int,
            headers: dict[str, str] | None = None) -> dict:
    secs = max(1, round(seconds))
    cmd = [shutil.which("wrk") or "wrk", f"-t{threads}", f"-c{connections}", f"-d{secs}s",
           "--latency", "--timeout", "10s", url]
    for name, value in (headers or {}).items():
        cmd[1:1] = ["-H", f"{name}: {value}"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 30, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


async def _httpx_load(url: str, seconds: float, connections: int,
                      headers: dict[str, str] | None = None) -> dict:
    import httpx

    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    # Like wrk, keep no cookies: every request is a first visit (no session, no CSRF cookie).
    no_cookies = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    async with httpx.AsyncClient(limits=limits, timeout=10.0, cookies=no_cookies) as client:
        start = time.perf_counter()
        deadline = start + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                try:
                    r = await client.get(url, headers=headers)
                    await r.aread()
                    ok = r.status_code < 400
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append((time.perf_counter() - t0) * 1000)
                else:
                    errors += 1

        tasks = [asyncio.create_task(worker()) for _ in range(connections)]
        try:
            # Bounded: each request has a 10 s timeout, and we never wait past deadline + 15 s.
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=seconds + 15)
        except TimeoutError:
            pass
        elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float | None:
        if not latencies:
            return None
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))]

    return {"rps": len(latencies) / elapsed, "p50": pct(50), "p99": pct(99),
            "requests": len(latencies) + errors, "errors": errors}


def run_httpx(url: str, seconds: float, connections: int, threads: int,
              headers: dict[str, str] | None = None) -> dict:
    return asyncio.run(_httpx_load(url, seconds, connections, headers))


# ----------------------------------------------------------------------------- the run

@dataclass
class Target:
    name: str
    label: str
    cmd: list[str]
    env: dict[str, str]
    path: str
    port: int
    headers: dict[str, str] | None = None  # e.g. a logged-in session's Cookie


def measure(target: Target, procs: Processes, tmp: Path, load, args) -> Result:
    import httpx

    log_path = tmp / f"{target.name}.log"
    url = f"http://127.0.0.1:{target.port}{target.path}"
    log(f"{target.name}: starting {' '.join(target.cmd[2:4])} on port {target.port}")
    proc = procs.start(target.cmd, env=target.env, log_path=log_path)
    try:
        # a page for logged-in people only answers anonymous probes with a redirect
        wait_ready(proc, url if not target.headers else
                   f"http://127.0.0.1:{target.port}/healthz", log_path)
        probe = httpx.get(url, timeout=5.0, headers=target.headers)
        size = len(probe.content)
        more = {"headers": target.headers} if target.headers else {}
        if args.warmup > 0:
            log(f"{target.name}: warm-up {args.warmup:g}s")
            load(url, args.warmup, args.connections, args.threads, **more)
        log(f"{target.name}: measuring {args.duration:g}s, {args.connections} connections")
        before = cpu_sample(proc.pid)
        r = load(url, args.duration, args.connections, args.threads, **more)
        cpu = cpu_usage(before, cpu_sample(proc.pid), r["requests"])
        if proc.poll() is not None:
            raise RuntimeError(f"{target.name} server died during the run:\n"
                               f"{log_path.read_text(errors='replace')[-3000:]}")
    finally:
        procs.stop(proc)
    return Result(endpoint=target.label, url=url, requests_per_sec=r["rps"], p50_ms=r["p50"],
                  p99_ms=r["p99"], requests=r["requests"], errors=r["errors"],
                  response_bytes=size, extra=cpu)


def discover_cycle_id(env: dict[str, str], procs: Processes, tmp: Path) -> str:
    import httpx

    port = free_port()
    log_path = tmp / "discover.log"
    proc = procs.start(uvicorn_cmd("app.main:create_app", port, factory=True), env=env,
                       log_path=log_path)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(proc, f"{base}/healthz", log_path)
        items = httpx.get(f"{base}/api/v1/cycles", timeout=10.0).raise_for_status().json()["items"]
        # The demo's county year in 征集 (beside its finished year and the townships' years).
        items = [c for c in items if c["jurisdiction_code"] == "lezhi" and c["phase"] == "soliciting"]
        if not items:
            raise RuntimeError("GET /api/v1/cycles returned no 乐至县 cycle in 征集 after "
                               "`minsheng demo`")
        cycle_id = items[0]["id"]
        for path in ("/", f"/api/v1/cycles/{cycle_id}"):
            httpx.get(base + path, timeout=10.0).raise_for_status()
        return cycle_id
    finally:
        procs.stop(proc)


def fmt_ms(v: float | None) -> str:
    return "-" if v is None else (f"{v:.2f} ms" if v < 100 else f"{v:.0f} ms")


def print_table(results: list[Result], meta: dict) -> None:
    print(f"\nminsheng HTTP bench — {meta['loadgen']}, {meta['connections']} connections, "
          f"{meta['duration_s']:g}s each (+{meta['warmup_s']:g}s warm-up), database "
          f"{meta['database']}, 1 uvicorn worker, {meta['cpus']} CPUs"
          + (f", data version in {meta['data_version']}" if meta.get("data_version") else ""))
    head = ("endpoint", "req/s", "p50", "p99", "vs hello", "server CPU/req", "errors")
    rows = [(r.endpoint, f"{r.requests_per_sec:,.0f}", fmt_ms(r.p50_ms), fmt_ms(r.p99_ms),
             "-" if r.ratio is None else f"{r.ratio:.2f}×",
             fmt_ms(r.extra.get("server_cpu_ms_per_request")), str(r.errors)) for r in results]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]

    def line(cells) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    print(line(head))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))
    print()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=10.0, help="seconds of load per endpoint (10)")
    p.add_argument("--connections", type=int, default=64, help="concurrent connections (64)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    p.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per server (2)")
    p.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--pg-server", default=os.environ.get("MINSHENG_TEST_PG", PG_SERVER_DEFAULT),
                   help=f"PostgreSQL server for --database postgresql ({PG_SERVER_DEFAULT})")
    p.add_argument("--loadgen", choices=("auto", "wrk", "httpx"), default="auto",
                   help="load generator: wrk if installed (auto), or the async httpx fallback")
    p.add_argument("--json", metavar="FILE", help="write the JSON results here instead of stdout")
    args = p.parse_args(argv)
    if args.duration <= 0 or args.connections <= 0 or args.warmup < 0:
        p.error("--duration and --connections must be positive, --warmup not negative")
    args.threads = min(args.threads, args.connections)

    use_wrk = args.loadgen == "wrk" or (args.loadgen == "auto" and shutil.which("wrk"))
    if args.loadgen == "wrk" and not shutil.which("wrk"):
        p.error("wrk is not installed")
    load = run_wrk if use_wrk else run_httpx
    if not use_wrk:
        log("wrk not used: the in-process httpx load generator saturates long before a fast "
            "server does: hello world is understated and the ratios overstated")

    run = BenchRun(args.database, args.pg_server, "minsheng-bench-")
    procs, tmp, env = run.procs, run.tmp, run.env
    try:
        minsheng(["demo"], env)
        cycle_id = discover_cycle_id(env, procs, tmp)
        log(f"demo cycle {cycle_id}")

        hello_env = {k: v for k, v in os.environ.items() if not k.startswith("MINSHENG_")}
        targets = [
            Target("hello", "hello world  GET / (FastAPI)",
                   uvicorn_cmd("hello_app:app", port := free_port(), app_dir=BENCH_DIR),
                   hello_env, "/", port),
            Target("home", "home page    GET /",
                   uvicorn_cmd("app.main:create_app", port := free_port(), factory=True),
                   env, "/", port),
            Target("cycle", "cycle JSON   GET /api/v1/cycles/{id}",
                   uvicorn_cmd("app.main:create_app", port := free_port(), factory=True),
                   env, f"/api/v1/cycles/{cycle_id}", port),
        ]
        results = [measure(t, procs, tmp, load, args) for t in targets]
        base = results[0].requests_per_sec
        for r in results:
            r.ratio = r.requests_per_sec / base if base else None

        import uvicorn

        meta = {
            "loadgen": (f"wrk -t{args.threads} -c{args.connections}" if use_wrk
                        else "httpx (async, in-process)"),
            "connections": args.connections, "duration_s": args.duration,
            "warmup_s": args.warmup, "database": args.database, "cpus": os.cpu_count(),
            "python": platform.python_version(), "uvicorn": uvicorn.__version__,
        }
        print_table(results, meta)
        # With PostgreSQL, "other" CPU includes the database server working for the app.
        busy = [r for i, r in enumerate(results)
                if (r.extra.get("other_cpu_cores") or 0) > 0.2
                and (i == 0 or args.database == "sqlite")]
        if busy:
            log("warning: other processes used CPU during the run ("
                + ", ".join(f"{r.endpoint.split()[0]}: {r.extra['other_cpu_cores']:.2f} cores"
                            for r in busy)
                + "); the figures are noisy, rerun when the machine is idle")
        for r in results:
            if r.errors:
                log(f"warning: {r.endpoint.split()[0]} had {r.errors} errors or non-2xx answers")
        payload = json.dumps({"meta": meta, "results": [asdict(r) for r in results]},
                             ensure_ascii=False, indent=2)
        if args.json:
            Path(args.json).write_text(payload + "\n", encoding="utf-8")
            log(f"JSON written to {args.json}")
        else:
            print(payload)
        return 0
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        run.close()


if __name__ == "__main__":
    sys.exit(main())
