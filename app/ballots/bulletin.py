"""Read a published bulletin (公告的计票清单) and recompute its results: what `minsheng tally`
and any auditor's script do. Plain Python and json only, so it starts fast."""

from __future__ import annotations

from typing import Any

from app.ballots.tally import Ballot, RoundFacts, tally


class BulletinError(ValueError):
    """The file is not a bulletin: says where and what."""


def _int(obj: dict, key: str, where: str, minimum: int = 0) -> int:
    value = obj.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise BulletinError(f"{where}.{key} must be a whole number ≥ {minimum}")
    return value


def parse(data: Any) -> tuple[RoundFacts, list[tuple[str, str]], list[Ballot], dict | None]:
    """The round's facts, candidates, ballots and (if present) its own results."""
    if not isinstance(data, dict):
        raise BulletinError("a bulletin is a JSON object")
    head = data.get("ballot")
    if not isinstance(head, dict):
        raise BulletinError("missing the 'ballot' object")
    base = head.get("threshold_base", "all")
    if base not in ("all", "present", "cast"):
        raise BulletinError("ballot.threshold_base must be 'all', 'present' or 'cast'")
    facts = RoundFacts(ballot_id=str(head.get("id", "")), round=_int(head, "round", "ballot", 1),
                       seats=_int(head, "seats", "ballot", 1),
                       total_deputies=_int(head, "total_deputies", "ballot", 1),
                       present=_int(head, "present", "ballot"),
                       issued=_int(head, "issued", "ballot"), threshold_base=base)
    raw_candidates = data.get("candidates")
    if not isinstance(raw_candidates, list) or not raw_candidates:
        raise BulletinError("'candidates' must be a non-empty list")
    candidates = []
    for i, c in enumerate(raw_candidates):
        if not isinstance(c, dict) or not isinstance(c.get("id"), str):
            raise BulletinError(f"candidates[{i}] needs a string 'id'")
        candidates.append((c["id"], str(c.get("title", ""))))
    if len({cid for cid, _ in candidates}) != len(candidates):
        raise BulletinError("candidate ids must be distinct")
    raw_ballots = data.get("ballots")
    if not isinstance(raw_ballots, list):
        raise BulletinError("'ballots' must be a list")
    ballots = []
    for i, b in enumerate(raw_ballots):
        if not isinstance(b, dict) or not isinstance(b.get("marks"), dict):
            raise BulletinError(f"ballots[{i}] needs a 'marks' object")
        ballots.append(Ballot(marks=b["marks"], paper=bool(b.get("paper", False)),
                              invalid=bool(b.get("invalid", False))))
    results = data.get("results")
    if results is not None and not isinstance(results, dict):
        raise BulletinError("'results' must be an object when present")
    return facts, candidates, ballots, results


def recompute(data: Any) -> tuple[dict, dict | None]:
    """(recomputed results, the bulletin's own results or None)."""
    facts, candidates, ballots, published = parse(data)
    return tally(facts, candidates, ballots).as_dict(), published


def differences(expected: Any, actual: Any, path: str = "results") -> list[str]:
    """Where two JSON values differ, as readable paths."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual)):
            if key not in actual:
                out.append(f"{path}.{key}: missing from the recomputed results")
            elif key not in expected:
                out.append(f"{path}.{key}: missing from the bulletin")
            else:
                out.extend(differences(expected[key], actual[key], f"{path}.{key}"))
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{path}: {len(expected)} items published, {len(actual)} recomputed"]
        out = []
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            label = e.get("id", i) if isinstance(e, dict) else i
            out.extend(differences(e, a, f"{path}[{label}]"))
        return out
    if expected != actual or type(expected) is not type(actual):
        return [f"{path}: published {expected!r}, recomputed {actual!r}"]
    return []
