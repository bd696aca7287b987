"""JSON shapes of the proposal API."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.schemas import DESCRIPTION, TITLE, Input, clean_text

Channel = Literal["online", "deputy", "hotline", "visit", "letter"]


# Digits with what people write between them: 0832-1234567, +86 138 0000 0000, 138****0000,
# (0832)1234567转8001, two numbers separated by / or 、. Empty: none given.
PHONE_PATTERN = r"^[0-9+\-()*#/,;、 转]*$"
_strip = clean_text


def normalise_source_ref(value):
    """A record number as stored: full-width folded (ＧＤ１２ → GD12), spaces out, upper case."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return value
    value = "".join(unicodedata.normalize("NFKC", value).split()).upper()
    return value or None


def normalise_phone(value):
    """A phone as stored: full-width digits and brackets folded, outer spaces dropped."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else value


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

    # Staff recording another channel only (a resident or deputy gives neither).
    source_ref: str | None = Field(
        default=None, max_length=64, pattern=r"^\S+$",
        description="the channel's own record number, e.g. the 12345 工单号; once per cycle")
    proposer_phone: str = Field(
        default="", max_length=32, pattern=PHONE_PATTERN,
        description="the proposer's phone, for staff follow-up only (never public)")

    _source_ref = field_validator("source_ref", mode="before")(normalise_source_ref)
    _phone = field_validator("proposer_phone", mode="before")(normalise_phone)


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


def summary(p) -> ProposalSummary:
    """A proposal (a Proposal, or a listing.Listed row) as a list shows it."""
    return ProposalSummary(id=p.id, cycle_id=p.cycle_id, title=p.title, category=p.category,
                           location_code=p.location_code, place=p.place, channel=p.channel,
                           state=p.state, endorsements=p.endorsement_count,
                           created_at=p.created_at)


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


class CarryIn(Input):
    proposal_ids: list[str] = Field(min_length=1, max_length=500)
    reason: str = Field(default="", max_length=500)


class CarryOut(BaseModel):
    carried: list[dict]


class ImportProblemOut(BaseModel):
    field: str = Field(description="the proposal field, e.g. title, category, source_ref")
    column: str = Field(description="the file's own header of that column")
    detail: str
    zh: str = Field(description="the same in Chinese, as the staff page shows it")


class ImportRowOut(BaseModel):
    line: int = Field(description="line number as the spreadsheet shows it")
    source_ref: str
    status: Literal["create", "created", "skip", "invalid"] = Field(
        description="create: will be created (dry run); created; skip: this record is in the "
                    "cycle already (proposal_id); invalid: see problems")
    title: str
    channel: str
    location_code: str
    proposal_id: str | None
    problems: list[ImportProblemOut]


class ImportOut(BaseModel):
    dry_run: bool
    valid: bool = Field(description="no row has a problem")
    rows: int
    to_create: int = Field(description="rows a confirmed import creates (dry run)")
    created: int
    skipped: int
    invalid: int
    columns: dict[str, str] = Field(description="field → the file's header read for it")
    ignored_columns: list[str]
    items: list[ImportRowOut]
