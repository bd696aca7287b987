"""Residents' proposals and what hangs off them: endorsements, photos, comments."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Column,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from app.models.base import StrEnumType, UTCDateTime, new_id, utcnow
from app.workflows.states import ProposalState

# DOMAIN.md's default categories (瑶海区 2024); a cycle keeps its own copy.
DEFAULT_CATEGORIES = ["就业创业", "社会保障", "困难群体救助", "教育", "卫生健康", "环境保护",
                      "交通出行", "文体服务", "城乡建设", "公共安全"]


class Proposal(SQLModel, table=True):
    """Proposal — 民生实事建议 (群众点单): one proposal made in one cycle through one channel."""

    __tablename__ = "proposal"
    __table_args__ = (
        Index("ix_proposal_cycle_created", "cycle_id", "created_at"),
        Index("ix_proposal_cycle_endorsed", "cycle_id", "endorsement_count", "created_at"),
        Index("ix_proposal_cycle_state", "cycle_id", "state", "created_at"),
        Index("ix_proposal_cycle_category", "cycle_id", "category", "created_at"),
        Index("ix_proposal_cycle_location", "cycle_id", "location_code", "created_at"),
        # The public list filtered by state, category and place, newest first, walks this.
        Index("ix_proposal_cycle_facets", "cycle_id", "state", "category", "location_code",
              "created_at"),
        # A channel's own record number (12345 工单号) is recorded once per cycle.
        Index("uq_proposal_cycle_source_ref", "cycle_id", "source_ref", unique=True),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    cycle_id: str = Field(foreign_key="cycle.id", max_length=32)
    title: str = Field(max_length=100)
    description: str = Field(sa_type=Text)
    category: str = Field(max_length=32)
    location_code: str = Field(foreign_key="jurisdiction.code", max_length=32)
    place: str = Field(default="", max_length=100)
    estimated_cost_wan: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2)))
    channel: str = Field(sa_column=Column(String(16), nullable=False))
    state: ProposalState = Field(sa_column=Column(StrEnumType(ProposalState, 16), nullable=False))
    proposer_id: str | None = Field(default=None, foreign_key="user_account.id", max_length=32)
    # Who typed it in, when staff record a hotline call, a visit, a letter or a deputy's proposal.
    recorded_by: str | None = Field(default=None, foreign_key="user_account.id", max_length=32)
    # For channels other than online: who proposed it, as the staff member recorded it.
    proposer_name: str = Field(default="", max_length=100)
    # The proposer's phone as staff recorded it, for their follow-up only: never public.
    proposer_phone: str = Field(default="", max_length=32)
    # The channel's own record number (12345 工单号), normalised; None when there is none.
    source_ref: str | None = Field(default=None, max_length=64)
    # When the channel received it (来电时间), if the record says; staff see it, the public not.
    received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    endorsement_count: int = Field(default=0, sa_column=Column(Integer, nullable=False,
                                                               server_default="0"))
    merged_into_id: str | None = Field(default=None, foreign_key="proposal.id", max_length=32)
    # A reserve (储备库) proposal carried into a later cycle points back at its original.
    carried_from_id: str | None = Field(default=None, foreign_key="proposal.id", max_length=32)
    # Folded, segmented words of title, description and place for the full-text index.
    search_text: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ProposalTally(SQLModel, table=True):
    """How many proposals (建议) a cycle holds per state, category and place, and how often that
    part of the cycle changed: the public list's totals without counting 100,000 rows.

    Kept by triggers on proposal (migrations/versions/2026-12-07-0710_proposal_tally.py), in the
    same transaction as the change. `changes` grows whenever a proposal of the bucket is added,
    removed or changes its state, category, place, words or time: the sum over a cycle is the
    version of everything a search of it can find (app/proposals/search.py). Endorsements do not
    count as changes. Never written by the app.
    """

    __tablename__ = "proposal_tally"

    cycle_id: str = Field(primary_key=True, max_length=32)
    state: str = Field(primary_key=True, max_length=16)
    category: str = Field(primary_key=True, max_length=32)
    location_code: str = Field(primary_key=True, max_length=32)
    proposals: int = Field(sa_column=Column(Integer, nullable=False))
    changes: int = Field(sa_column=Column(Integer, nullable=False))


class Endorsement(SQLModel, table=True):
    """Endorsement — 附议: one person backing one proposal, at most once."""

    __tablename__ = "endorsement"
    __table_args__ = (UniqueConstraint("proposal_id", "user_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    proposal_id: str = Field(foreign_key="proposal.id", index=True, max_length=32)
    user_id: str = Field(foreign_key="user_account.id", index=True, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ProposalPhoto(SQLModel, table=True):
    """ProposalPhoto — 建议照片: a re-encoded photo (no EXIF) stored on disk."""

    __tablename__ = "proposal_photo"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    proposal_id: str = Field(foreign_key="proposal.id", index=True, max_length=32)
    filename: str = Field(max_length=64)
    width: int
    height: int
    bytes: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Comment(SQLModel, table=True):
    """Comment — 评论: on a proposal, a candidate project, or a government's draft list
    (征求意见稿, as a whole or one item); hidden when reported, never deleted.

    A comment on a draft list carries its `cycle_id` (and `candidate_id` when it is about one
    item) and is answered by government staff: `answer_kind` `answered` (答复, with a text) or
    `noted` (已记录, with an optional note).
    """

    __tablename__ = "comment"
    __table_args__ = (
        Index("ix_comment_proposal_created", "proposal_id", "created_at"),
        Index("ix_comment_candidate_created", "candidate_id", "created_at"),
        Index("ix_comment_cycle_created", "cycle_id", "created_at"),
        # A proposal's comment has no other subject; any other names a candidate, a draft
        # list (cycle), or both (one item of a draft list).
        CheckConstraint("(proposal_id IS NULL) <> (candidate_id IS NULL AND cycle_id IS NULL)",
                        name="one_subject"),
        CheckConstraint("answer_kind IS NULL OR answer_kind IN ('answered', 'noted')",
                        name="answer_kind"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    proposal_id: str | None = Field(default=None, foreign_key="proposal.id", max_length=32)
    candidate_id: str | None = Field(default=None, foreign_key="candidate.id", max_length=32)
    cycle_id: str | None = Field(default=None, foreign_key="cycle.id", max_length=32)
    author_id: str = Field(foreign_key="user_account.id", max_length=32)
    body: str = Field(sa_type=Text)
    report_count: int = 0
    hidden_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    hidden_by: str | None = Field(default=None, max_length=64)
    hidden_reason: str = Field(default="", max_length=500)
    # The government's answer to a draft-list comment (public beside it): who (their name as
    # shown then, and their account) and when.
    answer_kind: str | None = Field(default=None, max_length=8)
    answer_text: str = Field(default="", sa_type=Text)
    answered_by: str | None = Field(default=None, max_length=100)
    answered_by_id: str | None = Field(default=None, foreign_key="user_account.id",
                                       max_length=32)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class CommentReport(SQLModel, table=True):
    """CommentReport — 举报: one person reporting one comment, once."""

    __tablename__ = "comment_report"
    __table_args__ = (UniqueConstraint("comment_id", "reporter_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    comment_id: str = Field(foreign_key="comment.id", index=True, max_length=32)
    reporter_id: str = Field(foreign_key="user_account.id", max_length=32)
    reason: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
