"""Cycle rules: one cycle per jurisdiction and year, moved only through the phase workflow."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.deps import ensure_scope
from app.errors import Conflict, Invalid, NotFound
from app.govlist.draft import record_adoption
from app.jurisdictions import service as jurisdictions
from app.jurisdictions.settings import settings_for
from app.models import Cycle, Jurisdiction, StateTransition, User
from app.workflows.cycle import CYCLE_WORKFLOW, CyclePhase
from app.workflows.engine import history


async def get(session: AsyncSession, cycle_id: str) -> Cycle:
    """Load a cycle or 404."""
    cycle = await session.get(Cycle, cycle_id)
    if cycle is None:
        raise _unknown_cycle()
    return cycle


async def get_with_jurisdiction(session: AsyncSession, cycle_id: str) -> tuple[Cycle, Jurisdiction]:
    """A cycle and its jurisdiction in one query, or 404."""
    row = (await session.execute(select(Cycle, Jurisdiction).join(
        Jurisdiction, Jurisdiction.code == Cycle.jurisdiction_code)
        .where(Cycle.id == cycle_id))).first()
    if row is None:
        raise _unknown_cycle()
    return row[0], row[1]


def _unknown_cycle() -> NotFound:
    return NotFound("There is no such cycle.", code="unknown_cycle", zh="找不到该年度周期。")


async def create(session: AsyncSession, *, actor: User, jurisdiction_code: str, year: int,
                 title: str, seats: int, congress_session: str | None = None) -> Cycle:
    """Set up a jurisdiction's year in `draft`; how its list is decided (`decided_by`) is
    taken from the jurisdiction's setting now and kept, whatever the setting later becomes."""
    jurisdiction = await jurisdictions.get(session, jurisdiction_code)
    await ensure_scope(session, actor, jurisdiction_code)
    if not jurisdiction.has_congress:
        raise Invalid(f"{jurisdiction.name} is a street (街道) with no congress; its projects are "
                      "decided in the county's cycle.", code="no_congress",
                      zh=f"{jurisdiction.name}是街道，不设人大，其项目纳入县级周期票决。")
    title = title.strip()
    if not title:
        raise Invalid("Give the cycle a title.", code="title_required", zh="请填写标题。")
    existing = await session.scalar(select(Cycle.id).where(
        Cycle.jurisdiction_code == jurisdiction_code, Cycle.year == year))
    if existing:
        raise Conflict(f"{jurisdiction.name} already has a cycle for {year}.", code="cycle_exists",
                       zh=f"{jurisdiction.name} {year} 年度的周期已经存在。")
    cycle = Cycle(jurisdiction_code=jurisdiction_code, year=year, title=title, seats=seats,
                  categories=list(settings_for(jurisdiction).categories),
                  congress_session=congress_session_name(jurisdiction, congress_session),
                  decided_by=settings_for(jurisdiction).decided_by,
                  phase=CyclePhase.draft, created_by=actor.id)
    session.add(cycle)
    await session.flush()
    await CYCLE_WORKFLOW.record_creation(session, cycle, actor=actor, reason="创建年度周期")
    await audit.record(session, actor=actor.username, action="cycle.create", entity_type="cycle",
                       entity_id=cycle.id, data={"jurisdiction_code": jurisdiction_code,
                                                 "year": year, "title": title, "seats": seats,
                                                 "congress_session": cycle.congress_session,
                                                 "decided_by": cycle.decided_by})
    return cycle


def congress_session_name(jurisdiction: Jurisdiction, raw: str | None) -> str | None:
    """The session's name as the 公告 quotes it after the jurisdiction's name, or None if blank.

    Spaces go, a leading jurisdiction name is dropped (the notice puts it in front), and the
    name must be a congress session's: it names 人民代表大会 and ends in 会议.
    """
    name = "".join((raw or "").split())
    name = name.removeprefix(jurisdiction.name)
    if not name:
        return None
    if len(name) > 100:
        raise Invalid(f"The congress session's name is at most 100 characters, not {len(name)}.",
                      code="invalid_congress_session",
                      zh=f"人代会会议名称不能超过100个字（现有 {len(name)} 字）。")
    if "人民代表大会" not in name or not name.endswith("会议"):
        raise Invalid("Write the congress session in full, as the 公告 names it, such as "
                      "第十八届人民代表大会第五次会议.", code="invalid_congress_session",
                      zh="请填写人代会会议的全称，如“第十八届人民代表大会第五次会议”。")
    return name


def congress_session_open(cycle: Cycle) -> bool:
    """Whether the session's name may still change: until the 公告 (phase `announced`)."""
    return cycle.phase not in (CyclePhase.announced, CyclePhase.supervising,
                               CyclePhase.evaluating, CyclePhase.closed)


async def set_congress_session(session: AsyncSession, *, actor: User, cycle: Cycle,
                               name: str | None) -> Cycle:
    """Name (or clear) the congress session (人代会会议) that decides `cycle`, until its 公告
    is published: the 公告 quotes it, so it is fixed from `announced` on."""
    await ensure_scope(session, actor, cycle.jurisdiction_code)
    if not congress_session_open(cycle):
        raise Conflict("The 公告 has been published with this session's name; it cannot change.",
                       code="already_announced", zh="公告已发布，人代会会议名称不能再修改。")
    jurisdiction = await jurisdictions.get(session, cycle.jurisdiction_code)
    before, cycle.congress_session = cycle.congress_session, congress_session_name(
        jurisdiction, name)
    if cycle.congress_session != before:
        await audit.record(session, actor=actor.username, action="cycle.congress_session",
                           entity_type="cycle", entity_id=cycle.id,
                           data={"from": before, "to": cycle.congress_session})
    return cycle


async def transition(session: AsyncSession, *, actor: User, cycle: Cycle, to: str,
                     reason: str, adoption: dict | None = None) -> Cycle:
    """Move the cycle to another phase through the workflow table.

    A government list may bring its adopting meeting's record (`adoption`: meeting, date,
    document_number, left_out) with the move to `announced`; it is recorded first, so the
    guard sees it, and stored only if the move succeeds (one transaction).
    """
    await ensure_scope(session, actor, cycle.jurisdiction_code)
    if adoption is not None:
        if to != CyclePhase.announced:
            raise Invalid("`adoption` goes with the move to 'announced' only.",
                          code="adoption_not_expected", zh="通过记录只在进入公开阶段时填写。")
        await record_adoption(session, actor=actor, cycle=cycle, meeting=adoption["meeting"],
                              on=adoption["date"], number=adoption["document_number"],
                              left_out=adoption.get("left_out") or [])
    await CYCLE_WORKFLOW.apply(session, cycle, to, actor=actor, reason=reason)
    if cycle.phase == CyclePhase.announced:
        # 公开: the selected (or adopted) candidates become projects, in the same transaction
        # as the move.
        from app.projects.service import make_projects  # lazy: projects import the cycle model

        await make_projects(session, cycle, actor=actor)
    return cycle


async def phase_history(session: AsyncSession, cycle: Cycle) -> list[StateTransition]:
    """The cycle's recorded phase changes, oldest first."""
    return await history(session, CYCLE_WORKFLOW.entity_type, cycle.id)


async def list_cycles(session: AsyncSession, *, jurisdiction_code: str | None = None,
                      page: int = 1, per_page: int = 20) -> tuple[list[Cycle], int]:
    """Cycles, newest year first."""
    query = select(Cycle)
    if jurisdiction_code:
        query = query.where(Cycle.jurisdiction_code == jurisdiction_code)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(Cycle.year.desc(), Cycle.jurisdiction_code)
                                 .offset((page - 1) * per_page).limit(per_page))
    return list(rows), total
