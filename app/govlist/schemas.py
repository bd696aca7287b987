"""JSON shapes of a government list: the draft list, its comments and answers, the adopting
meeting's record."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from app.schemas import COMMENT, Input


class LeftOutIn(Input):
    candidate_id: str = Field(min_length=1, max_length=32)
    reason: str = Field(min_length=1, max_length=500, description="why the meeting left it out")


class AdoptionIn(Input):
    """The meeting that adopted the list (研究确定): PUT /cycles/{id}/adoption, or `adoption`
    in the move to `announced`."""

    meeting: str = Field(min_length=1, max_length=100,
                         description="e.g. 区长办公会, 区政府常务会议 (ends in 会 or 会议)")
    date: dt.date = Field(description="the meeting's date: not in the future, not before the "
                                      "comment period began")
    document_number: str = Field(min_length=1, max_length=60,
                                 description="发文字号 as issued, e.g. 瑶政〔2026〕3号")
    left_out: list[LeftOutIn] = Field(default_factory=list, max_length=100,
                                      description="draft items the meeting left out")


class LeftOutOut(BaseModel):
    candidate_id: str
    title: str
    reason: str


class AdoptionOut(BaseModel):
    """AdoptionRecord — 通过记录: the meeting, its date and document number, items left out."""

    meeting: str
    date: dt.date
    document_number: str
    left_out: list[LeftOutOut]
    recorded_by: str | None = None
    recorded_at: datetime | None = None


def adoption_out(record: dict | None) -> AdoptionOut | None:
    return None if record is None else AdoptionOut(**record)


class DraftCommentIn(Input):
    body: str = Field(min_length=COMMENT.min, max_length=COMMENT.max)
    candidate_id: str | None = Field(default=None, max_length=32,
                                     description="the item commented on; null: the whole list")


class AnswerIn(Input):
    kind: Literal["answered", "noted"] = Field(
        description="answered (答复: text required) or noted (已记录: text optional)")
    text: str = Field(default="", max_length=2000)


class AnswerOut(BaseModel):
    kind: Literal["answered", "noted"]
    text: str
    by: str   # the staff member's name as shown when they answered
    at: datetime


class DraftCommentOut(BaseModel):
    """A comment on the draft list with the government's answer (null until given)."""

    id: str
    cycle_id: str
    candidate_id: str | None   # null: about the list as a whole
    candidate_title: str | None
    author: str
    body: str | None           # null when hidden (staff still see it)
    hidden: bool
    hidden_reason: str
    created_at: datetime
    answer: AnswerOut | None


class PeriodOut(BaseModel):
    """征求意见期: began, the least it lasts, when it may end at the earliest, days left."""

    began_at: datetime
    began_on: date            # Beijing date
    min_days: int
    earliest_end_at: datetime
    earliest_end_on: date
    ended_at: datetime | None  # when the list was announced
    open: bool
    days_left: int


class DraftItemOut(BaseModel):
    """One item of the draft list (a candidate through the government's approval chain)."""

    id: str
    title: str
    summary: str
    responsible_unit: str
    budget_wan: Decimal
    deadline: date
    targets: list[str]
    state: str
    source_proposal_ids: list[str]
    comments: int
    left_out: bool
    left_out_reason: str | None


class CommentFiguresOut(BaseModel):
    """征求意见情况: comments received and how each was handled."""

    total: int
    answered: int
    noted: int
    hidden: int
    unanswered: int
    on_list: int  # about the list as a whole (the others are about one item)


class DraftListOut(BaseModel):
    """征求意见稿: the draft list of a government-decided cycle and its comment period."""

    cycle_id: str
    jurisdiction_code: str
    year: int
    title: str
    phase: str
    decided_by: str
    period: PeriodOut | None
    items: list[DraftItemOut]
    comments: CommentFiguresOut
    adoption: AdoptionOut | None
