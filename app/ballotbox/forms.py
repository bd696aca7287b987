"""Ballot forms (票样): what a ballot of one kind may say about each item on it.

The box (this package) keeps ballots of any form the same way: sealed while the round is open,
opened at the close, counted from the bulletin. What differs between the deputies' vote on the
candidate projects (票决) and their year-end scoring of the projects (测评) is the form: which marks
there are, what an unmarked item counts as, how paper and voting devices write them, and which
mark, if any, is limited by the round's seats. The tally that turns ballots into a decision stays
with each stage (app/ballots/tally.py for 票决).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from app.errors import Invalid


def canonical(marks: Mapping[str, str]) -> str:
    """The canonical JSON of a ballot's marks: keys sorted, no spaces (the API's bulletin)."""
    return json.dumps(dict(marks), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class BallotForm:
    """BallotForm — 票样: the marks of one kind of ballot and the rules on them.

    `aliases` maps a mark as written on paper or exported by a device (lower case; "" is
    unmarked) to the stored mark. `limited` is the mark a ballot may give at most `limit` times
    (the round's seats), beyond which a cast is refused and a paper or device ballot is invalid;
    None: no limit. The refusal texts name the form's own items and marks.
    """

    name: str
    marks: tuple[str, ...]
    blank: str
    aliases: Mapping[str, str] = field(repr=False)
    limited: str | None
    unknown_item: tuple[str, str, str]  # (code, English, Chinese) for an item not on the ballot
    bad_mark: tuple[str, str]  # (English, Chinese) for a mark the form does not have
    # (code, English, Chinese) for the limited mark given too often: {n} times, {limit} allowed
    over_limit: tuple[str, str, str] | None = None

    def full(self, items: Collection[str], marks: Mapping[str, str]) -> dict[str, str]:
        """Every item with its mark, an unmarked one `blank`."""
        return {item: marks.get(item, self.blank) for item in items}

    def content(self, items: Collection[str], marks: Mapping[str, str]) -> str:
        """The stored content of a ballot: the canonical JSON of every item's mark."""
        return canonical(self.full(items, marks))

    def _unknown(self, items: Collection[str], marks: Mapping[str, str]) -> None:
        unknown = [item for item in marks if item not in items]
        if unknown:
            code, english, chinese = self.unknown_item
            raise Invalid(f"{english}: {', '.join(unknown[:5])}.", code=code, zh=chinese)

    def limited_count(self, marks: Mapping[str, str]) -> int:
        return 0 if self.limited is None else sum(1 for m in marks.values() if m == self.limited)

    def check(self, items: Collection[str], marks: Mapping[str, str], limit: int) -> None:
        """A cast's refusals: marks only for items on the ballot, the limited mark at most
        `limit` times (票决: never more 赞成 than seats, 选举法 art. 44)."""
        self._unknown(items, marks)
        n = self.limited_count(marks)
        if self.limited is not None and self.over_limit is not None and n > limit:
            code, english, chinese = self.over_limit
            raise Invalid(english.format(n=n, limit=limit), code=code,
                          zh=chinese.format(n=n, limit=limit))

    def normalise(self, marks: Mapping[str, str], items: Sequence[str]) -> dict[str, str]:
        """A paper or device ballot's marks, read through the aliases, for every item
        (unmarked = blank), or 422 naming what is wrong."""
        self._unknown(items, marks)
        full = {}
        for item in items:
            raw = marks.get(item, "")
            mark = self.aliases.get(raw.strip().lower() if isinstance(raw, str) else None)
            if mark is None:
                english, chinese = self.bad_mark
                raise Invalid(f"'{str(raw)[:20]}' is not a mark; {english}.",
                              code="invalid_mark", zh=chinese)
            full[item] = mark
        return full

    def is_invalid(self, marks: Mapping[str, str], limit: int, spoilt: bool = False) -> bool:
        """A spoilt sheet, or the limited mark more than `limit` times: recorded, counted as
        cast, for no item."""
        return spoilt or (self.limited is not None and self.limited_count(marks) > limit)


DEPUTIES_BALLOT = BallotForm(
    name="deputies_ballot",  # 票决票: each candidate project yes, no or abstain; yes ≤ seats
    marks=("yes", "no", "abstain"),
    blank="abstain",
    aliases={"yes": "yes", "赞成": "yes", "no": "no", "反对": "no",
             "abstain": "abstain", "弃权": "abstain", "": "abstain"},
    limited="yes",
    unknown_item=("unknown_candidate", "Not on this round's ballot", "选票上没有该候选项目。"),
    bad_mark=("use yes, no or abstain", "标记只能是赞成、反对或弃权。"),
    over_limit=("too_many_yes", "{n} 'yes' marks for {limit} seats: at most {limit}.",
                "赞成票不能超过应选项目数 {limit} 个，您选了 {n} 个。请把多出的改为反对或弃权。"),
)
