"""Paper ballots (纸质选票) of a round of either form (DOMAIN.md 票决 4, 测评).

Paper. Staff record how many paper ballots were handed out (before or during the vote, or
after it while the round is closed). Once the round is closed the box is opened and every
sheet, numbered as it comes out, is entered twice by two different staff accounts (双人录入).
Marks follow the round's form (票决 or 测评); unmarked items count as abstain; a sheet may
instead be entered as spoilt (废票).

- one entry: the sheet is pending (待复核); the same account cannot make the second entry;
- two entries that agree: the sheet is confirmed (一致) and becomes one `BallotContent` row
  (paper, filled; invalid when spoilt or with more `yes` than seats), carrying neither the
  sheet number nor who entered it; a confirmed sheet is final;
- two entries that differ: the sheet is flagged (不一致) with the candidates that differ.
  **Resolution rule: an entrant corrects their own entry.** Either of the two entrants enters
  the sheet again, which replaces their own reading; a third account cannot enter a sheet that
  already has two entries. An entrant may also withdraw their own unconfirmed entry (a sheet
  number typed wrong).

The tally is refused while any sheet is pending or differs (`ensure_resolved`). Reading the
sheets (their status, the summary) is app/ballotbox/sheets.py; marks and their rules app/ballotbox/forms.py.

Devices are app/ballotbox/devices.py.

Returned ballots (electronic, paper, device) count as cast; issued ballots are electronic
slots + `paper_issued` + `device_issued` (rounds.issued_count): more returned than issued
voids the round at the tally. The audit log records sheet numbers and counts, never marks.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.deps import ensure_scope
from app.ballotbox.forms import canonical, form_of
from app.ballotbox.queries import item_ids_of, locked_staff_round
from app.ballotbox.sheets import (
    PaperSummary,
    Sheet,
    SheetStatus,
    entrant_names,
    entries_of,
    sheet_of,
    summary,
)
from app.errors import Conflict, Invalid, NotFound
from app.models import (
    BallotContent,
    BallotRound,
    Cycle,
    PaperEntry,
    User,
    utcnow,
)
from app.workflows.ballot import BallotState

MAX_SHEET = 100_000


# ----------------------------------------------------------------------------- shared

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

def _ensure_closed(ballot: BallotRound) -> None:
    if ballot.state != BallotState.closed:
        raise Conflict("Paper ballots are entered once the round is closed and before the "
                       "tally (the box is opened after the vote).", code="wrong_state",
                       zh="投票结束后、计票前才能录入纸质选票。")


async def enter_sheet(session: AsyncSession, ballot: BallotRound, actor: User, *, sheet: int,
                      marks: Mapping[str, str | list[str]], spoilt: bool = False) -> Sheet:
    """录入纸质选票: one reading of sheet `sheet` (or a correction of one's own, if it differs).

    `marks`: item id → the mark as written, in the round's form (app/ballotbox/forms.py); a
    list when several marks are ticked for one item (测评: abstain for that item)."""
    await locked_staff_round(session, ballot, actor)
    _ensure_closed(ballot)
    if not 1 <= sheet <= MAX_SHEET:
        raise Invalid(f"The sheet number must be between 1 and {MAX_SHEET}.",
                      code="invalid_sheet", zh=f"选票编号应在 1 到 {MAX_SHEET} 之间。")
    form = form_of(ballot.form)
    order = await item_ids_of(session, ballot.id)
    full = {} if spoilt else form.normalise(marks, order)
    entries = await entries_of(session, ballot.id, sheet)
    names = await entrant_names(session, entries)
    if len(entries) >= 2 and sheet_of(sheet, entries, names, order).status == SheetStatus.confirmed:
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
    result = sheet_of(sheet, entries, await entrant_names(session, entries), order)
    if result.status == SheetStatus.confirmed:
        session.add(BallotContent(round_id=ballot.id, filled=True, paper=True,
                                  marks=canonical(full),
                                  invalid=form.is_invalid(full, ballot.seats, spoilt)))
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
    order = await item_ids_of(session, ballot.id)
    if sheet_of(sheet, entries, {}, order).status == SheetStatus.confirmed:
        raise Conflict(f"Sheet {sheet} is confirmed already; a confirmed sheet is final.",
                       code="sheet_confirmed", zh=f"第 {sheet} 张选票已核对一致，不能再修改。")
    await session.delete(mine)
    await session.flush()
    await audit.record(session, actor=actor.username, action="ballot_round.paper_withdraw",
                       entity_type="ballot_round", entity_id=ballot.id, data={"sheet": sheet})


async def staff_summary(session: AsyncSession, ballot: BallotRound, actor: User) -> PaperSummary:
    """`summary` for staff of the round's jurisdiction."""
    cycle = await session.get(Cycle, ballot.cycle_id)
    await ensure_scope(session, actor, cycle.jurisdiction_code)
    return await summary(session, ballot)
