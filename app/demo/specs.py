"""The shapes of the demo's script: what each proposal, candidate and year is, as data.

The content itself is in app/demo/lezhi.py (the county), app/demo/townships.py and
app/demo/ziyang.py (the city); the code that plays it through the services is in
app/demo/year.py, decided.py, balloted.py and government.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class ProposalSpec:
    """A proposal (建议) of the script.

    `online` and `deputy` proposals are made by `by` (a resident's or deputy's username) on
    their phone; `hotline`, `visit` and `letter` ones are recorded by the government's staff for
    `by` (the proposer's name as recorded). `day` counts from the day 征集 opened. A decision
    (accept / reject with `reason` / merge into `merge_into`) follows some days later.

    A hotline record carries its 工单号 (`ref`, `{y}` standing for the year of the call) and
    the caller's `phone`, both seen by staff only; the call came in the evening before.
    """

    key: str
    title: str
    description: str
    category: str
    location: str
    place: str
    cost: str | None
    channel: str
    by: str
    day: int
    endorsements: int = 0
    decision: str | None = None
    reason: str = ""
    merge_into: str | None = None
    ref: str | None = None
    phone: str = ""


@dataclass(frozen=True)
class CommentSpec:
    """A comment by `by` (username) on a proposal or, during 公示, a candidate (`on` is its key)."""

    on: str
    by: str
    body: str
    day: int = 0  # proposals: days after it was made; candidates: days into 公示


@dataclass(frozen=True)
class CandidateSpec:
    """A candidate project (候选项目) built from accepted proposals (`sources`), and how the
    deputies vote on it: `yes` 赞成 votes in the first round, `runoff_yes` in a run-off (on a
    government's list, an item of the draft list, with no votes)."""

    key: str
    title: str
    summary: str
    unit: str
    funding: tuple[tuple[str, str], ...]
    targets: tuple[str, ...]
    deadline: tuple[int, int, int]  # (years after the cycle's year, month, day)
    sources: tuple[str, ...]
    yes: int = 0  # a government list has no votes
    runoff_yes: int | None = None
    works: bool = True  # a building project (design, tender, works) or a service
    feasibility: str = ""
    stage_targets: tuple[str, ...] = ()  # a cross-year project: one per year

    @property
    def budget(self) -> Decimal:
        return sum((Decimal(amount) for _, amount in self.funding), Decimal("0"))


@dataclass(frozen=True)
class SendBack:
    """A reviewed candidate the congress sent back once (退回), and the funding it came back with."""

    candidate: str
    reason: str
    funding: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class FinishedYear:
    """A year that went through 征集, 初定, 票决 and 公开."""

    jurisdiction: str
    seats: int
    gov: str
    congress: str
    proposals: tuple[ProposalSpec, ...]
    candidates: tuple[CandidateSpec, ...]
    comments: tuple[CommentSpec, ...]
    ballot_day: tuple[int, int]       # (month, day) of the session's vote, early in the year
    session_opens: int                # days before the vote the session (and 票决) opened
    absent: int                       # deputies on leave (请假) that day
    check_ins: int                    # deputies who checked in on their phones (staff the rest)
    scrutineers: tuple[str, str]
    late_plans: tuple[str, ...] = ()  # candidates whose plan was published after the due date
    plan_change: tuple[str, str] | None = None  # (candidate, 说明) of a later plan change
    send_back: SendBack | None = None


@dataclass(frozen=True)
class SolicitingYear:
    """A year in 征集, opened `opened_after` days after the county's (so still long enough ago)."""

    jurisdiction: str
    seats: int
    gov: str
    proposals: tuple[ProposalSpec, ...]
    comments: tuple[CommentSpec, ...] = ()
    opened_after: int = 0
    carry: tuple[str, ...] = ()  # reserve proposals of the finished year carried into this one


@dataclass(frozen=True)
class DraftCommentSpec:
    """A public comment on a government's draft list (征求意见): on one item (`on`, a candidate
    key) or on the whole list (None), by `by` (username) `day` days into the period.

    Government staff handle it `after` days later as `kind`: `answered` (答复, with `text`) or
    `noted` (已记录, `text` an optional note); or `hidden`: `reported_by` reports it and staff
    hide it with `text` as the public reason (a hidden comment needs no answer).
    """

    on: str | None
    by: str
    body: str
    day: int
    kind: str = "answered"
    text: str = ""
    after: int = 3
    reported_by: str | None = None


@dataclass(frozen=True)
class AdoptionSpec:
    """The meeting that adopted the list (研究确定): its name, (month, day) in the cycle's year,
    document number (`{y}` for the year) and the draft items it left out with the reason."""

    meeting: str
    day: tuple[int, int]
    number: str
    left_out: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class GovernmentYear:
    """A year whose list the government decided (政府研究确定): 征集, 初定, the public comment
    period on the draft list (征求意见) and 公开, with plans. Dates are (month, day) of the year
    before the cycle's, but for the adoption (in the cycle's year)."""

    jurisdiction: str
    seats: int  # the planned number of items (十件民生实事), shown, not enforced
    gov: str
    proposals: tuple[ProposalSpec, ...]
    candidates: tuple[CandidateSpec, ...]
    comments: tuple[DraftCommentSpec, ...]
    adoption: AdoptionSpec
    opened: tuple[int, int]      # 征集 opens
    screening: tuple[int, int]   # 征集 → 初定
    drafting: tuple[int, int]    # the first candidates are drafted
    approved: tuple[int, int]    # the 政府常务会议 approves the draft list
    commenting: tuple[int, int]  # the comment period opens
