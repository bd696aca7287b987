"""Jurisdictions: add one where the nesting rules allow it, list them in tree order."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.errors import Conflict, Invalid, NotFound
from app.jurisdictions import nesting
from app.models import Jurisdiction, User


async def get(session: AsyncSession, code: str) -> Jurisdiction:
    """Load a jurisdiction or 404."""
    jurisdiction = await session.get(Jurisdiction, code)
    if jurisdiction is None:
        raise NotFound(f"There is no jurisdiction with code '{code}'.", code="unknown_jurisdiction",
                       zh="找不到该行政区域。")
    return jurisdiction


async def create(session: AsyncSession, *, actor: User, code: str, name: str, level: str,
                 parent_code: str | None, settings: dict | None = None,
                 division_code: str | None = None) -> Jurisdiction:
    """Add a jurisdiction where the nesting rules allow it (app/jurisdictions/nesting.py)."""
    name = name.strip()
    if not name:
        raise Invalid("Give the jurisdiction a name.", code="name_required", zh="请填写名称。")
    division_code = (division_code or "").strip() or None
    problem = nesting.level_problem(level)
    if problem:
        raise _refusal(problem)
    if await session.get(Jurisdiction, code) is not None:
        raise Conflict(f"The code '{code}' is already used; choose another.", code="code_taken",
                       zh=f"代码 {code} 已被使用，请换一个。")
    parent = None
    if parent_code:
        parent = await session.get(Jurisdiction, parent_code)
        if parent is None:
            raise Invalid(f"The parent '{parent_code}' does not exist.", code="unknown_parent",
                          zh=f"上级区域“{parent_code}”不存在。")
    problem = (nesting.parent_problem(level, parent_code or None, parent and parent.level)
               or nesting.division_code_problem(level, division_code, parent and parent.level,
                                                parent and parent.division_code))
    if problem:
        raise _refusal(problem)
    holder = division_code and await division_code_holder(session, division_code)
    if holder:
        raise Conflict(f"The division code {division_code} belongs to '{holder}' already.",
                       code="division_code_taken",
                       zh=f"行政区划代码 {division_code} 已属于“{holder}”。")
    return await add(session, actor=actor.username, code=code, name=name, level=level,
                     parent_code=parent_code or None, division_code=division_code,
                     settings=settings)


async def add(session: AsyncSession, *, actor: str, code: str, name: str, level: str,
              parent_code: str | None, division_code: str | None,
              settings: dict | None = None) -> Jurisdiction:
    """Store a jurisdiction whose rules were checked, with its `jurisdiction.create` audit entry."""
    (jurisdiction,) = await add_many(session, actor=actor, rows=[Jurisdiction(
        code=code, name=name, level=level, parent_code=parent_code, division_code=division_code,
        settings=settings or {})])
    return jurisdiction


async def add_many(session: AsyncSession, *, actor: str, rows: list[Jurisdiction],
                   extra: list[audit.Record] | None = None) -> list[Jurisdiction]:
    """Store checked jurisdictions (parents before children) with one `jurisdiction.create`
    audit entry each, then the `extra` entries; one flush for all (a bulk import)."""
    session.add_all(rows)
    await session.flush()
    await audit.record_many(session, [
        audit.Record(actor, "jurisdiction.create", "jurisdiction", j.code,
                     {"name": j.name, "level": j.level, "parent_code": j.parent_code,
                      "division_code": j.division_code}) for j in rows] + (extra or []))
    return rows


async def division_code_holder(session: AsyncSession, division_code: str) -> str | None:
    """The code of the jurisdiction holding `division_code`, if any."""
    return await session.scalar(select(Jurisdiction.code).where(
        Jurisdiction.division_code == division_code))


def _refusal(problem: nesting.Problem) -> Invalid:
    return Invalid(problem.message, code=problem.code, zh=problem.zh)


async def list_all(session: AsyncSession) -> list[Jurisdiction]:
    """Every jurisdiction in tree order: each top-level one followed by what it contains."""
    rows = list(await session.scalars(select(Jurisdiction).order_by(Jurisdiction.code)))
    by_parent: dict[str | None, list[Jurisdiction]] = {}
    for j in rows:
        by_parent.setdefault(j.parent_code, []).append(j)
    ordered: list[Jurisdiction] = []

    def walk(parent: str | None) -> None:
        for j in by_parent.get(parent, []):
            ordered.append(j)
            walk(j.code)

    walk(None)
    return ordered


async def with_congress(session: AsyncSession) -> list[Jurisdiction]:
    """The jurisdictions that have a congress (so deputies and cycles), in tree order."""
    return [j for j in await list_all(session) if j.has_congress]
