"""Pages for administrators and congress staff: jurisdictions (added one by one or imported
from CSV), accounts, grants, deputy roster."""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter, Request
from sqlalchemy import select

from app.auth.roles import Perm, Role
from app.db import SessionDep
from app.errors import Invalid
from app.i18n import N_
from app.jurisdictions import imports, nesting
from app.jurisdictions import service as jurisdictions
from app.jurisdictions.schemas import JurisdictionIn
from app.models import Jurisdiction, ResponsibleUnit, User
from app.pages.deps import page_perm
from app.pages.forms import attempting, parse_form, refusal_text
from app.pages.render import redirect, render
from app.users import service as users
from app.users.schemas import UserIn

router = APIRouter(include_in_schema=False, prefix="/admin")

J_LABELS = {"code": "代码", "name": "名称", "level": "级别", "parent_code": "上级",
            "division_code": "行政区划代码"}
U_LABELS = {"username": "用户名", "password": "初始密码", "display_name": "姓名",
            "role": "角色", "jurisdiction_code": "行政区域", "unit_id": "责任单位"}
MAX_ROSTER_BYTES = 1_000_000
PARENT_LEVELS = frozenset({nesting.L.province, nesting.L.city, nesting.L.county})
IMPORT_STATUS = {"new": N_("新增"), "unchanged": N_("已存在，不变"), "error": N_("有错误")}


async def _jurisdictions_page(request: Request, session, *, form=None, error=None,
                              status: int = 200, **import_ctx):
    """The list, the form to add one, and the CSV import with its preview (`import_ctx`)."""
    rows = await jurisdictions.list_all(session)
    depth: dict[str, int] = {}
    for j in rows:  # tree order: a parent comes before its children
        depth[j.code] = depth[j.parent_code] + 1 if j.parent_code in depth else 0
    return render(request, "admin/jurisdictions.html", {
        "jurisdictions": rows, "depth": depth, "form": form or {}, "error": error,
        "parents": [j for j in rows if j.level in PARENT_LEVELS],
        "LEVEL_LABELS": nesting.LEVEL_LABELS, "IMPORT_STATUS": IMPORT_STATUS,
        "max_rows": imports.MAX_IMPORT_ROWS, "imported": request.query_params.get("imported"),
        "unchanged": request.query_params.get("unchanged"), **import_ctx}, status=status)


@router.get("/jurisdictions")
async def jurisdictions_page(request: Request, session: SessionDep,
                             user: User = page_perm(Perm.jurisdiction_manage)):
    """行政区域: every jurisdiction, a form to add one, the CSV import."""
    return await _jurisdictions_page(request, session)


@router.post("/jurisdictions")
async def create_jurisdiction(request: Request, session: SessionDep,
                              user: User = page_perm(Perm.jurisdiction_manage)):
    form = dict(await request.form())
    form["parent_code"] = form.get("parent_code") or None
    form["division_code"] = str(form.get("division_code") or "").strip() or None
    async with attempting(session) as tried:
        data = parse_form(JurisdictionIn, form, J_LABELS)
        await jurisdictions.create(session, actor=user, **data.model_dump())
    if exc := tried.refused:
        return await _jurisdictions_page(request, session, form=form,
                                         error=refusal_text(exc), status=exc.status)
    return redirect(request, "/admin/jurisdictions")


@router.post("/jurisdictions/import/preview")
async def preview_import(request: Request, session: SessionDep,
                         user: User = page_perm(Perm.jurisdiction_manage)):
    """导入预览: every row of the uploaded CSV as new / unchanged / error; nothing stored."""
    form = await request.form()
    upload = form.get("file")
    async with attempting(session) as tried:
        if upload is None or isinstance(upload, str) or not upload.filename:
            raise Invalid("no file", zh="请选择要导入的 CSV 文件。")
        data = await upload.read(imports.MAX_IMPORT_BYTES + 1)  # read_rows says if too large
        checked = await imports.check(session, data)
    if exc := tried.refused:
        return await _jurisdictions_page(request, session, import_error=refusal_text(exc),
                                         status=exc.status)
    return await _jurisdictions_page(
        request, session, preview=checked, filename=upload.filename,
        payload=base64.b64encode(data).decode("ascii"),
        status=422 if checked.bad else 200)


@router.post("/jurisdictions/import")
async def confirm_import(request: Request, session: SessionDep,
                         user: User = page_perm(Perm.jurisdiction_manage)):
    """确认导入: the previewed file, checked again, stored whole (or nothing)."""
    form = await request.form()
    filename = str(form.get("filename") or "")
    try:
        data = base64.b64decode(str(form.get("payload") or ""), validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if not data:
        return await _jurisdictions_page(request, session, status=422,
                                         import_error="确认信息不完整，请重新上传文件。")
    async with attempting(session) as tried:
        result = await imports.import_file(session, actor=user.username, data=data)
    if isinstance(exc := tried.refused, imports.JurisdictionFileInvalid):
        return await _jurisdictions_page(
            request, session, preview=exc.check, filename=filename,
            payload=base64.b64encode(data).decode("ascii"), status=exc.status,
            import_error="自预览以来区域已有变化，本次未导入任何区域，请按下表修改后重新上传。")
    if exc:
        return await _jurisdictions_page(request, session, import_error=refusal_text(exc),
                                         status=exc.status)
    return redirect(request, f"/admin/jurisdictions?imported={len(result.new)}"
                             f"&unchanged={len(result.unchanged)}")


async def _users_page(request: Request, session, *, form=None, error=None, status=200,
                      page: int = 1):
    rows, total = await users.list_users(session, page=page, per_page=50)
    return render(request, "admin/users.html", {
        "users": rows, "total": total, "page": page, "per_page": 50,
        "jurisdictions": await jurisdictions.list_all(session), "roles": list(Role),
        "units": await _units(session), "form": form or {}, "error": error}, status=status)


async def _units(session) -> list[tuple[str, str]]:
    """Every active responsible unit as (id, "jurisdiction · unit"), for the unit_staff choice."""
    rows = await session.execute(
        select(ResponsibleUnit.id, Jurisdiction.name, ResponsibleUnit.name)
        .join(Jurisdiction, Jurisdiction.code == ResponsibleUnit.jurisdiction_code)
        .where(ResponsibleUnit.active.is_(True))
        .order_by(Jurisdiction.code, ResponsibleUnit.name))
    return [(uid, f"{jname} · {uname}") for uid, jname, uname in rows.all()]


@router.get("/users")
async def users_page(request: Request, session: SessionDep, page: int = 1,
                     user: User = page_perm(Perm.user_manage)):
    return await _users_page(request, session, page=max(1, min(page, 100_000)))


@router.post("/users")
async def create_user(request: Request, session: SessionDep,
                      user: User = page_perm(Perm.user_manage)):
    form = dict(await request.form())
    form["jurisdiction_code"] = form.get("jurisdiction_code") or None  # none: an admin
    form["unit_id"] = form.get("unit_id") or None  # unit_staff only
    async with attempting(session) as tried:
        data = parse_form(UserIn, form, U_LABELS)
        await users.create(session, actor=user, **data.model_dump(),
                           must_change_password=True)
    if exc := tried.refused:
        form.pop("password", None)
        return await _users_page(request, session, form=form, error=refusal_text(exc),
                                 status=exc.status)
    return redirect(request, "/admin/users")


@router.post("/users/{user_id}/grants")
async def grant(request: Request, user_id: str, session: SessionDep,
                user: User = page_perm(Perm.grant_manage)):
    form = await request.form()
    async with attempting(session) as tried:
        await users.grant(session, actor=user, user_id=user_id,
                          jurisdiction_code=str(form.get("jurisdiction_code", "")))
    if exc := tried.refused:
        return await _users_page(request, session, error=refusal_text(exc),
                                 status=exc.status)
    return redirect(request, "/admin/users")


@router.get("/deputies")
async def deputies_page(request: Request, session: SessionDep,
                        user: User = page_perm(Perm.deputy_manage)):
    return render(request, "admin/deputies.html", {
        "jurisdictions": await jurisdictions.with_congress(session),
        "selected": user.jurisdiction_code})


@router.post("/deputies")
async def import_deputies(request: Request, session: SessionDep,
                          user: User = page_perm(Perm.deputy_manage)):
    form = await request.form()
    code = str(form.get("jurisdiction_code") or user.jurisdiction_code or "")
    upload = form.get("file")
    async with attempting(session) as tried:
        if not code:
            raise Invalid("no jurisdiction", zh="请选择代表所属的人大（行政区域）。")
        if upload is None or isinstance(upload, str):
            raise Invalid("no file", zh="请选择要导入的 CSV 文件。")
        data = await upload.read(MAX_ROSTER_BYTES + 1)
        if len(data) > MAX_ROSTER_BYTES:
            raise Invalid("too large", status=413, zh="文件超过 1 MB，请分成几个文件导入。")
        created = await users.import_deputies(session, actor=user, jurisdiction_code=code,
                                              data=data)
    if exc := tried.refused:
        return render(request, "admin/deputies.html", {
            "jurisdictions": await jurisdictions.with_congress(session),
            "selected": code, "error": refusal_text(exc)}, status=exc.status)
    return render(request, "admin/deputies.html", {
        "jurisdictions": await jurisdictions.with_congress(session),
        "selected": code, "created": created})
