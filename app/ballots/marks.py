"""A ballot's marks (选票标记): their canonical form, the aliases written on paper or exported by
a device, and the checks on them (选举法 art. 44).

A leaf module: it imports no other module of app/ballots.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from app.errors import Invalid

# A mark as written on paper or exported by a device → the stored mark; "" is unmarked.
MARK_ALIASES = {"yes": "yes", "赞成": "yes", "no": "no", "反对": "no",
                "abstain": "abstain", "弃权": "abstain", "": "abstain"}


def canonical(marks: dict[str, str]) -> str:
    """The canonical JSON of a ballot's marks: keys sorted, no spaces (API.md)."""
    return json.dumps(marks, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def check_marks(seats: int, on_paper: set[str] | frozenset[str], marks: dict[str, str]) -> None:
    """Marks only for candidates on the paper, never more 赞成 than seats (选举法 art. 44)."""
    unknown = [cid for cid in marks if cid not in on_paper]
    if unknown:
        raise Invalid(f"Not on this round's ballot: {', '.join(unknown)}.",
                      code="unknown_candidate", zh="选票上没有该候选项目。")
    yes = sum(1 for m in marks.values() if m == "yes")
    if yes > seats:
        raise Invalid(f"{yes} 'yes' marks for {seats} seats: at most {seats}.",
                      code="too_many_yes",
                      zh=f"赞成票不能超过应选项目数 {seats} 个，您选了 {yes} 个。"
                         "请把多出的改为反对或弃权。")


def normalise_marks(marks: Mapping[str, str], candidate_ids: Sequence[str]) -> dict[str, str]:
    """{candidate_id: yes/no/abstain} for every candidate (unmarked = abstain), or 422."""
    unknown = [cid for cid in marks if cid not in candidate_ids]
    if unknown:
        raise Invalid(f"Not on this round's ballot: {', '.join(unknown[:5])}.",
                      code="unknown_candidate", zh="选票上没有该候选项目。")
    full = {}
    for cid in candidate_ids:
        raw = marks.get(cid, "")
        mark = MARK_ALIASES.get(raw.strip().lower() if isinstance(raw, str) else None)
        if mark is None:
            raise Invalid(f"'{str(raw)[:20]}' is not a mark; use yes, no or abstain.",
                          code="invalid_mark", zh="标记只能是赞成、反对或弃权。")
        full[cid] = mark
    return full


def is_invalid(marks: Mapping[str, str], seats: int, spoilt: bool = False) -> bool:
    """A spoilt sheet, or more `yes` than seats (选举法 art. 44): recorded, counted as cast."""
    return spoilt or sum(1 for m in marks.values() if m == "yes") > seats
