"""JSON shapes of the proposal API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.schemas import COMMENT, DESCRIPTION, TITLE, Input, clean_text

Channel = Literal["online", "deputy", "hotline", "visit", "letter"]
_strip = clean_text


class ProposalIn(Input):
    title: str = Field(min_length=TITLE.min, max_length=TITLE.max,
                       description=f"{TITLE.min}–{TITLE.max} characters, e.g. 修路")
    description: str = Field(min_length=DESCRIPTION.min, max_length=DESCRIPTION.max,
                             description="why it is needed and who benefits, "
                                         f"{DESCRIPTION.min}–{DESCRIPTION.max} characters")
    category: str = Field(min_length=1, max_length=32)
    location_code: str = Field(min_length=1, max_length=32)
    place: str = Field(default="", max_length=100, description="village, community or road")
    estimated_cost_wan: Decimal | None = Field(default=None, ge=0, le=1_000_000,
                                               max_digits=12, decimal_places=2)
    channel: Channel | None = None
    proposer_name: str = Field(default="", max_length=100,
                               description="staff recording another channel: who proposed it")

    _strip_text = field_validator("title", "description", "place", "proposer_name",
                                  mode="before")(_strip)


class ProposalCreated(BaseModel):
    id: str
    state: str


class HistoryEntry(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str | None = Field(alias="from", serialization_alias="from")
    to: str
    by: str
    at: datetime
    reason: str


class ProposalSummary(BaseModel):
    id: str
    cycle_id: str
    title: str
    category: str
    location_code: str
    place: str
    channel: str
    state: str
    endorsements: int
    created_at: datetime


class ProposalOut(ProposalSummary):
    description: str
    estimated_cost_wan: Decimal | None
    proposer: str
    merged_into_id: str | None
    carried_from_id: str | None
    photos: list[str]
    history: list[HistoryEntry]


class SimilarOut(BaseModel):
    id: str
    title: str
    state: str
    endorsements: int


class ReviewIn(Input):
    decision: Literal["accept", "reject", "merge"]
    reason: str = Field(default="", max_length=500)
    merge_into_id: str | None = Field(default=None, max_length=32)

    _strip_reason = field_validator("reason", mode="before")(_strip)


class StateOut(BaseModel):
    state: str


class EndorsementOut(BaseModel):
    proposal_id: str
    endorsements: int


class CommentIn(Input):
    body: str = Field(min_length=COMMENT.min, max_length=COMMENT.max)

    _strip_body = field_validator("body", mode="before")(_strip)


class CommentOut(BaseModel):
    id: str
    author: str
    body: str | None
    hidden: bool
    hidden_reason: str
    created_at: datetime


class ReportIn(Input):
    reason: str = Field(default="", max_length=500)


class HideIn(Input):
    reason: str = Field(min_length=1, max_length=500)


class CarryIn(Input):
    proposal_ids: list[str] = Field(min_length=1, max_length=500)
    reason: str = Field(default="", max_length=500)


class CarryOut(BaseModel):
    carried: list[dict]


class NotificationOut(BaseModel):
    id: str
    proposal_id: str | None
    message: str
    read: bool
    created_at: datetime
