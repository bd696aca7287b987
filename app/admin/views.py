"""Pages for administrators and congress staff: jurisdictions, accounts, grants, deputy roster."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.auth.roles import Perm, Role
from app.db import SessionDep
from app.errors import DomainError, Invalid
from app.jurisdictions import service as jurisdictions
from app.jurisdictions.schemas import JurisdictionIn
from app.models import User
from app.pages.deps import page_perm
from app.pages.forms import parse_form
from app.pages.render import redirect, render
from app.users import service as users
from app.users.schemas import UserIn

router = APIRouter(include_in_schema=False, prefix="/admin")

J_LABELS = {"code": "代码", "name": "名称", "level": "级别", "parent_code": "上级"}
U_LABELS = {"username": "用户名", "password": "初始密码", "display_name": "姓名",
            "role": "角色", "jurisdiction_code": "行政区域"}
MAX_ROSTER_BYTES = 1_000_000


@router.get("/jurisdictions")
async def jurisdictions_page(request: Request, session: SessionDep,
                             user: User = page_perm(Perm.jurisdiction_manage)):
    return render(request, "admin/jurisdictions.html",
                  {"jurisdictions": await jurisdictions.list_all(session), "form": {}})


@router.post("/jurisdictions")
async def create_jurisdiction(request: Request, session: SessionDep,
                              user: User = page_perm(Perm.jurisdiction_manage)):
    form = dict(await request.form())
    form["parent_code"] = form.get("parent_code") or None
    try:
        data = parse_form(JurisdictionIn, form, J_LABELS)
        await jurisdictions.create(session, actor=user, **data.model_dump())
    except DomainError as exc:
        return render(request, "admin/jurisdictions.html", {
            "jurisdictions": await jurisdictions.list_all(session), "form": form,
            "error": exc.zh or exc.message}, status=exc.status)
    return redirect(request, "/admin/jurisdictions")


async def _users_page(request: Request, session, *, form=None, error=None, status=200,
                      page: int = 1):
    rows, total = await users.list_users(session, page=page, per_page=50)
    return render(request, "admin/users.html", {
        "users": rows, "total": total, "page": page, "per_page": 50,
        "jurisdictions": await jurisdictions.list_all(session), "roles": list(Role),
        "form": form or {}, "error": error}, status=status)


@router.get("/users")
async def users_page(request: Request, session: SessionDep, page: int = 1,
                     user: User = page_perm(Perm.user_manage)):
    return await _users_page(request, session, page=max(1, min(page, 100_000)))


@router.post("/users")
async def create_user(request: Request, session: SessionDep,
                      user: User = page_perm(Perm.user_manage)):
    form = dict(await request.form())
    try:
        data = parse_form(UserIn, form, U_LABELS)
        await users.create(session, actor=user, **data.model_dump(),
                           must_change_password=True)
    except DomainError as exc:
        form.pop("password", None)
        return await _users_page(request, session, form=form, error=exc.zh or exc.message,
                                 status=exc.status)
    return redirect(request, "/admin/users")


@router.post("/users/{user_id}/grants")
async def grant(request: Request, user_id: str, session: SessionDep,
                user: User = page_perm(Perm.grant_manage)):
    form = await request.form()
    try:
        await users.grant(session, actor=user, user_id=user_id,
                          jurisdiction_code=str(form.get("jurisdiction_code", "")))
    except DomainError as exc:
        return await _users_page(request, session, error=exc.zh or exc.message,
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
    code = str(form.get("jurisdiction_code", user.jurisdiction_code))
    upload = form.get("file")
    try:
        if upload is None or isinstance(upload, str):
            raise Invalid("no file", zh="请选择要导入的 CSV 文件。")
        data = await upload.read(MAX_ROSTER_BYTES + 1)
        if len(data) > MAX_ROSTER_BYTES:
            raise Invalid("too large", status=413, zh="文件超过 1 MB，请分成几个文件导入。")
        created = await users.import_deputies(session, actor=user, jurisdiction_code=code,
                                              data=data)
    except DomainError as exc:
        return render(request, "admin/deputies.html", {
            "jurisdictions": await jurisdictions.with_congress(session),
            "selected": code, "error": exc.zh or exc.message}, status=exc.status)
    return render(request, "admin/deputies.html", {
        "jurisdictions": await jurisdictions.with_congress(session),
        "selected": code, "created": created})
