"""HotlineFile — 热线工单导出文件: a 12345 export read into rows of text, its columns found.

A hotline system exports its records (工单) as an Excel workbook (.xlsx) or as CSV, the latter
in UTF-8 (with or without a BOM) or, as Excel writes it on a Chinese Windows, in GBK/GB18030.
`read_export` reads either into a `Table`: the header row (the first of the top rows that names
known columns, so a title line above it is fine), which column holds which field, and the data
rows with their line numbers as the spreadsheet shows them. Whole-file problems are refused
here (422, 413); the rows' own problems are the import's (app/proposals/hotline.py).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, time
from itertools import chain, islice
from typing import Any

from app.errors import DomainError, Invalid, TooLarge
from app.i18n import N_
from app.textfile import decode_table_text

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 1000
MAX_COLUMNS = 60
MAX_CELL_CHARS = 5000
# An .xlsx is a ZIP: refuse one that would unpack to more than this (a "zip bomb").
MAX_UNPACKED_BYTES = 60 * 1024 * 1024
# The header is looked for in this many top rows (exports often put a title line above it).
HEADER_SEARCH_ROWS = 10
# A worksheet formatted far below its data yields empty rows: stop after this many in a row.
MAX_BLANK_RUN = 500

# field → (Chinese label, header names it goes by; the first is the one documented).
FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "source_ref": (N_("工单号"), ("工单号", "工单编号", "工单编码", "工单号码", "受理编号", "受理单号",
                           "事项编号", "诉求编号", "source_ref", "record_no", "record_number",
                           "ticket_no", "ticket_id", "ticket", "case_no")),
    "received_at": (N_("来电时间"), ("来电时间", "受理时间", "登记时间", "来信时间", "来访时间",
                              "反映时间", "received_at", "call_time", "received")),
    "proposer_name": (N_("来电人"), ("来电人", "来电人姓名", "来电姓名", "诉求人", "诉求人姓名",
                              "来信人", "来访人", "反映人", "建议人", "姓名", "联系人",
                              "proposer_name", "caller", "name")),
    "proposer_phone": (N_("联系电话"), ("联系电话", "来电号码", "来电电话", "联系号码", "联系方式",
                                "电话", "手机", "手机号", "手机号码", "proposer_phone", "phone",
                                "telephone", "tel", "mobile")),
    "title": (N_("标题"), ("标题", "工单标题", "诉求标题", "建议标题", "主题", "title", "subject")),
    "description": (N_("诉求内容"), ("诉求内容", "内容", "工单内容", "来电内容", "具体内容",
                              "诉求描述", "问题描述", "反映内容", "建议内容", "description",
                              "content", "details")),
    "category": (N_("类别"), ("类别", "分类", "诉求类别", "建议类别", "问题类别", "诉求分类",
                        "category")),
    "location_code": (N_("所在乡镇（街道）"), ("所在乡镇（街道）", "所在乡镇", "乡镇（街道）", "乡镇街道",
                                     "所属乡镇", "所属街道", "乡镇", "街道", "属地",
                                     "location_code", "location", "township")),
    "place": (N_("地点"), ("地点", "详细地点", "详细地址", "地址", "事发地点", "发生地点",
                     "村（社区）/地点", "村（社区）", "place", "address")),
    "estimated_cost_wan": (N_("估算金额（万元）"), ("估算金额（万元）", "估算金额", "估算费用",
                                         "预计金额", "金额（万元）", "estimated_cost_wan",
                                         "estimated_cost", "cost")),
    "channel": (N_("渠道"), ("渠道", "来源渠道", "受理渠道", "来源", "channel", "source")),
}
REQUIRED = ("source_ref", "title", "description", "category")


@dataclass
class Table:
    """A read export: which column holds which field, and the data rows (line, cells)."""

    header_line: int
    headers: list[str]
    columns: dict[str, int]                 # field → 0-based column index
    ignored: list[str] = field(default_factory=list)  # header names no field uses
    rows: list[tuple[int, list[str]]] = field(default_factory=list)

    def cell(self, cells: list[str], name: str) -> str:
        """The row's text for field `name` ("" when the file has no such column)."""
        index = self.columns.get(name)
        return cells[index] if index is not None and index < len(cells) else ""

    def header(self, name: str) -> str:
        """The file's own header of field `name`'s column, or the field's Chinese label."""
        index = self.columns.get(name)
        return self.headers[index] if index is not None else FIELDS[name][0]


def _key(header: str) -> str:
    text = unicodedata.normalize("NFKC", header).lower()
    return re.sub(r"[\s*:_\-]+", "", text)


_ALIASES: dict[str, tuple[str, int]] = {}
for _name, (_label, _names) in FIELDS.items():
    for _rank, _alias in enumerate(_names):
        _ALIASES.setdefault(_key(_alias), (_name, _rank))


def match_header(header: str) -> tuple[str, int] | None:
    """(field, rank) a header names, tolerant of width, spaces, '*' and a bracketed unit."""
    key = _key(header)
    if not key:
        return None
    found = _ALIASES.get(key)
    if found is None:
        bare = re.sub(r"\(.*?\)", "", key)  # 估算金额(万元) → 估算金额, 联系电话(手机) → 联系电话
        found = _ALIASES.get(bare) if bare else None
    return found


def _map_columns(headers: list[str]) -> tuple[dict[str, int], list[str]]:
    """Field → column (the best-named column when several name one field) and unused headers."""
    best: dict[str, tuple[int, int]] = {}
    for index, header in enumerate(headers):
        found = match_header(header)
        if found and (found[0] not in best or found[1] < best[found[0]][0]):
            best[found[0]] = (found[1], index)
    columns = {name: index for name, (_, index) in best.items()}
    used = set(columns.values())
    ignored = [h for i, h in enumerate(headers) if h.strip() and i not in used]
    return columns, ignored


# ---------------------------------------------------------------- bytes → rows of text

def _cell_text(value: Any) -> str:
    """A spreadsheet value as the text a person sees in its cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        # A number typed into a cell (a 工单号 like 20240315001) reads back as a float.
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()


def _xlsx_rows(data: bytes):
    """Rows of the workbook's first sheet (line numbers as Excel shows them)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _unreadable() from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise TooLarge(f"The workbook unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB; "
                       "save only the sheet with the records.", code="file_too_large",
                       zh="工作簿内容过大，请只保留工单所在的工作表后另存。")
    import openpyxl  # imported when a workbook arrives: most requests never need it

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        if not workbook.worksheets:
            return
        sheet = workbook.worksheets[0]
        for line, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True),
                                      start=1):
            cells = [_cell_text(v) for v in values]
            while cells and not cells[-1]:
                cells.pop()
            yield line, cells
    finally:
        workbook.close()


def _decode(data: bytes) -> str:
    """CSV text in UTF-8 (a BOM is fine), UTF-16 with a BOM, or GB18030 (GBK) as Excel saves it."""
    if (decoded := decode_table_text(data)) is not None:
        return decoded[0]
    raise Invalid("The file is neither an Excel workbook (.xlsx) nor CSV text in UTF-8 or GBK.",
                  code="file_encoding",
                  zh="无法识别文件编码：请上传 Excel 工作簿（.xlsx），或 UTF-8、GBK 编码的 CSV 文件。")


def _csv_rows(data: bytes):
    text = _decode(data)
    if "\x00" in text:
        raise _unreadable()
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max(",\t;", key=first.count) if any(c in first for c in ",\t;") else ","
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter)
    try:
        start = 1
        for cells in reader:
            yield start, [c.strip() for c in cells[:MAX_COLUMNS]]
            start = reader.line_num + 1
    except csv.Error:
        raise Invalid("The file is not valid CSV (a quote is never closed?); export it again.",
                      code="file_unreadable",
                      zh="文件不是有效的 CSV（可能有未闭合的引号），请重新导出。") from None


def _unreadable() -> Invalid:
    return Invalid("The file cannot be read: upload the export as .xlsx or .csv.",
                   code="file_unreadable", zh="无法读取该文件，请上传 .xlsx 或 .csv 格式的工单导出文件。")


def read_export(data: bytes) -> Table:
    """Read a hotline export (CSV or XLSX, told apart by content): header found, rows in."""
    if len(data) > MAX_FILE_BYTES:
        raise TooLarge(f"The file is larger than {MAX_FILE_BYTES // 2**20} MB; split it into "
                       "smaller files.", code="file_too_large",
                       zh=f"文件超过 {MAX_FILE_BYTES // 2**20} MB，请分成几个较小的文件导入。")
    if not data.strip():
        raise Invalid("The file is empty.", code="file_empty", zh="文件是空的。")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise Invalid("This is an old Excel .xls file; save it as .xlsx or CSV first.",
                      code="xls_not_supported",
                      zh="这是旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或 CSV 后再上传。")
    rows = _xlsx_rows(data) if data.startswith(b"PK\x03\x04") else _csv_rows(data)
    try:
        with closing(rows):
            return _table(rows)
    except DomainError:
        raise
    except Exception:  # noqa: BLE001 - a damaged workbook fails inside openpyxl in many ways
        raise _unreadable() from None


def _filled(rows):
    """The rows with something in them; the end of the data after a long run of empty rows."""
    blank_run = 0
    for line, cells in rows:
        if not any(cells):
            blank_run += 1
            if blank_run > MAX_BLANK_RUN:
                return
            continue
        blank_run = 0
        if any("\x00" in c for c in cells):  # no export writes one; PostgreSQL stores none
            raise Invalid(f"Line {line} contains a NUL character; export the file again.",
                          code="file_unreadable",
                          zh=f"第 {line} 行含有无法保存的字符，请重新导出文件。")
        if any(len(c) > MAX_CELL_CHARS for c in cells):
            raise Invalid(f"Line {line} has a cell longer than {MAX_CELL_CHARS} characters.",
                          code="cell_too_long",
                          zh=f"第 {line} 行有单元格超过 {MAX_CELL_CHARS} 字，请检查文件。")
        yield line, cells


def _table(rows) -> Table:
    filled = _filled(rows)
    top = list(islice(filled, HEADER_SEARCH_ROWS))
    if not top:
        raise Invalid("The file is empty.", code="file_empty", zh="文件是空的。")
    table = _find_header(top)
    after = next(i for i, (line, _) in enumerate(top) if line == table.header_line) + 1
    for line, cells in chain(top[after:], filled):
        if len(table.rows) >= MAX_ROWS:
            raise TooLarge(f"At most {MAX_ROWS} records per file; split it into smaller files.",
                           code="too_many_rows",
                           zh=f"每个文件最多 {MAX_ROWS} 条工单，请分成几个文件导入。")
        table.rows.append((line, cells))
    if not table.rows:
        raise Invalid("The file has a header but no records.", code="no_rows",
                      zh="文件只有表头，没有工单记录。")
    return table


def _find_header(top: list[tuple[int, list[str]]]) -> Table:
    """The top row naming the most known columns; 422 naming each required one missing."""
    best: tuple[int, list[str], dict[str, int], list[str]] | None = None
    for line, cells in top:
        columns, ignored = _map_columns(cells)
        if len(columns) >= 2 and (best is None or len(columns) > len(best[2])):
            best = (line, cells, columns, ignored)
    if best is None:
        line, cells = top[0]
        columns, ignored = {}, cells
    else:
        line, cells, columns, ignored = best
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        seen = "、".join(c for c in cells if c)[:200] or "（空）"
        raise Invalid(
            "The file lacks the required column(s) "
            + "; ".join(f"{FIELDS[n][0]} (named e.g. {', '.join(FIELDS[n][1][:3])})"
                        for n in missing)
            + f". Line {line} has: {seen}.", code="missing_column",
            zh="文件缺少必需的列：" + "；".join(
                f"{FIELDS[n][0]}（列名可为{'、'.join(FIELDS[n][1][:3])}）" for n in missing)
            + f"。第 {line} 行的列名为：{seen}。")
    return Table(header_line=line, headers=cells, columns=columns, ignored=ignored)
