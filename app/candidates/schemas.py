"""JSON shapes of the candidate API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.schemas import DESCRIPTION, FEASIBILITY, TITLE, Input, clean_text
from app.workflows.candidate import CandidateState

_strip = clean_text


class FundingItem(Input):
    source: str = Field(min_length=1, max_length=50, description="e.g. 县级财政, 上级补助")
    amount_wan: Decimal = Field(gt=0, le=1_000_000, max_digits=12, decimal_places=2)

    _strip_source = field_validator("source", mode="before")(_strip)


class CandidateFields(Input):
    title: str = Field(min_length=TITLE.min, max_length=TITLE.max)
    summary: str = Field(min_length=DESCRIPTION.min, max_length=DESCRIPTION.max)
    responsible_unit: str = Field(min_length=1, max_length=100,
                                  description="the unit's name (or id) from the jurisdiction's list")
    budget_wan: Decimal = Field(gt=0, le=1_000_000, max_digits=12, decimal_places=2,
                                description="万元; more than 0, at most 1,000,000 (100 亿元)")
    deadline: date
    funding: list[FundingItem] = Field(default_factory=list, max_length=10)
    targets: list[str] = Field(default_factory=list, max_length=20)
    feasibility: str = Field(default="", max_length=FEASIBILITY.max)

    _strip_text = field_validator("title", "summary", "responsible_unit", "feasibility",
                                  mode="before")(_strip)

    @field_validator("targets")
    @classmethod
    def _targets(cls, value: list[str]) -> list[str]:
        cleaned = [t.strip() for t in value]
        if any(not t or len(t) > 200 for t in cleaned):
            raise ValueError("each target must be 1–200 characters")
        return cleaned


class CandidateIn(CandidateFields):
    proposal_ids: list[str] = Field(min_length=1, max_length=50)


class CandidateEdit(Input):
    """Fields to change; the rest stay as they are."""

    title: str | None = Field(default=None, min_length=TITLE.min, max_length=TITLE.max)
    summary: str | None = Field(default=None, min_length=DESCRIPTION.min,
                                max_length=DESCRIPTION.max)
    responsible_unit: str | None = Field(default=None, min_length=1, max_length=100)
    budget_wan: Decimal | None = Field(default=None, gt=0, le=1_000_000, max_digits=12,
                                       decimal_places=2)
    deadline: date | None = None
    funding: list[FundingItem] | None = Field(default=None, max_length=10)
    targets: list[str] | None = Field(default=None, max_length=20)
    feasibility: str | None = Field(default=None, max_length=FEASIBILITY.max)
    proposal_ids: list[str] | None = Field(default=None, min_length=1, max_length=50)
    reason: str = Field(default="", max_length=500)


class CandidateCreated(BaseModel):
    id: str
    state: str


class SourceOut(BaseModel):
    id: str
    title: str
    endorsements: int


class CandidateOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    cycle_id: str
    title: str
    summary: str
    responsible_unit: str
    budget_wan: Decimal
    funding: list[dict]
    targets: list[str]
    deadline: date
    feasibility: str
    state: str
    version: int
    source_proposals: list[SourceOut]
    updated_at: datetime


class TransitionIn(Input):
    to: CandidateState
    reason: str = Field(default="", max_length=500)


class StateOut(BaseModel):
    state: str


class QuotaOut(BaseModel):
    seats: int
    required: int
    reviewed: int
    drafted: int
    enough: bool


class UnitIn(Input):
    name: str = Field(min_length=2, max_length=100)


class UnitOut(BaseModel):
    id: str
    name: str
    jurisdiction_code: str


class RevisionOut(BaseModel):
    version: int
    edited_by: str
    edited_at: datetime
    data: dict


class PublicityIn(Input):
    start: date
    end: date
