"""The yearly cycle of one jurisdiction."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import StrEnumType, UTCDateTime, new_id, utcnow
from app.models.proposal import DEFAULT_CATEGORIES
from app.workflows.states import CyclePhase


class Cycle(SQLModel, table=True):
    """Cycle — 年度票决周期: one jurisdiction's year, from 征集 to 测评."""

    __tablename__ = "cycle"
    __table_args__ = (UniqueConstraint("jurisdiction_code", "year"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    jurisdiction_code: str = Field(foreign_key="jurisdiction.code", index=True, max_length=32)
    year: int
    title: str = Field(max_length=200)
    seats: int
    # The proposal categories of this cycle (DOMAIN.md default: the ten of 瑶海区 2024).
    categories: list[str] = Field(default_factory=lambda: list(DEFAULT_CATEGORIES),
                                  sa_column=Column(JSON, nullable=False))
    phase: CyclePhase = Field(sa_column=Column(StrEnumType(CyclePhase, 32), nullable=False,
                                                index=True))
    # 公示: the days the reviewed candidate list is open for residents' comments.
    publicity_start: date | None = None
    publicity_end: date | None = None
    # 人代会会议: the congress session that decides the cycle, without the jurisdiction's name
    # (第十八届人民代表大会第五次会议); the 公告 quotes it. Set until the cycle is announced.
    congress_session: str | None = Field(default=None, max_length=100)
    # How the list is decided (DOMAIN.md `decided_by`), snapshotted from the jurisdiction's
    # setting when the cycle is created: `ballot` (票决 by the deputies) or `government` (a
    # public comment period on the draft list, 征求意见, then adopted by a government meeting).
    decided_by: str = Field(default="ballot", sa_column=Column(
        String(16), nullable=False, server_default="ballot"))
    # 政府研究确定: the meeting that adopted a government-decided list, its date and document
    # number (区长办公会, 2026-01-15, 瑶政〔2026〕3号), and the draft items it left out, each
    # [{"candidate_id", "title", "reason"}]. Recorded during the comment period; the 公告
    # quotes them.
    adoption_meeting: str | None = Field(default=None, max_length=100)
    adoption_date: date | None = None
    adoption_document_number: str | None = Field(default=None, max_length=60)
    adoption_left_out: list[dict] = Field(default_factory=list, sa_column=Column(
        JSON, nullable=False, server_default="[]"))
    adoption_recorded_by: str | None = Field(default=None, max_length=64)
    adoption_recorded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the cycle entered its current phase (guards on durations read it).
    phase_since: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    created_by: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
