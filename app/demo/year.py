"""Playing one jurisdiction's year through the services (演示脚本): every step is the call the
API and the pages make, at the moment it would have happened, so each record carries its date,
its transition and its audit entry exactly as a real one.

Here the year every cycle starts with: 筹备 (the cycle set up) and 征集 (proposals by every
channel, endorsements, comments, decisions, proposals carried from the reserve), and
`SolicitingYear`, a year still in 征集. A year whose list was decided goes on in
app/demo/decided.py (candidates, plans): by the deputies' ballot in app/demo/balloted.py
(`FinishedYear`: 初定 → 票决 → 公开), by the government in app/demo/government.py
(`GovernmentYear`: 征求意见 instead of 票决). Each only puts steps on the timeline
(app/demo/calendar.py); `Timeline.play` runs them.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from app.comments import service as comment_service
from app.cycles import service as cycles
from app.demo import specs
from app.demo.calendar import Timeline, beijing, congress_session
from app.demo.people import JURISDICTIONS, People
from app.models import Cycle, Proposal, User
from app.proposals import engagement, hotline, review
from app.proposals import service as proposals
from app.proposals.hotline_file import FIELDS as HOTLINE_FIELDS
from app.proposals.schemas import ProposalIn
from app.timeutil import CHINA_TZ
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
