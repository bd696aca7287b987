"""Staff pages of 纸质选票 / 表决器: the paper ballots issued, double entry of each sheet
(双人录入) with its status, the sheets list with differing readings side by side, and the
import of a hall's voting devices' CSV export.

Every action goes through app/ballotbox/paper.py inside a savepoint; a refusal re-shows the
page with the service's Chinese sentence and the values as typed, nothing of it stored.
Without JavaScript each form posts and is redirected back; with htmx the entry and withdraw
forms swap only the `work` block.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile

from app.auth.deps import ensure_scope
from app.auth.roles import Perm, Role
from app.ballotbox import devices, paper, queries, rounds
from app.ballotbox import sheets as paper_sheets
from app.ballotbox.forms import DEPUTIES_BALLOT
from app.ballots import service
from app.ballots.paper_api import PaperIssuedIn, PaperSheetIn
from app.ballots.public_views import labels_ctx
from app.cycles import service as cycles
from app.db import SessionDep
from app.errors import DomainError, Invalid
from app.i18n import N_
from app.models import BallotRound, Cycle, User
from app.pages.deps import page_perm
from app.pages.forms import attempting, parse_form, refusal_text
from app.pages.render import is_fragment_request, redirect, render
from app.workflows.ballot import BallotState

router = APIRouter(include_in_schema=False)

FORM_LABELS = {"sheet": "选票编号", "marks": "标记", "spoilt": "废票",
               "count": "发出的纸质选票数"}
MARKS = (("yes", N_("赞成")), ("no", N_("反对")), ("abstain", N_("弃权")))
FILTERS = {"": N_("全部"), "pending": N_("待复核"), "differs": N_("不一致"),
           "confirmed": N_("一致")}
# Messages after a successful action (?done=…), so a reload does not repeat the action.
DONE = {"issued": N_("已登记发出的纸质选票数。"), "devices": N_("已导入 %(n)s 张表决器选票。"),
        "withdrawn": N_("已撤回您对第 %(n)s 张选票的录入。")}
EDITABLE = (BallotState.created, BallotState.open, BallotState.closed)


@dataclass
class Reading:
    """Reading — 一次录入: one staff account's reading of a sheet, for the side-by-side view."""

    username: str
    spoilt: bool
    marks: dict[str, str]


async def _staff_round(session, user: User, ballot_id: str) -> tuple[BallotRound, Cycle]:
    """The round, if it is in the staff member's jurisdiction (404 unknown, 403 elsewhere)."""
    ballot = await rounds.get(session, ballot_id, DEPUTIES_BALLOT.name)
    cycle = await cycles.get(session, ballot.cycle_id)
    await ensure_scope(session, user, cycle.jurisdiction_code)
    return ballot, cycle


async def _readings(session, ballot: BallotRound, sheets: set[int]) -> dict[int, list[Reading]]:
    """Both readings of each of `sheets` (the differing ones), in entry order."""
    if not sheets:
        return {}
    entries = [e for e in await paper_sheets.entries_of(session, ballot.id) if e.sheet in sheets]
    names = await paper_sheets.entrant_names(session, entries)
    found: dict[int, list[Reading]] = {}
    for e in entries:
        found.setdefault(e.sheet, []).append(
            Reading(names.get(e.entered_by, "?"), e.spoilt, json.loads(e.marks)))
    return found


def _next_sheet(sheets: list[paper_sheets.Sheet], username: str) -> int:
    """The first sheet number this account has not entered and may still enter."""
    taken = {s.sheet for s in sheets if username in s.entered_by or len(s.entered_by) >= 2}
    n = 1
    while n in taken:
        n += 1
    return n


async def _paper_page(request: Request, session, ballot: BallotRound, cycle: Cycle, user: User,
                      *, status_filter: str = "", entry: dict | None = None,
                      typed: dict | None = None, errors: dict | None = None,
                      problems: list[str] | None = None, result: int | None = None,
                      message: str | None = None, n: int = 0, correcting: int | None = None,
                      status: int = 200, block: str | None = None):
    found = await paper_sheets.summary(session, ballot)
    candidates = await service.candidates_of(session, ballot.id)
    by_number = {s.sheet: s for s in found.sheets}
    differing = [s for s in found.sheets if s.status == paper_sheets.SheetStatus.differs]
    # Admins keep the system; they see no ballot content (DOMAIN.md), so no readings.
    readings = ({} if user.role == Role.admin
                else await _readings(session, ballot, {s.sheet for s in differing}))
    closed = ballot.state == BallotState.closed
    if entry is None:
        entry = {"sheet": str(_next_sheet(found.sheets, user.username)), "marks": {},
                 "spoilt": False}
        mine = [r for r in readings.get(correcting, []) if r.username == user.username]
        if closed and mine:  # a correction starts from one's own reading
            entry = {"sheet": str(correcting), "marks": mine[0].marks, "spoilt": mine[0].spoilt}
    typed = typed or {}
    shown_forms = {"page", *(("issued",) if ballot.state in EDITABLE else ()),
                   *(("entry",) if closed else ()),
                   *(("devices",) if closed and ballot.device_issued is None else ())}
    # A refusal by a form the page no longer shows (the state moved on) goes on top.
    errors = {(k if k in shown_forms else "page"): v for k, v in (errors or {}).items()}
    shown = [s for s in found.sheets if not status_filter or s.status == status_filter]
    return render(request, "ballots/staff_paper.html", {
        **labels_ctx(), "ballot": ballot, "cycle": cycle, "candidates": candidates,
        "titles": {c.id: f"{i}. {c.title}" for i, c in enumerate(candidates, 1)},
        "counts": found.as_dict(), "sheets": shown, "differing": differing,
        "readings": readings, "status_filter": status_filter, "FILTERS": FILTERS,
        "MARKS": MARKS, "MARK_LABELS": dict(MARKS), "STATUS_LABELS": paper_sheets.STATUS_LABELS,
        "entry": entry,
        "errors": errors, "problems": problems or [],
        "result": by_number.get(result) if result else None, "message": message, "n": n,
        "correcting": correcting if entry.get("sheet") == str(correcting) else None,
        "closed": closed, "editable": ballot.state in EDITABLE,
        "devices": len(await queries.device_content_ids(session, ballot.id)),
        "issued_value": typed.get("issued", str(ballot.paper_issued)),
        "device_issued_value": typed.get("device_issued", ""),
    }, status=status, block=block)


async def _refused(request: Request, session, ballot: BallotRound, cycle: Cycle, user: User,
                   exc: DomainError, where: str, **kwargs):
    """The page again with the service's sentence by the form `where`; nothing was kept."""
    await session.refresh(ballot)  # the savepoint's rollback expired what it had changed
    problems = [zh for _, zh in exc.problems] if isinstance(exc, devices.DeviceFileInvalid) else []
    return await _paper_page(request, session, ballot, cycle, user, status=exc.status,
                             errors={where: refusal_text(exc)}, problems=problems, **kwargs)


@router.get("/staff/ballots/{ballot_id}/paper")
async def paper_page(request: Request, ballot_id: str, session: SessionDep, status: str = "",
                     done: str = "", sheet: int = 0, n: int = 0, correct: int = 0,
                     user: User = page_perm(Perm.ballot_manage)):
    """纸质选票与表决器: issued figure, double entry, the sheets list, the device import."""
    ballot, cycle = await _staff_round(session, user, ballot_id)
    return await _paper_page(
        request, session, ballot, cycle, user,
        status_filter=status if status in FILTERS else "",
        result=sheet if done == "entered" else None, message=DONE.get(done), n=n,
        correcting=correct or None, block="work" if is_fragment_request(request) else None)


@router.post("/staff/ballots/{ballot_id}/paper/issued")
async def set_issued(request: Request, ballot_id: str, session: SessionDep,
                     user: User = page_perm(Perm.ballot_manage)):
    """发出纸质选票: record how many paper ballots were handed out."""
    ballot, cycle = await _staff_round(session, user, ballot_id)
    data = await request.form()
    count = str(data.get("count", "")).strip()
    async with attempting(session) as tried:
        body = parse_form(PaperIssuedIn, {"count": count} if count else {}, FORM_LABELS)
        await paper.set_paper_issued(session, ballot, user, body.count)
    if exc := tried.refused:
        return await _refused(request, session, ballot, cycle, user, exc, "issued",
                              typed={"issued": count})
    return redirect(request, f"/staff/ballots/{ballot.id}/paper?done=issued")


@router.post("/staff/ballots/{ballot_id}/paper/sheets")
async def enter_sheet(request: Request, ballot_id: str, session: SessionDep,
                      user: User = page_perm(Perm.ballot_manage)):
    """录入纸质选票: one reading of one sheet; shows whether it is 待复核, 一致 or 不一致."""
    ballot, cycle = await _staff_round(session, user, ballot_id)
    data = await request.form()
    candidates = await service.candidates_of(session, ballot.id)
    typed = {"sheet": str(data.get("sheet", "")).strip(),
             "marks": {c.id: str(data.get(f"mark-{c.id}", "abstain")) for c in candidates},
             "spoilt": data.get("spoilt") == "1"}
    fragment = is_fragment_request(request)
    async with attempting(session) as tried:
        fields = typed if typed["sheet"] else {k: v for k, v in typed.items() if k != "sheet"}
        body = parse_form(PaperSheetIn, fields, FORM_LABELS)
        sheet = await paper.enter_sheet(session, ballot, user, sheet=body.sheet,
                                        marks=body.marks, spoilt=body.spoilt)
    if exc := tried.refused:
        return await _refused(request, session, ballot, cycle, user, exc, "entry", entry=typed,
                              block="work" if fragment else None)
    if not fragment:
        return redirect(request, f"/staff/ballots/{ballot.id}/paper?done=entered"
                                 f"&sheet={sheet.sheet}#entry")
    return await _paper_page(request, session, ballot, cycle, user, result=sheet.sheet,
                             block="work")


@router.post("/staff/ballots/{ballot_id}/paper/sheets/{sheet}/withdraw")
async def withdraw_entry(request: Request, ballot_id: str, sheet: int, session: SessionDep,
                         user: User = page_perm(Perm.ballot_manage)):
    """撤回录入: withdraw one's own entry of a sheet not yet confirmed."""
    ballot, cycle = await _staff_round(session, user, ballot_id)
    fragment = is_fragment_request(request)
    async with attempting(session) as tried:
        if not 1 <= sheet <= paper.MAX_SHEET:
            raise Invalid("no such sheet", zh=f"选票编号应在 1 到 {paper.MAX_SHEET} 之间。")
        await paper.withdraw_entry(session, ballot, user, sheet)
    if exc := tried.refused:
        return await _refused(request, session, ballot, cycle, user, exc, "page",
                              block="work" if fragment else None)
    if not fragment:
        return redirect(request, f"/staff/ballots/{ballot.id}/paper?done=withdrawn&n={sheet}")
    return await _paper_page(request, session, ballot, cycle, user, message=DONE["withdrawn"],
                             n=sheet, block="work")


@router.post("/staff/ballots/{ballot_id}/paper/devices")
async def import_devices(request: Request, ballot_id: str, session: SessionDep,
                         user: User = page_perm(Perm.ballot_manage)):
    """导入表决器结果: the devices' CSV export and the number of devices issued, once."""
    ballot, cycle = await _staff_round(session, user, ballot_id)
    data = await request.form()
    issued = str(data.get("issued", "")).strip()
    upload = data.get("file")
    async with attempting(session) as tried:
        if not issued.isascii() or not issued.isdigit():
            raise Invalid("devices issued", zh="请填写发出的表决器数（整数）。")
        if len(issued) > 9:  # Python's int() refuses thousands of digits: say the range here
            raise Invalid("devices issued",
                          zh=f"发出的表决器数应在 0 到 {devices.MAX_DEVICE_ROWS} 之间。")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise Invalid("no file", zh="请选择表决器导出的 CSV 文件。")
        content = await upload.read(devices.MAX_DEVICE_BYTES + 1)  # the service says if too large
        imported = await devices.import_devices(session, ballot, user, data=content,
                                              issued=int(issued))
    if exc := tried.refused:
        return await _refused(request, session, ballot, cycle, user, exc, "devices",
                              typed={"device_issued": issued})
    return redirect(request, f"/staff/ballots/{ballot.id}/paper?done=devices&n={imported}")
