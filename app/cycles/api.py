"""JSON API: cycles and their phase transitions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.auth.deps import require
from app.auth.roles import Perm
from app.cycles import service
from app.cycles.deps import CurrentCycle
from app.cycles.schemas import (
    CongressSessionIn,
    CycleIn,
    CycleOut,
    HistoryItem,
    PhaseOut,
    TransitionIn,
)
from app.db import SessionDep
from app.govlist.draft import adoption_of
from app.govlist.schemas import adoption_out
from app.models import Cycle, User
from app.pagination import Page, PageDep

router = APIRouter(tags=["cycles"])


def to_out(cycle: Cycle, history: list | None = None) -> CycleOut:
    return CycleOut(
        id=cycle.id, jurisdiction_code=cycle.jurisdiction_code, year=cycle.year,
        title=cycle.title, seats=cycle.seats, phase=cycle.phase,
        congress_session=cycle.congress_session, decided_by=cycle.decided_by,
        adoption=adoption_out(adoption_of(cycle)),
        history=[HistoryItem(from_=h.from_state, to=h.to_state, by=h.actor_username, at=h.at,
                             reason=h.reason) for h in (history or [])])


@router.post("/cycles", status_code=201, response_model=CycleOut, response_model_by_alias=True)
async def create_cycle(body: CycleIn, session: SessionDep,
                       actor: Annotated[User, require(Perm.cycle_create)]):
    """Set up one jurisdiction's year (gov_staff, admin); it starts in `draft`."""
    cycle = await service.create(session, actor=actor, jurisdiction_code=body.jurisdiction_code,
                                 year=body.year, title=body.title, seats=body.seats,
                                 congress_session=body.congress_session)
    return to_out(cycle, await service.phase_history(session, cycle))


@router.get("/cycles", response_model=Page[CycleOut], response_model_by_alias=True)
async def list_cycles(session: SessionDep, paging: PageDep,
                      jurisdiction_code: Annotated[str | None, Query(max_length=32)] = None):
    """Cycles, newest first (history omitted; read one cycle for it)."""
    rows, total = await service.list_cycles(session, jurisdiction_code=jurisdiction_code,
                                            page=paging.page, per_page=paging.per_page)
    return Page(items=[to_out(c) for c in rows], total=total, page=paging.page,
                per_page=paging.per_page)


@router.get("/cycles/{cycle_id}", response_model=CycleOut, response_model_by_alias=True)
async def read_cycle(cycle: CurrentCycle, session: SessionDep):
    """One cycle with its phase history."""
    return to_out(cycle, await service.phase_history(session, cycle))


@router.put("/cycles/{cycle_id}/congress-session", response_model=CycleOut,
            response_model_by_alias=True)
async def set_congress_session(cycle: CurrentCycle, body: CongressSessionIn, session: SessionDep,
                               actor: Annotated[User, require(Perm.ballot_manage)]):
    """Name the congress session (人代会会议) that decides the cycle; the 公告 quotes it.

    Congress staff of the jurisdiction (admin), until the cycle is announced (then 409).
    """
    await service.set_congress_session(session, actor=actor, cycle=cycle,
                                       name=body.congress_session)
    return to_out(cycle, await service.phase_history(session, cycle))


@router.post("/cycles/{cycle_id}/transitions", response_model=PhaseOut)
async def transition_cycle(cycle: CurrentCycle, body: TransitionIn, session: SessionDep,
                           actor: Annotated[User, require(Perm.cycle_transition)]):
    """Move the cycle to its next phase (the role DOMAIN.md names; 409 with the reason if not).

    A government list moving to `announced` may bring `adoption` (the adopting meeting's
    record, as PUT /cycles/{id}/adoption takes it); it is kept only if the move succeeds.
    """
    await service.transition(session, actor=actor, cycle=cycle, to=body.to, reason=body.reason,
                             adoption=body.adoption.model_dump() if body.adoption else None)
    return PhaseOut(phase=cycle.phase)
