"""Reading a published bulletin (公告的计票清单) of either form: what `minsheng tally` and any
auditor's script do before recounting. Plain Python and json only, so it starts fast.

A bulletin (API.md) is a JSON object with a head — `"ballot"` for 票决, `"evaluation"` for 测评 —
the items on the paper (`"candidates"` or `"projects"`), every ballot with its marks (`"marks"` or
`"scores"`), `"paper"` and, when so, `"invalid"`, the sorted receipts and the published
`"results"`. The form is told by the head; counting the ballots into a decision is the stage's
(app/ballots/bulletin.py for 票决).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.ballotbox.forms import FORMS, BallotForm

BASES = ("all", "present", "cast")


class BulletinError(ValueError):
    """The file is not a bulletin: says where and what."""


@dataclass(frozen=True)
class ReadBallot:
    """One ballot as the bulletin lists it."""

    marks: dict
    paper: bool
    invalid: bool


@dataclass(frozen=True)
class ReadBulletin:
    """A bulletin, checked as far as every form's bulletin goes."""

    form: BallotForm
    head: dict  # as published; id, round, total_deputies, present, issued checked
    threshold_base: str
    items: list[tuple[str, str]]  # (id, title), in their places
    ballots: list[ReadBallot]
    results: dict | None


def whole_number(obj: dict, key: str, where: str, minimum: int = 0) -> int:
    """obj[key] as a whole number ≥ minimum, or BulletinError naming it."""
    value = obj.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise BulletinError(f"{where}.{key} must be a whole number ≥ {minimum}")
    return value


def read(data: Any) -> ReadBulletin:
    """The bulletin's form, head, items, ballots and (if present) its own results."""
    if not isinstance(data, dict):
        raise BulletinError("a bulletin is a JSON object")
    forms = [f for f in FORMS.values() if f.head_key in data]
    if len(forms) != 1:
        heads = " or ".join(f"'{f.head_key}'" for f in FORMS.values())
        raise BulletinError(f"missing the {heads} object")
    form = forms[0]
    head = data[form.head_key]
    if not isinstance(head, dict):
        raise BulletinError(f"missing the '{form.head_key}' object")
    where = form.head_key
    whole_number(head, "round", where, 1)
    whole_number(head, "total_deputies", where, 1)
    whole_number(head, "present", where)
    whole_number(head, "issued", where)
    base = head.get("threshold_base", "all")
    if base not in BASES:
        raise BulletinError(f"{where}.threshold_base must be 'all', 'present' or 'cast'")
    raw_items = data.get(form.items_key)
    if not isinstance(raw_items, list) or not raw_items:
        raise BulletinError(f"'{form.items_key}' must be a non-empty list")
    items = []
    for i, item in enumerate(raw_items):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise BulletinError(f"{form.items_key}[{i}] needs a string 'id'")
        items.append((item["id"], str(item.get("title", ""))))
    if len({item_id for item_id, _ in items}) != len(items):
        raise BulletinError(f"{form.items_key[:-1]} ids must be distinct")
    raw_ballots = data.get("ballots")
    if not isinstance(raw_ballots, list):
        raise BulletinError("'ballots' must be a list")
    ballots = []
    for i, b in enumerate(raw_ballots):
        if not isinstance(b, dict) or not isinstance(b.get(form.marks_key), dict):
            raise BulletinError(f"ballots[{i}] needs a '{form.marks_key}' object")
        ballots.append(ReadBallot(b[form.marks_key], bool(b.get("paper", False)),
                                  bool(b.get("invalid", False))))
    results = data.get("results")
    if results is not None and not isinstance(results, dict):
        raise BulletinError("'results' must be an object when present")
    return ReadBulletin(form, head, base, items, ballots, results)


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
