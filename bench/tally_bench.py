"""`minsheng tally` on a national-congress-sized bulletin: 3,000 ballots × 30 candidates.

Generates a bulletin (with its own results), then times the whole command — interpreter
start-up included — several times and prints the figures. Target: under 1 second.

    .venv/bin/python bench/tally_bench.py [--ballots 3000] [--candidates 30] [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.ballots.tally import Ballot, RoundFacts, tally  # noqa: E402


def make_bulletin(n_ballots: int, n_candidates: int, seats: int, seed: int = 1) -> dict:
    rng = random.Random(seed)
    cands = [{"id": f"{i:032x}", "title": f"候选项目{i}"} for i in range(1, n_candidates + 1)]
    popularity = [rng.random() for _ in cands]
    ballots = []
    for _ in range(n_ballots):
        marks = {}
        for c, p in zip(cands, popularity, strict=True):
            roll = rng.random()
            marks[c["id"]] = "yes" if roll < p * 0.7 else ("no" if roll < 0.9 else "abstain")
        yes = [k for k, v in marks.items() if v == "yes"]
        for k in yes[seats:]:  # keep most ballots valid
            marks[k] = "no"
        ballots.append({"marks": marks, "paper": False})
    ballots.sort(key=lambda b: json.dumps(b["marks"], sort_keys=True, separators=(",", ":")))
    head = {"id": "bench", "round": 1, "seats": seats, "total_deputies": n_ballots,
            "present": n_ballots, "issued": n_ballots, "threshold_base": "all", "secret": True}
    facts = RoundFacts("bench", 1, seats, n_ballots, n_ballots, n_ballots)
    results = tally(facts, [(c["id"], c["title"]) for c in cands],
                    [Ballot(b["marks"]) for b in ballots]).as_dict()
    return {"ballot": head, "candidates": cands, "receipts": [], "ballots": ballots,
            "results": results}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=3000)
    parser.add_argument("--candidates", type=int, default=30)
    parser.add_argument("--seats", type=int, default=20)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    command = str(Path(sys.executable).parent / "minsheng")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bulletin.json"
        path.write_text(json.dumps(make_bulletin(args.ballots, args.candidates, args.seats)),
                        encoding="utf-8")
        size_mb = path.stat().st_size / 1e6
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            r = subprocess.run([command, "tally", str(path)], capture_output=True, timeout=60)
            times.append(time.perf_counter() - start)
            if r.returncode != 0:
                print(r.stderr.decode(), file=sys.stderr)
                return 1
        empty = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], check=True)
            empty.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(f"minsheng tally: {args.ballots} ballots × {args.candidates} candidates "
          f"({size_mb:.1f} MB bulletin), {args.runs} runs, start-up included")
    print(f"  median {median * 1000:.0f} ms, min {min(times) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms  (bare python start-up: "
          f"{statistics.median(empty) * 1000:.0f} ms)")
    print(f"  target < 1000 ms: {'met' if max(times) < 1 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
