"""Paper ballots (纸质选票) and hall voting devices (表决器) of a ballot round (DOMAIN.md 票决 4).

Paper. Staff record how many paper ballots were handed out (before or during the vote, or
after it while the round is closed). Once the round is closed the box is opened and every
sheet, numbered as it comes out, is entered twice by two different staff accounts (双人录入).
Unmarked candidates count as abstain; a sheet may instead be entered as spoilt (废票).

- one entry: the sheet is pending (待复核); the same account cannot make the second entry;
- two entries that agree: the sheet is confirmed (一致) and becomes one `BallotContent` row
  (paper, filled; invalid when spoilt or with more `yes` than seats), carrying neither the
  sheet number nor who entered it; a confirmed sheet is final;
- two entries that differ: the sheet is flagged (不一致) with the candidates that differ.
  **Resolution rule: an entrant corrects their own entry.** Either of the two entrants enters
  the sheet again, which replaces their own reading; a third account cannot enter a sheet that
  already has two entries. An entrant may also withdraw their own unconfirmed entry (a sheet
  number typed wrong).

The tally is refused while any sheet is pending or differs (`ensure_resolved`).

Devices are app/ballots/devices.py.

Returned ballots (electronic, paper, device) count as cast; issued ballots are electronic
slots + `paper_issued` + `device_issued` (service.issued_count): more returned than issued
voids the round at the tally. The audit log records sheet numbers and counts, never marks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.deps import ensure_scope
from app.ballots.casting import canonical
from app.ballots.service import candidates_of
from app.errors import Conflict, Invalid, NotFound
from app.i18n import N_
from app.models import (
    BallotContent,
    BallotRound,
    Cycle,
    PaperEntry,
    User,
    utcnow,
)
from app.workflows.ballot import BallotState

# A mark as written on paper or exported by a device → the stored mark; "" is unmarked.
MARK_ALIASES = {"yes": "yes", "赞成": "yes", "no": "no", "反对": "no",
                "abstain": "abstain", "弃权": "abstain", "": "abstain"}
MAX_SHEET = 100_000


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


# ----------------------------------------------------------------------------- shared

async def locked_staff_round(session: AsyncSession, ballot: BallotRound, actor: User) -> None:
    """Check the actor's jurisdiction, then lock the round (PostgreSQL) and reread its state.

    The lock serialises paper entries, the device import and the tally of one round, so a
    sheet is confirmed once and nothing is entered while the round is being counted.
    """
    cycle = await session.get(Cycle, ballot.cycle_id)
    await ensure_scope(session, actor, cycle.jurisdiction_code)
    await session.refresh(ballot, with_for_update=True)


def normalise_marks(marks: Mapping[str, str], candidate_ids: Sequence[str]) -> dict[str, str]:
    """{candidate_id: yes/no/abstain} for every candidate (unmarked = abstain), or 422."""
    unknown = [cid for cid in marks if cid not in candidate_ids]
    if unknown:
        raise Invalid(f"Not on this round's ballot: {', '.join(unknown[:5])}.",
                      code="unknown_candidate", zh="选票上没有该候选项目。")
    full = {}
    for cid in candidate_ids:
        raw = marks.get(cid, "")
        mark = MARK_ALIASES.get(raw.strip().lower() if isinstance(raw, str) else None)
        if mark is None:
            raise Invalid(f"'{str(raw)[:20]}' is not a mark; use yes, no or abstain.",
                          code="invalid_mark", zh="标记只能是赞成、反对或弃权。")
        full[cid] = mark
    return full


def is_invalid(marks: Mapping[str, str], seats: int, spoilt: bool = False) -> bool:
    """A spoilt sheet, or more `yes` than seats (选举法 art. 44): recorded, counted as cast."""
    return spoilt or sum(1 for m in marks.values() if m == "yes") > seats


# ----------------------------------------------------------------------------- paper issued

async def set_paper_issued(session: AsyncSession, ballot: BallotRound, actor: User,
                           count: int) -> int:
    """登记发出的纸质选票数: how many paper ballots were handed out (replaces the last figure)."""
    await locked_staff_round(session, ballot, actor)
    if ballot.state not in (BallotState.created, BallotState.open, BallotState.closed):
        raise Conflict("Paper ballots issued are recorded before the tally only.",
                       code="wrong_state", zh="计票前才能登记发出的纸质选票数。")
    if not 0 <= count <= MAX_SHEET:
        raise Invalid(f"The count must be between 0 and {MAX_SHEET}.", code="invalid_field",
                      zh=f"发出的纸质选票数应在 0 到 {MAX_SHEET} 之间。")
    before = ballot.paper_issued
    ballot.paper_issued = count
    session.add(ballot)
    await session.flush()
    await audit.record(session, actor=actor.username, action="ballot_round.paper_issued",
                       entity_type="ballot_round", entity_id=ballot.id,
                       data={"from": before, "to": count})
    return count


# ----------------------------------------------------------------------------- double entry

def _compare(a: PaperEntry, b: PaperEntry, order: Sequence[str]) -> tuple[list[str], bool]:
    """(candidates whose marks differ, whether one reading says spoilt and the other not)."""
    if a.spoilt or b.spoilt:
        return [], a.spoilt != b.spoilt
    ma, mb = json.loads(a.marks), json.loads(b.marks)
    return [cid for cid in order if ma.get(cid) != mb.get(cid)], False


def _sheet(number: int, entries: Sequence[PaperEntry], names: Mapping[str, str],
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


def _ensure_closed(ballot: BallotRound) -> None:
    if ballot.state != BallotState.closed:
        raise Conflict("Paper ballots are entered once the round is closed and before the "
                       "tally (the box is opened after the vote).", code="wrong_state",
                       zh="投票结束后、计票前才能录入纸质选票。")


async def enter_sheet(session: AsyncSession, ballot: BallotRound, actor: User, *, sheet: int,
                      marks: Mapping[str, str], spoilt: bool = False) -> Sheet:
    """录入纸质选票: one reading of sheet `sheet` (or a correction of one's own, if it differs)."""
    await locked_staff_round(session, ballot, actor)
    _ensure_closed(ballot)
    if not 1 <= sheet <= MAX_SHEET:
        raise Invalid(f"The sheet number must be between 1 and {MAX_SHEET}.",
                      code="invalid_sheet", zh=f"选票编号应在 1 到 {MAX_SHEET} 之间。")
    order = [c.id for c in await candidates_of(session, ballot.id)]
    full = {} if spoilt else normalise_marks(marks, order)
    entries = await entries_of(session, ballot.id, sheet)
    names = await entrant_names(session, entries)
    if len(entries) >= 2 and _sheet(sheet, entries, names, order).status == SheetStatus.confirmed:
        raise Conflict(f"Sheet {sheet} is confirmed already; a confirmed sheet is final.",
                       code="sheet_confirmed", zh=f"第 {sheet} 张选票已核对一致，不能再修改。")
    mine = next((e for e in entries if e.entered_by == actor.id), None)
    corrected = False
    if mine is not None and len(entries) == 1:
        raise Conflict(f"You entered sheet {sheet} already; another staff account makes the "
                       "second entry.", code="same_entrant",
                       zh=f"第 {sheet} 张选票已由您录入，须由另一名工作人员复核录入。")
    if mine is not None:  # a differing sheet: the entrant corrects their own reading
        mine.marks, mine.spoilt, mine.corrected_at = canonical(full), spoilt, utcnow()
        session.add(mine)
        corrected = True
    elif len(entries) >= 2:
        raise Conflict(f"Sheet {sheet} has two entries that differ; one of its two entrants "
                       "corrects their own entry.", code="sheet_full",
                       zh=f"第 {sheet} 张选票的两次录入不一致，应由原录入人之一更正自己的录入。")
    else:
        try:
            async with session.begin_nested():
                session.add(PaperEntry(round_id=ballot.id, sheet=sheet, entered_by=actor.id,
                                       marks=canonical(full), spoilt=spoilt))
                await session.flush()
        except IntegrityError:  # the same account, twice at once
            raise Conflict(f"You entered sheet {sheet} already.", code="same_entrant",
                           zh=f"第 {sheet} 张选票已由您录入。") from None
    await session.flush()
    entries = await entries_of(session, ballot.id, sheet)
    result = _sheet(sheet, entries, await entrant_names(session, entries), order)
    if result.status == SheetStatus.confirmed:
        session.add(BallotContent(round_id=ballot.id, filled=True, paper=True,
                                  marks=canonical(full),
                                  invalid=is_invalid(full, ballot.seats, spoilt)))
        await session.flush()
    await audit.record(session, actor=actor.username, action="ballot_round.paper_entry",
                       entity_type="ballot_round", entity_id=ballot.id,
                       data={"sheet": sheet, "corrected": corrected,
                             "status": str(result.status)})
    return result


async def withdraw_entry(session: AsyncSession, ballot: BallotRound, actor: User,
                         sheet: int) -> None:
    """撤回录入: withdraw one's own entry of an unconfirmed sheet (a mistyped sheet number)."""
    await locked_staff_round(session, ballot, actor)
    _ensure_closed(ballot)
    entries = await entries_of(session, ballot.id, sheet)
    mine = next((e for e in entries if e.entered_by == actor.id), None)
    if mine is None:
        raise NotFound(f"You have no entry of sheet {sheet}.", code="unknown_entry",
                       zh=f"您没有录入过第 {sheet} 张选票。")
    order = [c.id for c in await candidates_of(session, ballot.id)]
    if _sheet(sheet, entries, {}, order).status == SheetStatus.confirmed:
        raise Conflict(f"Sheet {sheet} is confirmed already; a confirmed sheet is final.",
                       code="sheet_confirmed", zh=f"第 {sheet} 张选票已核对一致，不能再修改。")
    await session.delete(mine)
    await session.flush()
    await audit.record(session, actor=actor.username, action="ballot_round.paper_withdraw",
                       entity_type="ballot_round", entity_id=ballot.id, data={"sheet": sheet})


async def summary(session: AsyncSession, ballot: BallotRound) -> PaperSummary:
    """录入情况: every entered sheet with its status, in sheet order, and the paper issued."""
    entries = await entries_of(session, ballot.id)
    names = await entrant_names(session, entries)
    order = [c.id for c in await candidates_of(session, ballot.id)]
    by_sheet: dict[int, list[PaperEntry]] = {}
    for e in entries:
        by_sheet.setdefault(e.sheet, []).append(e)
    return PaperSummary(issued=ballot.paper_issued,
                        sheets=[_sheet(n, es, names, order) for n, es in by_sheet.items()])


async def staff_summary(session: AsyncSession, ballot: BallotRound, actor: User) -> PaperSummary:
    """`summary` for staff of the round's jurisdiction."""
    cycle = await session.get(Cycle, ballot.cycle_id)
    await ensure_scope(session, actor, cycle.jurisdiction_code)
    return await summary(session, ballot)


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
