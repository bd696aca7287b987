"""A year decided by the deputies' ballot (演示脚本: 初定 → 票决 → 公开): the candidates
approved, reviewed (one sent back and brought again) and made public (公示), the session's
vote — attendance, scrutineers, every deputy present casting a secret ballot, the tally, a
run-off — the 公告 and the plans.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from functools import partial

from app.ballotbox import casting, rounds
from app.ballots import service as ballots
from app.candidates import service as candidates
from app.comments import service as comment_service
from app.cycles import service as cycles
from app.demo import specs
from app.demo.calendar import beijing
from app.demo.decided import DecidedYear
from app.demo.votes import design_ballots
from app.demo.year import WORDS
from app.models import BallotRound, User
from app.workflows.ballot import BallotState
from app.workflows.candidate import CandidateState
from app.workflows.cycle import CyclePhase


class FinishedYear(DecidedYear):
    """A year that went 筹备 → 征集 → 初定 → 票决 → 公开, with its implementation plans."""

    def __init__(self, *args, spec: specs.FinishedYear, **kwargs) -> None:
        super().__init__(*args, jurisdiction=spec.jurisdiction, gov=spec.gov, seats=spec.seats,
                         **kwargs)
        self.spec, self.plan_change = spec, spec.plan_change
        self.congress: User = self.people[spec.congress]
        self.rounds: list[BallotRound] = []
        self.present: list[User] = []

    def schedule(self) -> None:
        """Put the whole year on the timeline: August before the year to its spring."""
        spec, y = self.spec, self.year
        opened = date(y - 1, 9, 1)
        screening = beijing(date(y - 1, 11, 4), 9)
        self.schedule_opening(opened)
        self.schedule_proposals(spec.proposals, tuple(c for c in spec.comments
                                                      if c.on not in self._candidate_keys),
                                opened, until=screening)
        self.timeline.at(screening, partial(self._move_cycle, CyclePhase.screening, self.gov,
                                            "screen"))
        self._schedule_candidates(date(y - 1, 11, 10))
        ballot_day = date(y, *spec.ballot_day)
        session_day = ballot_day - timedelta(days=spec.session_opens)
        publicity = (date(y - 1, 12, 25), session_day - timedelta(days=1))
        self.timeline.at(beijing(publicity[0], 9), partial(self._publicity, *publicity))
        for comment in spec.comments:
            if comment.on in self._candidate_keys:
                self.timeline.at(beijing(publicity[0] + timedelta(days=comment.day), 19),
                                 partial(self._comment_on_candidate, comment))
        self.timeline.at(beijing(session_day, 8, 30),
                         partial(self._move_cycle, CyclePhase.balloting, self.congress, "ballot"))
        self._schedule_session(ballot_day)

    @property
    def _candidate_keys(self) -> set[str]:
        return {c.key for c in self.spec.candidates}

    async def _move_cycle(self, to: str, actor: User, words: str) -> None:
        reason = WORDS[self.level][words].format(year=self.year, name=self.name,
                                                 session=self.cycle.congress_session)
        await cycles.transition(self.session, actor=actor, cycle=self.cycle, to=to,
                                reason=reason)

    # ------------------------------------------------------------------ 初定

    def _schedule_candidates(self, first_day: date) -> None:
        y, at = self.year, self.timeline.at
        for i, spec in enumerate(self.spec.candidates):
            at(beijing(first_day + timedelta(days=i // 3), 9 + (i % 3) * 2, 30),
               partial(self._build, spec))
        back = self.spec.send_back
        at(beijing(date(y - 1, 11, 27), 16), partial(self._approve_all, "gov_approve"))
        at(beijing(date(y - 1, 12, 17), 15), partial(self._review_all, back))
        if back:
            at(beijing(date(y - 1, 12, 19), 10), partial(self._refund, back))
            at(beijing(date(y - 1, 12, 20), 16), partial(
                self._move_candidate, back.candidate, CandidateState.gov_approved, self.gov,
                WORDS[self.level]["reapprove"]))
            at(beijing(date(y - 1, 12, 24), 10), partial(
                self._move_candidate, back.candidate, CandidateState.reviewed, self.congress,
                WORDS[self.level]["rereview"]))

    async def _approve_all(self, words: str) -> None:
        for spec in self.spec.candidates:
            await self._move_candidate(spec.key, CandidateState.gov_approved, self.gov,
                                       WORDS[self.level][words])

    async def _review_all(self, back: specs.SendBack | None) -> None:
        for spec in self.spec.candidates:
            if back and spec.key == back.candidate:
                await self._move_candidate(spec.key, CandidateState.drafted, self.congress,
                                           back.reason)
            else:
                await self._move_candidate(spec.key, CandidateState.reviewed, self.congress,
                                           WORDS[self.level]["review"])

    async def _refund(self, back: specs.SendBack) -> None:
        await candidates.edit(self.session, actor=self.gov, candidate=self.candidates[back.candidate],
                              changes={"funding": [{"source": s, "amount_wan": Decimal(a)}
                                                   for s, a in back.funding]})

    async def _publicity(self, start: date, end: date) -> None:
        await candidates.set_publicity(self.session, actor=self.congress, cycle=self.cycle,
                                       start=start, end=end)

    async def _comment_on_candidate(self, comment: specs.CommentSpec) -> None:
        await comment_service.add_comment(self.session, actor=self.people[comment.by],
                                          body=comment.body, candidate=self.candidates[comment.on])

    # ------------------------------------------------------------------ 票决

    def _schedule_session(self, day: date) -> None:
        """The session's vote: attendance, scrutineers, the rounds, the 公告 the same morning."""
        at = self.timeline.at
        at(beijing(day, 8, 40), self._create_round)
        at(beijing(day, 8, 44), self._check_ins)
        at(beijing(day, 8, 52), partial(self._record_attendance, 0))
        at(beijing(day, 8, 58), partial(self._record_attendance, 1))
        at(beijing(day, 9, 2), self._name_scrutineers)
        runoff = any(c.runoff_yes is not None for c in self.spec.candidates)
        rounds = [(9, 5), (10, 0)] if runoff else [(9, 5)]
        for number, (hour, minute) in enumerate(rounds, start=1):
            start = beijing(day, hour, minute)
            if number > 1:
                at(start - timedelta(minutes=10), self._runoff)
            at(start, partial(self._move_round, BallotState.open))
            at(start + timedelta(minutes=2), partial(self._cast, number))
            at(start + timedelta(minutes=20), partial(self._move_round, BallotState.closed))
            at(start + timedelta(minutes=22), partial(self._tally, number, runoff))
            for i, username in enumerate(self.spec.scrutineers):
                at(start + timedelta(minutes=25 + i), partial(self._sign_off, username))
            at(start + timedelta(minutes=30), partial(self._move_round, BallotState.published))
        at(beijing(day, 11, 30), self._announce)

    async def _create_round(self) -> None:
        self.rounds.append(await ballots.create(self.session, actor=self.congress,
                                                cycle=self.cycle, candidate_ids=None, seats=None,
                                                secret=None))
        roster = self.people.deputies[self.code]
        away = set(self.rng("leave").sample(
            [d.username for d in roster if d.username not in self.spec.scrutineers],
            self.spec.absent))
        self.present = [d for d in roster if d.username not in away]
        self.rng("hall").shuffle(self.present)

    async def _check_ins(self) -> None:
        for deputy in self.present[:self.spec.check_ins]:
            await rounds.check_in(self.session, self.rounds[-1], deputy)

    async def _record_attendance(self, batch: int) -> None:
        rest = self.present[self.spec.check_ins:]
        half = len(rest) // 2
        names = [d.username for d in (rest[:half] if batch == 0 else rest[half:])]
        await rounds.record_attendance(self.session, self.rounds[-1], self.congress, names)

    async def _name_scrutineers(self) -> None:
        await rounds.name_scrutineers(self.session, self.rounds[-1], self.congress,
                                       list(self.spec.scrutineers))

    async def _move_round(self, to: str) -> None:
        await rounds.move(self.session, self.rounds[-1], to, actor=self.congress)

    async def _cast(self, number: int) -> None:
        """Every deputy present casts their one secret ballot through the real casting code."""
        ballot = self.rounds[-1]
        on_paper = await ballots.candidates_of(self.session, ballot.id)
        spec_of = {self.candidates[c.key].id: c for c in self.spec.candidates}
        yes = [spec_of[c.id].yes if number == 1 else spec_of[c.id].runoff_yes for c in on_paper]
        # The totals are the script's; which deputy marked what is drawn from the system's
        # randomness and never kept, so not even this code can say how a deputy voted.
        marks_drawn = design_ballots(len(self.present), ballot.seats, yes, random.SystemRandom())
        for deputy, marks in zip(self.present, marks_drawn, strict=True):
            await casting.cast(self.session, ballot, deputy,
                               {c.id: mark for c, mark in zip(on_paper, marks, strict=True)})

    async def _tally(self, number: int, runoff: bool) -> None:
        results = await ballots.count(self.session, self.rounds[-1], self.congress)
        expected = "runoff" if runoff and number == 1 else "complete"
        if results.outcome != expected:  # the script's vote counts are wrong, not the tally
            raise RuntimeError(f"round {number} of {self.code} {self.year}: "
                               f"{results.outcome}, the script expects {expected}")

    async def _sign_off(self, username: str) -> None:
        await rounds.sign_off(self.session, self.rounds[-1], self.people[username])

    async def _runoff(self) -> None:
        self.rounds.append(await ballots.runoff(self.session, self.rounds[-1], self.congress,
                                                carry_attendance=True))

    # ------------------------------------------------------------------ 公开

    async def _announce(self) -> None:
        await self._move_cycle(CyclePhase.announced, self.congress, "announce")
        await self.schedule_plans(date(self.year, *self.spec.ballot_day), self.spec.late_plans)
