"""Pages: resident registration by SMS code, the staff SMS outbox."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.auth import login_sessions
from app.auth.deps import client_address
from app.auth.roles import Perm
from app.db import SessionDep
from app.errors import Invalid
from app.jurisdictions import service as jurisdictions
from app.models import User
from app.pages.deps import PageUser, page_perm
from app.pages.forms import attempting, refusal_text
from app.pages.render import redirect, render
from app.residents import service
from app.residents.sms import masked_phone

router = APIRouter(include_in_schema=False)

KEPT = ("phone", "display_name", "jurisdiction_code")  # never the code or the password
OUTBOX_LIMIT = 100


def _form_values(form) -> dict[str, str]:
    return {key: str(form.get(key, "")).strip() for key in KEPT}


async def _register_page(request: Request, session, *, form: dict | None = None,
                         error: str | None = None, sent_to: str | None = None,
                         status: int = 200, block: str | None = None,
                         error_at: str = "form"):
    return render(request, "residents/register.html", {
        "jurisdictions": await jurisdictions.list_all(session), "form": form or {},
        "error": error, "error_at": error_at, "sent_to": sent_to,
        "minutes": request.app.state.settings.sms_code_ttl_seconds // 60,
    }, status=status, block=block)


@router.get("/register")
async def register_form(request: Request, session: SessionDep, user: PageUser):
    if user is not None:
        return redirect(request, "/")
    return await _register_page(request, session)


@router.get("/register/code")
async def code_form(request: Request):
    return redirect(request, "/register")


@router.post("/register/code")
async def send_code(request: Request, session: SessionDep):
    """Step one: text a code to the number (htmx: only the notice under the button changes)."""
    form = _form_values(await request.form())
    async with attempting(session) as tried:
        await service.send_code(session, settings=request.app.state.settings,
                                limits=request.app.state.rate_limits, phone=form["phone"],
                                address=client_address(request),
                                jurisdiction_code=form["jurisdiction_code"] or None)
    if exc := tried.refused:
        return await _register_page(request, session, form=form, error=refusal_text(exc),
                                    status=exc.status, block="code_status", error_at="code")
    phone = service.normalise_phone(form["phone"])
    return await _register_page(request, session, form={**form, "phone": phone},
                                sent_to=masked_phone(phone), block="code_status")


@router.post("/register")
async def register(request: Request, session: SessionDep):
    """Step two: the code, a name, where one lives and a password; then logged in."""
    raw = await request.form()
    form = _form_values(raw)
    code = str(raw.get("code", "")).strip()
    password = str(raw.get("password", ""))
    repeat = str(raw.get("password_repeat", ""))
    async with attempting(session) as tried:
        if any("\x00" in text for text in (*form.values(), code, password, repeat)):
            raise Invalid("NUL character", zh="输入中含有无法保存的字符，请删除后重试。")
        if not code:
            raise Invalid("code missing", zh="请填写短信验证码；还没有验证码请先点「获取验证码」。")
        if not form["jurisdiction_code"]:
            raise Invalid("jurisdiction missing", zh="请选择所在乡镇（街道）。")
        if password != repeat:
            raise Invalid("passwords differ", zh="两次输入的密码不一致。")
        user = await service.register(session, settings=request.app.state.settings,
                                      limits=request.app.state.rate_limits, phone=form["phone"],
                                      address=client_address(request), code=code,
                                      password=password,
                                      display_name=form["display_name"],
                                      jurisdiction_code=form["jurisdiction_code"])
    if exc := tried.refused:
        return await _register_page(request, session, form=form, error=refusal_text(exc),
                                    status=exc.status)
    await login_sessions.start(session, request, user)
    return redirect(request, "/")


@router.get("/staff/sms-outbox")
async def sms_outbox(request: Request, session: SessionDep,
                     user: User = page_perm(Perm.sms_outbox_read)):
    """What the built-in sender "sent" (no SMS gateway yet), newest first."""
    rows = await service.outbox(session, user, OUTBOX_LIMIT)
    return render(request, "residents/sms_outbox.html", {"messages": rows,
                                                          "limit": OUTBOX_LIMIT})

