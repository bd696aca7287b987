"""Ballot rounds (票决): creation, attendance, moving a round (the close protocol: wait for the
casts under way, reshuffle, seal), tally, sign-off, run-offs, the bulletin.

Casting in secret is app/ballots/casting.py; paper ballots and devices app/ballots/paper.py.
"""

from __future__ import annotations

import hashlib
import json
import math

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.deps import ensure_scope
from app.auth.roles import Role
from app.ballotbox import opening
from app.ballots.errors import deputy_elsewhere, not_a_deputy, unknown_ballot
from app.ballots.queries import (
    ROUND_LOCK_CLASS,
    candidates_of,
    device_content_ids,
    stored_ballots,
)
from app.ballots.sheets import ensure_resolved
from app.ballots.tally import Ballot, Results, RoundFacts, tally
from app.errors import Conflict, Forbidden, Invalid
from app.jurisdictions.settings import settings_for
from app.models import (
    BallotAttendance,
    BallotCandidate,
    BallotContent,
    BallotEnvelope,
    BallotParticipation,
    BallotReceipt,
    BallotRound,
    BallotScrutineer,
    Candidate,
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
from app.workflows.candidate import CandidateState, required_candidates
from app.workflows.cycle import CyclePhase

# ----------------------------------------------------------------------------- loading

async def get(session: AsyncSession, ballot_id: str) -> BallotRound:
    ballot = await session.get(BallotRound, ballot_id)
    if ballot is None:
        raise unknown_ballot()
    return ballot


async def get_with_cycle(session: AsyncSession, ballot_id: str) -> tuple[BallotRound, Cycle]:
    """A round and its cycle in one query, or 404."""
    row = (await session.execute(select(BallotRound, Cycle).join(
        Cycle, Cycle.id == BallotRound.cycle_id).where(BallotRound.id == ballot_id))).first()
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


async def published_rounds(session: AsyncSession, cycle_id: str) -> list[BallotRound]:
    """The cycle's published rounds (results public), first round first."""
    rows = await session.scalars(select(BallotRound).where(
        BallotRound.cycle_id == cycle_id, BallotRound.state == BallotState.published)
        .order_by(BallotRound.round))
    return [r for r in rows if r.results]


async def issued_count(session: AsyncSession, ballot: BallotRound) -> int:
    """Ballots handed out: one electronic slot per deputy present, plus paper and devices."""
    slots = await session.scalar(select(func.count()).select_from(BallotContent).where(
        BallotContent.round_id == ballot.id, BallotContent.paper.is_(False),
        BallotContent.id.not_in(select(DeviceBallot.content_id).where(
            DeviceBallot.round_id == ballot.id)))) or 0
    return slots + ballot.paper_issued + (ballot.device_issued or 0)


async def _deputies(session: AsyncSession, jurisdiction_code: str) -> int:
    return await session.scalar(select(func.count()).select_from(User).where(
        User.role == Role.deputy, User.jurisdiction_code == jurisdiction_code,
        User.is_active.is_(True))) or 0


async def _cycle_of(session: AsyncSession, ballot: BallotRound) -> Cycle:
    return await session.get(Cycle, ballot.cycle_id)


# ----------------------------------------------------------------------------- creating

async def create(session: AsyncSession, *, actor: User, cycle: Cycle,
                 candidate_ids: list[str] | None, seats: int | None, secret: bool | None,
                 parent: BallotRound | None = None) -> BallotRound:
    """A new round of the cycle: T is the roster now, the jurisdiction's rules now."""
    await ensure_scope(session, actor, cycle.jurisdiction_code)
    if cycle.phase != CyclePhase.balloting:
        raise Conflict("Ballot rounds are created while the cycle is in 票决 (balloting).",
                       code="wrong_phase", zh="只有在票决阶段才能建立票决轮次。")
    busy = await session.scalar(select(BallotRound.round).where(
        BallotRound.cycle_id == cycle.id,
        BallotRound.state.in_(UNFINISHED)))
    if busy is not None:
        raise Conflict(f"Round {busy} of this cycle is not finished; publish or void it first.",
                       code="round_in_progress", zh=f"第 {busy} 轮票决尚未结束，请先公布或作废。")
    jurisdiction = await session.get(Jurisdiction, cycle.jurisdiction_code)
    rules = settings_for(jurisdiction)
    reviewed = list(await session.scalars(select(Candidate).where(
        Candidate.cycle_id == cycle.id, Candidate.state == CandidateState.reviewed)
        .order_by(Candidate.created_at, Candidate.id)))
    by_id = {c.id: c for c in reviewed}
    if candidate_ids is None:
        chosen = reviewed
    else:
        unknown = [cid for cid in candidate_ids if cid not in by_id]
        if unknown:
            raise Invalid(f"Not reviewed candidates of this cycle: {', '.join(unknown)}.",
                          code="unknown_candidate", zh="所选项目不是本年度经审查的候选项目。")
        chosen = [by_id[cid] for cid in dict.fromkeys(candidate_ids)]
    seats = seats or cycle.seats
    if parent is None:
        need = required_candidates(seats, rules.extra_candidates_ratio)
        if len(chosen) < need:
            raise Conflict(f"The 差额 rule needs at least {need} candidates for {seats} seats; "
                           f"{len(chosen)} given.", code="too_few_candidates",
                           zh=f"差额票决：{seats} 个项目至少需要 {need} 个候选项目，目前 {len(chosen)} 个。")
    elif not chosen:
        raise Conflict("A run-off needs candidates.", code="too_few_candidates",
                       zh="没有需要再次票决的候选项目。")
    # A run-off keeps its first round's T and quorum (DOMAIN.md: same T, same threshold).
    total = parent.total_deputies if parent else await _deputies(session, cycle.jurisdiction_code)
    if total == 0:
        raise Conflict("The jurisdiction has no deputies on its roster.", code="no_deputies",
                       zh="本级没有在册代表，请先导入代表名单。")
    number = (await session.scalar(select(func.max(BallotRound.round)).where(
        BallotRound.cycle_id == cycle.id)) or 0) + 1
    # The round keeps the rules it is created with; a run-off those of its first round
    # (DOMAIN.md: the same T, the same threshold), whatever the settings say by then.
    if parent is None:
        kept = {"secret": rules.secret_ballot, "threshold_base": rules.threshold_base,
                "quorum": math.ceil(total * rules.quorum_numerator / rules.quorum_denominator),
                "signoffs_required": rules.scrutineer_signoffs,
                "shortfall_policy": rules.shortfall_policy}
    else:
        kept = {"secret": parent.secret, "threshold_base": parent.threshold_base,
                "quorum": parent.quorum, "signoffs_required": parent.signoffs_required,
                "shortfall_policy": parent.shortfall_policy}
    if secret is not None:
        kept["secret"] = secret
    ballot = BallotRound(
        cycle_id=cycle.id, round=number, seats=seats, total_deputies=total, **kept,
        state=BallotState.created, parent_id=parent.id if parent else None, created_by=actor.id)
    session.add(ballot)
    await session.flush()
    for position, candidate in enumerate(chosen, 1):
        session.add(BallotCandidate(round_id=ballot.id, candidate_id=candidate.id,
                                    position=position))
    await BALLOT_WORKFLOW.record_creation(
        session, ballot, actor=actor,
        reason=f"第 {number} 轮，{len(chosen)} 个候选项目，{seats} 个名额，全体代表 {total} 人")
    await audit.record(session, actor=actor.username, action="ballot_round.create",
                       entity_type="ballot_round", entity_id=ballot.id,
                       data={"cycle_id": cycle.id, "round": number, "seats": seats,
                             "total_deputies": total, "secret": ballot.secret,
                             "candidate_ids": [c.id for c in chosen],
                             "parent_id": ballot.parent_id})
    return ballot


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
    stored function minsheng_cast, app/ballots/casting.py) until the close commits; on SQLite
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


# ----------------------------------------------------------------------------- tally

async def facts_of(session: AsyncSession, ballot: BallotRound) -> RoundFacts:
    return RoundFacts(ballot_id=ballot.id, round=ballot.round, seats=ballot.seats,
                      total_deputies=ballot.total_deputies,
                      present=await present_count(session, ballot.id),
                      issued=await issued_count(session, ballot),
                      threshold_base=ballot.threshold_base)


async def count(session: AsyncSession, ballot: BallotRound, actor: User) -> Results:
    """计票: close → tallied with the results stored; more returned than issued → void."""
    cycle = await _cycle_of(session, ballot)
    await ensure_scope(session, actor, cycle.jurisdiction_code)
    if ballot.state != BallotState.closed:
        raise Conflict("Tally a round once it is closed.", code="wrong_state",
                       zh="投票结束后才能计票。")
    await ensure_resolved(session, ballot)  # 409 while a paper sheet is unresolved
    candidates = await candidates_of(session, ballot.id)
    contents = await stored_ballots(session, ballot.id)
    results = tally(await facts_of(session, ballot), [(c.id, c.title) for c in candidates],
                    [Ballot(marks=json.loads(b.marks), paper=b.paper, invalid=b.invalid)
                     for b in contents])
    ballot.results = results.as_dict()
    if results.outcome == "void":
        await BALLOT_WORKFLOW.apply(
            session, ballot, BallotState.void, actor=actor,
            reason=f"收回选票 {results.cast} 张，多于发出的 {results.facts.issued} 张，本轮无效，须重新投票")
    else:
        await BALLOT_WORKFLOW.apply(session, ballot, BallotState.tallied, actor=actor,
                                    reason=f"有效票 {results.valid}，无效票 {results.invalid}")
    return results


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


async def runoff(session: AsyncSession, ballot: BallotRound, actor: User,
                 carry_attendance: bool) -> BallotRound:
    """The next round with the candidates and seats the results name (ties, shortfall)."""
    if ballot.state != BallotState.published or not ballot.results:
        raise Conflict("A run-off follows a published round.", code="wrong_state",
                       zh="本轮结果公布后才能安排再次投票。")
    results = ballot.results
    if results["outcome"] == "complete":
        raise Conflict("Every seat was filled; no run-off is needed.", code="no_runoff_needed",
                       zh="名额已全部产生，无需再次投票。")
    if results["outcome"] == "shortfall" and ballot.shortfall_policy == "leave_empty":
        raise Conflict("This jurisdiction leaves unfilled seats empty.", code="no_runoff_needed",
                       zh="按本级规定，未产生的名额空缺，不再投票。")
    cycle = await _cycle_of(session, ballot)
    nxt = await create(session, actor=actor, cycle=cycle,
                       candidate_ids=results["runoff_candidate_ids"],
                       seats=results["remaining_seats"], secret=ballot.secret, parent=ballot)
    if carry_attendance:
        present = await session.scalars(select(User).join(
            BallotAttendance, BallotAttendance.user_id == User.id)
            .where(BallotAttendance.round_id == ballot.id))
        for user in present:
            await _attend(session, nxt, user, actor.username)
    scrutineers = await scrutineers_of(session, ballot.id)
    for user, _ in scrutineers:
        session.add(BallotScrutineer(round_id=nxt.id, user_id=user.id))
    await session.flush()
    return nxt


async def bulletin(session: AsyncSession, ballot: BallotRound) -> dict:
    """The published bulletin (API.md): receipts sorted, ballots sorted by their content."""
    facts = await facts_of(session, ballot)
    receipts = sorted(await session.scalars(select(BallotReceipt.digest).where(
        BallotReceipt.round_id == ballot.id)))
    from_devices = await device_content_ids(session, ballot.id)
    ballots = []
    for b in await stored_ballots(session, ballot.id):
        entry = {"marks": json.loads(b.marks), "paper": b.paper}
        if b.invalid:
            entry["invalid"] = True
        if b.id in from_devices:
            entry["source"] = "device"
        ballots.append(entry)
    return {
        "ballot": {"id": ballot.id, "round": ballot.round, "seats": ballot.seats,
                   "total_deputies": ballot.total_deputies, "present": facts.present,
                   "issued": facts.issued, "threshold_base": ballot.threshold_base,
                   "secret": ballot.secret},
        "candidates": [{"id": c.id, "title": c.title}
                       for c in await candidates_of(session, ballot.id)],
        "receipts": receipts,
        "ballots": ballots,
        "results": ballot.results,
    }
