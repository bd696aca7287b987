"""JSON shapes of the ballot API (API.md "Ballot rounds")."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.schemas import Input

Mark = Literal["yes", "no", "abstain"]


class BallotCreateIn(Input):
    candidate_ids: list[str] | None = Field(None, max_length=200,
                                            description="default: every reviewed candidate")
    seats: int | None = Field(None, ge=1, le=200, description="default: the cycle's seats")
    secret: bool | None = Field(None, description="default: the jurisdiction's setting (secret)")


class BallotCandidateOut(BaseModel):
    id: str
    title: str


class BallotOut(BaseModel):
    id: str
    cycle_id: str
    round: int
    state: str
    seats: int
    total_deputies: int
    quorum: int
    secret: bool
    present: int
    cast: int
    candidates: list[BallotCandidateOut] = Field(
        description="the ballot paper: the round's candidates in their order")


class PresentOut(BaseModel):
    present: int


class UsernamesIn(Input):
    usernames: list[str] = Field(min_length=1, max_length=5000)


class ScrutineersOut(BaseModel):
    scrutineers: list[str]


class BallotTransitionIn(Input):
    to: Literal["open", "closed", "published", "void"]
    reason: str = Field("", max_length=500)


class VoteIn(Input):
    marks: dict[str, Mark] = Field(max_length=200,
                                   description="candidate id → yes / no / abstain; "
                                               "a candidate left out counts as abstain")


class ReceiptOut(BaseModel):
    receipt: str = Field(description="shown once; its SHA-256 hex joins the bulletin's receipts")


class SignOffOut(BaseModel):
    signed: int
    required: int


class RunoffIn(Input):
    carry_attendance: bool = Field(True, description="deputies present in this round are "
                                                     "present in the next")
