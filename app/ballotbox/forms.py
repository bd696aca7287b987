"""Ballot forms (票样): what a ballot of one kind may say about each item on it.

The box (this package) keeps ballots of any form the same way: sealed while the round is open,
opened at the close, counted from the bulletin. What differs between the deputies' vote on the
candidate projects (票决) and their year-end scoring of the projects (测评) is the form: which marks
there are, what an unmarked item counts as, how paper and voting devices write them, and which
mark, if any, is limited by the round's seats, what several marks for one item on paper count as,
and the names the bulletin gives its parts. A round names its form (`ballot_round.form`, a key of
FORMS). The tally that turns ballots into a decision stays with each stage (app/ballots/tally.py
for 票决).
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
    # What a paper ballot with several different marks for one item counts as for that item;
    # None: the sheet cannot be entered so (the entrant records it spoilt).
    several_marks: str | None = None
    # What a page and a refusal call a round of this form, and an item: (English, Chinese).
    round_noun: tuple[str, str] = ("ballot", "票决")
    item_noun: tuple[str, str] = ("candidate", "候选项目")
    mark_words: tuple[str, str] = ("yes/no/abstain/赞成/反对/弃权", "赞成、反对或弃权")
    # The jurisdiction's settings a new round of this form keeps (app/jurisdictions/settings.py):
    # whether it is secret, and the base of its threshold (票决) or verdict (测评).
    secret_setting: str = "secret_ballot"
    base_setting: str = "threshold_base"
    # The bulletin's names (API.md): its head, its list of items, each ballot's marks.
    head_key: str = "ballot"
    items_key: str = "candidates"
    marks_key: str = "marks"

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
        """A cast's refusals: marks only for items on the ballot and only the form's own, the
        limited mark at most `limit` times (票决: never more 赞成 than seats, 选举法 art. 44)."""
        self._unknown(items, marks)
        wrong = [m for m in marks.values() if m not in self.marks]
        if wrong:
            english, chinese = self.bad_mark
            raise Invalid(f"'{str(wrong[0])[:20]}' is not a mark; {english}.",
                          code="invalid_mark", zh=chinese)
        n = self.limited_count(marks)
        if self.limited is not None and self.over_limit is not None and n > limit:
            code, english, chinese = self.over_limit
            raise Invalid(english.format(n=n, limit=limit), code=code,
                          zh=chinese.format(n=n, limit=limit))

    def normalise(self, marks: Mapping[str, str], items: Sequence[str]) -> dict[str, str]:
        """A paper or device ballot's marks, read through the aliases, for every item
        (unmarked = blank), or 422 naming what is wrong."""
        self._unknown(items, marks)
        return {item: self._read(marks.get(item, "")) for item in items}

    def _read(self, raw) -> str:
        """One item's mark as written: a word of `aliases`, or a list of them (several marks
        ticked for the item on a paper ballot: `several_marks` when they differ)."""
        if isinstance(raw, list) and raw and not any(isinstance(one, list) for one in raw):
            read = {self._read(one) for one in raw}
            if len(read) == 1:
                return read.pop()
            if self.several_marks is not None:
                return self.several_marks
            english, chinese = self.bad_mark
            raise Invalid(f"{english}: one mark for each item.", code="invalid_mark",
                          zh=chinese + "每项只能有一个标记；多标记的选票请按废票录入。")
        mark = self.aliases.get(raw.strip().lower() if isinstance(raw, str) else None)
        if mark is None:
            english, chinese = self.bad_mark
            raise Invalid(f"'{str(raw)[:20]}' is not a mark; {english}.",
                          code="invalid_mark", zh=chinese)
        return mark

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


EVALUATION = BallotForm(
    name="evaluation",  # 测评票: each project satisfied, basically satisfied, unsatisfied or abstain
    marks=("satisfied", "basically_satisfied", "unsatisfied", "abstain"),
    blank="abstain",
    aliases={"satisfied": "satisfied", "满意": "satisfied",
             "basically_satisfied": "basically_satisfied", "基本满意": "basically_satisfied",
             "unsatisfied": "unsatisfied", "不满意": "unsatisfied",
             "abstain": "abstain", "弃权": "abstain", "": "abstain"},
    limited=None,
    unknown_item=("unknown_project", "Not on this round's score form", "测评表上没有该项目。"),
    bad_mark=("use satisfied, basically_satisfied, unsatisfied or abstain",
              "标记只能是满意、基本满意、不满意或弃权。"),
    several_marks="abstain",  # DOMAIN.md 测评: two marks for one project count as abstain
    secret_setting="evaluation_secret",
    base_setting="evaluation_base",
    round_noun=("evaluation", "测评"),
    item_noun=("project", "项目"),
    mark_words=("satisfied/basically_satisfied/unsatisfied/abstain/满意/基本满意/不满意/弃权",
                "满意、基本满意、不满意或弃权"),
    head_key="evaluation",
    items_key="projects",
    marks_key="scores",
)

FORMS = {form.name: form for form in (DEPUTIES_BALLOT, EVALUATION)}


def form_of(name: str) -> BallotForm:
    """The form a round names (`ballot_round.form`)."""
    return FORMS[name]
