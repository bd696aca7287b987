"""Candidate projects (初定): built from accepted proposals, approved, then voted on."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Column, Index, Numeric, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import StrEnumType, UTCDateTime, new_id, utcnow
from app.workflows.states import CandidateState


class ResponsibleUnit(SQLModel, table=True):
    """ResponsibleUnit — 责任单位: a department of a jurisdiction that builds projects."""

    __tablename__ = "responsible_unit"
    __table_args__ = (UniqueConstraint("jurisdiction_code", "name"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    jurisdiction_code: str = Field(foreign_key="jurisdiction.code", index=True, max_length=32)
    name: str = Field(max_length=100)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Candidate(SQLModel, table=True):
    """Candidate — 候选项目: what the deputies will vote on, answering residents' proposals."""

    __tablename__ = "candidate"
    __table_args__ = (Index("ix_candidate_cycle_state", "cycle_id", "state"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    cycle_id: str = Field(foreign_key="cycle.id", max_length=32)
    title: str = Field(max_length=100)
    summary: str = Field(sa_type=Text)
    responsible_unit_id: str = Field(foreign_key="responsible_unit.id", max_length=32)
    budget_wan: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    # [{"source": "县级财政", "amount_wan": "1200.00"}, …], adding up to budget_wan
    funding: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # measurable targets, e.g. ["新建公路 7.8 公里"]
    targets: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    deadline: date
    feasibility: str = Field(default="", sa_type=Text)
    state: CandidateState = Field(sa_column=Column(StrEnumType(CandidateState, 16), nullable=False))
    version: int = 1
    created_by: str = Field(foreign_key="user_account.id", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class CandidateSource(SQLModel, table=True):
    """CandidateSource — 来源建议: "this project answers proposals #12, #40, #41"."""

    __tablename__ = "candidate_source"
    __table_args__ = (UniqueConstraint("proposal_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    candidate_id: str = Field(foreign_key="candidate.id", index=True, max_length=32)
    proposal_id: str = Field(foreign_key="proposal.id", max_length=32)


class CandidateRevision(SQLModel, table=True):
    """CandidateRevision — 修改记录: the candidate as it was after each save."""

    __tablename__ = "candidate_revision"
    __table_args__ = (UniqueConstraint("candidate_id", "version"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    candidate_id: str = Field(foreign_key="candidate.id", index=True, max_length=32)
    version: int
    data: dict = Field(sa_column=Column(JSON, nullable=False))
    edited_by: str = Field(max_length=64)
    edited_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
