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

Devices. A hall's voting devices export a CSV (format in `parse_device_csv`), imported once
per round while it is closed, with the number of devices issued. The file is checked
completely before anything is stored; its rows become content rows in a random order, the
export's ballot numbers are not kept (a device number may say whose seat it was), and a
`DeviceBallot` row marks each as coming from the devices.

Returned ballots (electronic, paper, device) count as cast; issued ballots are electronic
slots + `paper_issued` + `device_issued` (service.issued_count): more returned than issued
voids the round at the tally. The audit log records sheet numbers and counts, never marks.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.deps import ensure_scope
from app.ballots.service import candidates_of, canonical
from app.errors import Conflict, Invalid, NotFound, TooLarge
from app.i18n import N_
from app.models import (
    BallotContent,
    BallotRound,
    Cycle,
    DeviceBallot,
    PaperEntry,
    User,
    utcnow,
)
from app.workflows.ballot import BallotState

# A mark as written on paper or exported by a device → the stored mark; "" is unmarked.
MARK_ALIASES = {"yes": "yes", "赞成": "yes", "no": "no", "反对": "no",
                "abstain": "abstain", "弃权": "abstain", "": "abstain"}
MAX_SHEET = 100_000
MAX_DEVICE_ROWS = 10_000
MAX_DEVICE_BYTES = 1_000_000
MAX_PROBLEMS = 20
BALLOT_HEADERS = ("ballot", "票号")


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


class DeviceFileInvalid(Invalid):
    """The device file was refused; `problems` are (English, Chinese) sentences, at most 20."""

    def __init__(self, code: str, problems: list[tuple[str, str]], more: bool = False):
        self.problems = problems[:MAX_PROBLEMS]
        tail = "; …" if more or len(problems) > MAX_PROBLEMS else ""
        super().__init__(
            "Nothing was imported. Fix these: " + "; ".join(en for en, _ in self.problems) + tail
            + ".", code=code,
            zh="未导入任何选票，请修改：" + "；".join(zh for _, zh in self.problems)
            + ("；……" if tail else "") + "。")


# ----------------------------------------------------------------------------- shared

async def _locked_staff_round(session: AsyncSession, ballot: BallotRound, actor: User) -> None:
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


def _is_invalid(marks: Mapping[str, str], seats: int, spoilt: bool = False) -> bool:
    """A spoilt sheet, or more `yes` than seats (选举法 art. 44): recorded, counted as cast."""
    return spoilt or sum(1 for m in marks.values() if m == "yes") > seats


# ----------------------------------------------------------------------------- paper issued

async def set_paper_issued(session: AsyncSession, ballot: BallotRound, actor: User,
                           count: int) -> int:
    """登记发出的纸质选票数: how many paper ballots were handed out (replaces the last figure)."""
    await _locked_staff_round(session, ballot, actor)
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
    await _locked_staff_round(session, ballot, actor)
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
                                  invalid=_is_invalid(full, ballot.seats, spoilt)))
        await session.flush()
    await audit.record(session, actor=actor.username, action="ballot_round.paper_entry",
                       entity_type="ballot_round", entity_id=ballot.id,
                       data={"sheet": sheet, "corrected": corrected,
                             "status": str(result.status)})
    return result


async def withdraw_entry(session: AsyncSession, ballot: BallotRound, actor: User,
                         sheet: int) -> None:
    """撤回录入: withdraw one's own entry of an unconfirmed sheet (a mistyped sheet number)."""
    await _locked_staff_round(session, ballot, actor)
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


# ----------------------------------------------------------------------------- devices

def parse_device_csv(data: bytes, candidate_ids: Sequence[str]) -> list[dict[str, str]]:
    """Read a 表决器 (voting device) export, checking all of it first; marks per ballot.

    Format: UTF-8 text (a BOM is allowed), comma-separated. The first line is the header:
    `ballot` (or `票号`), then one column per candidate, named by its id or by its position on
    the ballot paper (1, 2, …); every candidate of the round has exactly one column. Each
    further line is one ballot: a ballot number (non-empty, unique in the file, not stored),
    then a mark per candidate: yes/no/abstain or 赞成/反对/弃权 (any case); an empty cell is
    abstain. Blank lines are skipped. A ballot with more `yes` than seats is stored as invalid.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("The file is not UTF-8 text; export it as CSV (UTF-8).",
                      code="csv_encoding", zh="文件不是 UTF-8 编码，请导出为 UTF-8 编码的 CSV 文件。"
                      ) from None
    if "\x00" in text:
        raise Invalid("The file contains NUL characters; export it again as plain CSV text.",
                      code="csv_malformed", zh="文件中含有非法字符，请重新导出为纯文本 CSV 文件。")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise Invalid("The file is empty; the first line must be 'ballot,<candidate>,…'.",
                      code="csv_empty", zh="文件是空的。第一行应为 ballot,候选项目,……") from None
    except csv.Error as exc:
        raise Invalid(f"The file is not valid CSV: {exc}.", code="csv_malformed",
                      zh="文件不是有效的 CSV 文件。") from None
    columns = _header_columns(header, candidate_ids)
    rows: list[dict[str, str]] = []
    problems: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    try:
        for raw in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in raw):
                continue
            if len(rows) >= MAX_DEVICE_ROWS:
                raise Invalid(f"At most {MAX_DEVICE_ROWS} ballots per file.",
                              code="csv_too_long", zh=f"每个文件最多 {MAX_DEVICE_ROWS} 张选票。")
            cells = [c.strip() for c in raw]
            if len(cells) < len(header) or any(cells[len(header):]):
                problems.append((f"line {line}: expected {len(header)} cells, found {len(cells)}",
                                 f"第 {line} 行：应有 {len(header)} 列，实有 {len(cells)} 列"))
                continue
            number = cells[0]
            if not number:
                problems.append((f"line {line}, column 1: the ballot number is empty",
                                 f"第 {line} 行第 1 列：票号为空"))
            elif number in seen:
                problems.append((f"line {line}, column 1: ballot '{number[:20]}' is on line "
                                 f"{seen[number]} already",
                                 f"第 {line} 行第 1 列：票号“{number[:20]}”与第 {seen[number]} 行重复"))
            else:
                seen[number] = line
            marks = {}
            for col, cid in columns.items():
                mark = MARK_ALIASES.get(cells[col - 1].lower())
                if mark is None:
                    problems.append((
                        f"line {line}, column {col} ({header[col - 1][:32]}): "
                        f"'{cells[col - 1][:20]}' is not yes/no/abstain/赞成/反对/弃权",
                        f"第 {line} 行第 {col} 列：“{cells[col - 1][:20]}”不是赞成、反对或弃权"))
                marks[cid] = mark or "abstain"
            rows.append(marks)
            if len(problems) > MAX_PROBLEMS:
                raise DeviceFileInvalid("csv_rows_invalid", problems, more=True)
    except csv.Error as exc:
        raise Invalid(f"The file is not valid CSV: {exc}.", code="csv_malformed",
                      zh="文件不是有效的 CSV 文件。") from None
    if problems:
        raise DeviceFileInvalid("csv_rows_invalid", problems)
    if not rows:
        raise Invalid("The file has a header but no ballots.", code="csv_no_rows",
                      zh="文件只有表头，没有选票。")
    return [{cid: m[cid] for cid in candidate_ids} for m in rows]


def _header_columns(header: Sequence[str], candidate_ids: Sequence[str]) -> dict[int, str]:
    """Column number (1-based) → candidate id, or DeviceFileInvalid naming every bad cell."""
    problems: list[tuple[str, str]] = []
    if not header or header[0].lower() not in BALLOT_HEADERS:
        problems.append(("line 1, column 1: the first column must be 'ballot'",
                         "第 1 行第 1 列：第一列应为 ballot（票号）"))
    columns: dict[int, str] = {}
    for col, name in enumerate(header[1:], start=2):
        if name in candidate_ids:
            cid = name
        elif name.isascii() and name.isdigit() and 1 <= int(name) <= len(candidate_ids):
            cid = candidate_ids[int(name) - 1]
        else:
            problems.append((f"line 1, column {col}: '{name[:40]}' is neither a candidate id "
                             f"of this round nor a position 1–{len(candidate_ids)}",
                             f"第 1 行第 {col} 列：“{name[:40]}”不是本轮候选项目编号，"
                             f"也不是 1–{len(candidate_ids)} 的票面序号"))
            continue
        if cid in columns.values():
            problems.append((f"line 1, column {col}: candidate {cid} has a column already",
                             f"第 1 行第 {col} 列：该候选项目的列重复"))
            continue
        columns[col] = cid
    missing = [i for i, cid in enumerate(candidate_ids, 1) if cid not in columns.values()]
    if missing and len(problems) < MAX_PROBLEMS:
        problems.append((f"line 1: no column for the candidate(s) at position "
                         f"{', '.join(map(str, missing))}",
                         f"第 1 行：缺少票面第 {'、'.join(map(str, missing))} 个候选项目的列"))
    if problems:
        raise DeviceFileInvalid("csv_header", problems)
    return columns


async def import_devices(session: AsyncSession, ballot: BallotRound, actor: User, *,
                         data: bytes, issued: int) -> int:
    """导入表决器结果: store an export's ballots (all or none, in random order); how many."""
    await _locked_staff_round(session, ballot, actor)
    if ballot.state != BallotState.closed:
        raise Conflict("Device results are imported once the round is closed and before the "
                       "tally.", code="wrong_state", zh="投票结束后、计票前才能导入表决器结果。")
    if ballot.device_issued is not None:
        raise Conflict("This round's device results were imported already; one import per "
                       "round.", code="device_import_done", zh="本轮已导入过表决器结果，每轮只能导入一次。")
    if not 0 <= issued <= MAX_DEVICE_ROWS:
        raise Invalid(f"The devices issued must be between 0 and {MAX_DEVICE_ROWS}.",
                      code="invalid_field", zh=f"发出的表决器数应在 0 到 {MAX_DEVICE_ROWS} 之间。")
    if len(data) > MAX_DEVICE_BYTES:
        raise TooLarge("The device file is larger than 1 MB.", code="file_too_large",
                       zh="表决器结果文件超过 1 MB。")
    order = [c.id for c in await candidates_of(session, ballot.id)]
    rows = parse_device_csv(data, order)
    secrets.SystemRandom().shuffle(rows)  # the export's order may follow the seats
    contents = [BallotContent(round_id=ballot.id, filled=True, paper=False,
                              marks=canonical(marks), invalid=_is_invalid(marks, ballot.seats))
                for marks in rows]
    session.add_all(contents)
    await session.flush()
    session.add_all([DeviceBallot(content_id=c.id, round_id=ballot.id) for c in contents])
    ballot.device_issued = issued
    session.add(ballot)
    await session.flush()
    await audit.record(session, actor=actor.username, action="ballot_round.device_import",
                       entity_type="ballot_round", entity_id=ballot.id,
                       data={"imported": len(rows), "issued": issued})
    return len(rows)


async def device_content_ids(session: AsyncSession, round_id: str) -> set[str]:
    """The ids of the round's content rows that came from the devices."""
    return set(await session.scalars(select(DeviceBallot.content_id).where(
        DeviceBallot.round_id == round_id)))
