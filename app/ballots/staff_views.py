"""Staff pages of 票决: a cycle's rounds, creating one, and one round's control page
(attendance by roster, scrutineers, open / close / tally / publish / void, run-offs).

Every action goes through app/ballots/service.py or the box (a move of the round through
`rounds.move`, as the API's transitions endpoint does, so a close opens the box and seals the
same); a refusal re-shows the page with the service's Chinese sentence,
and its savepoint is rolled back so nothing half-done is stored.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from sqlalchemy import func, or_, select

from app.auth.deps import ensure_scope
from app.auth.roles import Perm, Role
from app.ballotbox import rounds
from app.ballotbox.forms import DEPUTIES_BALLOT
from app.ballots import service
from app.ballots.public_views import chart_of, labels_ctx, turnout_ctx, void_reason
from app.ballots.schemas import BallotCreateIn, BallotTransitionIn, UsernamesIn
from app.cycles import service as cycles
from app.db import SessionDep
from app.errors import DomainError, Invalid
from app.i18n import N_
from app.jurisdictions.settings import settings_for
from app.models import BallotAttendance, BallotRound, Candidate, Cycle, Jurisdiction, User
from app.pages.deps import page_perm
from app.pages.forms import attempting, parse_form, refusal_text, refuse_nul
from app.pages.render import is_fragment_request, redirect, render
from app.workflows.ballot import BALLOT_WORKFLOW, UNFINISHED, BallotState, signed_count
from app.workflows.candidate import CandidateState, required_candidates
from app.workflows.cycle import PHASE_LABELS, CyclePhase
from app.workflows.engine import history

router = APIRouter(include_in_schema=False)

ROSTER_LIMIT = 400  # rows shown at once; a search narrows the rest
FORM_LABELS = {"candidate_ids": "候选项目", "seats": "名额", "secret": "投票方式", "to": "操作",
               "reason": "理由", "usernames": "代表"}
# Messages after a successful action (?done=…), so a reload does not repeat the action.
DONE = {"created": N_("已建立票决轮次。请登记出席、推选监票人，然后开始投票。"),
        "attendance": N_("已标记出席。"), "scrutineers": N_("监票人已推选。"),
        "open": N_("已开始投票。"), "closed": N_("投票已结束，可以计票。"),
        "tallied": N_("计票完成，请监票人签字确认。"), "published": N_("计票结果已公布。"),
        "void": N_("本轮票决已作废。"), "runoff": N_("已安排再次投票。")}


async def _staff_cycle(session, user: User, cycle_id: str) -> Cycle:
    cycle = await cycles.get(session, cycle_id)
    await ensure_scope(session, user, cycle.jurisdiction_code)
    return cycle


async def _staff_ballot(session, user: User, ballot_id: str) -> tuple[BallotRound, Cycle]:
    ballot = await rounds.get(session, ballot_id, DEPUTIES_BALLOT.name)
    return ballot, await _staff_cycle(session, user, ballot.cycle_id)


# ---------------------------------------------------------------- a cycle's rounds

async def _rounds_page(request: Request, session, cycle: Cycle, *, form: dict | None = None,
                       error: str | None = None, status: int = 200):
    jurisdiction = await session.get(Jurisdiction, cycle.jurisdiction_code)
    rules = settings_for(jurisdiction)
    reviewed = list(await session.scalars(select(Candidate).where(
        Candidate.cycle_id == cycle.id, Candidate.state == CandidateState.reviewed)
        .order_by(Candidate.created_at, Candidate.id)))
    rows = []
    for b in await session.scalars(select(BallotRound).where(
            BallotRound.cycle_id == cycle.id, BallotRound.form == DEPUTIES_BALLOT.name)
            .order_by(BallotRound.round)):
        rows.append({"b": b, "turnout": await turnout_ctx(session, b),
                     "candidates": len(await service.candidates_of(session, b.id))})
    busy = next((r["b"] for r in rows if r["b"].state in UNFINISHED), None)
    form = form or {"candidate_ids": [c.id for c in reviewed], "seats": str(cycle.seats),
                    "secret": "1" if rules.secret_ballot else "0"}
    seats = int(form["seats"]) if str(form["seats"]).isdigit() else cycle.seats
    return render(request, "ballots/staff_rounds.html", {
        **labels_ctx(), "cycle": cycle, "rows": rows, "reviewed": reviewed, "form": form,
        "error": error, "busy": busy, "balloting": cycle.phase == CyclePhase.balloting,
        "PHASE_LABELS": {str(k): v for k, v in PHASE_LABELS.items()},
        "need": required_candidates(seats, rules.extra_candidates_ratio),
    }, status=status)


@router.get("/staff/cycles/{cycle_id}/ballots")
async def rounds_page(request: Request, cycle_id: str, session: SessionDep,
                      user: User = page_perm(Perm.ballot_manage)):
    """票决管理: the cycle's rounds and the form to create one."""
    return await _rounds_page(request, session, await _staff_cycle(session, user, cycle_id))


@router.post("/staff/cycles/{cycle_id}/ballots")
async def create_round(request: Request, cycle_id: str, session: SessionDep,
                       user: User = page_perm(Perm.ballot_manage)):
    """Create a round from the ticked reviewed candidates; the 差额 refusal is shown on the form."""
    cycle = await _staff_cycle(session, user, cycle_id)
    data = await request.form()
    form = {"candidate_ids": [str(x) for x in data.getlist("candidate_ids")],
            "seats": str(data.get("seats", "")).strip(),
            "secret": "0" if data.get("secret") == "0" else "1"}
    async with attempting(session) as tried:
        body = parse_form(BallotCreateIn, {"candidate_ids": form["candidate_ids"],
                                           "seats": form["seats"] or None,
                                           "secret": form["secret"] == "1"}, FORM_LABELS)
        ballot = await service.create(session, actor=user, cycle=cycle,
                                      candidate_ids=body.candidate_ids or [],
                                      seats=body.seats, secret=body.secret)
    if exc := tried.refused:
        return await _rounds_page(request, session, cycle, form=form,
                                  error=refusal_text(exc), status=exc.status)
    return redirect(request, f"/staff/ballots/{ballot.id}?done=created")


# ---------------------------------------------------------------- one round's control page

def _deputies_query(cycle: Cycle, q: str = ""):
    """The jurisdiction's deputies on the roster now (全体代表) matching `q`, by name."""
    query = select(User).where(User.role == Role.deputy,
                               User.jurisdiction_code == cycle.jurisdiction_code,
                               User.is_active.is_(True))
    if q:
        # LIKE's own wildcards in the search are taken literally (escaped).
        needle = "%" + re.sub(r"([\\%_])", r"\\\1", q.lower()) + "%"
        query = query.where(or_(func.lower(User.username).like(needle, escape="\\"),
                                func.lower(User.display_name).like(needle, escape="\\")))
    return query


async def _deputies(session, cycle: Cycle) -> list[User]:
    return list(await session.scalars(_deputies_query(cycle).order_by(User.display_name,
                                                                       User.username)))


async def _roster(session, ballot: BallotRound, cycle: Cycle, q: str) -> dict:
    """Roster — 代表名册: the deputies matching `q` (at most ROSTER_LIMIT), present or not."""
    query = _deputies_query(cycle, q)
    found = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    shown = list(await session.scalars(query.order_by(User.display_name, User.username)
                                       .limit(ROSTER_LIMIT)))
    present = set(await session.scalars(select(BallotAttendance.user_id).where(
        BallotAttendance.round_id == ballot.id,
        BallotAttendance.user_id.in_([u.id for u in shown]))))
    rows = [{"u": u, "present": u.id in present} for u in shown]
    # `absent` counts the rows shown, as "mark all shown" marks exactly those.
    return {"q": q, "rows": rows, "found": found, "more": found > ROSTER_LIMIT,
            "absent": sum(1 for r in rows if not r["present"]),
            "open": ballot.state in (BallotState.created, BallotState.open)}


def _may_runoff(ballot: BallotRound, has_next: bool) -> bool:
    results = ballot.results or {}
    if ballot.state != BallotState.published or has_next:
        return False
    if results.get("outcome") == "runoff":
        return True
    return results.get("outcome") == "shortfall" and ballot.shortfall_policy != "leave_empty"


async def _control_page(request: Request, session, ballot: BallotRound, cycle: Cycle, *,
                        q: str = "", error: str | None = None, status: int = 200,
                        message: str | None = None, block: str | None = None,
                        typed: dict | None = None, oob_turnout: bool = False,
                        attendance_message: str | None = None,
                        attendance_error: str | None = None):
    scrutineers = await rounds.scrutineers_of(session, ballot.id)
    results = ballot.results if ballot.state in (BallotState.tallied,
                                                 BallotState.published) else None
    following = await session.scalar(select(BallotRound).where(
        BallotRound.parent_id == ballot.id))
    parent = await session.get(BallotRound, ballot.parent_id) if ballot.parent_id else None
    typed = typed or {}
    named = [u.username for u, _ in scrutineers]
    slots = max(ballot.signoffs_required, len(named)) + 1
    # The steps shown are the workflow's moves open to this person now (page_perm put them on
    # request.state); one its guard refuses still shows, and says why when pressed. A fragment
    # (the roster, the attendance card) shows none.
    moves = [] if block else await BALLOT_WORKFLOW.moves_for(session, ballot, request.state.user)
    return render(request, "ballots/staff_round.html", {
        **labels_ctx(), "ballot": ballot, "cycle": cycle, "error": error, "message": message,
        "moves": [str(m.target) for m in moves],
        "turnout": await turnout_ctx(session, ballot), "oob_turnout": oob_turnout,
        "attendance_message": attendance_message, "attendance_error": attendance_error,
        "roster": await _roster(session, ballot, cycle, q),
        # the scrutineers form's suggestions, while they can still be named
        "deputies": await _deputies(session, cycle) if ballot.state == BallotState.created
        and block is None else [],
        "candidates": await service.candidates_of(session, ballot.id),
        "scrutineers": scrutineers, "signed": await signed_count(session, ballot.id),
        "scrutineer_values": typed.get("scrutineers") or named + [""] * slots,
        "reason": typed.get("reason", ""), "carry": typed.get("carry", True),
        "n": typed.get("n", 0),
        "results": results, "chart": chart_of(results) if results else None,
        "may_runoff": _may_runoff(ballot, following is not None), "following": following,
        "parent": parent,
        "void_reason": await void_reason(session, ballot)
        if ballot.state == BallotState.void else "",
        "history": await history(session, BALLOT_WORKFLOW.entity_type, ballot.id),
    }, status=status, block=block)


@router.get("/staff/ballots/{ballot_id}")
async def control_page(request: Request, ballot_id: str, session: SessionDep, q: str = "",
                       done: str = "", n: int = 0, user: User = page_perm(Perm.ballot_manage)):
    """票决轮次: attendance, scrutineers and each step of the round; ?q= searches the roster."""
    ballot, cycle = await _staff_ballot(session, user, ballot_id)
    marked = N_("已标记 %(n)s 名代表出席。") if done == "attendance" and n > 0 else None
    return await _control_page(request, session, ballot, cycle, q=q.strip(),
                               message=None if done == "attendance" else DONE.get(done),
                               attendance_message=marked, typed={"n": n},
                               block="roster" if is_fragment_request(request) else None)


async def _refused(request: Request, session, ballot: BallotRound, cycle: Cycle,
                   exc: DomainError, *, q: str = "", typed: dict | None = None,
                   block: str | None = None, attendance: bool = False):
    """The control page again with the service's sentence; nothing of the action is kept."""
    await session.refresh(ballot)  # the savepoint's rollback expired what it had changed
    message = refusal_text(exc)
    return await _control_page(request, session, ballot, cycle, q=q,
                               error=None if block else message,
                               attendance_error=message if attendance else None,
                               status=exc.status, typed=typed, block=block)


@router.post("/staff/ballots/{ballot_id}/attendance")
async def record_attendance(request: Request, ballot_id: str, session: SessionDep,
                            user: User = page_perm(Perm.ballot_manage)):
    """登记出席: the ticked deputies, or every absent deputy the search shows, in one go."""
    ballot, cycle = await _staff_ballot(session, user, ballot_id)
    form = await request.form()
    q = str(form.get("q", "")).strip()
    fragment = is_fragment_request(request)
    async with attempting(session) as tried:
        refuse_nul(q)
        if form.get("action") == "all":
            roster = await _roster(session, ballot, cycle, q)
            usernames = [r["u"].username for r in roster["rows"] if not r["present"]]
            if not usernames:
                raise Invalid("nobody to mark", zh="搜索结果中没有尚未出席的代表。")
        else:
            usernames = [str(u) for u in form.getlist("usernames")]
            if usernames:  # none ticked: the service says so
                usernames = parse_form(UsernamesIn, {"usernames": usernames},
                                       FORM_LABELS).usernames
        before = (await rounds.turnout(session, ballot))["present"]
        present = await rounds.record_attendance(session, ballot, user, usernames)
    if exc := tried.refused:
        return await _refused(request, session, ballot, cycle, exc, q=q, attendance=True,
                              block="attendance" if fragment else None)
    added = present - before
    if not fragment:
        query = urlencode({"done": "attendance", "n": added, **({"q": q} if q else {})})
        return redirect(request, f"/staff/ballots/{ballot.id}?{query}#attendance")
    return await _control_page(request, session, ballot, cycle, q=q, oob_turnout=True,
                               attendance_message=N_("已标记 %(n)s 名代表出席。"),
                               typed={"n": added}, block="attendance")


@router.post("/staff/ballots/{ballot_id}/scrutineers")
async def name_scrutineers(request: Request, ballot_id: str, session: SessionDep,
                           user: User = page_perm(Perm.ballot_manage)):
    """推选监票人: deputies by username (or exact name), before the round opens."""
    ballot, cycle = await _staff_ballot(session, user, ballot_id)
    form = await request.form()
    typed = [str(v).strip() for v in form.getlist("scrutineer")]
    by_name: dict[str, list[str]] = {}
    for d in await _deputies(session, cycle):
        by_name.setdefault(d.display_name, []).append(d.username)
    usernames = [by_name[t][0] if len(by_name.get(t, ())) == 1 else t for t in typed if t]
    async with attempting(session) as tried:
        refuse_nul(*typed)
        if usernames:  # none given: the service says so
            usernames = parse_form(UsernamesIn, {"usernames": usernames}, FORM_LABELS).usernames
        await rounds.name_scrutineers(session, ballot, user, usernames)
    if exc := tried.refused:
        # What was typed, and an empty box after it for one more.
        return await _refused(request, session, ballot, cycle, exc,
                              typed={"scrutineers": typed if typed and not typed[-1] else
                                     [*typed, ""]})
    return redirect(request, f"/staff/ballots/{ballot.id}?done=scrutineers#scrutineers")


@router.post("/staff/ballots/{ballot_id}/transition")
async def move_round(request: Request, ballot_id: str, session: SessionDep,
                     user: User = page_perm(Perm.ballot_manage)):
    """开始投票 / 结束投票 / 公布结果 / 作废: rounds.move, as the API's transitions endpoint,
    so a close reshuffles and seals the ballots exactly as there."""
    ballot, cycle = await _staff_ballot(session, user, ballot_id)
    form = await request.form()
    to = str(form.get("to", ""))
    reason = str(form.get("reason", "")).strip()
    async with attempting(session) as tried:
        refuse_nul(reason)
        body = parse_form(BallotTransitionIn, {"to": to, "reason": reason}, FORM_LABELS)
        await rounds.move(session, ballot, body.to, actor=user, reason=body.reason)
    if exc := tried.refused:
        return await _refused(request, session, ballot, cycle, exc, typed={"reason": reason})
    return redirect(request, f"/staff/ballots/{ballot.id}?done={ballot.state}")


@router.post("/staff/ballots/{ballot_id}/tally")
async def tally_round(request: Request, ballot_id: str, session: SessionDep,
                      user: User = page_perm(Perm.ballot_manage)):
    """计票: results stored and shown; the scrutineers then sign off."""
    ballot, cycle = await _staff_ballot(session, user, ballot_id)
    async with attempting(session) as tried:
        await service.count(session, ballot, user)
    if exc := tried.refused:
        return await _refused(request, session, ballot, cycle, exc)
    return redirect(request, f"/staff/ballots/{ballot.id}?done={ballot.state}")


@router.post("/staff/ballots/{ballot_id}/runoff")
async def arrange_runoff(request: Request, ballot_id: str, session: SessionDep,
                         user: User = page_perm(Perm.ballot_manage)):
    """安排再次投票: the next round with the candidates and seats the results name."""
    ballot, cycle = await _staff_ballot(session, user, ballot_id)
    form = await request.form()
    carry = form.get("carry_attendance") == "1"
    async with attempting(session) as tried:
        following = await service.runoff(session, ballot, user, carry)
    if exc := tried.refused:
        return await _refused(request, session, ballot, cycle, exc, typed={"carry": carry})
    return redirect(request, f"/staff/ballots/{following.id}?done=runoff")
