#!/usr/bin/env python3
"""Large photo uploads against one worker: its memory, and the ballots cast meanwhile.

Issue 14, finding 1: a 6300×6300 RGBA PNG is 150 KB on disk and 159 MB decoded. Six concurrent
uploads of three such photos took one worker from 246 MB to 4,030 MB (it stayed at 3.5 GB), and
on SQLite the decoding held the write lock: during two uploads, 120 concurrent casts got 2 × 503
and a p95 of 10.9 s.

One run: a throwaway database (SQLite in a temp dir, or with --database postgresql a throwaway
PostgreSQL database, dropped afterwards) gets `minsheng db upgrade`, a jurisdiction with
deputies, a cycle in 票决 with reviewed candidates and an open round (bench/ballots_bench.py's
seeding), and one resident's submitted proposals to attach photos to. Then, for each kind of
photo (--kinds), a fresh single-worker uvicorn and three measurements:

  casts alone     --casts deputies cast at once (each once), nothing else running
  memory          --uploads concurrent uploads of 3 photos each: the worker's RSS before, its
                  peak (VmHWM) and its RSS 3 s after the last answer
  casts + upload  --during uploads of 3 photos and, 0.2 s after they start, --casts casts

Kinds: `review` the review's 6300×6300 RGBA PNG (150 KB); `png` 4096×4096 RGBA, the largest
PNG decoded whole (the limit since this issue); `jpeg` an 8000×6000 JPEG (48 MP, a phone's
largest full-resolution photo, under 8 MB).

    .venv/bin/python bench/photos_bench.py                          # SQLite
    .venv/bin/python bench/photos_bench.py --database postgresql
    .venv/bin/python bench/photos_bench.py --kinds review --app-dir /tmp/before   # older code

--app-dir serves the `app` package of another checkout (e.g. `git archive` of an older commit,
with this checkout's node_modules linked into it) to measure before and after a change.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import statistics
import struct
import sys
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ballots_bench import make_ballots, open_round, seed  # noqa: E402
from http_bench import (  # noqa: E402  (bench/http_bench.py: the shared machinery)
    PG_SERVER_DEFAULT,
    BenchRun,
    free_port,
    log,
    uvicorn_cmd,
    wait_ready,
)

API = "/api/v1"
PHOTOS_PER_UPLOAD = 3
KINDS = ("review", "png", "jpeg")


# ----------------------------------------------------------------------------- photos

def _chunk(kind: bytes, body: bytes) -> bytes:
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))


def blank_png(width: int, height: int) -> bytes:
    """A valid RGBA PNG of transparent pixels, written row by row (never whole in memory)."""
    z = zlib.compressobj(9)
    row = b"\0" * (1 + 4 * width)
    data = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    return (b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + _chunk(b"IDAT", data) + _chunk(b"IEND", b""))


def phone_jpeg(width: int = 8000, height: int = 6000) -> bytes:
    """A photo-like JPEG (gradients and noise) under the 8 MB upload limit."""
    from PIL import Image

    noise = Image.effect_noise((width // 4, height // 4), 40).resize((width, height))
    ramp = Image.linear_gradient("L")
    image = Image.merge("RGB", (noise, ramp.resize((width, height)),
                                ramp.transpose(Image.Transpose.ROTATE_90).resize((width, height))))
    for quality in (85, 75, 65, 50):
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=quality)
        if out.tell() <= 8 * 1024 * 1024:
            return out.getvalue()
    raise RuntimeError("could not make a JPEG under 8 MB")


def make_photo(kind: str) -> tuple[str, bytes, str]:
    if kind == "review":
        return "review.png", blank_png(6300, 6300), "image/png"
    if kind == "png":
        return "largest.png", blank_png(4096, 4096), "image/png"
    return "phone.jpg", phone_jpeg(), "image/jpeg"


# ----------------------------------------------------------------------------- seeding

async def _seed_proposals(env: dict[str, str], cycle_id: str, count: int) -> tuple[str, list]:
    """A resident and `count` submitted proposals of theirs, inserted directly."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from app.auth.roles import Role
    from app.auth.tokens import issue_token
    from app.config import Settings
    from app.db import make_engine
    from app.models import Proposal, User

    settings = Settings(env="test", database_url=env["MINSHENG_DATABASE_URL"],
                        secret_key=env["MINSHENG_SECRET_KEY"], rate_limit_url="memory://")
    engine = make_engine(settings)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            resident = User(username="bench-resident", display_name="基准测试居民",
                            role=Role.resident, jurisdiction_code="bench", password_hash="!")
            session.add(resident)
            await session.flush()
            proposals = [Proposal(cycle_id=cycle_id, title=f"照片基准测试建议{i}",
                                  description="基准测试：带照片的建议。", category="交通出行",
                                  location_code="bench", channel="online", state="submitted",
                                  proposer_id=resident.id) for i in range(count)]
            session.add_all(proposals)
            await session.commit()
    finally:
        await engine.dispose()
    return (issue_token(settings, resident.id, resident.token_version),
            [p.id for p in proposals])


# ----------------------------------------------------------------------------- measuring

def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS since start) of a process, in MB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) // 1024
    return out


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def upload(http, token: str, pid: str, photo: tuple[str, bytes, str]) -> tuple[int, float]:
    t0 = time.perf_counter()
    r = await http.post(f"{API}/proposals/{pid}/photos",
                        headers={"Authorization": f"Bearer {token}"},
                        files=[("files", photo)] * PHOTOS_PER_UPLOAD)
    return r.status_code, time.perf_counter() - t0


async def cast(http, token: str, path: str, marks: dict) -> tuple[int, float]:
    t0 = time.perf_counter()
    r = await http.post(path, headers={"Authorization": f"Bearer {token}"},
                        json={"marks": marks})
    return r.status_code, time.perf_counter() - t0


def summarise(results: list[tuple[int, float]]) -> dict:
    times = [t for _, t in results]
    statuses: dict[int, int] = {}
    for status, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    return {"n": len(results), "statuses": statuses,
            "p50_s": statistics.median(times) if times else 0.0, "p95_s": pct(times, 95),
            "max_s": max(times, default=0.0), "busy_503": statuses.get(503, 0)}


class Deputies:
    """Each deputy casts once: hands out the next ones with their ballots."""

    def __init__(self, deputies: list[tuple[str, str]], ballots: list[str], cids: list[str]):
        self.rest = list(zip((t for _, t in deputies), ballots, strict=True))
        self.cids = cids

    def take(self, n: int) -> list[tuple[str, dict]]:
        if n > len(self.rest):
            raise RuntimeError("not enough deputies left: raise --deputies")
        taken, self.rest = self.rest[:n], self.rest[n:]
        names = {"y": "yes", "n": "no", "a": "abstain"}
        return [(token, {cid: names[m] for cid, m in zip(self.cids, ballot, strict=True)
                         if m in names}) for token, ballot in taken]


async def scenario(base: str, pid: int, *, casts: list[tuple[str, dict]], vote_path: str,
                   uploads: list[str], token: str, photo, cast_delay: float) -> dict:
    import httpx

    limits = httpx.Limits(max_connections=len(casts) + len(uploads) + 4)
    async with httpx.AsyncClient(base_url=base, timeout=300, limits=limits) as http:
        before = proc_status(pid)
        t0 = time.perf_counter()
        up = [asyncio.create_task(upload(http, token, p, photo)) for p in uploads]
        if up and casts:
            await asyncio.sleep(cast_delay)
        votes = await asyncio.gather(*(cast(http, t, vote_path, m) for t, m in casts))
        ups = await asyncio.gather(*up)
        wall = time.perf_counter() - t0
        after = proc_status(pid)
        if uploads:
            await asyncio.sleep(3)
        settled = proc_status(pid)
    return {"casts": summarise(votes) if casts else None,
            "uploads": summarise(ups) if uploads else None, "wall_s": wall,
            "rss_before_mb": before["VmRSS"], "peak_mb": after["VmHWM"],
            "rss_after_mb": after["VmRSS"], "rss_settled_mb": settled["VmRSS"]}


# ----------------------------------------------------------------------------- main

def fmt_casts(c: dict | None) -> str:
    if not c:
        return "—"
    by = ", ".join(f"{s}: {n}" for s, n in sorted(c["statuses"].items()))
    return (f"p50 {c['p50_s'] * 1000:,.0f} ms, p95 {c['p95_s'] * 1000:,.0f} ms, "
            f"max {c['max_s'] * 1000:,.0f} ms; {c['busy_503']} × 503 ({by})")


def fmt_uploads(u: dict | None) -> str:
    if not u:
        return "—"
    by = ", ".join(f"{s}: {n}" for s, n in sorted(u["statuses"].items()))
    return f"{u['n']} uploads ({by}), slowest {u['max_s']:.1f} s"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--pg-server", default=os.environ.get("MINSHENG_TEST_PG", PG_SERVER_DEFAULT),
                   help=f"PostgreSQL server for --database postgresql ({PG_SERVER_DEFAULT})")
    p.add_argument("--kinds", default=",".join(KINDS),
                   help=f"photo kinds to measure, comma-separated ({','.join(KINDS)})")
    p.add_argument("--uploads", type=int, default=6,
                   help="concurrent uploads of 3 photos in the memory measurement (6)")
    p.add_argument("--during", type=int, default=2,
                   help="uploads of 3 photos while the deputies cast (2)")
    p.add_argument("--casts", type=int, default=120, help="concurrent casts (120)")
    p.add_argument("--app-dir", type=Path,
                   help="serve the `app` package of this directory instead (older code)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON here")
    args = p.parse_args(argv)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    if not kinds or any(k not in KINDS for k in kinds):
        p.error(f"--kinds: some of {', '.join(KINDS)}")
    if args.uploads < 1 or args.during < 0 or args.casts < 1:
        p.error("--uploads and --casts >= 1, --during >= 0")

    run = BenchRun(args.database, args.pg_server, "minsheng-photobench-")
    procs, tmp, env = run.procs, run.tmp, run.env
    env["MINSHENG_MEDIA_DIR"] = str(tmp / "media")
    try:
        deputies = len(kinds) * 2 * args.casts
        candidates, seats = 10, 6
        t0 = time.perf_counter()
        seeded = seed(env, deputies, candidates, seats)
        per_kind = args.uploads + args.during
        token, proposals = asyncio.run(_seed_proposals(env, seeded["cycle_id"],
                                                       len(kinds) * per_kind))
        log(f"seeded {deputies} deputies, {candidates} candidates, {len(proposals)} proposals "
            f"in {time.perf_counter() - t0:.1f}s")
        ballots = make_ballots(deputies, candidates, seats, 2026)
        voters = Deputies(seeded["deputies"], ballots, seeded["candidate_ids"])
        round_opened = False
        results = {}
        for kind in kinds:
            photo = make_photo(kind)
            port = free_port()
            log_path = tmp / f"server-{kind}.log"
            proc = procs.start(uvicorn_cmd("app.main:create_app", port, factory=True,
                                           app_dir=args.app_dir), env=env, log_path=log_path)
            base = f"http://127.0.0.1:{port}"
            wait_ready(proc, f"{base}/healthz", log_path)
            if not round_opened:
                ballot_id, _ = open_round(base, seeded["staff_token"], seeded["cycle_id"], seats,
                                          [u for u, _ in seeded["deputies"]])
                round_opened = True
            vote_path = f"{API}/ballots/{ballot_id}/votes"
            mine, proposals = proposals[:per_kind], proposals[per_kind:]
            log(f"{kind}: {photo[0]}, {len(photo[1]):,} bytes; casts alone")
            alone = asyncio.run(scenario(base, proc.pid, casts=voters.take(args.casts),
                                         vote_path=vote_path, uploads=[], token=token,
                                         photo=photo, cast_delay=0))
            log(f"{kind}: {args.uploads} concurrent uploads × {PHOTOS_PER_UPLOAD} photos")
            memory = asyncio.run(scenario(base, proc.pid, casts=[], vote_path=vote_path,
                                          uploads=mine[:args.uploads], token=token,
                                          photo=photo, cast_delay=0))
            log(f"{kind}: {args.casts} casts during {args.during} uploads")
            during = asyncio.run(scenario(base, proc.pid, casts=voters.take(args.casts),
                                          vote_path=vote_path, uploads=mine[args.uploads:],
                                          token=token, photo=photo, cast_delay=0.2))
            tracebacks = log_path.read_text(errors="replace").count("Traceback")
            procs.stop(proc)
            results[kind] = {"photo": {"name": photo[0], "bytes": len(photo[1])},
                             "casts_alone": alone, "memory": memory, "during": during,
                             "server_tracebacks": tracebacks}

        print(f"\nminsheng photos bench — {args.database}, 1 uvicorn worker, {os.cpu_count()} "
              f"CPUs{', app from ' + str(args.app_dir) if args.app_dir else ''}")
        for kind, r in results.items():
            m, d = r["memory"], r["during"]
            print(f"  {kind}: {r['photo']['name']} ({r['photo']['bytes']:,} bytes)")
            print(f"    memory, {fmt_uploads(m['uploads'])}: RSS {m['rss_before_mb']:,} MB → "
                  f"peak {m['peak_mb']:,} MB, {m['rss_settled_mb']:,} MB 3 s later")
            print(f"    {args.casts} casts alone: {fmt_casts(r['casts_alone']['casts'])}")
            print(f"    {args.casts} casts during {fmt_uploads(d['uploads'])}: "
                  f"{fmt_casts(d['casts'])}")
            if r["server_tracebacks"]:
                print(f"    server tracebacks: {r['server_tracebacks']}")
        print()
        if args.json:
            Path(args.json).write_text(json.dumps(
                {"meta": {"database": args.database, "casts": args.casts,
                          "uploads": args.uploads, "during": args.during,
                          "app_dir": str(args.app_dir or "")}, "kinds": results},
                indent=2, default=str) + "\n", encoding="utf-8")
            log(f"JSON written to {args.json}")
        return 0
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        run.close()


if __name__ == "__main__":
    sys.exit(main())
