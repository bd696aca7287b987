"""A year whose list was decided (演示脚本: 初定 and the plans), by the deputies' ballot
(app/demo/balloted.py) or by the government (app/demo/government.py): the candidates built
from accepted proposals and moved on, and the projects' implementation plans after the 公告.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

from sqlalchemy import select

from app.candidates import service as candidates
from app.candidates.schemas import CandidateIn
from app.demo import specs
from app.demo.calendar import beijing
from app.demo.year import Year
from app.models import Candidate, Project, User
from app.projects import plans
from app.timeutil import china_today

# Days after the announcement that plans were published: on time first, then the late ones.
PLAN_DAYS = [9, 12, 14, 17, 19, 21, 23, 25, 27, 28]
LATE_PLAN_DAYS = [37, 49]


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
