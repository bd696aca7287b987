"""Casting a ballot in secret (投票): the one ballot per deputy, receipts, the reshuffle at close.

Secrecy rests on the tables (app/models/ballot.py): casting writes a participation row (who)
and fills a random empty content slot (what) in one transaction; the two share no key and
nothing about the content row follows the order of casting. Logs and the audit trail say that
a deputy voted, never how.
"""

from __future__ import annotations

import hashlib
import json
import secrets

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.ballots.service import ensure_deputy_of
from app.errors import Conflict, Forbidden, Invalid
from app.models import (
    BallotAttendance,
    BallotCandidate,
    BallotContent,
    BallotParticipation,
    BallotReceipt,
    BallotRound,
    Cycle,
    User,
    new_id,
)
from app.workflows.ballot import BallotState

# A receipt code: 80 random bits in Crockford-style base32 (no I, L, O, U), in groups of four.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_receipt() -> str:
    n = secrets.randbits(80)
    chars = "".join(_ALPHABET[(n >> (5 * i)) & 31] for i in range(16))
    return "-".join(chars[i:i + 4] for i in range(0, 16, 4))


def receipt_digest(code: str) -> str:
    """SHA-256 hex of the code as shown (upper case, with its dashes)."""
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def canonical(marks: dict[str, str]) -> str:
    """The canonical JSON of a ballot's marks: keys sorted, no spaces (API.md)."""
    return json.dumps(marks, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# ----------------------------------------------------------------------------- casting

async def cast(session: AsyncSession, ballot: BallotRound, user: User,
               marks: dict[str, str]) -> str:
    """Cast `user`'s one ballot; returns the receipt code (shown once, stored only hashed)."""
    ensure_deputy_of(user, await session.get(Cycle, ballot.cycle_id))
    ensure_may_cast(ballot, checked_in=await session.scalar(select(BallotAttendance.id).where(
        BallotAttendance.round_id == ballot.id, BallotAttendance.user_id == user.id)) is not None)
    on_paper = set(await session.scalars(select(BallotCandidate.candidate_id).where(
        BallotCandidate.round_id == ballot.id)))  # the ids are enough: no candidate rows
    check_marks(ballot, on_paper, marks)
    # One statement claims the deputy's one ballot: a second submission (another device, a
    # replay) inserts nothing, also when it races the first, whose commit it waits for.
    # Nothing is raised, so the session stays usable and no savepoint is needed.
    dialect_insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    claimed = await session.scalar(
        dialect_insert(BallotParticipation)
        .values(id=new_id(), round_id=ballot.id, user_id=user.id)
        .on_conflict_do_nothing(index_elements=["round_id", "user_id"])
        .returning(BallotParticipation.id))
    if claimed is None:
        raise already_voted()
    slot = await _empty_slot(session, ballot.id)
    if slot is None:  # cannot happen: one slot per attendance, one ballot per attendance
        raise Conflict("No ballot left to fill.", code="no_ballot_left", zh="没有可用的选票。")
    full = {c: marks.get(c, "abstain") for c in on_paper}
    await session.execute(update(BallotContent).where(BallotContent.id == slot).values(
        filled=True, marks=canonical(full), voter_id=None if ballot.secret else user.id))
    code = new_receipt()
    await session.execute(insert(BallotReceipt).values(round_id=ballot.id,
                                                      digest=receipt_digest(code)))
    await audit.record(session, actor=user.username, action="ballot_round.cast",
                       entity_type="ballot_round", entity_id=ballot.id, data={})
    return code


def ensure_may_cast(ballot: BallotRound, *, checked_in: bool, voted: bool = False) -> None:
    """The refusals before a deputy's ballot is taken: voted already, round not open, absent.

    cast() claims the one ballot itself (so `voted` is for pages that ask first).
    """
    if voted:
        raise already_voted()
    if ballot.state != BallotState.open:
        raise Conflict("This round is not open for voting.", code="round_not_open",
                       zh="本轮票决不在投票时间内。")
    if not checked_in:
        raise Forbidden("Check in before voting.", code="not_checked_in",
                        zh="请先签到，再投票。")


def check_marks(ballot: BallotRound, on_paper: set[str], marks: dict[str, str]) -> None:
    """Marks only for candidates on the paper, never more 赞成 than seats (选举法 art. 44)."""
    unknown = [cid for cid in marks if cid not in on_paper]
    if unknown:
        raise Invalid(f"Not on this round's ballot: {', '.join(unknown)}.",
                      code="unknown_candidate", zh="选票上没有该候选项目。")
    yes = sum(1 for m in marks.values() if m == "yes")
    if yes > ballot.seats:
        raise Invalid(f"{yes} 'yes' marks for {ballot.seats} seats: at most {ballot.seats}.",
                      code="too_many_yes",
                      zh=f"赞成票不能超过应选项目数 {ballot.seats} 个，您选了 {yes} 个。"
                         "请把多出的改为反对或弃权。")


def already_voted() -> Conflict:
    return Conflict("You have already voted in this round; a ballot cannot be changed.",
                    code="already_voted", zh="您已在本轮投票，选票投出后不能更改。")


async def _empty_slot(session: AsyncSession, round_id: str) -> str | None:
    """A random empty slot: the first empty id at or after a random point, wrapping round."""
    start = secrets.token_hex(16)
    for condition in (BallotContent.id >= start, BallotContent.id < start):
        query = (select(BallotContent.id)
                 .where(BallotContent.round_id == round_id, BallotContent.filled.is_(False),
                        BallotContent.paper.is_(False), condition)
                 .order_by(BallotContent.id).limit(1).with_for_update(skip_locked=True))
        slot = await session.scalar(query)
        if slot is not None:
            return slot
    return None


async def reshuffle(session: AsyncSession, round_id: str) -> None:
    """Rewrite the round's returned ballots one by one in a random order (done at close).

    PostgreSQL never updates a row in place: filling a slot writes a new row version after the
    versions already on its page, so a plain scan of the table returns the filled slots in the
    order they were cast. Rewriting them all in a random order when the round closes leaves a
    scan order that is that random order. (Superseded versions stay in the file until vacuum,
    as the write-ahead log keeps them: keep both as the ballot boxes are kept.)
    """
    slots = list(await session.scalars(select(BallotContent.id).where(
        BallotContent.round_id == round_id, BallotContent.filled.is_(True))))
    secrets.SystemRandom().shuffle(slots)
    for slot in slots:
        await session.execute(update(BallotContent).where(BallotContent.id == slot)
                              .values(marks=BallotContent.marks))
    await session.flush()
