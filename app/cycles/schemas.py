"""JSON shapes of the cycle API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.govlist.schemas import AdoptionIn, AdoptionOut
from app.schemas import Input
from app.workflows.cycle import CyclePhase


class CycleIn(Input):
    jurisdiction_code: str = Field(min_length=1, max_length=32)
    year: int = Field(ge=2000, le=2100)
    title: str = Field(min_length=1, max_length=200)
    seats: int = Field(ge=1, le=100, description="N: how many projects the deputies decide")
    congress_session: str | None = Field(
        default=None, max_length=100,
        description="人代会会议 that decides the cycle, e.g. 第十八届人民代表大会第五次会议")


class CongressSessionIn(Input):
    congress_session: str | None = Field(
        max_length=100, description="e.g. 第十八届人民代表大会第五次会议; null clears it")


class TransitionIn(Input):
    to: CyclePhase
    reason: str = Field(default="", max_length=2000)
    adoption: AdoptionIn | None = Field(
        default=None, description="a government list moving to 'announced': the adopting "
                                  "meeting's record, if not recorded beforehand")


class HistoryItem(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str | None = Field(alias="from", serialization_alias="from")
    to: str
    by: str
    at: datetime
    reason: str


class CycleOut(BaseModel):
    id: str
    jurisdiction_code: str
    year: int
    title: str
    seats: int
    phase: str
    congress_session: str | None = None
    decided_by: str = "ballot"  # ballot (代表票决) or government (政府研究确定)
    adoption: AdoptionOut | None = None  # a government list: the adopting meeting's record
    history: list[HistoryItem] = []


class PhaseOut(BaseModel):
    phase: str
