"""Dependency aliases for endpoints of one cycle: `CurrentCycle` loads the path's `cycle_id`
(404 if unknown), for every domain's API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.cycles import service
from app.db import SessionDep
from app.models import Cycle


async def current_cycle(cycle_id: str, session: SessionDep) -> Cycle:
    """The cycle named in the path, or 404."""
    return await service.get(session, cycle_id)


CurrentCycle = Annotated[Cycle, Depends(current_cycle)]
