"""Opening the box at the close (开箱): the sealed envelopes become the round's ballots and
receipts in one transaction, and the stored order follows no casting (app/ballotbox/envelopes.py
says why). Called by the close (app/ballotbox/rounds.py `seal`), after the casts under way
have committed and before anything is counted.
"""

from __future__ import annotations

import secrets
from functools import partial

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.ballotbox import envelopes, keys
from app.ballotbox.forget import forget_sealed
from app.db import after_commit
from app.errors import Conflict
from app.models import (
    BallotBoxKey,
    BallotContent,
    BallotEnvelope,
    BallotParticipation,
    BallotReceipt,
)


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


async def _ensure_whole(session: AsyncSession, round_id: str, envelopes_held: int) -> None:
    """One ballot in the box for every deputy recorded as having voted: the envelopes, plus the
    ballots a round open across the upgrade to sealed ballots filled in directly (electronic
    slots filled before the close; paper and device ballots come after it)."""
    voted = await session.scalar(select(func.count()).select_from(BallotParticipation).where(
        BallotParticipation.round_id == round_id)) or 0
    filled = await session.scalar(select(func.count()).select_from(BallotContent).where(
        BallotContent.round_id == round_id, BallotContent.filled.is_(True),
        BallotContent.paper.is_(False))) or 0
    if envelopes_held + filled != voted:
        raise Conflict(
            f"Round {round_id}'s box holds {envelopes_held + filled} ballots for {voted} deputies "
            f"who voted: it was changed outside the app. Void the round and vote again.",
            code="ballot_box_tampered",
            zh=f"本轮票箱中有 {envelopes_held + filled} 张选票，已投票代表却有 {voted} 人："
               "票箱在系统之外被改动过。请作废本轮、重新投票，并联系系统管理员。")


async def open_box(session: AsyncSession, round_id: str) -> int:
    """At close: open every sealed envelope of the round (app/ballotbox/envelopes.py) and write
    what they hold in this one transaction — each content into an empty electronic slot, the
    contents sorted and the slots in the order of their random ids; the receipt hashes sorted —
    then delete the envelopes and the round's key, and, once committed, have the database
    forget them (app/ballotbox/forget.py). The number of ballots opened.

    A box the configured ballot key does not open refuses the close with nothing changed; so
    does a box that holds another number of ballots than deputies who voted (an envelope
    removed or added behind the app's back): the round cannot be trusted, and is to be voided.
    """
    sealed = list(await session.scalars(select(BallotEnvelope.sealed).where(
        BallotEnvelope.round_id == round_id)))
    await _ensure_whole(session, round_id, len(sealed))
    key_row = await session.get(BallotBoxKey, round_id)
    opened: list[envelopes.Opened] = []
    if sealed:
        if key_row is None:
            raise Conflict(f"Round {round_id} holds sealed ballots but no key to open them.",
                           code="ballot_key_missing",
                           zh="本轮票箱有密封选票，却找不到打开它们的密钥，请联系系统管理员。")
        wrapper = envelopes.wrapper_for(session=session)
        key = wrapper.unwrap(round_id, key_row.wrapped, key_row.key_id)
        opened = sorted((envelopes.open_envelope(key, round_id, s) for s in sealed),
                        key=lambda o: (o.content, o.digest))
        slots = list(await session.scalars(select(BallotContent.id).where(
            BallotContent.round_id == round_id, BallotContent.filled.is_(False),
            BallotContent.paper.is_(False)).order_by(BallotContent.id)))
        if len(slots) < len(opened):  # cannot happen: one slot per check-in, one cast per check-in
            raise Conflict("No ballot left to fill.", code="no_ballot_left", zh="没有可用的选票。")
        await session.execute(update(BallotContent), [
            {"id": slot, "filled": True, "marks": o.content, "voter_id": o.voter_id}
            for slot, o in zip(slots, opened, strict=False)])
        await session.execute(insert(BallotReceipt), [
            {"round_id": round_id, "digest": d} for d in sorted(o.digest for o in opened)])
        await session.execute(delete(BallotEnvelope).where(BallotEnvelope.round_id == round_id))
    if key_row is not None:
        await session.delete(key_row)
    await session.flush()
    keys.forget(round_id)
    after_commit(session, partial(forget_sealed, session.bind))
    return len(opened)


async def discard_box(session: AsyncSession, round_id: str) -> int:
    """A round voided while open: its sealed ballots are destroyed unopened — never counted,
    they are not kept either — with the round's key, and the database forgets them as after a
    close. The number of envelopes destroyed."""
    destroyed = (await session.execute(delete(BallotEnvelope).where(
        BallotEnvelope.round_id == round_id))).rowcount or 0
    await session.execute(delete(BallotBoxKey).where(BallotBoxKey.round_id == round_id))
    await session.flush()
    keys.forget(round_id)
    after_commit(session, partial(forget_sealed, session.bind))
    return destroyed
