"""Playing the demo's years through the services (演示脚本): every step is the call the API and
the pages make, at the moment it would have happened, so each record carries its date, its
transition and its audit entry exactly as a real one.

`FinishedYear` goes 筹备 → 征集 → 初定 → 票决 → 公开 with plans; `SolicitingYear` is in 征集;
a list decided by the government (征求意见 instead of 票决) is app/demo/government.py's
`GovernmentYear`. Each only puts steps on the timeline (app/demo/calendar.py); `Timeline.play`
runs them.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ballots import casting
from app.ballots import service as ballots
from app.candidates import service as candidates
from app.candidates.schemas import CandidateIn
from app.comments import service as comment_service
from app.cycles import service as cycles
from app.demo import specs
from app.demo.calendar import Timeline, beijing, congress_session
from app.demo.people import JURISDICTIONS, People
from app.demo.votes import design_ballots
from app.models import BallotRound, Candidate, Cycle, Project, Proposal, User
from app.projects import plans
from app.proposals import engagement, hotline, review
from app.proposals import service as proposals
from app.proposals.hotline_file import FIELDS as HOTLINE_FIELDS
from app.proposals.schemas import ProposalIn
from app.timeutil import CHINA_TZ, china_today
from app.workflows.ballot import BallotState
from app.workflows.candidate import CandidateState
from app.workflows.cycle import CyclePhase

# The words each level's bodies use for their steps.
WORDS = {
    "county": {
        "open": "县政府常务会议决定启动{year}年民生实事项目征集",
        "screen": "征集期满，转入项目初定",
        "gov_approve": "经县政府常务会议审议通过",
        "review": "经县人大常委会会议审查通过",
        "reapprove": "按县人大常委会审查意见修改，经县政府专题会议研究通过",
        "rereview": "经县人大常委会主任会议审查通过",
        "ballot": "{name}{session}开幕，候选项目提请大会票决",
        "announce": "{name}{session}全体会议票决通过，发布公告",
    },
    "township": {
        "open": "镇党委、镇政府决定启动{year}年民生实事项目征集",
        "screen": "征集期满，转入项目初定",
        "gov_approve": "经镇政府办公会审议通过",
        "review": "经镇人大主席团会议审查通过",
        "reapprove": "按镇人大主席团审查意见修改，经镇政府办公会审议通过",
        "rereview": "经镇人大主席团会议审查通过",
        "ballot": "{name}{session}召开，候选项目提请大会票决",
        "announce": "{name}{session}票决通过，发布公告",
    },
    # A city's list is decided by the government (app/demo/government.py): no review, no ballot.
    "city": {
        "open": "市政府常务会议决定启动{year}年民生实事项目征集",
        "screen": "征集期满，转入项目初定",
        "gov_approve": "经市政府常务会议审议通过，列入民生实事项目清单（征求意见稿）",
        "comment": "民生实事项目清单（征求意见稿）在市政府门户网站公开征求意见",
        "announce": "经{meeting}研究确定（{number}），发布公告",
    },
}
PLACE_NAMES = {code: name for code, name, _, _ in JURISDICTIONS}
LEVEL_WORDS = {"province": "city", "city": "city", "county": "county"}
# Days after the announcement that plans were published: on time first, then the late ones.
PLAN_DAYS = [9, 12, 14, 17, 19, 21, 23, 25, 27, 28]
LATE_PLAN_DAYS = [37, 49]


class Year:
    """One jurisdiction's cycle being played: its cycle and what was made, by the script's keys."""

    def __init__(self, session: AsyncSession, people: People, timeline: Timeline, year: int,
                 jurisdiction: str, gov: str, seats: int) -> None:
        self.session, self.people, self.timeline = session, people, timeline
        self.year, self.code, self.seats = year, jurisdiction, seats
        self.gov: User = people[gov]
        self.cycle: Cycle | None = None
        self.proposals: dict[str, Proposal] = {}
        name, level = next((n, lv) for c, n, lv, _ in JURISDICTIONS if c == jurisdiction)
        self.name, self.level = name, LEVEL_WORDS.get(level, "township")

    def rng(self, *salt: object) -> random.Random:
        """A random source fixed by the cycle and `salt`: the demo is the same every time."""
        return random.Random("/".join(map(str, (self.code, self.year, *salt))))

    # ------------------------------------------------------------------ 筹备 and 征集

    async def _create(self) -> None:
        self.cycle = await cycles.create(
            self.session, actor=self.gov, jurisdiction_code=self.code, year=self.year,
            title=f"{self.name}{self.year}年民生实事项目", seats=self.seats,
            congress_session=congress_session(self.year))

    async def _open(self) -> None:
        await cycles.transition(self.session, actor=self.gov, cycle=self.cycle,
                                to=CyclePhase.soliciting,
                                reason=WORDS[self.level]["open"].format(year=self.year))

    def schedule_opening(self, opened: date) -> None:
        """The cycle set up four days before its 征集 opens (09:00 that day)."""
        self.timeline.at(beijing(opened - timedelta(days=4), 10), self._create)
        self.timeline.at(beijing(opened, 9), self._open)

    def schedule_proposals(self, items: tuple[specs.ProposalSpec, ...],
                           comments: tuple[specs.CommentSpec, ...], opened: date,
                           until: datetime) -> None:
        """Proposals, their endorsements, comments and decisions, all before `until`."""
        made_at: dict[str, datetime] = {}
        merge_targets = {spec.merge_into for spec in items if spec.merge_into}
        for spec in items:
            rng = self.rng(spec.key)
            made = beijing(opened + timedelta(days=spec.day), 8 + rng.randrange(13),
                           rng.randrange(60))
            if made >= until:
                raise ValueError(f"proposal {spec.key} on day {spec.day} is after {until}")
            made_at[spec.key] = made
            self.timeline.at(made, partial(self._propose, spec, made))
        for spec in items:
            rng = self.rng(spec.key, "later")
            made = made_at[spec.key]
            decided = None
            if spec.decision:
                after = max(made, made_at.get(spec.merge_into or spec.key, made))
                decided = min(after + timedelta(days=5 + rng.randrange(8), hours=rng.randrange(4)),
                              until - timedelta(hours=2))
                self.timeline.at(decided, partial(self._decide, spec))
            # Endorsements close when a proposal is merged or rejected, or when 征集 ends.
            last = decided if spec.decision in ("merge", "reject") else until - timedelta(hours=1)
            pool = [u for u in self._endorsers() if u.username != spec.by]
            span = (last - made).total_seconds()
            for endorser in rng.sample(pool, min(spec.endorsements, len(pool))):
                when = made + timedelta(seconds=span * rng.uniform(0.02, 0.98))
                self.timeline.at(when, partial(self._endorse, spec.key, endorser,
                                               spec.key in merge_targets))
        for comment in comments:
            when = made_at[comment.on] + timedelta(days=comment.day, hours=3)
            self.timeline.at(min(when, until - timedelta(minutes=30)),
                             partial(self._comment_on_proposal, comment))

    def _endorsers(self) -> list[User]:
        return self.people.residents_in(self.code) + self.people.deputies[self.code][:80]

    async def _propose(self, spec: specs.ProposalSpec, made: datetime) -> None:
        """A resident or deputy proposes on their phone, or staff record what came in by
        another channel; a 12345 record with its 工单号 comes in the hotline's daily export."""
        if spec.ref:
            await self._import_hotline_record(spec, made)
            return
        staff = spec.channel not in ("online", "deputy")
        body = ProposalIn.model_validate({
            "title": spec.title, "description": spec.description, "category": spec.category,
            "location_code": spec.location, "place": spec.place,
            "estimated_cost_wan": spec.cost, "channel": spec.channel if staff else None,
            "proposer_name": spec.by if staff else "", "proposer_phone": spec.phone})
        actor = self.gov if staff else self.people[spec.by]
        self.proposals[spec.key] = await proposals.create(
            self.session, actor=actor, cycle=self.cycle, **body.model_dump())

    async def _import_hotline_record(self, spec: specs.ProposalSpec, made: datetime) -> None:
        """Government staff import the 12345 export of the day (the call of the evening before)
        as they import any export: app/proposals/hotline.py checks and files it."""
        received = (made - timedelta(hours=14)).astimezone(CHINA_TZ)
        ref = spec.ref.format(y=received.year)
        labels = {name: label for name, (label, _) in HOTLINE_FIELDS.items()}
        row = {"source_ref": ref, "received_at": received.strftime("%Y-%m-%d %H:%M"),
               "proposer_name": spec.by, "proposer_phone": spec.phone, "title": spec.title,
               "description": spec.description, "category": spec.category,
               "location_code": PLACE_NAMES[spec.location], "place": spec.place,
               "estimated_cost_wan": spec.cost or "", "channel": "12345热线"}
        export = io.StringIO()
        writer = csv.DictWriter(export, [labels[name] for name in row])
        writer.writeheader()
        writer.writerow({labels[name]: value for name, value in row.items()})
        result = await hotline.import_file(
            self.session, actor=self.gov, cycle=self.cycle, data=export.getvalue().encode(),
            filename=f"12345工单导出_{received:%Y%m%d}.csv")
        self.proposals[spec.key] = await self.session.get(Proposal, result.rows[0].proposal_id)

    async def _decide(self, spec: specs.ProposalSpec) -> None:
        target = self.proposals[spec.merge_into].id if spec.merge_into else None
        await review.review(self.session, actor=self.gov, proposal=self.proposals[spec.key],
                            decision=spec.decision, reason=spec.reason, merge_into_id=target)

    async def _endorse(self, key: str, endorser: User, merged_into: bool) -> None:
        proposal = self.proposals[key]
        # A merge into this proposal may have brought the person's endorsement over already.
        if merged_into and await engagement.has_endorsed(self.session, endorser, proposal.id):
            return
        await engagement.endorse(self.session, actor=endorser, proposal=proposal)

    async def _comment_on_proposal(self, comment: specs.CommentSpec) -> None:
        await comment_service.add_comment(self.session, actor=self.people[comment.by],
                                          body=comment.body, proposal=self.proposals[comment.on])


class SolicitingYear(Year):
    """A year in 征集: opened long enough ago that staff can move it to 初定 at once."""

    def schedule(self, spec: specs.SolicitingYear, opened: date, yesterday: date,
                 reserve: dict[str, Proposal] | None = None) -> None:
        self.schedule_opening(opened)
        if spec.carry:
            self.timeline.at(beijing(opened + timedelta(days=1), 10),
                             partial(self._carry, spec.carry, reserve))
        self.schedule_proposals(spec.proposals, spec.comments, opened,
                                until=beijing(yesterday, 21))

    async def _carry(self, keys: tuple[str, ...], reserve: dict[str, Proposal]) -> None:
        pairs = await review.carry(self.session, actor=self.gov, cycle=self.cycle,
                                   proposal_ids=[reserve[k].id for k in keys])
        for key, (_, copy) in zip(keys, pairs, strict=True):
            self.proposals[key] = copy


class DecidedYear(Year):
    """A year whose list was decided, by the deputies' ballot or by the government: what both
    share, the candidates built from accepted proposals and the projects' plans."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.candidates: dict[str, Candidate] = {}
        self.plan_written: dict[str, date] = {}
        self.plan_change: tuple[str, str] | None = None  # (candidate, 说明) of a later change

    async def _build(self, spec: specs.CandidateSpec) -> None:
        dy, month, day = spec.deadline
        body = CandidateIn.model_validate({
            "title": spec.title, "summary": spec.summary, "responsible_unit": spec.unit,
            "budget_wan": spec.budget, "deadline": date(self.year + dy, month, day),
            "funding": [{"source": s, "amount_wan": a} for s, a in spec.funding],
            "targets": list(spec.targets), "feasibility": spec.feasibility,
            "proposal_ids": [self.proposals[k].id for k in spec.sources]})
        self.candidates[spec.key] = await candidates.create(
            self.session, actor=self.gov, cycle=self.cycle, **body.model_dump(exclude={"funding"}),
            funding=[f.model_dump() for f in body.funding])

    async def _move_candidate(self, key: str, to: str, actor: User, reason: str) -> None:
        await candidates.transition(self.session, actor=actor, candidate=self.candidates[key],
                                    to=to, reason=reason)

    async def schedule_plans(self, announced: date, late: tuple[str, ...] = ()) -> None:
        """Each project's plan after the 公告 of `announced`: on time (PLAN_DAYS), or late
        (LATE_PLAN_DAYS) for the candidates in `late`; a plan change ten weeks on."""
        projects = list(await self.session.scalars(select(Project).where(
            Project.cycle_id == self.cycle.id).order_by(Project.created_at)))
        by_candidate = {p.candidate_id: p for p in projects}
        on_time, late_days = iter(PLAN_DAYS), iter(LATE_PLAN_DAYS)
        for spec in self.spec.candidates:
            project = by_candidate.get(self.candidates[spec.key].id)
            if project is None:
                continue
            days = next(late_days) if spec.key in late else next(on_time)
            when = beijing(announced + timedelta(days=days), 10)
            self.timeline.at(when, partial(self._write_plan, spec, project))
            if self.plan_change and self.plan_change[0] == spec.key:
                self.timeline.at(when + timedelta(days=70),
                                 partial(self._change_plan, spec, project))

    def _plan(self, spec: specs.CandidateSpec, project: Project, written: date,
              delay: int = 0) -> dict:
        """A plan of five milestones between the day it is written and the deadline."""
        titles = (["完成项目设计和预算评审", "完成招标", "开工建设", "完成主体工程", "竣工验收"]
                  if spec.works else
                  ["制定实施细则", "确定服务场地和机构", "试运行", "全面运行", "完成年度目标并评估"])
        shares = [0.15, 0.3, 0.45, 0.8, 1.0]
        span = (project.deadline - written).days
        milestones = []
        for i, (title, share) in enumerate(zip(titles, shares, strict=True)):
            due = written + timedelta(days=round(span * share))
            if i == 1 and delay:
                due = min(due + timedelta(days=delay), project.deadline - timedelta(days=1))
            milestones.append({"title": title, "due": due.isoformat()})
        stages = [{"year": self.year + i, "target": target}
                  for i, target in enumerate(spec.stage_targets)]
        return {"milestones": milestones,
                "funding": [{"source": s, "amount_wan": a} for s, a in spec.funding],
                "targets": list(spec.targets), "stage_targets": stages}

    async def _write_plan(self, spec: specs.CandidateSpec, project: Project) -> None:
        self.plan_written[spec.key] = china_today()
        await plans.save(self.session, actor=self.gov, project=project,
                         raw=self._plan(spec, project, self.plan_written[spec.key]))

    async def _change_plan(self, spec: specs.CandidateSpec, project: Project) -> None:
        """The tender slips: its milestone moves 20 days, the deadline stays (a plan change
        that needs no congress decision, kept as a new version with its 说明)."""
        await plans.save(self.session, actor=self.gov, project=project,
                         raw=self._plan(spec, project, self.plan_written[spec.key], delay=20),
                         reason=self.plan_change[1])


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
            await ballots.check_in(self.session, self.rounds[-1], deputy)

    async def _record_attendance(self, batch: int) -> None:
        rest = self.present[self.spec.check_ins:]
        half = len(rest) // 2
        names = [d.username for d in (rest[:half] if batch == 0 else rest[half:])]
        await ballots.record_attendance(self.session, self.rounds[-1], self.congress, names)

    async def _name_scrutineers(self) -> None:
        await ballots.name_scrutineers(self.session, self.rounds[-1], self.congress,
                                       list(self.spec.scrutineers))

    async def _move_round(self, to: str) -> None:
        await ballots.move(self.session, self.rounds[-1], to, actor=self.congress)

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
        await ballots.sign_off(self.session, self.rounds[-1], self.people[username])

    async def _runoff(self) -> None:
        self.rounds.append(await ballots.runoff(self.session, self.rounds[-1], self.congress,
                                                carry_attendance=True))

    # ------------------------------------------------------------------ 公开

    async def _announce(self) -> None:
        await self._move_cycle(CyclePhase.announced, self.congress, "announce")
        await self.schedule_plans(date(self.year, *self.spec.ballot_day), self.spec.late_plans)
