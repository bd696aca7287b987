"""Staff page of 征集: import a 12345 hotline export (导入热线工单) — upload, preview, confirm.

The preview stores nothing; the confirm step posts the previewed file back (base64, in the
page itself, so no server keeps it in between) and the import checks all of it again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile

from app.auth.deps import ensure_scope
from app.auth.roles import Perm
from app.cycles import service as cycles
from app.db import SessionDep
from app.errors import Invalid
from app.i18n import N_
from app.models import Cycle, User
from app.pages.deps import page_perm
from app.pages.forms import attempting, refusal_text, refuse_nul
from app.pages.render import redirect, render
from app.proposals import hotline
from app.proposals.hotline_file import FIELDS, MAX_FILE_BYTES, MAX_ROWS, REQUIRED
from app.proposals.labels import labels_ctx
from app.ratelimit import HOTLINE_IMPORTS_PER_ACCOUNT
from app.workflows.cycle import CyclePhase

router = APIRouter(include_in_schema=False, prefix="/staff")

STATUS_LABELS = {"create": N_("将新建"), "created": N_("已新建"), "skip": N_("已导入过，跳过"),
                 "invalid": N_("需修改")}
# base64 of the largest file, and the form's other fields.
CONFIRM_PART_BYTES = MAX_FILE_BYTES * 4 // 3 + 1024


async def _cycle(session, user: User, cycle_id: str) -> Cycle:
    cycle = await cycles.get(session, cycle_id)
    await ensure_scope(session, user, cycle.jurisdiction_code)
    return cycle


def _page(request: Request, cycle: Cycle, *, result: hotline.ImportResult | None = None,
          content: bytes = b"", filename: str = "", error: str | None = None,
          done: dict | None = None, status: int = 200):
    return render(request, "proposals/import.html", {
        **labels_ctx(), "cycle": cycle, "result": result, "filename": filename,
        "content": base64.b64encode(content).decode() if content else "",
        "digest": hashlib.sha256(content).hexdigest() if content else "",
        "error": error, "done": done,
        "soliciting": cycle.phase == CyclePhase.soliciting, "STATUS_LABELS": STATUS_LABELS,
        "FIELDS": FIELDS, "REQUIRED": REQUIRED, "max_rows": MAX_ROWS,
        "max_mb": MAX_FILE_BYTES // 2**20,
    }, status=status)


@router.get("/cycles/{cycle_id}/proposals/import")
async def import_page(request: Request, cycle_id: str, session: SessionDep,
                      created: str = "", skipped: str = "",
                      user: User = page_perm(Perm.proposal_record)):
    """导入热线工单: the upload form (and what the last import did)."""
    cycle = await _cycle(session, user, cycle_id)
    done = ({"created": int(created), "skipped": int(skipped) if skipped.isdigit() else 0}
            if created.isdigit() else None)
    return _page(request, cycle, done=done)


async def _read_upload(request: Request) -> tuple[bytes, str]:
    form = await request.form(max_files=1, max_fields=5)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise Invalid("choose a file", zh="请选择要导入的热线工单文件（.xlsx 或 .csv）。")
    return await upload.read(MAX_FILE_BYTES + 1), upload.filename


@router.post("/cycles/{cycle_id}/proposals/import")
async def preview(request: Request, cycle_id: str, session: SessionDep,
                  user: User = page_perm(Perm.proposal_record)):
    """The preview: every row with its verdict; nothing is stored."""
    cycle = await _cycle(session, user, cycle_id)
    async with attempting(session) as tried:
        data, filename = await _read_upload(request)
        result = await hotline.import_file(session, actor=user, cycle=cycle, data=data,
                                           filename=filename, dry_run=True)
    if exc := tried.refused:
        return _page(request, cycle, error=refusal_text(exc), status=exc.status)
    return _page(request, cycle, result=result, content=data if result.valid else b"",
                 filename=filename)


@router.post("/cycles/{cycle_id}/proposals/import/confirm")
async def confirm(request: Request, cycle_id: str, session: SessionDep,
                  user: User = page_perm(Perm.proposal_record)):
    """确认导入: the previewed file, checked once more, then filed (all rows or none)."""
    cycle = await _cycle(session, user, cycle_id)
    form = await request.form(max_files=0, max_fields=5, max_part_size=CONFIRM_PART_BYTES)
    filename = str(form.get("filename", ""))
    data = b""
    limits = request.app.state.rate_limits
    async with attempting(session) as tried:  # every row or none
        refuse_nul(filename)
        try:
            data = base64.b64decode(str(form.get("content", "")), validate=True)
        except (binascii.Error, ValueError):
            data = b""
        if not data or hashlib.sha256(data).hexdigest() != str(form.get("digest", "")):
            raise Invalid("file lost", zh="没有收到预览过的文件，请重新上传。")
        await limits.check(HOTLINE_IMPORTS_PER_ACCOUNT, user.id)
        result = await hotline.import_file(session, actor=user, cycle=cycle, data=data,
                                           filename=filename)
    if isinstance(exc := tried.refused, hotline.ImportRowsInvalid):
        # the file or the cycle changed since the preview
        return _page(request, cycle, result=exc.result, filename=filename,
                     error=refusal_text(exc), status=exc.status)
    if exc:
        return _page(request, cycle, error=refusal_text(exc), status=exc.status)
    if result.count("created"):
        await limits.hit(HOTLINE_IMPORTS_PER_ACCOUNT, user.id)
    return redirect(request, f"/staff/cycles/{cycle.id}/proposals/import?created="
                             f"{result.count('created')}&skipped={result.count('skip')}")
