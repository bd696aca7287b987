"""The tally (计票): one pure function from ballots to results, used by the API, the pages and
`minsheng tally`. No database, no clock: the same bulletin always gives the same results.

Rules (DOMAIN.md 票决):
- a ballot with more `yes` marks than seats, a mark other than yes/no/abstain, a mark for a
  candidate not on the list, or one recorded invalid (paper) is invalid: cast, for no candidate;
- an unmarked candidate counts as `abstain`;
- a candidate passes with yes ≥ threshold = ⌊base / 2⌋ + 1, base = T (all deputies, default),
  present or cast;
- passing candidates rank by yes (equal counts share a rank); the top S are selected; a tie across
  the S-th place sends the tied group to a run-off for the seats left; fewer than S passing is a
  shortfall, the rest of the seats going to a further round among those that did not pass;
- more ballots returned than issued voids the round.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

MARKS = ("yes", "no", "abstain")
ThresholdBase = Literal["all", "present", "cast"]


@dataclass(frozen=True)
class Ballot:
    """Ballot — 选票: one ballot's marks (candidate id → yes/no/abstain)."""

    marks: Mapping[str, str]
    paper: bool = False
    invalid: bool = False  # recorded invalid when entered (a spoilt paper ballot)


@dataclass(frozen=True)
class RoundFacts:
    """The figures of a ballot round the tally needs besides the ballots."""

    ballot_id: str
    round: int
    seats: int
    total_deputies: int
    present: int
    issued: int
    threshold_base: ThresholdBase = "all"


@dataclass
class CandidateResult:
    id: str
    title: str
    yes: int = 0
    no: int = 0
    abstain: int = 0
    passed: bool = False
    selected: bool = False
    rank: int | None = None


@dataclass
class Results:
    """Results — 计票结果, in the shape of API.md."""

    facts: RoundFacts
    cast: int
    valid: int
    invalid: int
    threshold: int
    candidates: list[CandidateResult]
    outcome: Literal["complete", "runoff", "shortfall", "void"]
    selected_ids: list[str] = field(default_factory=list)
    runoff_candidate_ids: list[str] = field(default_factory=list)
    remaining_seats: int = 0

    def as_dict(self) -> dict:
        f = self.facts
        return {
            "ballot_id": f.ballot_id, "round": f.round, "seats": f.seats,
            "total_deputies": f.total_deputies, "present": f.present, "issued": f.issued,
            "cast": self.cast, "valid": self.valid, "invalid": self.invalid,
            "threshold": self.threshold,
            "candidates": [{"id": c.id, "title": c.title, "yes": c.yes, "no": c.no,
                            "abstain": c.abstain, "passed": c.passed, "selected": c.selected,
                            "rank": c.rank} for c in self.candidates],
            "outcome": self.outcome, "selected_ids": self.selected_ids,
            "runoff_candidate_ids": self.runoff_candidate_ids,
            "remaining_seats": self.remaining_seats,
        }


def threshold_for(facts: RoundFacts, cast: int) -> int:
    """The least `yes` count that passes: more than half of the base."""
    base = {"all": facts.total_deputies, "present": facts.present, "cast": cast}[
        facts.threshold_base]
    return base // 2 + 1


def is_valid(ballot: Ballot, candidate_ids: frozenset[str], seats: int) -> bool:
    """Whether a ballot counts for candidates (选举法 art. 44: more yes than seats is void)."""
    if ballot.invalid:
        return False
    yes = 0
    for candidate_id, mark in ballot.marks.items():
        if candidate_id not in candidate_ids or mark not in MARKS:
            return False
        yes += mark == "yes"
    return yes <= seats


def tally(facts: RoundFacts, candidates: Sequence[tuple[str, str]],
          ballots: Iterable[Ballot]) -> Results:
    """Count the ballots of one round and decide who is selected."""
    results = [CandidateResult(id=cid, title=title) for cid, title in candidates]
    by_id = {r.id: r for r in results}
    ids = frozenset(by_id)
    cast = valid = 0
    yes = dict.fromkeys(by_id, 0)
    no = dict.fromkeys(by_id, 0)
    for ballot in ballots:
        cast += 1
        if not is_valid(ballot, ids, facts.seats):
            continue
        valid += 1
        for candidate_id, mark in ballot.marks.items():
            if mark == "yes":
                yes[candidate_id] += 1
            elif mark == "no":
                no[candidate_id] += 1
    for r in results:
        r.yes, r.no = yes[r.id], no[r.id]
        r.abstain = valid - r.yes - r.no
    threshold = threshold_for(facts, cast)
    outcome = Results(facts=facts, cast=cast, valid=valid, invalid=cast - valid,
                      threshold=threshold, candidates=results, outcome="complete")
    if cast > facts.issued:
        outcome.outcome = "void"  # more ballots returned than issued: the round is re-run
        outcome.remaining_seats = facts.seats
        return outcome
    _decide(outcome, facts.seats)
    return outcome


def _decide(outcome: Results, seats: int) -> None:
    order = {c.id: i for i, c in enumerate(outcome.candidates)}
    passing = sorted((c for c in outcome.candidates if c.yes >= outcome.threshold),
                     key=lambda c: (-c.yes, order[c.id]))
    for c in passing:
        c.passed = True
        c.rank = 1 + sum(1 for other in passing if other.yes > c.yes)
    if len(passing) <= seats:
        chosen = passing
        if len(passing) < seats:
            outcome.outcome = "shortfall"
            outcome.remaining_seats = seats - len(passing)
            outcome.runoff_candidate_ids = [c.id for c in outcome.candidates if not c.passed]
    else:
        last_yes = passing[seats - 1].yes
        if passing[seats].yes == last_yes:
            # A tie across the last seat: those strictly above are in; the tied group goes to
            # a run-off for the seats left.
            chosen = [c for c in passing if c.yes > last_yes]
            tied = [c for c in passing if c.yes == last_yes]
            outcome.outcome = "runoff"
            outcome.remaining_seats = seats - len(chosen)
            outcome.runoff_candidate_ids = [c.id for c in tied]
        else:
            chosen = passing[:seats]
    for c in chosen:
        c.selected = True
    outcome.selected_ids = [c.id for c in chosen]
