"""Decided projects (公开 onwards): the candidates the deputies' ballot selected."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import StrEnumType, UTCDateTime, new_id, utcnow
from app.workflows.states import ProjectState


class Project(SQLModel, table=True):
    """Project — 民生实事项目: a selected (or government-adopted) candidate, as the 公告
    announced it.

    Title, responsible unit, budget and deadline are copied from the candidate when the cycle
    enters `announced` (what was decided stays as decided); `candidate_id` keeps the link back
    to the candidate and, through its sources, to the residents' proposals.
    """

    __tablename__ = "project"
    __table_args__ = (UniqueConstraint("candidate_id"),)  # one project per candidate

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    cycle_id: str = Field(foreign_key="cycle.id", index=True, max_length=32)
    candidate_id: str = Field(foreign_key="candidate.id", max_length=32)
    title: str = Field(max_length=100)
    responsible_unit: str = Field(max_length=100)  # the unit's name as decided
    responsible_unit_id: str = Field(foreign_key="responsible_unit.id", max_length=32)
    budget_wan: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    deadline: date
    # The yes votes of the round that selected it, and that round; both null for a list decided
    # by the government (no ballot).
    yes: int | None = None
    ballot_id: str | None = Field(default=None, foreign_key="ballot_round.id", max_length=32)
    state: ProjectState = Field(sa_column=Column(StrEnumType(ProjectState, 16), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ProjectDecision(SQLModel, table=True):
    """ProjectDecision — 人大常委会决定: a congress decision that moved a project to a side state
    (重大调整 adjusted, 暂缓 suspended, 终止 terminated) or resumed it, with its document number
    and date, flagged "report to the next session" (向下次人代会报告) until that is recorded."""

    __tablename__ = "project_decision"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    project_id: str = Field(foreign_key="project.id", index=True, max_length=32)
    from_state: str = Field(max_length=16)
    to_state: str = Field(max_length=16)
    number: str = Field(max_length=100)  # 文号, e.g. 乐人大常发〔2027〕3号
    decided_on: date
    reason: str = Field(max_length=1000)
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    # When the next session was told (向下次人代会报告); None: still to report.
    reported_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
