"""Pages: the home page, a cycle's story (年度全景) with its history, creating and moving cycles,
and the archive of every jurisdiction's cycles by year (往年档案)."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Request
from sqlalchemy import select

from app.auth.deps import in_scope
from app.auth.roles import Perm, has_perm
from app.ballots.labels import cycle_section
from app.cycles import service, story
from app.cycles.schemas import CycleIn, TransitionIn
from app.db import SessionDep
from app.govlist import comments as draft_comments
from app.jurisdictions import service as jurisdictions
from app.models import Cycle, Jurisdiction, User
from app.pages.deps import PageUser, page_perm
from app.pages.forms import attempting, parse_form, refusal_text
from app.pages.render import is_fragment_request, redirect, render
from app.workflows.cycle import CyclePhase, open_moves
from app.workflows.cycle_guard import seat_status
from app.workflows.project import STATE_LABELS as PROJECT_STATES

router = APIRouter(include_in_schema=False)

CYCLE_LABELS = {"jurisdiction_code": "行政区域", "year": "年度", "title": "标题",
                "seats": "拟票决项目数", "congress_session": "票决会议"}
TRANSITION_LABELS = {"to": "阶段", "reason": "理由"}


@router.get("/")
async def home(request: Request, session: SessionDep, user: PageUser):
    """Every jurisdiction with its cycles and where each stands on the six-stage timeline."""
    all_j = await jurisdictions.list_all(session)
    cycles = list(await session.scalars(select(Cycle).order_by(Cycle.year.desc())))
    by_j: dict[str, list[Cycle]] = {}
    for c in cycles:
        by_j.setdefault(c.jurisdiction_code, []).append(c)
    return render(request, "home.html", {"jurisdictions": all_j, "cycles_by_j": by_j},
                  shared=True)


async def _moves_for(session, user: User | None, cycle: Cycle) -> list:
    """The phase moves this person could make now, as the workflow table opens them for a cycle
    decided the way this one is (guards are checked on submit)."""
    if user is None or not has_perm(user.role, Perm.cycle_transition):
        return []
    if not await in_scope(session, user, cycle.jurisdiction_code):
        return []
    return open_moves(cycle, user.role)


def wan(value: Decimal) -> str:
    """An amount in 万元 without trailing zeros (1200.00 → 1200, 85.50 → 85.5)."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


async def _may_name_session(session, user: User | None, cycle: Cycle) -> bool:
    """Whether this person may name the cycle's congress session now (congress staff, admin)."""
    return (user is not None and has_perm(user.role, Perm.ballot_manage)
            and cycle.decided_by != "government" and service.congress_session_open(cycle)
            and await in_scope(session, user, cycle.jurisdiction_code))


async def _cycle_page(request: Request, session, user: User | None, cycle: Cycle, *,
                      jurisdiction: Jurisdiction | None = None, error: str | None = None,
                      status: int = 200, reason: str = "",
                      headers: dict[str, str] | None = None, session_error: str | None = None,
                      session_value: str | None = None):
    """The cycle's story with the phase panel below; an htmx request gets the panel alone.

    The story is read with a fixed number of queries (app/cycles/story.py); the panel adds the
    jurisdiction check for staff moves and, in 票决, the seat status.
    """
    # In 票决 the panel says how many seats are filled, so staff moving on to 公开 know
    # whether the guard will ask why the remaining seats stay empty.
    seats = (await seat_status(session, cycle) if cycle.phase == CyclePhase.balloting
             else None)
    # In 征求意见 it says what the move to 公开 still waits for (comments, the record).
    waiting = (await draft_comments.unanswered_count(session, cycle.id)
               if cycle.phase == CyclePhase.commenting else None)
    ctx = {"cycle": cycle, "moves": await _moves_for(session, user, cycle), "error": error,
           "reason": reason, "seat_status": seats, "unanswered": waiting,
           "may_name_session": await _may_name_session(session, user, cycle),
           "session_error": session_error, "session_value": session_value}
    if is_fragment_request(request):
        ctx["history"] = await service.phase_history(session, cycle)
    else:
        told = await story.cycle_story(session, cycle, jurisdiction)
        ctx.update(story=told, jurisdiction=told.jurisdiction, history=told.history,
                   ballot_section=cycle_section(told.all_rounds),
                   PROJECT_STATES=PROJECT_STATES, wan=wan)
    # The same for everyone of one role in one jurisdiction (moves, scope: role and grants).
    return render(request, "cycles/detail.html", ctx, status=status, block="phase_panel",
                  headers=headers, shared=True)


@router.get("/cycles/new")
async def new_cycle_form(request: Request, session: SessionDep,
                         user: User = page_perm(Perm.cycle_create)):
    return render(request, "cycles/new.html", {
        "jurisdictions": await jurisdictions.with_congress(session),
        "form": {"jurisdiction_code": user.jurisdiction_code}})


@router.post("/cycles/new")
async def create_cycle(request: Request, session: SessionDep,
                       user: User = page_perm(Perm.cycle_create)):
    form = dict(await request.form())
    async with attempting(session) as tried:
        data = parse_form(CycleIn, form, CYCLE_LABELS)
        cycle = await service.create(session, actor=user, **data.model_dump())
    if exc := tried.refused:
        return render(request, "cycles/new.html", {
            "jurisdictions": await jurisdictions.with_congress(session),
            "form": form, "error": refusal_text(exc)}, status=exc.status)
    return redirect(request, f"/cycles/{cycle.id}")


@router.get("/cycles/{cycle_id}")
async def cycle_page(request: Request, cycle_id: str, session: SessionDep, user: PageUser):
    cycle, jurisdiction = await service.get_with_jurisdiction(session, cycle_id)
    return await _cycle_page(request, session, user, cycle, jurisdiction=jurisdiction)


@router.post("/cycles/{cycle_id}/congress-session")
async def name_congress_session(request: Request, cycle_id: str, session: SessionDep,
                                user: User = page_perm(Perm.ballot_manage)):
    """The phase panel's form: name the congress session (票决会议) the 公告 speaks for."""
    cycle = await service.get(session, cycle_id)
    form = await request.form()
    value = str(form.get("congress_session", ""))
    async with attempting(session) as tried:
        await service.set_congress_session(session, actor=user, cycle=cycle, name=value)
    if exc := tried.refused:
        return await _cycle_page(request, session, user, cycle, status=exc.status,
                                 session_error=refusal_text(exc), session_value=value)
    return redirect(request, f"/cycles/{cycle.id}#phase-panel")


@router.post("/cycles/{cycle_id}/transition")
async def transition(request: Request, cycle_id: str, session: SessionDep,
                     user: User = page_perm(Perm.cycle_transition)):
    cycle = await service.get(session, cycle_id)
    form = await request.form()
    target = str(form.get("to", ""))
    reason = str(form.get("reason", "")).strip()
    async with attempting(session) as tried:
        data = parse_form(TransitionIn, {"to": target, "reason": reason}, TRANSITION_LABELS)
        # Every refusal is raised before the cycle is touched, so nothing needs undoing.
        await service.transition(session, actor=user, cycle=cycle, to=data.to,
                                 reason=data.reason)
    if exc := tried.refused:
        return await _cycle_page(request, session, user, cycle, error=refusal_text(exc),
                                 status=exc.status, reason=reason)
    # A move changes the whole story above the panel: htmx reloads the page after the swap.
    return await _cycle_page(request, session, user, cycle,
                             headers={"HX-Refresh": "true"} if is_fragment_request(request)
                             else None)


@router.get("/archive")
async def archive_page(request: Request, session: SessionDep):
    """往年档案: every jurisdiction with its cycles, newest year first (two queries)."""
    return render(request, "cycles/archive.html", {
        "entries": await story.archive(session)})


@router.get("/archive/{code}")
async def jurisdiction_archive_page(request: Request, code: str, session: SessionDep):
    """One jurisdiction's cycles by year (phase, projects), and those of the places inside it."""
    jurisdiction = await jurisdictions.get(session, code)
    years, inside = await story.jurisdiction_archive(session, jurisdiction)
    return render(request, "cycles/archive_jurisdiction.html", {
        "jurisdiction": jurisdiction, "years": years, "inside": inside})
