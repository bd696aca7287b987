"""Progress reports of decided projects (监督 进度报告)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Column, Numeric, Text
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, new_id, utcnow


class ProgressReport(SQLModel, table=True):
    """ProgressReport — 进度报告: what a project's unit reports, public at once and never deleted.

    A correction is a new report naming the one it corrects (`corrects`). `planned_percent`
    and `status` are the 序时进度 and the 督办 colour on the day it was filed, as computed then
    (app/projects/progress_rules.py); the project's current ones are computed when read.
    """

    __tablename__ = "progress_report"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    project_id: str = Field(foreign_key="project.id", index=True, max_length=32)
    percent: int  # physical progress, 0–100
    spent_wan: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))  # to date
    # [{"source": "县级财政", "amount_wan": "300.00"}, …], adding up to spent_wan (optional)
    spent_by_source: list[dict] = Field(default_factory=list,
                                        sa_column=Column(JSON, nullable=False))
    # [{"index": 0, "date": "2027-03-28"}, …]: the plan's milestones met, by their place
    milestones_met: list[dict] = Field(default_factory=list,
                                       sa_column=Column(JSON, nullable=False))
    note: str = Field(default="", sa_type=Text)
    corrects: str | None = Field(default=None, foreign_key="progress_report.id", max_length=32)
    reported_on: date  # the Beijing date it was filed
    planned_percent: float
    status: str | None = Field(default=None, max_length=8)  # the colour then (None: no colour)
    filed_by: str = Field(max_length=64)
    filed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
