"""Implementation plans of decided projects (公开): the current plan and every saved version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, new_id, utcnow


class ProjectPlan(SQLModel, table=True):
    """ProjectPlan — 实施方案: the government's current plan for one project, public once saved.

    `published_at` is when the plan was first saved (it decides whether the plan was late);
    later saves raise `version` and are kept in `ProjectPlanVersion`.
    """

    __tablename__ = "project_plan"
    __table_args__ = (UniqueConstraint("project_id"),)  # one current plan per project

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    project_id: str = Field(foreign_key="project.id", max_length=32)
    # [{"title": "完成招标", "due": "2027-03-31"}, …] in due order
    milestones: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # [{"source": "县级财政", "amount_wan": "1200.00"}, …], adding up to the project's budget
    funding: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # measurable targets, e.g. ["新建公路 7.8 公里"]
    targets: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # cross-year projects: [{"year": 2027, "target": "完成路基"}, …], one per year
    stage_targets: list[dict] = Field(default_factory=list,
                                      sa_column=Column(JSON, nullable=False))
    version: int = 1
    published_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    published_by: str = Field(max_length=64)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_by: str = Field(max_length=64)


class ProjectPlanVersion(SQLModel, table=True):
    """ProjectPlanVersion — 方案修改记录: the plan as it was after one save, who saved it and why."""

    __tablename__ = "project_plan_version"
    __table_args__ = (UniqueConstraint("project_id", "version"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    project_id: str = Field(foreign_key="project.id", index=True, max_length=32)
    version: int
    # {"milestones", "funding", "targets", "stage_targets"} as saved
    data: dict = Field(sa_column=Column(JSON, nullable=False))
    saved_by: str = Field(max_length=64)
    saved_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    reason: str = Field(default="", sa_type=Text)  # 说明 of a change (empty for the first save)
