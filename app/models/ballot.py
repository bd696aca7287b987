"""The ballot box's tables (投票箱): rounds of either form — the deputies' ballot (票决) or the
year-end evaluation (测评) — their items, attendance, who voted, what was voted, receipts.

Secrecy by construction (DOMAIN.md 票决 3): who voted (`ballot_participation`) and what was
voted (`ballot_content`) share no key, content carries no timestamp, and the order of content
rows says nothing about time. A content row is a *slot*, made with a random id when a deputy
checks in. While the round is open a cast stores a sealed envelope (`ballot_envelope`,
app/ballotbox/envelopes.py) beside the participation row, never content; the close opens every
envelope and fills the slots in one transaction, the contents sorted and the slots in the order
of their random ids (app/ballotbox/opening.py), then deletes the envelopes and the round's key
and has the database forget them. On SQLite the slot and receipt tables are WITHOUT ROWID,
ordered by their random keys; on PostgreSQL the slot table has a low fillfactor, and the close
rewrites the filled slots in a random order, so a plain scan follows no casting order.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import StrEnumType, UTCDateTime, new_id, utcnow
from app.workflows.states import BallotState


class BallotRound(SQLModel, table=True):
    """BallotRound — 投票轮次: one secret vote of the deputies on the items of a ballot paper, in
    one form (app/ballotbox/forms.py): the candidates for S seats (票决轮次) or the projects to
    score (测评轮次)."""

    __tablename__ = "ballot_round"
    __table_args__ = (UniqueConstraint("cycle_id", "form", "round"),)  # numbered per form

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    cycle_id: str = Field(foreign_key="cycle.id", index=True, max_length=32)
    round: int
    # The ballot form (app/ballotbox/forms.py FORMS): deputies_ballot (票决) or evaluation (测评).
    form: str = Field(default="deputies_ballot", max_length=24,
                      sa_column_kwargs={"server_default": "deputies_ballot"})
    seats: int  # 票决: the seats; a form without a limited mark ignores it
    # T (全体代表): the roster size when the round was created; never changes afterwards.
    total_deputies: int
    secret: bool = True
    # The jurisdiction's rules when the round was created (later edits do not move them).
    threshold_base: str = Field(default="all", max_length=8)
    quorum: int  # ⌈num/den × T⌉ deputies present before the round may open
    signoffs_required: int = 2
    shortfall_policy: str = Field(default="further_round", max_length=16)
    state: BallotState = Field(sa_column=Column(StrEnumType(BallotState, 16), nullable=False))
    parent_id: str | None = Field(default=None, foreign_key="ballot_round.id", max_length=32)
    paper_issued: int = 0  # paper ballots handed out (electronic ones: one slot per check-in)
    # Voting devices handed out, as given with the device import; None: nothing imported.
    device_issued: int | None = None
    results: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_by: str = Field(foreign_key="user_account.id", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class BallotItem(SQLModel, table=True):
    """BallotItem — 票面事项: an item on a round's ballot paper, in its place: a candidate (票决) or
    a project (测评), as the round's form says; that stage checks the id when it makes the round."""

    __tablename__ = "ballot_item"
    __table_args__ = (UniqueConstraint("round_id", "item_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    round_id: str = Field(foreign_key="ballot_round.id", index=True, max_length=32)
    item_id: str = Field(max_length=32)
    position: int


class BallotAttendance(SQLModel, table=True):
    """BallotAttendance — 出席: a deputy present for a round (checked in, or recorded by staff)."""

    __tablename__ = "ballot_attendance"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    round_id: str = Field(foreign_key="ballot_round.id", index=True, max_length=32)
    user_id: str = Field(foreign_key="user_account.id", max_length=32)
    recorded_by: str | None = Field(default=None, max_length=64)  # None: the deputy checked in
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class BallotParticipation(SQLModel, table=True):
    """BallotParticipation — 投票记录: that a deputy voted in a round (never what).

    The unique constraint is what makes "exactly one ballot per deputy per round" hold under
    concurrent submissions from two devices: cast() claims the row with INSERT … ON CONFLICT DO
    NOTHING, so the second submission (which waits for the first to commit) inserts nothing and
    is refused before any content is written.
    """

    __tablename__ = "ballot_participation"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    round_id: str = Field(foreign_key="ballot_round.id", max_length=32)
    user_id: str = Field(foreign_key="user_account.id", max_length=32)


class BallotContent(SQLModel, table=True):
    """BallotContent — 选票内容: one ballot's marks, with nothing that names its deputy.

    An empty slot (marks None) is an issued ballot not yet returned. `voter_id` is set only in a
    named (non-secret) round, where the link is public by rule and every page says so.
    """

    __tablename__ = "ballot_content"
    __table_args__ = (Index("ix_ballot_content_round", "round_id", "filled"),
                      # PostgreSQL also has ix_ballot_content_empty (round_id, id) WHERE NOT
                      # filled AND NOT paper: see migration 2026-11-23-0300
                      {"sqlite_with_rowid": False})  # fillfactor 50 on PostgreSQL: the migration

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    round_id: str = Field(foreign_key="ballot_round.id", max_length=32)
    filled: bool = False
    # Canonical JSON of {item id: mark} (keys sorted), or None while the slot is empty.
    marks: str | None = Field(default=None, sa_type=Text)
    paper: bool = False
    invalid: bool = False  # a paper ballot recorded as spoilt
    voter_id: str | None = Field(default=None, foreign_key="user_account.id", max_length=32)


class BallotReceipt(SQLModel, table=True):
    """BallotReceipt — 回执: the SHA-256 of a receipt code given to a deputy who cast a ballot.

    Published sorted, so a deputy can find theirs; it points at no ballot's content.
    """

    __tablename__ = "ballot_receipt"
    __table_args__ = ({"sqlite_with_rowid": False},)

    round_id: str = Field(foreign_key="ballot_round.id", primary_key=True, max_length=32)
    digest: str = Field(primary_key=True, max_length=64)


class BallotEnvelope(SQLModel, table=True):
    """BallotEnvelope — 密封选票: a ballot cast while its round is open, sealed under the round's
    key (app/ballotbox/envelopes.py). Opened, turned into content and receipt rows and deleted
    when the round closes; nothing in it names its deputy."""

    __tablename__ = "ballot_envelope"
    __table_args__ = ({"sqlite_with_rowid": False},)

    round_id: str = Field(foreign_key="ballot_round.id", primary_key=True, max_length=32)
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    sealed: bytes = Field(sa_type=LargeBinary, nullable=False)


class BallotBoxKey(SQLModel, table=True):
    """BallotBoxKey — 票箱密钥: a round's key, wrapped under the server's ballot key
    (MINSHENG_BALLOT_KEY) and never stored unwrapped; deleted at close."""

    __tablename__ = "ballot_box_key"

    round_id: str = Field(foreign_key="ballot_round.id", primary_key=True, max_length=32)
    wrapped: bytes = Field(sa_type=LargeBinary, nullable=False)
    key_id: str = Field(max_length=16)  # which ballot key wrapped it


class BallotScrutineer(SQLModel, table=True):
    """BallotScrutineer — 监票人: a deputy named to witness and sign off a round's tally."""

    __tablename__ = "ballot_scrutineer"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    round_id: str = Field(foreign_key="ballot_round.id", index=True, max_length=32)
    user_id: str = Field(foreign_key="user_account.id", max_length=32)
    signed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PaperEntry(SQLModel, table=True):
    """PaperEntry — 纸质选票录入: one staff account's reading of one numbered paper ballot sheet.

    Each sheet is entered by two different accounts; when the two readings agree the sheet
    becomes one `BallotContent` row (paper, with neither sheet number nor entrant). Sheets are
    numbered as they come out of the opened box, so nothing here points at a deputy.
    """

    __tablename__ = "ballot_paper_entry"
    __table_args__ = (UniqueConstraint("round_id", "sheet", "entered_by"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    round_id: str = Field(foreign_key="ballot_round.id", index=True, max_length=32)
    sheet: int
    entered_by: str = Field(foreign_key="user_account.id", max_length=32)
    # Canonical JSON of {candidate_id: mark} for every candidate; "{}" for a spoilt sheet.
    marks: str = Field(sa_type=Text)
    spoilt: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    corrected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DeviceBallot(SQLModel, table=True):
    """DeviceBallot — 表决器选票: marks a content row as imported from the hall's voting devices.

    A side table rather than a column, so the content table stays as the secrecy test reads
    it. Rows are written in a random order and keyed by the content row's random id (WITHOUT
    ROWID on SQLite), so neither holds the order of the devices' export.
    """

    __tablename__ = "ballot_device_ballot"
    __table_args__ = ({"sqlite_with_rowid": False},)

    content_id: str = Field(foreign_key="ballot_content.id", primary_key=True, max_length=32)
    round_id: str = Field(foreign_key="ballot_round.id", index=True, max_length=32)
