"""Reading the paper sheets of a round (纸质选票录入情况): each sheet's status from its entries, the
summary, and the refusal of a tally while a sheet is unresolved (`ensure_resolved`).

Entering sheets is app/ballotbox/paper.py; the tally (app/ballots/service.py `count`) asks
`ensure_resolved`. Imports only the leaf app/ballotbox/queries.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ballotbox.queries import item_ids_of
from app.errors import Conflict
from app.i18n import N_
from app.models import BallotRound, PaperEntry, User


class SheetStatus(StrEnum):
    """SheetStatus — 纸质选票录入状态."""

    pending = "pending"
    confirmed = "confirmed"
    differs = "differs"


STATUS_LABELS = {
    SheetStatus.pending: N_("待复核"),
    SheetStatus.confirmed: N_("一致"),
    SheetStatus.differs: N_("不一致"),
}


@dataclass
class Sheet:
    """Sheet — 纸质选票: one numbered sheet, what its entries say together."""

    sheet: int
    status: SheetStatus
    entered_by: list[str]
    differing_candidates: list[str] = field(default_factory=list)
    spoilt_differs: bool = False

    def as_dict(self) -> dict:
        return {"sheet": self.sheet, "status": str(self.status), "entries": len(self.entered_by),
                "entered_by": self.entered_by,
                "differing_candidates": self.differing_candidates,
                "spoilt_differs": self.spoilt_differs}


@dataclass
class PaperSummary:
    """PaperSummary — 纸质选票录入情况: issued, entered, confirmed, pending, differing, sheets."""

    issued: int
    sheets: list[Sheet]

    def count(self, status: SheetStatus) -> int:
        return sum(1 for s in self.sheets if s.status == status)

    def as_dict(self) -> dict:
        return {"issued": self.issued, "entered": len(self.sheets),
                "confirmed": self.count(SheetStatus.confirmed),
                "pending": self.count(SheetStatus.pending),
                "differing": self.count(SheetStatus.differs),
                "items": [s.as_dict() for s in self.sheets]}


def _compare(a: PaperEntry, b: PaperEntry, order: Sequence[str]) -> tuple[list[str], bool]:
    """(candidates whose marks differ, whether one reading says spoilt and the other not)."""
    if a.spoilt or b.spoilt:
        return [], a.spoilt != b.spoilt
    ma, mb = json.loads(a.marks), json.loads(b.marks)
    return [cid for cid in order if ma.get(cid) != mb.get(cid)], False


def sheet_of(number: int, entries: Sequence[PaperEntry], names: Mapping[str, str],
           order: Sequence[str]) -> Sheet:
    by = [names.get(e.entered_by, "?") for e in entries]
    if len(entries) < 2:
        return Sheet(number, SheetStatus.pending, by)
    differing, spoilt_differs = _compare(entries[0], entries[1], order)
    if differing or spoilt_differs:
        return Sheet(number, SheetStatus.differs, by, differing, spoilt_differs)
    return Sheet(number, SheetStatus.confirmed, by)


async def entries_of(session: AsyncSession, round_id: str,
                   sheet: int | None = None) -> list[PaperEntry]:
    """The round's paper entries (one sheet's, if given), with each entrant's reading."""
    query = select(PaperEntry).where(PaperEntry.round_id == round_id)
    if sheet is not None:
        query = query.where(PaperEntry.sheet == sheet)
    return list(await session.scalars(query.order_by(PaperEntry.sheet, PaperEntry.created_at,
                                                     PaperEntry.id)))


async def entrant_names(session: AsyncSession, entries: Sequence[PaperEntry]) -> dict[str, str]:
    """Usernames of the staff who made `entries`, by user id."""
    ids = {e.entered_by for e in entries}
    if not ids:
        return {}
    return dict((await session.execute(select(User.id, User.username)
                                       .where(User.id.in_(ids)))).all())


async def summary(session: AsyncSession, ballot: BallotRound) -> PaperSummary:
    """录入情况: every entered sheet with its status, in sheet order, and the paper issued."""
    entries = await entries_of(session, ballot.id)
    names = await entrant_names(session, entries)
    order = await item_ids_of(session, ballot.id)
    by_sheet: dict[int, list[PaperEntry]] = {}
    for e in entries:
        by_sheet.setdefault(e.sheet, []).append(e)
    return PaperSummary(issued=ballot.paper_issued,
                        sheets=[sheet_of(n, es, names, order) for n, es in by_sheet.items()])


async def ensure_resolved(session: AsyncSession, ballot: BallotRound) -> None:
    """409 `paper_unresolved` while any paper sheet has one entry or two that differ."""
    await session.refresh(ballot, with_for_update=True)
    if not await session.scalar(select(func.count()).select_from(PaperEntry).where(
            PaperEntry.round_id == ballot.id)):
        return
    found = await summary(session, ballot)
    pending = [s.sheet for s in found.sheets if s.status == SheetStatus.pending]
    differing = [s.sheet for s in found.sheets if s.status == SheetStatus.differs]
    if pending or differing:
        en, zh = [], []
        if pending:
            en.append(f"{len(pending)} sheet(s) await their second entry "
                      f"({', '.join(map(str, pending[:10]))})")
            zh.append(f"{len(pending)} 张待复核（{'、'.join(map(str, pending[:10]))}）")
        if differing:
            en.append(f"{len(differing)} sheet(s) have entries that differ "
                      f"({', '.join(map(str, differing[:10]))})")
            zh.append(f"{len(differing)} 张两次录入不一致（{'、'.join(map(str, differing[:10]))}）")
        raise Conflict("Resolve the paper ballots before the tally: " + "; ".join(en) + ".",
                       code="paper_unresolved",
                       zh="纸质选票尚未全部核对一致，不能计票：" + "；".join(zh) + "。")
