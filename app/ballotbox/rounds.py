"""Rounds of the box (投票轮次), of either form — the deputies' ballot (票决) or the year-end
evaluation (测评): making a round with its roster snapshot and the rules it keeps, attendance
and quorum, scrutineers and their sign-off, moving a round through its workflow (the close
protocol: wait for the casts under way, open the box, reshuffle, seal who voted), and the
bulletin's ballots and receipts.

What differs between the stages — which items a round may list, how many seats, how the
ballots are counted into a decision — is the stage's (app/ballots/service.py for 票决); casting
is app/ballotbox/casting.py, paper ballots and devices app/ballotbox/paper.py and devices.py.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.deps import ensure_scope
from app.auth.roles import Role
from app.ballotbox import opening
from app.ballotbox.errors import deputy_elsewhere, not_a_deputy, unknown_ballot
from app.ballotbox.forms import form_of
from app.ballotbox.queries import ROUND_LOCK_CLASS, device_content_ids, stored_ballots
from app.errors import Conflict, Forbidden, Invalid
from app.jurisdictions.settings import settings_for
from app.models import (
    BallotAttendance,
    BallotContent,
    BallotEnvelope,
    BallotItem,
    BallotParticipation,
    BallotReceipt,
    BallotRound,
    BallotScrutineer,
    Cycle,
    DeviceBallot,
    Jurisdiction,
    User,
    utcnow,
)
from app.workflows.ballot import (
    BALLOT_WORKFLOW,
    UNFINISHED,
    BallotState,
    present_count,
    signed_count,
)

# ----------------------------------------------------------------------------- loading

async def get(session: AsyncSession, ballot_id: str, form: str) -> BallotRound:
    """The round of the given form (a stage sees only its own rounds), or 404."""
    ballot = await session.get(BallotRound, ballot_id)
    if ballot is None or ballot.form != form:
        raise unknown_ballot()
    return ballot


async def get_with_cycle(session: AsyncSession, ballot_id: str,
                         form: str) -> tuple[BallotRound, Cycle]:
    """A round of the given form and its cycle in one query, or 404."""
    row = (await session.execute(select(BallotRound, Cycle).join(
        Cycle, Cycle.id == BallotRound.cycle_id).where(
        BallotRound.id == ballot_id, BallotRound.form == form))).first()
    if row is None:
        raise unknown_ballot()
    return row[0], row[1]


async def turnout(session: AsyncSession, ballot: BallotRound) -> dict:
    """Present and cast counts: what anyone may see while the round is open (never content).

    Both are counted in one statement."""
    present = select(func.count()).select_from(BallotAttendance).where(
        BallotAttendance.round_id == ballot.id).scalar_subquery()
    cast = select(func.count()).select_from(BallotContent).where(
        BallotContent.round_id == ballot.id, BallotContent.filled.is_(True)).scalar_subquery()
    sealed = select(func.count()).select_from(BallotEnvelope).where(
        BallotEnvelope.round_id == ballot.id).scalar_subquery()
    row = (await session.execute(select(present, cast, sealed))).one()
    return {"present": row[0] or 0, "cast": (row[1] or 0) + (row[2] or 0)}


async def issued_count(session: AsyncSession, ballot: BallotRound) -> int:
    """Ballots handed out: one electronic slot per deputy present, plus paper and devices."""
    slots = await session.scalar(select(func.count()).select_from(BallotContent).where(
        BallotContent.round_id == ballot.id, BallotContent.paper.is_(False),
        BallotContent.id.not_in(select(DeviceBallot.content_id).where(
            DeviceBallot.round_id == ballot.id)))) or 0
    return slots + ballot.paper_issued + (ballot.device_issued or 0)


async def _cycle_of(session: AsyncSession, ballot: BallotRound) -> Cycle:
    return await session.get(Cycle, ballot.cycle_id)


async def roster_size(session: AsyncSession, jurisdiction_code: str) -> int:
    """T (全体代表): the jurisdiction's active deputies now."""
    return await session.scalar(select(func.count()).select_from(User).where(
        User.role == Role.deputy, User.jurisdiction_code == jurisdiction_code,
        User.is_active.is_(True))) or 0


# ----------------------------------------------------------------------------- making a round

async def ensure_none_unfinished(session: AsyncSession, cycle: Cycle) -> None:
    """409 while a round of the cycle is neither published nor void."""
    busy = (await session.execute(select(BallotRound.round, BallotRound.form).where(
        BallotRound.cycle_id == cycle.id, BallotRound.state.in_(UNFINISHED)))).first()
    if busy is not None:
        noun, zh_noun = form_of(busy.form).round_noun
        raise Conflict(f"Round {busy.round} ({noun}) of this cycle is not finished; publish or "
                       "void it first.", code="round_in_progress",
                       zh=f"第 {busy.round} 轮{zh_noun}尚未结束，请先公布或作废。")


@dataclass(frozen=True)
class NewRound:
    """What a stage asks of the box for a new round: its form, the items on its paper in their
    places (checked by the stage), its seats, whether secret (None: the jurisdiction's rule),
    and the round it follows (a run-off keeps its T and rules)."""

    form: str
    item_ids: Sequence[str]
    seats: int
    secret: bool | None = None
    parent: BallotRound | None = None


async def create_round(session: AsyncSession, *, actor: User, cycle: Cycle,
                       new: NewRound) -> BallotRound:
    """A new round of the cycle in the given form, its items in their places: T is the roster
    now (a follow-up round: its parent's), the jurisdiction's rules now (a follow-up: its
    parent's), whatever the settings say later. A cycle has one unfinished round at a time;
    rounds are numbered per form (the first 测评 round is round 1)."""
    form = form_of(new.form)
    await ensure_none_unfinished(session, cycle)
    parent = new.parent
    total = (parent.total_deputies if parent
             else await roster_size(session, cycle.jurisdiction_code))
    if total == 0:
        raise Conflict("The jurisdiction has no deputies on its roster.", code="no_deputies",
                       zh="本级没有在册代表，请先导入代表名单。")
    number = (await session.scalar(select(func.max(BallotRound.round)).where(
        BallotRound.cycle_id == cycle.id, BallotRound.form == form.name)) or 0) + 1
    if parent is None:
        rules = settings_for(await session.get(Jurisdiction, cycle.jurisdiction_code))
        kept = {"secret": getattr(rules, form.secret_setting),
                "threshold_base": getattr(rules, form.base_setting),
                "quorum": math.ceil(total * rules.quorum_numerator / rules.quorum_denominator),
                "signoffs_required": rules.scrutineer_signoffs,
                "shortfall_policy": rules.shortfall_policy}
    else:
        kept = {"secret": parent.secret, "threshold_base": parent.threshold_base,
                "quorum": parent.quorum, "signoffs_required": parent.signoffs_required,
                "shortfall_policy": parent.shortfall_policy}
    if new.secret is not None:
        kept["secret"] = new.secret
    ballot = BallotRound(
        cycle_id=cycle.id, round=number, form=form.name, seats=new.seats, total_deputies=total,
        **kept, state=BallotState.created, parent_id=parent.id if parent else None,
        created_by=actor.id)
    session.add(ballot)
    await session.flush()
    for position, item_id in enumerate(new.item_ids, 1):
        session.add(BallotItem(round_id=ballot.id, item_id=item_id, position=position))
    await session.flush()
    return ballot


async def carry_over(session: AsyncSession, ballot: BallotRound, nxt: BallotRound,
                     actor: User, attendance: bool) -> None:
    """A follow-up round takes its parent's scrutineers and, if asked, those present."""
    if attendance:
        present = await session.scalars(select(User).join(
            BallotAttendance, BallotAttendance.user_id == User.id)
            .where(BallotAttendance.round_id == ballot.id))
        for user in present:
            await _attend(session, nxt, user, actor.username)
    for user, _ in await scrutineers_of(session, ballot.id):
        session.add(BallotScrutineer(round_id=nxt.id, user_id=user.id))
    await session.flush()


# ----------------------------------------------------------------------------- attendance

def ensure_deputy_of(user: User, cycle: Cycle) -> None:
    if user.role != Role.deputy:
        raise not_a_deputy()
    if user.jurisdiction_code != cycle.jurisdiction_code:
        raise deputy_elsewhere()


def _ensure_attendance_open(ballot: BallotRound) -> None:
    if ballot.state not in (BallotState.created, BallotState.open):
        raise Conflict("Attendance is taken before and during the vote only.",
                       code="wrong_state", zh="只能在投票开始前或投票期间签到。")


async def _attend(session: AsyncSession, ballot: BallotRound, user: User,
                  recorded_by: str | None) -> bool:
    """Mark `user` present (and issue their electronic ballot slot); False if already."""
    if await session.scalar(select(BallotAttendance.id).where(
            BallotAttendance.round_id == ballot.id, BallotAttendance.user_id == user.id)):
        return False
    session.add(BallotAttendance(round_id=ballot.id, user_id=user.id, recorded_by=recorded_by))
    session.add(BallotContent(round_id=ballot.id))  # an empty slot with a random id
    await session.flush()
    return True


async def check_in(session: AsyncSession, ballot: BallotRound, user: User) -> int:
    cycle = await _cycle_of(session, ballot)
    ensure_deputy_of(user, cycle)
    _ensure_attendance_open(ballot)
    if await _attend(session, ballot, user, None):
        await audit.record(session, actor=user.username, action="ballot_round.check_in",
                           entity_type="ballot_round", entity_id=ballot.id, data={})
    return await present_count(session, ballot.id)


async def record_attendance(session: AsyncSession, ballot: BallotRound, actor: User,
                            usernames: list[str]) -> int:
    """Staff mark deputies present by username: all or nothing, naming any that are not."""
    cycle = await _cycle_of(session, ballot)
    await ensure_scope(session, actor, cycle.jurisdiction_code)
    _ensure_attendance_open(ballot)
    users = await _deputies_named(session, cycle, usernames)
    added = [u.username for u in users if await _attend(session, ballot, u, actor.username)]
    if added:
        await audit.record(session, actor=actor.username, action="ballot_round.attendance",
                           entity_type="ballot_round", entity_id=ballot.id,
                           data={"usernames": added})
    return await present_count(session, ballot.id)


async def _deputies_named(session: AsyncSession, cycle: Cycle, usernames: list[str]) -> list[User]:
    wanted = list(dict.fromkeys(u.strip() for u in usernames if u.strip()))
    if not wanted:
        raise Invalid("Give at least one username.", code="invalid_field", zh="请至少选择一名代表。")
    found = {u.username: u for u in await session.scalars(select(User).where(
        User.username.in_(wanted), User.role == Role.deputy, User.is_active.is_(True),
        User.jurisdiction_code == cycle.jurisdiction_code))}
    missing = [u for u in wanted if u not in found]
    if missing:
        raise Invalid(f"Not deputies of this jurisdiction: {', '.join(missing)}.",
                      code="unknown_deputy", zh=f"以下账号不是本级在册代表：{'、'.join(missing)}。")
    return [found[u] for u in wanted]


async def name_scrutineers(session: AsyncSession, ballot: BallotRound, actor: User,
                           usernames: list[str]) -> list[str]:
    """Name the round's scrutineers (监票人), replacing any named before; before it opens."""
    cycle = await _cycle_of(session, ballot)
    await ensure_scope(session, actor, cycle.jurisdiction_code)
    if ballot.state != BallotState.created:
        raise Conflict("Scrutineers are named before the round opens.", code="wrong_state",
                       zh="监票人须在投票开始前推选。")
    users = await _deputies_named(session, cycle, usernames)
    for old in await session.scalars(select(BallotScrutineer).where(
            BallotScrutineer.round_id == ballot.id)):
        await session.delete(old)
    await session.flush()
    for u in users:
        session.add(BallotScrutineer(round_id=ballot.id, user_id=u.id))
    await audit.record(session, actor=actor.username, action="ballot_round.scrutineers",
                       entity_type="ballot_round", entity_id=ballot.id,
                       data={"usernames": [u.username for u in users]})
    return [u.username for u in users]


async def scrutineers_of(session: AsyncSession, ballot_id: str) -> list[tuple[User, BallotScrutineer]]:
    rows = await session.execute(
        select(User, BallotScrutineer).join(BallotScrutineer, BallotScrutineer.user_id == User.id)
        .where(BallotScrutineer.round_id == ballot_id).order_by(User.username))
    return [(u, s) for u, s in rows.all()]


# ----------------------------------------------------------------------------- moving a round

async def stop_casting(session: AsyncSession, round_id: str) -> None:
    """Before a round leaves `open`: wait for the casts under way to commit, admit no new one.

    On PostgreSQL this takes the round's advisory lock exclusively (casts hold it shared: the
    stored function minsheng_cast, app/ballotbox/casting.py) until the close commits; on SQLite
    writers take turns already.
    """
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:c, hashtext(:r))"),
                              {"c": ROUND_LOCK_CLASS, "r": round_id})


async def seal(session: AsyncSession, ballot: BallotRound, actor: User) -> dict:
    """At close: open the sealed ballots, reshuffle the returned ballots and seal who voted in
    the audit chain.

    One entry records how many deputies voted and how many receipts were given, with the
    SHA-256 of the sorted participation list (deputy ids) and of the sorted receipt hashes, so an
    auditor can check later that neither table changed after the close. It names no marks.
    """
    await opening.open_box(session, ballot.id)
    await opening.reshuffle(session, ballot.id)
    voters = sorted(await session.scalars(select(BallotParticipation.user_id).where(
        BallotParticipation.round_id == ballot.id)))
    receipts = sorted(await session.scalars(select(BallotReceipt.digest).where(
        BallotReceipt.round_id == ballot.id)))
    filled = await session.scalar(select(func.count()).select_from(BallotContent).where(
        BallotContent.round_id == ballot.id, BallotContent.filled.is_(True),
        BallotContent.paper.is_(False)))
    data = {"voted": len(voters), "receipts": len(receipts), "electronic_ballots": filled,
            "participation_sha256": hashlib.sha256("\n".join(voters).encode()).hexdigest(),
            "receipts_sha256": hashlib.sha256("\n".join(receipts).encode()).hexdigest()}
    await audit.record(session, actor=actor.username, action="ballot_round.seal",
                       entity_type="ballot_round", entity_id=ballot.id, data=data)
    return data


async def move(session: AsyncSession, ballot: BallotRound, to: str, *, actor: User,
               reason: str = "") -> BallotRound:
    """Open (quorum), close, publish (sign-offs) or void (with a reason) a round, through its
    workflow: leaving `open` waits for the casts under way; a close opens the box, reshuffles
    the ballots and seals who voted in the audit chain; voiding an open round destroys its
    sealed ballots unopened. The API and the control page both call this, as the one way a
    round is moved (the tally's own move is count())."""
    cycle = await session.get(Cycle, ballot.cycle_id)
    await ensure_scope(session, actor, cycle.jurisdiction_code)
    was_open = ballot.state == BallotState.open
    if was_open:
        await stop_casting(session, ballot.id)
    await BALLOT_WORKFLOW.apply(session, ballot, to, actor=actor, reason=reason)
    if to == BallotState.closed:
        await seal(session, ballot, actor)
    elif was_open and to == BallotState.void:
        await opening.discard_box(session, ballot.id)
    return ballot


async def sign_off(session: AsyncSession, ballot: BallotRound, user: User) -> tuple[int, int]:
    """A named scrutineer confirms the tally; (signed, required)."""
    if ballot.state != BallotState.tallied:
        raise Conflict("Scrutineers sign off a tallied round.", code="wrong_state",
                       zh="计票完成后监票人才能签字确认。")
    mine = await session.scalar(select(BallotScrutineer).where(
        BallotScrutineer.round_id == ballot.id, BallotScrutineer.user_id == user.id))
    if mine is None:
        raise Forbidden("Only this round's named scrutineers sign off its tally.",
                        code="not_a_scrutineer", zh="只有本轮推选的监票人可以签字确认。")
    if mine.signed_at is not None:
        raise Conflict("You have already signed off this tally.", code="already_signed",
                       zh="您已签字确认过本轮计票结果。")
    mine.signed_at = utcnow()
    session.add(mine)
    await session.flush()
    await audit.record(session, actor=user.username, action="ballot_round.sign_off",
                       entity_type="ballot_round", entity_id=ballot.id,
                       data={"results": ballot.results})
    return await signed_count(session, ballot.id), ballot.signoffs_required


# ----------------------------------------------------------------------------- the bulletin

async def bulletin_parts(session: AsyncSession, ballot: BallotRound) -> tuple[list[str], list[dict]]:
    """The bulletin's receipts (sorted) and ballots (sorted by their content, API.md), each
    ballot's marks under its form's name (票决 `marks`, 测评 `scores`)."""
    marks_key = form_of(ballot.form).marks_key
    receipts = sorted(await session.scalars(select(BallotReceipt.digest).where(
        BallotReceipt.round_id == ballot.id)))
    from_devices = await device_content_ids(session, ballot.id)
    ballots = []
    for b in await stored_ballots(session, ballot.id):
        entry = {marks_key: json.loads(b.marks), "paper": b.paper}
        if b.invalid:
            entry["invalid"] = True
        if b.id in from_devices:
            entry["source"] = "device"
        ballots.append(entry)
    return receipts, ballots
