"""Playing a year whose list the government decided (政府研究确定) through the services:
筹备 → 征集 → 初定 (the draft list approved by the 政府常务会议; the congress does not review
it) → 征求意见 (the draft public for comment, every comment answered, noted or hidden by the
government's staff) → 公开 (the adopting meeting's record, the projects, the 人民政府's 公告),
then the plans. The rules are app/govlist's; this only calls them at their dates.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

from app.comments import service as comment_service
from app.comments.schemas import HideIn, ReportIn
from app.cycles import service as cycles
from app.demo import specs
from app.demo.calendar import beijing
from app.demo.decided import DecidedYear
from app.demo.year import WORDS
from app.govlist import comments, draft
from app.govlist.schemas import AdoptionIn, AnswerIn, DraftCommentIn
from app.models import Comment
from app.workflows.candidate import CandidateState
from app.workflows.cycle import CyclePhase


class GovernmentYear(DecidedYear):
    """A government's list from 筹备 to 公开 with plans (`spec`: app/demo/specs.GovernmentYear)."""

    def __init__(self, *args, spec: specs.GovernmentYear, **kwargs) -> None:
        super().__init__(*args, jurisdiction=spec.jurisdiction, gov=spec.gov, seats=spec.seats,
                         **kwargs)
        self.spec = spec
        self.comments: dict[int, Comment] = {}

    def schedule(self) -> None:
        """Put the whole year on the timeline: September before the year to its February."""
        spec, y, at = self.spec, self.year, self.timeline.at
        opened = date(y - 1, *spec.opened)
        screening = beijing(date(y - 1, *spec.screening), 9)
        self.schedule_opening(opened)
        self.schedule_proposals(spec.proposals, (), opened, until=screening)
        at(screening, partial(self._move_cycle, CyclePhase.screening, "screen"))
        first = date(y - 1, *spec.drafting)
        for i, item in enumerate(spec.candidates):
            at(beijing(first + timedelta(days=i // 3), 9 + (i % 3) * 2, 30),
               partial(self._build, item))
        at(beijing(date(y - 1, *spec.approved), 16), self._approve_all)
        began = date(y - 1, *spec.commenting)
        at(beijing(began, 9), partial(self._move_cycle, CyclePhase.commenting, "comment"))
        adopted = beijing(date(y, *spec.adoption.day), 15)
        for i, comment in enumerate(spec.comments):
            rng = self.rng("draft-comment", i)
            made = beijing(began + timedelta(days=comment.day), 8 + rng.randrange(14),
                           rng.randrange(60))
            handled = beijing(began + timedelta(days=comment.day + comment.after),
                              9 + rng.randrange(8), rng.randrange(60))
            if not made + timedelta(hours=3) < handled < adopted:
                raise ValueError(f"comment {i} of {self.code} is handled outside the period")
            at(made, partial(self._comment, i, comment))
            if comment.reported_by:
                at(made + timedelta(hours=2), partial(self._report, i, comment))
            at(handled, partial(self._handle, i, comment))
        at(adopted, self._record_adoption)
        at(adopted + timedelta(hours=2), self._announce)

    async def _create(self) -> None:
        """The year set up with no congress session: nothing goes to a ballot."""
        self.cycle = await cycles.create(
            self.session, actor=self.gov, jurisdiction_code=self.code, year=self.year,
            title=f"{self.name}{self.year}年民生实事项目", seats=self.seats)

    async def _move_cycle(self, to: str, words: str) -> None:
        adoption = self.spec.adoption
        reason = WORDS[self.level][words].format(
            year=self.year, meeting=adoption.meeting, number=adoption.number.format(y=self.year))
        await cycles.transition(self.session, actor=self.gov, cycle=self.cycle, to=to,
                                reason=reason)

    # ------------------------------------------------------------------ 初定

    async def _approve_all(self) -> None:
        for item in self.spec.candidates:
            await self._move_candidate(item.key, CandidateState.gov_approved, self.gov,
                                       WORDS[self.level]["gov_approve"])

    # ------------------------------------------------------------------ 征求意见

    async def _comment(self, index: int, spec: specs.DraftCommentSpec) -> None:
        body = DraftCommentIn.model_validate({
            "body": spec.body, "candidate_id": spec.on and self.candidates[spec.on].id})
        self.comments[index] = await comments.add(
            self.session, actor=self.people[spec.by], cycle=self.cycle, body=body.body,
            candidate_id=body.candidate_id)

    async def _report(self, index: int, spec: specs.DraftCommentSpec) -> None:
        body = ReportIn.model_validate({"reason": "广告信息，与征求意见无关"})
        await comment_service.report(self.session, actor=self.people[spec.reported_by],
                                     comment=self.comments[index], reason=body.reason)

    async def _handle(self, index: int, spec: specs.DraftCommentSpec) -> None:
        """Government staff answer or note the comment, or hide it (it then needs no answer)."""
        comment = self.comments[index]
        if spec.kind == "hidden":
            body = HideIn.model_validate({"reason": spec.text})
            await comment_service.hide(self.session, actor=self.gov, comment=comment,
                                       reason=body.reason)
            return
        answer = AnswerIn.model_validate({"kind": spec.kind, "text": spec.text})
        await comments.answer(self.session, actor=self.gov, comment=comment, cycle=self.cycle,
                              kind=answer.kind, text=answer.text)

    # ------------------------------------------------------------------ 公开

    async def _record_adoption(self) -> None:
        adoption = self.spec.adoption
        body = AdoptionIn.model_validate({
            "meeting": adoption.meeting, "date": date(self.year, *adoption.day),
            "document_number": adoption.number.format(y=self.year),
            "left_out": [{"candidate_id": self.candidates[key].id, "reason": reason}
                         for key, reason in adoption.left_out]})
        await draft.record_adoption(self.session, actor=self.gov, cycle=self.cycle,
                                    meeting=body.meeting, on=body.date,
                                    number=body.document_number,
                                    left_out=[r.model_dump() for r in body.left_out])

    async def _announce(self) -> None:
        await self._move_cycle(CyclePhase.announced, "announce")
        await self.schedule_plans(date(self.year, *self.spec.adoption.day))

