"""Render pages: the full page, or one named block of it for an htmx request."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.auth.roles import ROLE_LABELS, Perm, has_perm
from app.caching import (
    ID_PLACEHOLDER,
    NAME_PLACEHOLDER,
    PAGE_CACHE_MARK,
    UNREAD,
    USERNAME_PLACEHOLDER,
)
from app.i18n import (
    COOKIE,
    HTML_LANG,
    LOCALES,
    current_locale,
    gettext,
    ngettext,
    pick_locale,
    to_traditional,
)
from app.resources import templates_dir
from app.schemas import LIMITS
from app.timeutil import CHINA_TZ
from app.workflows.cycle import GOVERNMENT_TIMELINE, PHASE_LABELS, TIMELINE

env = Environment(
    loader=FileSystemLoader(str(templates_dir())),
    autoescape=select_autoescape(["html", "xml"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
    # Templates are checked for changes on disk only in development.
    auto_reload=os.environ.get("MINSHENG_ENV", "development") == "development",
)
def _local_time(value: datetime | None) -> str:
    """A timestamp as Beijing time, the way the pages show it."""
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if value else ""


env.filters["local_time"] = _local_time
env.install_gettext_callables(gettext, ngettext, newstyle=True)
env.globals.update(PHASE_LABELS={str(k): v for k, v in PHASE_LABELS.items()},
                   TIMELINE=[str(p) for p in TIMELINE],
                   GOVERNMENT_TIMELINE=[str(p) for p in GOVERNMENT_TIMELINE],
                   ROLE_LABELS=ROLE_LABELS,
                   LOCALES=LOCALES, has_perm=has_perm, Perm=Perm, LIMITS=LIMITS)


def _csrf_token(request: Request) -> str:
    getter = request.scope.get("csrftoken")
    return getter() if getter else ""


def is_fragment_request(request: Request) -> bool:
    """An htmx request aimed at part of a page (boosted navigation wants the whole page)."""
    return (request.headers.get("hx-request") == "true"
            and request.headers.get("hx-boosted") != "true")


def _layout_user(request: Request, shared: bool):
    """The person the layout shows: as they are, or, when the page is rendered to be kept
    (app/caching.py), with their own parts as placeholders that are filled in per request —
    their name and unread count, and on a page `shared` by everyone of their role and
    jurisdiction also their id and user name."""
    user = getattr(request.state, "user", None)
    mark = request.scope.get(PAGE_CACHE_MARK)
    if mark is None:
        return user
    mark["shared"] = shared or user is None  # a view that asked nobody shows nobody's page
    if user is None:
        return None
    return replace(user, display_name=NAME_PLACEHOLDER, unread=UNREAD,
                   **({"id": ID_PLACEHOLDER, "username": USERNAME_PLACEHOLDER}
                      if shared else {}))


def render(request: Request, template: str, context: dict[str, Any] | None = None, *,
           status: int = 200, block: str | None = None,
           headers: dict[str, str] | None = None, shared: bool = False) -> HTMLResponse:
    """Render `template`; with `block` and an htmx request, only that block.

    `shared`: the page shows the same to everyone of the visitor's role and jurisdiction
    (nothing of the person but the layout's name and unread count), so one kept rendering
    serves them all (app/caching.py); else a logged-in person's rendering is kept for their
    login session alone.
    """
    locale = pick_locale(request.cookies.get(COOKIE), request.app.state.settings.default_locale)
    token = current_locale.set(locale)
    try:
        ctx = {"request": request, "csrf_token": _csrf_token(request), "locale": locale,
               "html_lang": HTML_LANG[locale], "user": _layout_user(request, shared)}
        ctx.update(context or {})
        if locale == "zh_Hant":
            for key in ("error", "message", "advice"):
                if isinstance(ctx.get(key), str):
                    ctx[key] = to_traditional(ctx[key])
        tmpl = env.get_template(template)
        if block and is_fragment_request(request):
            html = "".join(tmpl.blocks[block](tmpl.new_context(ctx)))
        else:
            html = tmpl.render(ctx)
    finally:
        current_locale.reset(token)
    return HTMLResponse(html, status_code=status, headers=headers)


def redirect(request: Request, url: str) -> Response:
    """303 to `url`; htmx requests get HX-Redirect so the whole page changes."""
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)
