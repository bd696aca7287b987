"""The shapes of the demo's script: what each proposal, candidate and year is, as data.

The content itself is in app/demo/lezhi.py (the county) and app/demo/townships.py; the code
that plays it through the services is in app/demo/script.py.
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
    deputies vote on it: `yes` 赞成 votes in the first round, `runoff_yes` in a run-off."""

    key: str
    title: str
    summary: str
    unit: str
    funding: tuple[tuple[str, str], ...]
    targets: tuple[str, ...]
    deadline: tuple[int, int, int]  # (years after the cycle's year, month, day)
    sources: tuple[str, ...]
    yes: int
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
