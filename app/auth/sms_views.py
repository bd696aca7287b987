"""Pages: logging in by SMS code (/login/sms), the way out of a throttled or forgotten password."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.auth import login_sessions, sms_login
from app.auth.deps import client_address
from app.auth.views import _safe_next
from app.db import SessionDep
from app.errors import Invalid
from app.pages.deps import PageUser
from app.pages.forms import attempting, refusal_text
from app.pages.render import redirect, render
from app.residents.service import normalise_phone
from app.residents.sms import masked_phone

router = APIRouter(include_in_schema=False)


def _page(request: Request, *, phone: str = "", next: str = "/", error: str | None = None,
          error_at: str = "form", sent_to: str | None = None, status: int = 200,
          block: str | None = None):
    return render(request, "auth/login_sms.html", {
        "phone": phone, "next": next, "error": error, "error_at": error_at, "sent_to": sent_to,
        "minutes": request.app.state.settings.sms_code_ttl_seconds // 60,
    }, status=status, block=block)


@router.get("/login/sms")
async def sms_login_form(request: Request, user: PageUser, next: str | None = None):
    return _page(request, next=_safe_next(next))


@router.post("/login/sms/code")
async def send_code(request: Request, session: SessionDep):
    """Step one: text a code (htmx: only the notice under the button changes)."""
    form = await request.form()
    phone = str(form.get("phone", "")).strip()
    target = _safe_next(str(form.get("next", "")))
    async with attempting(session) as tried:
        await sms_login.send_code(session, settings=request.app.state.settings,
                                  limits=request.app.state.rate_limits, phone=phone,
                                  address=client_address(request))
    if exc := tried.refused:
        return _page(request, phone=phone, next=target, error=refusal_text(exc),
                     error_at="code", status=exc.status, block="code_status")
    phone = normalise_phone(phone)
    return _page(request, phone=phone, next=target, sent_to=masked_phone(phone),
                 block="code_status")


@router.post("/login/sms")
async def log_in(request: Request, session: SessionDep):
    """Step two: the code; then logged in, whatever the password throttle says."""
    form = await request.form()
    phone = str(form.get("phone", "")).strip()
    code = str(form.get("code", "")).strip()
    target = _safe_next(str(form.get("next", "")))
    address = client_address(request)
    async with attempting(session) as tried:
        if not code.isdigit() or len(code) != 6:
            raise Invalid("code missing", zh="请填写 6 位短信验证码；还没有验证码请先点「获取验证码」。")
        user = await sms_login.log_in(session, settings=request.app.state.settings,
                                      limits=request.app.state.rate_limits, phone=phone,
                                      code=code, address=address)
    if exc := tried.refused:
        return _page(request, phone=phone, next=target, error=refusal_text(exc),
                     status=exc.status)
    await request.app.state.login_throttle.succeeded(user.username, address)
    await login_sessions.start(session, request, user)
    login_sessions.prove_phone(request)  # a forgotten password may now be replaced
    return redirect(request, "/account/password" if user.must_change_password else target)
