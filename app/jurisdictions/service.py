"""Jurisdiction rules: a county at the top, townships and streets inside it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.errors import Conflict, Invalid, NotFound
from app.models import Jurisdiction, JurisdictionLevel, User


async def get(session: AsyncSession, code: str) -> Jurisdiction:
    """Load a jurisdiction or 404."""
    jurisdiction = await session.get(Jurisdiction, code)
    if jurisdiction is None:
        raise NotFound(f"There is no jurisdiction with code '{code}'.", code="unknown_jurisdiction",
                       zh="找不到该行政区域。")
    return jurisdiction


async def create(session: AsyncSession, *, actor: User, code: str, name: str, level: str,
                 parent_code: str | None, settings: dict | None = None) -> Jurisdiction:
    """Add a jurisdiction; townships and streets sit inside a county."""
    name = name.strip()
    if not name:
        raise Invalid("Give the jurisdiction a name.", code="name_required", zh="请填写名称。")
    if await session.get(Jurisdiction, code) is not None:
        raise Conflict(f"The code '{code}' is already used; choose another.", code="code_taken",
                       zh=f"代码 {code} 已被使用，请换一个。")
    if level == JurisdictionLevel.county:
        if parent_code is not None:
            raise Invalid("A county has no parent jurisdiction here; leave parent_code empty.",
                          code="county_has_no_parent", zh="县级区域不设上级，请留空。")
    else:
        if not parent_code:
            raise Invalid("A township or street must name its county in parent_code.",
                          code="parent_required", zh="乡镇和街道须选择所属的县。")
        parent = await session.get(Jurisdiction, parent_code)
        if parent is None:
            raise Invalid(f"The parent '{parent_code}' does not exist.", code="unknown_parent", zh="所选上级区域不存在。")
        if parent.level != JurisdictionLevel.county:
            raise Invalid("Townships and streets sit directly inside a county.",
                          code="parent_not_county", zh="乡镇和街道的上级须是县。")
    jurisdiction = Jurisdiction(code=code, name=name, level=level, parent_code=parent_code,
                                settings=settings or {})
    session.add(jurisdiction)
    await session.flush()
    await audit.record(session, actor=actor.username, action="jurisdiction.create",
                       entity_type="jurisdiction", entity_id=code,
                       data={"name": name, "level": level, "parent_code": parent_code})
    return jurisdiction


async def list_all(session: AsyncSession) -> list[Jurisdiction]:
    """Every jurisdiction, counties first, each followed by what it contains."""
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
