"""A hall's voting devices (表决器): their CSV export imported into a closed round (DOMAIN.md 票决 4).

A hall's voting devices export a CSV (format in `parse_device_csv`), imported once
per round while it is closed, with the number of devices issued. The file is checked
completely before anything is stored; its rows become content rows in a random order, the
export's ballot numbers are not kept (a device number may say whose seat it was), and a
`DeviceBallot` row marks each as coming from the devices.

Marks and invalid ballots follow the paper rules (app/ballotbox/forms.py).
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.ballotbox.forms import DEPUTIES_BALLOT, BallotForm, canonical, form_of
from app.ballotbox.queries import item_ids_of, locked_staff_round
from app.errors import Conflict, Invalid, TooLarge
from app.models import BallotContent, BallotRound, DeviceBallot, User
from app.workflows.ballot import BallotState

MAX_DEVICE_ROWS = 10_000
MAX_DEVICE_BYTES = 1_000_000
MAX_PROBLEMS = 20
BALLOT_HEADERS = ("ballot", "票号")


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


def parse_device_csv(data: bytes, candidate_ids: Sequence[str],
                     form: BallotForm = DEPUTIES_BALLOT) -> list[dict[str, str]]:
    """Read a 表决器 (voting device) export, checking all of it first; marks per ballot.

    Format: UTF-8 text (a BOM is allowed), comma-separated. The first line is the header:
    `ballot` (or `票号`), then one column per item (candidate, or project for 测评), named by its
    id or by its position on the ballot paper (1, 2, …); every item of the round has exactly
    one column. Each further line is one ballot: a ballot number (non-empty, unique in the
    file, not stored), then a mark per item, a word of the round's form (票决: yes/no/abstain or
    赞成/反对/弃权, any case); an empty cell is the form's blank (abstain). Blank lines are
    skipped. A 票决 ballot with more `yes` than seats is stored as invalid.
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
    columns = _header_columns(header, candidate_ids, form)
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
                mark = form.aliases.get(cells[col - 1].lower())
                if mark is None:
                    problems.append((
                        f"line {line}, column {col} ({header[col - 1][:32]}): "
                        f"'{cells[col - 1][:20]}' is not {form.mark_words[0]}",
                        f"第 {line} 行第 {col} 列：“{cells[col - 1][:20]}”不是{form.mark_words[1]}"))
                marks[cid] = mark or form.blank
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


def _header_columns(header: Sequence[str], candidate_ids: Sequence[str],
                    form: BallotForm) -> dict[int, str]:
    """Column number (1-based) → item id, or DeviceFileInvalid naming every bad cell."""
    noun, zh_noun = form.item_noun
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
            problems.append((f"line 1, column {col}: '{name[:40]}' is neither a {noun} id "
                             f"of this round nor a position 1–{len(candidate_ids)}",
                             f"第 1 行第 {col} 列：“{name[:40]}”不是本轮{zh_noun}编号，"
                             f"也不是 1–{len(candidate_ids)} 的票面序号"))
            continue
        if cid in columns.values():
            problems.append((f"line 1, column {col}: {noun} {cid} has a column already",
                             f"第 1 行第 {col} 列：该{zh_noun}的列重复"))
            continue
        columns[col] = cid
    missing = [i for i, cid in enumerate(candidate_ids, 1) if cid not in columns.values()]
    if missing and len(problems) < MAX_PROBLEMS:
        problems.append((f"line 1: no column for the {noun}(s) at position "
                         f"{', '.join(map(str, missing))}",
                         f"第 1 行：缺少票面第 {'、'.join(map(str, missing))} 个{zh_noun}的列"))
    if problems:
        raise DeviceFileInvalid("csv_header", problems)
    return columns


async def import_devices(session: AsyncSession, ballot: BallotRound, actor: User, *,
                         data: bytes, issued: int) -> int:
    """导入表决器结果: store an export's ballots (all or none, in random order); how many."""
    await locked_staff_round(session, ballot, actor)
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
    form = form_of(ballot.form)
    order = await item_ids_of(session, ballot.id)
    rows = parse_device_csv(data, order, form)
    secrets.SystemRandom().shuffle(rows)  # the export's order may follow the seats
    contents = [BallotContent(round_id=ballot.id, filled=True, paper=False,
                              marks=canonical(marks), invalid=form.is_invalid(marks, ballot.seats))
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
