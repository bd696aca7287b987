"""Bulk import of jurisdictions (行政区域批量导入) from a CSV file.

One checker serves the three faces — `minsheng jurisdictions import FILE`,
`POST /api/v1/jurisdictions/import` and the preview on `/admin/jurisdictions` — so they accept
and refuse the same files with the same sentences.

Format: a header line naming the columns `code,name,level,parent_code` and optionally
`division_code` (in any order), then one jurisdiction per line. Text is UTF-8 (with or without
a BOM), UTF-16 with a BOM, or GB18030/GBK as Excel writes "CSV" on Chinese Windows; the
encoding is recognised, not guessed: UTF-8 is strict enough that a GBK file never reads as
UTF-8 by accident, so a file that is not UTF-8 is read as GB18030 and refused if it is not
that either. Commas separate the columns (tabs when the header has tabs and no commas, as in
Excel's "Unicode text"). Blank lines are skipped.

The whole file is checked before anything is stored. A row may name a parent that comes
later in the file or exists already; rows may come in any order (parents are created first).
A row whose code exists with the same name, level, parent and division code is `unchanged`,
so importing the same file twice changes nothing; one that exists with any difference is an
error naming the line: an import never changes a stored jurisdiction.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.errors import Conflict, Invalid, TooLarge
from app.jurisdictions import nesting, service
from app.jurisdictions.nesting import Problem
from app.jurisdictions.schemas import CODE_PATTERN
from app.models import Jurisdiction
from app.textfile import decode_table_text

MAX_IMPORT_BYTES = 1_000_000
MAX_IMPORT_ROWS = 5_000
MAX_PROBLEMS_IN_DETAIL = 20
REQUIRED_COLUMNS = ("code", "name", "level", "parent_code")
OPTIONAL_COLUMNS = ("division_code",)
_CODE_RE = re.compile(CODE_PATTERN)
_QUERY_CHUNK = 500
# File-level refusals meaning "this is not CSV text we can read" (`minsheng jurisdictions
# import` exits 2 on these, 1 on a file that reads but breaks the rules).
UNREADABLE_CODES = frozenset({"csv_encoding", "csv_malformed", "csv_empty"})

# The levels' Chinese names are accepted too, where they name one level only (市 does not:
# 地级市 and 县级市 are different levels).
LEVEL_ALIASES = {
    "省": "province", "自治区": "province", "直辖市": "province", "省级": "province",
    "地级市": "city", "自治州": "city", "地区": "city", "盟": "city", "市级": "city",
    "县": "county", "区": "county", "县级市": "county", "市辖区": "county", "旗": "county",
    "自治县": "county", "县级": "county",
    "乡": "township", "镇": "township", "乡镇": "township", "民族乡": "township",
    "苏木": "township",
    "街道": "street",
}


@dataclass
class RowCheck:
    """One line of the file as checked: what it says, and `new`, `unchanged` or `error`."""

    line: int
    code: str
    name: str
    level: str
    parent_code: str | None
    division_code: str | None
    status: str = "new"
    problems: list[Problem] = field(default_factory=list)


@dataclass
class ImportCheck:
    """The whole file checked: its encoding and every row; nothing stored yet."""

    encoding: str
    rows: list[RowCheck]

    @property
    def new(self) -> list[RowCheck]:
        return [r for r in self.rows if r.status == "new"]

    @property
    def unchanged(self) -> list[RowCheck]:
        return [r for r in self.rows if r.status == "unchanged"]

    @property
    def bad(self) -> list[RowCheck]:
        return [r for r in self.rows if r.status == "error"]


class JurisdictionFileInvalid(Invalid):
    """Some lines broke the rules: nothing stored; every bad line in `check.bad` and `extra`."""

    def __init__(self, check: ImportCheck):
        self.check = check
        lines = [f"line {r.line}: " + " ".join(p.message for p in r.problems) for r in check.bad]
        zh = [f"第 {r.line} 行：" + "".join(p.zh for p in r.problems) for r in check.bad]
        more = len(lines) - MAX_PROBLEMS_IN_DETAIL
        tail = f"; and {more} more line(s), listed in 'errors'" if more > 0 else ""
        super().__init__(
            f"Nothing was imported: {len(lines)} line(s) to fix. "
            + "; ".join(lines[:MAX_PROBLEMS_IN_DETAIL]) + tail,
            code="csv_rows_invalid",
            zh=f"未导入任何区域，有 {len(zh)} 行需要修改：" + "；".join(zh[:MAX_PROBLEMS_IN_DETAIL])
            + (f"；另有 {more} 行" if more > 0 else ""))
        self.extra = {"errors": [
            {"line": r.line, "field": p.field, "code": p.code, "detail": p.message}
            for r in check.bad for p in r.problems]}


def _file_error(code: str, message: str, zh: str) -> Invalid:
    return Invalid(message, code=code, zh=zh)


def decode(data: bytes) -> tuple[str, str]:
    """The file's text and the name of its encoding, or csv_encoding (see the module doc)."""
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _file_error("csv_encoding", "This is a spreadsheet workbook, not CSV text; save it "
                          "as CSV (UTF-8) and upload that.",
                          "这是 Excel 工作簿，不是 CSV 文本。请另存为“CSV UTF-8（逗号分隔）”后再上传。")
    if (decoded := decode_table_text(data)) is not None:
        return decoded
    raise _file_error("csv_encoding", "The file is neither UTF-8 nor GB18030/GBK text; save it "
                      "as CSV (UTF-8) and upload that.",
                      "文件编码无法识别（既不是 UTF-8 也不是 GBK/GB18030），请另存为 UTF-8 编码的 CSV 文件。")


def read_rows(data: bytes) -> tuple[str, list[RowCheck]]:
    """The encoding and every non-blank row, with the problems one line shows on its own.

    Refuses the file as a whole (Invalid or TooLarge) when it cannot be read as this CSV at all.
    """
    if len(data) > MAX_IMPORT_BYTES:
        raise TooLarge(f"The file is larger than {MAX_IMPORT_BYTES // 1_000_000} MB; split it.",
                       code="file_too_large", zh="文件超过 1 MB，请分成几个文件导入。")
    if not data.strip():
        raise _file_error("csv_empty", "The file is empty; the first line must be "
                          "'code,name,level,parent_code[,division_code]'.",
                          "文件是空的。第一行应为 code,name,level,parent_code[,division_code]。")
    text, encoding = decode(data)
    if "\x00" in text:
        raise _file_error("csv_malformed", "The file contains NUL characters; save it again as "
                          "plain CSV text.", "文件中含有非法字符，请另存为纯文本 CSV 文件。")
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        columns = _columns(next(reader))
        rows: list[RowCheck] = []
        for raw in reader:
            if not any(cell.strip() for cell in raw):
                continue
            if len(rows) >= MAX_IMPORT_ROWS:
                raise _file_error("csv_too_long", f"At most {MAX_IMPORT_ROWS} jurisdictions per "
                                  "file; split it.", f"每个文件最多 {MAX_IMPORT_ROWS} 个行政区域，请分成几个文件导入。")
            rows.append(_row(reader.line_num, raw, columns))
    except csv.Error as exc:
        raise _file_error("csv_malformed", f"The file is not valid CSV at line "
                          f"{reader.line_num}: {exc} (a quotation mark not closed?).",
                          f"文件第 {reader.line_num} 行不是有效的 CSV（引号未配对？）。") from None
    if not rows:
        raise _file_error("csv_no_rows", "The file has a header but no jurisdictions.",
                          "文件只有表头，没有行政区域。")
    return encoding, rows


def _columns(header: list[str]) -> dict[str, int]:
    names = [h.strip().lower() for h in header]
    while names and not names[-1]:
        names.pop()
    known = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
    if (set(REQUIRED_COLUMNS) <= set(names) and set(names) <= set(known)
            and len(set(names)) == len(names)):
        return {name: i for i, name in enumerate(names)}
    raise _file_error("csv_header", "The first line must name the columns "
                      "code,name,level,parent_code and optionally division_code; it is '"
                      + ",".join(header)[:120] + "'.",
                      "第一行应为列名 code,name,level,parent_code（可加 division_code），现为“"
                      + ",".join(header)[:120] + "”。")


def _row(line: int, raw: list[str], columns: dict[str, int]) -> RowCheck:
    cells = [c.strip() for c in raw]
    width = len(columns)

    def cell(name: str) -> str:
        i = columns.get(name)
        return cells[i] if i is not None and i < len(cells) else ""

    level = cell("level")
    row = RowCheck(line=line, code=cell("code"), name=cell("name"),
                   level=LEVEL_ALIASES.get(level, level.lower()),
                   parent_code=cell("parent_code") or None,
                   division_code=cell("division_code") or None)
    problems = row.problems
    if any(cells[width:]):
        problems.append(Problem("csv_columns", "", f"Expected {width} columns, found "
                                f"{len(cells)}.", f"应有 {width} 列，实有 {len(cells)} 列。"))
    if not _CODE_RE.match(row.code) or not 2 <= len(row.code) <= 32:
        problems.append(Problem("invalid_code", "code",
                                f"The code '{row.code[:40]}' must be 2–32 lower-case letters, "
                                "digits, - or _, starting with a letter.",
                                f"代码“{row.code[:40]}”应为 2–32 位小写字母、数字、- 或 _，以字母开头。"))
    if not row.name:
        problems.append(Problem("name_required", "name", "The name is empty.", "名称为空。"))
    elif len(row.name) > 100:
        problems.append(Problem("name_too_long", "name", "The name is longer than 100 characters.",
                                "名称超过 100 个字。"))
    if problem := nesting.level_problem(row.level):
        problems.append(problem)
    return row


async def check(session: AsyncSession, data: bytes) -> ImportCheck:
    """Check a whole file against itself and the stored jurisdictions; store nothing."""
    encoding, rows = read_rows(data)
    by_code: dict[str, RowCheck] = {}
    by_division: dict[str, RowCheck] = {}
    for row in rows:
        if row.code in by_code:
            row.problems.append(Problem("duplicate_code", "code",
                                        f"The code '{row.code}' is on line "
                                        f"{by_code[row.code].line} already.",
                                        f"代码“{row.code}”与第 {by_code[row.code].line} 行重复。"))
        else:
            by_code[row.code] = row
        if row.division_code and row.division_code in by_division:
            first = by_division[row.division_code].line
            row.problems.append(Problem("duplicate_division_code", "division_code",
                                        f"The division code {row.division_code} is on line "
                                        f"{first} already.",
                                        f"行政区划代码 {row.division_code} 与第 {first} 行重复。"))
        elif row.division_code:
            by_division[row.division_code] = row
    codes = {r.code for r in rows} | {r.parent_code for r in rows if r.parent_code}
    stored = {j.code: j for j in await _load(session, Jurisdiction.code, codes)}
    holders = {j.division_code: j.code
               for j in await _load(session, Jurisdiction.division_code, set(by_division))}
    for row in rows:
        _check_row(row, stored, by_code, holders)
        row.status = "error" if row.problems else (
            "unchanged" if row.code in stored else "new")
    return ImportCheck(encoding=encoding, rows=rows)


async def _load(session: AsyncSession, column, values: Iterable[str]) -> list[Jurisdiction]:
    values = sorted(values)
    found: list[Jurisdiction] = []
    for start in range(0, len(values), _QUERY_CHUNK):
        found.extend(await session.scalars(
            select(Jurisdiction).where(column.in_(values[start:start + _QUERY_CHUNK]))))
    return found


def _check_row(row: RowCheck, stored: dict[str, Jurisdiction], by_code: dict[str, RowCheck],
               holders: dict[str, str]) -> None:
    if row.problems:
        return  # unreadable on its own: its code, level or columns are wrong
    existing = stored.get(row.code)
    if existing is not None:
        differences = [(label, zh, old, new) for label, zh, old, new in (
            ("name", "名称", existing.name, row.name),
            ("level", "级别", existing.level, row.level),
            ("parent_code", "上级", existing.parent_code, row.parent_code),
            ("division_code", "行政区划代码", existing.division_code, row.division_code),
        ) if old != new]
        if differences:
            row.problems.append(Problem(
                "differs_from_stored", differences[0][0],
                f"'{row.code}' exists already with a different "
                + ", ".join(f"{label} (stored: {old or 'none'}, file: {new or 'none'})"
                            for label, _, old, new in differences)
                + "; an import never changes a stored jurisdiction, so make the line match or "
                  "give it another code.",
                f"代码“{row.code}”已存在，但"
                + "、".join(f"{zh}不同（已有：{old or '无'}，文件：{new or '无'}）"
                           for _, zh, old, new in differences)
                + "。导入不会修改已有区域，请改为一致或换一个代码。"))
        return
    parent_level = parent_division = None
    if row.parent_code == row.code:
        row.problems.append(Problem("parent_is_itself", "parent_code",
                                    "A jurisdiction cannot be its own parent.",
                                    "上级不能是它自己。"))
        return
    if row.parent_code:
        parent_row, parent = by_code.get(row.parent_code), stored.get(row.parent_code)
        if parent_row is not None:
            parent_level, parent_division = parent_row.level, parent_row.division_code
        elif parent is not None:
            parent_level, parent_division = parent.level, parent.division_code
        else:
            row.problems.append(Problem(
                "unknown_parent", "parent_code",
                f"The parent '{row.parent_code[:40]}' is neither in the file nor stored.",
                f"上级“{row.parent_code[:40]}”既不在文件中，也不是已有的行政区域。"))
            return
        if parent_level not in nesting.LEVEL_RANK:
            return  # the parent's own line is wrong and says so
    problem = (nesting.parent_problem(row.level, row.parent_code, parent_level)
               or nesting.division_code_problem(row.level, row.division_code, parent_level,
                                                parent_division))
    if problem:
        row.problems.append(problem)
        return
    holder = holders.get(row.division_code) if row.division_code else None
    if holder is not None and holder != row.code:
        row.problems.append(Problem(
            "division_code_taken", "division_code",
            f"The division code {row.division_code} belongs to '{holder}' already.",
            f"行政区划代码 {row.division_code} 已属于“{holder}”。"))


async def import_file(session: AsyncSession, *, actor: str, data: bytes) -> ImportCheck:
    """Check the whole file, then create its new jurisdictions (parents first), or none."""
    result = await check(session, data)
    if result.bad:
        raise JurisdictionFileInvalid(result)
    created = sorted(result.new, key=lambda r: (nesting.LEVEL_RANK[r.level], r.line))
    digest = hashlib.sha256(data).hexdigest()
    summary = audit.Record(actor, "jurisdiction.import", "jurisdiction_import", digest[:16],
                           {"created": len(created), "unchanged": len(result.unchanged),
                            "encoding": result.encoding, "sha256": digest})
    try:
        async with session.begin_nested():
            await service.add_many(session, actor=actor, extra=[summary], rows=[
                Jurisdiction(code=r.code, name=r.name, level=r.level, parent_code=r.parent_code,
                             division_code=r.division_code, settings={}) for r in created])
    except IntegrityError:
        raise Conflict("Someone added some of these jurisdictions while the file was being "
                       "imported; nothing was imported. Import the file again.",
                       code="import_conflict",
                       zh="导入期间有人新增了其中的行政区域，本次未导入任何区域，请重新导入。") from None
    return result
