"""Pages: log in, log out, change password, choose the language."""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import APIRouter, Request

from app.auth import login_sessions
from app.auth.deps import client_address
from app.auth.login_sessions import SESSION_VERSION
from app.db import SessionDep
from app.errors import DomainError
from app.i18n import COOKIE, LOCALES
from app.pages.deps import LoggedIn, PageUser
from app.pages.forms import attempting, parse_form, refusal_text
from app.pages.render import redirect, render
from app.users import service as users
from app.users.schemas import TokenIn

router = APIRouter(include_in_schema=False)
LOGIN_LABELS = {"username": "用户名", "password": "密码"}


def _safe_next(value: str | None) -> str:
    """Only same-site paths: never redirect a person off the platform after log-in."""
    if not value:
        return "/"
    parsed = urlparse(value)
    if parsed.scheme or parsed.netloc or not value.startswith("/") or value.startswith("//"):
        return "/"
    return value


@router.get("/login")
async def login_form(request: Request, user: PageUser, next: str | None = None):
    return render(request, "auth/login.html", {"next": _safe_next(next)})


@router.post("/login")
async def login(request: Request, session: SessionDep):
    form = await request.form()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "")))
    throttle = request.app.state.login_throttle
    address = client_address(request)
    async with attempting(session) as tried:
        if not username or not password:
            raise DomainError("missing", status=422, zh="请输入用户名和密码。")
        parse_form(TokenIn, {"username": username, "password": password}, LOGIN_LABELS)
        await throttle.check(username, address)
        try:
            user = await users.authenticate(session, username, password)
        except DomainError:
            await throttle.failed(username, address)
            raise
    if exc := tried.refused:
        return render(request, "auth/login.html",
                      {"error": refusal_text(exc), "username": username, "next": target},
                      status=exc.status)
    await throttle.succeeded(username, address)
    await login_sessions.start(session, request, user)
    return redirect(request, "/account/password" if user.must_change_password else target)


@router.post("/logout")
async def logout(request: Request, session: SessionDep):
    await login_sessions.end_current(session, request)
    request.session.clear()
    return redirect(request, "/")


@router.get("/account/password")
async def password_form(request: Request, user: LoggedIn):
    return render(request, "auth/password.html", {
        "forced": user.must_change_password,
        "by_sms": login_sessions.phone_recently_proven(request)})


@router.post("/account/password")
async def change_password(request: Request, session: SessionDep, user: LoggedIn):
    form = await request.form()
    by_sms = login_sessions.phone_recently_proven(request)
    current = None if by_sms else str(form.get("current_password", ""))
    new = str(form.get("new_password", ""))
    repeat = str(form.get("new_password_repeat", ""))
    async with attempting(session) as tried:
        if new != repeat:
            raise DomainError("mismatch", status=422, zh="两次输入的新密码不一致。")
        await users.change_password(session, user=user, current=current, new=new,
                                    keep=login_sessions.current_key(request))
    if exc := tried.refused:
        return render(request, "auth/password.html",
                      {"error": refusal_text(exc), "forced": user.must_change_password,
                       "by_sms": by_sms}, status=exc.status)
    # The version changed: keep this browser logged in with the new one.
    request.session[SESSION_VERSION] = user.token_version
    login_sessions.forget_phone_proof(request)  # one new password per SMS log-in
    return render(request, "auth/password.html", {"done": True, "forced": False})


@router.get("/lang/{code}")
async def choose_language(request: Request, code: str, next: str | None = None):
    response = redirect(request, _safe_next(next))
    if code in LOCALES:
        response.set_cookie(COOKIE, code, max_age=365 * 86400, samesite="lax", httponly=True)
    return response
