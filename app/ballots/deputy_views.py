"""Deputy pages of 票决 (代表票决页面): the round on a phone in the session hall — check in, mark
the ballot, confirm, take the receipt; the scrutineer's sign-off; the public 查验回执 page.

The receipt code exists only in the answer to the casting POST: no redirect carries it, the
session does not hold it, the answer says no-store and asks htmx to keep no history snapshot
(hx-history="false" in the templates). The rules stay in app/ballots/service.py and the box (app/ballotbox/rounds.py); these pages
call it and show its refusals in Chinese.
"""

from __future__ import annotations

import segno
from fastapi import APIRouter, Request
from sqlalchemy import select

from app.ballotbox import casting, rounds
from app.ballotbox.forms import DEPUTIES_BALLOT
from app.ballots import service
from app.ballots.public_views import labels_ctx, turnout_ctx
from app.db import SessionDep
from app.errors import Forbidden, Invalid
from app.i18n import N_
from app.models import (
    BallotAttendance,
    BallotParticipation,
    BallotRound,
    BallotScrutineer,
    Candidate,
    Cycle,
    User,
)
from app.pages.deps import LoggedIn, PageUser
from app.pages.forms import attempting, refusal_text
from app.pages.render import redirect, render
from app.workflows.ballot import STATE_LABELS, BallotState, signed_count

router = APIRouter(include_in_schema=False)

MARKS = ("yes", "no", "abstain")
MARK_LABELS = {"yes": N_("赞成"), "no": N_("反对"), "abstain": N_("弃权")}
# The answers that hold marks or a receipt code: kept by no cache, shared or private.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
ACTIVE = (BallotState.created, BallotState.open)
MINE_LIMIT = 20


def _ctx(ballot: BallotRound, cycle: Cycle, **more) -> dict:
    return {"ballot": ballot, "cycle": cycle, "MARK_LABELS": MARK_LABELS,
            "STATE_LABELS": {str(k): v for k, v in STATE_LABELS.items()}, **labels_ctx(), **more}


async def _deputy_round(session, ballot_id: str, user: User) -> tuple[BallotRound, Cycle]:
    """The round and its cycle, for a deputy of the cycle's jurisdiction (else 403)."""
    ballot = await rounds.get(session, ballot_id, DEPUTIES_BALLOT.name)
    cycle = await session.get(Cycle, ballot.cycle_id)
    rounds.ensure_deputy_of(user, cycle)  # the service's own rule and message
    return ballot, cycle


async def deputy_status(session, ballot: BallotRound, user: User) -> dict:
    """DeputyStatus — 代表本轮状态: checked in, voted (never what), named scrutineer."""

    async def exists(model) -> bool:
        return await session.scalar(select(model.id).where(
            model.round_id == ballot.id, model.user_id == user.id)) is not None

    return {"checked_in": await exists(BallotAttendance),
            "voted": await exists(BallotParticipation),
            "scrutineer": await exists(BallotScrutineer)}


async def _round_page(request: Request, session, user: User, ballot: BallotRound, cycle: Cycle,
                      *, marks: dict[str, str] | None = None, error: str | None = None,
                      status: int = 200, notice: str = "", poll: bool = True):
    """我的票决: the round, turnout, and check-in, the ballot form or 您已投票."""
    mine = await deputy_status(session, ballot, user)
    may_cast = ballot.state == BallotState.open and mine["checked_in"] and not mine["voted"]
    candidates = await service.candidates_of(session, ballot.id) if may_cast else []
    marks = marks or {}
    return render(request, "ballots/deputy_vote.html", _ctx(
        ballot, cycle, mine=mine, may_cast=may_cast, candidates=candidates,
        marks={c.id: marks.get(c.id, "abstain") for c in candidates},
        yes=sum(1 for m in marks.values() if m == "yes"),
        turnout={**await turnout_ctx(session, ballot), **({} if poll else {"live": False})},
        error=error,
        notice=notice), status=status, headers=NO_STORE if marks else None)


@router.get("/ballots/mine")
async def my_ballots(request: Request, session: SessionDep, user: LoggedIn):
    """我的票决: the rounds of the deputy's jurisdiction, newest first."""
    if user.role != "deputy":
        raise Forbidden("deputies only", zh="只有人大代表有“我的票决”。")
    rows = (await session.execute(
        select(BallotRound, Cycle).join(Cycle, Cycle.id == BallotRound.cycle_id)
        .where(Cycle.jurisdiction_code == user.jurisdiction_code,
               BallotRound.form == DEPUTIES_BALLOT.name)
        .order_by(Cycle.year.desc(), BallotRound.round.desc()).limit(MINE_LIMIT))).all()
    items = [{"ballot": b, "cycle": c, **await deputy_status(session, b, user)} for b, c in rows]
    return render(request, "ballots/deputy_mine.html", {
        "items": items, "STATE_LABELS": {str(k): v for k, v in STATE_LABELS.items()}})


@router.get("/ballots/{ballot_id}/vote")
async def vote_page(request: Request, ballot_id: str, session: SessionDep, user: LoggedIn):
    ballot, cycle = await _deputy_round(session, ballot_id, user)
    notice = "checked_in" if request.query_params.get("checked_in") == "1" else ""
    return await _round_page(request, session, user, ballot, cycle, notice=notice)


@router.post("/ballots/{ballot_id}/check-in")
async def check_in(request: Request, ballot_id: str, session: SessionDep, user: LoggedIn):
    """签到 through the service; back to the round page."""
    ballot, cycle = await _deputy_round(session, ballot_id, user)
    async with attempting(session) as tried:
        await rounds.check_in(session, ballot, user)
    if exc := tried.refused:
        return await _round_page(request, session, user, ballot, cycle,
                                 error=refusal_text(exc), status=exc.status, poll=False)
    return redirect(request, f"/ballots/{ballot.id}/vote?checked_in=1")


def _read_marks(form, candidates: list[Candidate]) -> dict[str, str]:
    """One mark per candidate on the paper (unmarked: abstain); anything else is refused."""
    marks = {}
    for c in candidates:
        value = str(form.get(f"mark-{c.id}", "abstain"))
        if value not in MARKS:
            raise Invalid("bad mark", zh="每个项目只能选择赞成、反对或弃权。")
        marks[c.id] = value
    return marks


def _receipt_qr(code: str) -> str:
    """The receipt code as an inline SVG QR code (drawn here: no request leaves the page)."""
    return segno.make(code, error="m").svg_inline(scale=5, border=2, dark="#000",
                                                  light="#fff", omitsize=True)


@router.post("/ballots/{ballot_id}/vote")
async def vote(request: Request, ballot_id: str, session: SessionDep, user: LoggedIn):
    """The ballot form's steps: 核对 (review), 返回修改 (edit), 确认投票 (cast → receipt)."""
    ballot, cycle = await _deputy_round(session, ballot_id, user)
    form = await request.form()
    step = str(form.get("step", "review"))
    candidates = await service.candidates_of(session, ballot.id)
    async with attempting(session) as tried:
        marks = _read_marks(form, candidates)
    if exc := tried.refused:
        return await _round_page(request, session, user, ballot, cycle, error=refusal_text(exc),
                                 status=exc.status, poll=False)
    async with attempting(session) as tried:
        if step == "edit":
            return await _round_page(request, session, user, ballot, cycle, marks=marks,
                                     poll=False)
        DEPUTIES_BALLOT.check({c.id for c in candidates}, marks, ballot.seats)
        if step != "confirm":
            mine = await deputy_status(session, ballot, user)
            casting.ensure_may_cast(ballot, checked_in=mine["checked_in"], voted=mine["voted"])
            counts = {m: sum(1 for v in marks.values() if v == m) for m in MARKS}
            return render(request, "ballots/deputy_confirm.html", _ctx(
                ballot, cycle, candidates=candidates, marks=marks, counts=counts),
                headers=NO_STORE)
        code = await casting.cast(session, ballot, user, marks)
    if exc := tried.refused:
        return await _round_page(request, session, user, ballot, cycle,
                                 marks=marks if exc.code == "too_many_yes" else None,
                                 error=refusal_text(exc), status=exc.status, poll=False)
    return render(request, "ballots/deputy_receipt.html", _ctx(
        ballot, cycle, code=code, groups=code.split("-"), qr=_receipt_qr(code)),
        headers=NO_STORE)


# ---------------------------------------------------------------- 监票人签字 (scrutineer sign-off)

async def _signoff_page(request: Request, session, user: User, ballot: BallotRound,
                        cycle: Cycle, *, error: str | None = None, status: int = 200,
                        notice: str = ""):
    scrutineers = await rounds.scrutineers_of(session, ballot.id)
    if user.id not in {u.id for u, _ in scrutineers}:
        raise Forbidden("not a scrutineer", zh="只有本轮推选的监票人可以签字确认。")
    mine = next(s for u, s in scrutineers if u.id == user.id)
    show = ballot.results is not None and ballot.state in (BallotState.tallied,
                                                           BallotState.published)
    return render(request, "ballots/deputy_signoff.html", _ctx(
        ballot, cycle, scrutineers=scrutineers, signed=await signed_count(session, ballot.id),
        results=ballot.results if show else None, mine=mine, error=error, notice=notice),
        status=status)


@router.get("/ballots/{ballot_id}/sign-off")
async def signoff_page(request: Request, ballot_id: str, session: SessionDep, user: LoggedIn):
    """监票人 see the tally of their round and sign it off."""
    ballot, cycle = await _deputy_round(session, ballot_id, user)
    notice = "signed" if request.query_params.get("signed") == "1" else ""
    return await _signoff_page(request, session, user, ballot, cycle, notice=notice)


@router.post("/ballots/{ballot_id}/sign-off")
async def sign_off(request: Request, ballot_id: str, session: SessionDep, user: LoggedIn):
    """确认签字 through the service."""
    ballot, cycle = await _deputy_round(session, ballot_id, user)
    async with attempting(session) as tried:
        await rounds.sign_off(session, ballot, user)
    if exc := tried.refused:
        return await _signoff_page(request, session, user, ballot, cycle,
                                   error=refusal_text(exc), status=exc.status)
    return redirect(request, f"/ballots/{ballot.id}/sign-off?signed=1")


# ---------------------------------------------------------------- 查验回执 (public)

@router.get("/ballots/{ballot_id}/verify")
async def verify_page(request: Request, ballot_id: str, session: SessionDep, user: PageUser):
    """查验回执: the published receipt hashes, checked in the browser (the code never leaves)."""
    ballot = await rounds.get(session, ballot_id, DEPUTIES_BALLOT.name)
    cycle = await session.get(Cycle, ballot.cycle_id)
    published = ballot.state == BallotState.published
    receipts = (await service.bulletin(session, ballot))["receipts"] if published else []
    return render(request, "ballots/verify.html", _ctx(
        ballot, cycle, published=published, receipts=receipts))
