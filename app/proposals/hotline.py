"""HotlineImport — 热线工单导入: government staff file a 12345 export's records as proposals.

Every row is checked first — its fields by ProposalIn, the rules of the cycle by
service.field_problems, its record number (工单号) against the file and the cycle — and the
answer lists each row: to be created, already imported (skipped), or its problems with the
line, the column and what to fix. Nothing is stored unless every row is fine; then each new
record becomes a proposal through service.create (its transition and audit entry), keeping
its channel and record number, and one audit entry sums the import up. A record already in the
cycle — from an earlier import or typed in by hand with the same 工单号 — is skipped, so the
same file imported twice creates nothing the second time.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.roles import Role
from app.errors import Forbidden, Invalid
from app.models import Cycle, Jurisdiction, User
from app.pages.forms import field_messages, refusal_text
from app.proposals import service
from app.proposals.hotline_file import FIELDS, Table, read_export
from app.proposals.schemas import ProposalIn, normalise_source_ref
from app.timeutil import CHINA_TZ

# The channel a row names (any case, full or half width) → the stored channel; none: hotline.
CHANNEL_NAMES = {
    "hotline": "hotline", "热线": "hotline", "12345": "hotline", "12345热线": "hotline",
    "政务服务热线": "hotline", "电话": "hotline", "来电": "hotline",
    "letter": "letter", "来信": "letter", "信件": "letter", "信访": "letter",
    "visit": "visit", "走访": "visit", "来访": "visit", "走访/问卷": "visit", "问卷": "visit",
    "deputy": "deputy", "代表建议": "deputy",
}
ANONYMOUS = "匿名"
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d %H:%M:%S",
                "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d%H%M%S", "%Y%m%d")
# How many rows' problems a refused import (422) names; the preview lists them all.
MAX_ERRORS = 200


@dataclass
class RowProblem:
    """What is wrong with one field of one row, and how to fix it."""

    field: str
    column: str
    detail: str
    zh: str


@dataclass
class ImportRow:
    """One record of the file: `status` create | created | skip | invalid."""

    line: int
    source_ref: str
    title: str
    status: str = "create"
    channel: str = "hotline"
    location_code: str = ""
    proposal_id: str | None = None
    problems: list[RowProblem] = field(default_factory=list)
    values: dict = field(default_factory=dict, repr=False)


@dataclass
class ImportResult:
    """The whole file's verdict: its rows, the columns read and those left unused."""

    rows: list[ImportRow]
    columns: dict[str, str]
    ignored_columns: list[str]
    dry_run: bool = True

    def count(self, *statuses: str) -> int:
        return sum(1 for r in self.rows if r.status in statuses)

    @property
    def valid(self) -> bool:
        return self.count("invalid") == 0


class ImportRowsInvalid(Invalid):
    """422: rows have problems; nothing was imported. `extra["errors"]` names each."""

    def __init__(self, result: ImportResult):
        self.result = result
        bad = [r for r in result.rows if r.status == "invalid"]
        first = bad[0].problems[0]
        super().__init__(
            f"Nothing was imported: {len(bad)} row(s) need fixing, e.g. line {bad[0].line}, "
            f"{first.column}: {first.detail}", code="import_rows_invalid",
            zh=f"未导入任何建议：有 {len(bad)} 行需要修改，例如第 {bad[0].line} 行"
               f"“{first.column}”：{first.zh}")
        self.extra = {"errors": [
            {"line": r.line, "field": p.field, "column": p.column, "detail": p.detail,
             "zh": p.zh} for r in bad for p in r.problems][:MAX_ERRORS]}


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


_PLACE_SUFFIXES = ("街道办事处", "街道办", "街道", "镇", "乡", "县", "区", "市")


def _place_key(name: str) -> str:
    key = _fold(name).replace(" ", "")
    for suffix in _PLACE_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    return key


def _places_by_name(places: list[Jurisdiction]) -> dict[str, str]:
    """Code, name and name without 镇/乡/街道 → code, for the cycle's places."""
    found: dict[str, str] = {}
    for j in places:
        for key in (_fold(j.code), _fold(j.name), _place_key(j.name)):
            found.setdefault(key, j.code)
    return found


def _received_at(text: str) -> datetime | None:
    """来电时间 as Beijing time; ValueError if it is no date."""
    text = unicodedata.normalize("NFKC", text).strip()
    text = re.sub(r"(\d+)年(\d+)月(\d+)日?", r"\1-\2-\3", text)
    text = re.sub(r"(\d+)[时:](\d+)分?(?:(\d+)秒?)?", lambda m: f"{m[1]}:{m[2]}"
                  + (f":{m[3]}" if m[3] else ""), text).replace("T", " ").strip()
    for fmt in DATE_FORMATS:
        try:
            when = datetime.strptime(text, fmt).replace(tzinfo=CHINA_TZ)
        except ValueError:
            continue
        if not 1990 <= when.year <= 2100:  # a typing slip, not a call
            break
        return when
    raise ValueError(text)


LABELS = {name: label for name, (label, _) in FIELDS.items()}


def _problem(table: Table, name: str, zh: str, detail: str) -> RowProblem:
    return RowProblem(field=name, column=table.header(name), detail=detail, zh=zh)


def _read_row(table: Table, line: int, cells: list[str], places: dict[str, str],
              cycle: Cycle) -> ImportRow:
    """A row's values as ProposalIn takes them, and what is wrong with the cells before that."""
    text = {name: table.cell(cells, name) for name in FIELDS}
    row = ImportRow(line=line, source_ref=normalise_source_ref(text["source_ref"]) or "",
                    title=text["title"])
    channel_text = _fold(text["channel"]).replace(" ", "")
    if channel_text and channel_text not in CHANNEL_NAMES:
        row.problems.append(_problem(
            table, "channel", f"渠道“{text['channel'][:20]}”无法识别，请填 热线、来信、走访 或 代表建议",
            f"unknown channel '{text['channel'][:20]}': use hotline, letter, visit or deputy"))
    row.channel = CHANNEL_NAMES.get(channel_text, "hotline")
    location = text["location_code"]
    row.location_code = (places.get(_fold(location)) or places.get(_place_key(location))
                         if location else cycle.jurisdiction_code) or ""
    if location and not row.location_code:
        row.problems.append(_problem(
            table, "location_code",
            f"“{location[:20]}”不是本年度所辖的乡镇（街道），请填写名称或代码",
            f"'{location[:20]}' is not a township or street of this cycle's jurisdiction"))
    cost = re.sub(r"[,，\s]|万元|万$", "", unicodedata.normalize("NFKC", text["estimated_cost_wan"]))
    if text["received_at"]:
        try:
            row.values["received_at"] = _received_at(text["received_at"])
        except ValueError:
            row.problems.append(_problem(
                table, "received_at", f"“{text['received_at'][:20]}”不是日期时间，"
                "请写成 2024-03-15 09:30", f"'{text['received_at'][:20]}' is not a date and time"))
    row.values.update(
        source_ref=text["source_ref"], title=text["title"], description=text["description"],
        category=text["category"], location_code=row.location_code or location[:32] or "?",
        place=text["place"], estimated_cost_wan=cost or None, channel=row.channel,
        proposer_name=text["proposer_name"] or ANONYMOUS, proposer_phone=text["proposer_phone"])
    return row


def _check_row(row: ImportRow, table: Table, actor: User, cycle: Cycle,
               place_codes: set[str]) -> None:
    """Add the problems ProposalIn and the cycle's rules find; keep the validated values."""
    flagged = {p.field for p in row.problems}
    raw = {k: v for k, v in row.values.items() if k != "received_at"}
    if not (raw["source_ref"] or "").strip():
        row.problems.append(_problem(table, "source_ref", "工单号不能为空",
                                     "the record number is empty"))
        flagged.add("source_ref")
    try:
        data = ProposalIn.model_validate(raw)
    except ValidationError as exc:
        data = None
        english = {str(e["loc"][0]) if e.get("loc") else "": e["msg"] for e in exc.errors()}
        for name, zh in field_messages(exc, LABELS):
            if name not in flagged and name != "":
                row.problems.append(_problem(table, name, zh, english.get(name, "is invalid")))
                flagged.add(name)
            elif name == "":
                row.problems.append(_problem(table, "description", zh, "contains NUL"))
    if data is not None:
        row.values.update(data.model_dump())
    values = data.model_dump() if data is not None else raw
    for name, exc in service.field_problems(
            actor, cycle, place_codes, title=values["title"] or "",
            description=values["description"] or "", place=values["place"] or "",
            category=values["category"] or "", location_code=row.location_code,
            channel=row.channel, proposer_name=values["proposer_name"] or "",
            proposer_phone=values["proposer_phone"] or "", source_ref=None):
        if name in flagged:
            continue
        zh = refusal_text(exc)
        if exc.code == "unknown_category":  # a file has no list to pick from: name them
            zh = (f"“{values['category'][:20]}”不是本年度的类别，请改为："
                  f"{'、'.join(cycle.categories)}")
        elif exc.code == "unknown_location":
            zh = "请填写本年度所辖的乡镇（街道）名称或代码"
        row.problems.append(_problem(table, name, zh, exc.message))
        flagged.add(name)


async def check_file(session: AsyncSession, *, actor: User, cycle: Cycle,
                     data: bytes) -> ImportResult:
    """Read and check a whole export against `cycle`; stores nothing."""
    if actor.role != Role.gov_staff:
        raise Forbidden("Government staff import hotline records.", code="permission_denied",
                        zh="只有政府工作人员可以导入热线工单。")
    await service.ensure_open_to(session, actor, cycle)
    table = read_export(data)
    places = await service.places_of(session, cycle)
    by_name, place_codes = _places_by_name(places), {j.code for j in places}
    rows = [_read_row(table, line, cells, by_name, cycle) for line, cells in table.rows]
    for row in rows:
        _check_row(row, table, actor, cycle, place_codes)
    known = await service.find_by_source_ref(
        session, cycle.id, sorted({r.source_ref for r in rows if r.source_ref}))
    first_line: dict[str, int] = {}
    for row in rows:
        if row.source_ref in known:  # already in the cycle: its other cells do not matter
            row.status, row.proposal_id, row.problems = "skip", known[row.source_ref], []
            continue
        if row.source_ref and row.source_ref in first_line:
            row.problems.insert(0, _problem(
                table, "source_ref", f"工单号与第 {first_line[row.source_ref]} 行重复",
                f"the record number is on line {first_line[row.source_ref]} already"))
        elif row.source_ref:
            first_line[row.source_ref] = row.line
        row.status = "invalid" if row.problems else "create"
    return ImportResult(rows=rows, columns={n: table.headers[i] for n, i in table.columns.items()},
                        ignored_columns=table.ignored)


async def import_file(session: AsyncSession, *, actor: User, cycle: Cycle, data: bytes,
                      filename: str = "", dry_run: bool = False) -> ImportResult:
    """Check the export and, unless `dry_run`, file its new records (all or none)."""
    result = await check_file(session, actor=actor, cycle=cycle, data=data)
    result.dry_run = dry_run
    if dry_run:
        return result
    if not result.valid:
        raise ImportRowsInvalid(result)
    new = [row for row in result.rows if row.status == "create"]
    items = [{k: v for k, v in row.values.items() if k in _CREATE_FIELDS} for row in new]
    created = await service.create_many(session, actor=actor, cycle=cycle,
                                        items=items) if items else []
    for row, proposal in zip(new, created, strict=True):
        row.status, row.proposal_id = "created", proposal.id
    await audit.record(session, actor=actor.username, action="proposal.import",
                       entity_type="cycle", entity_id=cycle.id, data={
                           "file": filename[:200], "sha256": hashlib.sha256(data).hexdigest(),
                           "rows": len(result.rows), "created": result.count("created"),
                           "skipped": result.count("skip")})
    return result


_CREATE_FIELDS = {"title", "description", "category", "location_code", "place",
                  "estimated_cost_wan", "channel", "proposer_name", "proposer_phone",
                  "source_ref", "received_at"}
