"""The settings page (本级参数设置): every setting of a jurisdiction grouped by stage, with its
Chinese name, meaning, default and value; congress staff (and admins) change one or several
with a reason; the history of changes comes from the audit log. Other staff of the jurisdiction
read it. The form works without JavaScript."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request

from app.auth.deps import ensure_scope, in_scope
from app.auth.roles import Perm, Role, has_perm
from app.db import SessionDep
from app.errors import DomainError
from app.jurisdictions import service as jurisdictions
from app.jurisdictions import settings_service as service
from app.jurisdictions.registry import REGISTRY, SettingSpec, by_stage
from app.jurisdictions.settings import CATEGORIES_MAX, defaults_for, settings_for
from app.models import Jurisdiction, User
from app.pages.deps import page_perm
from app.pages.forms import attempting, refusal_text, refuse_nul
from app.pages.render import redirect, render

router = APIRouter(include_in_schema=False)

BLANK_CATEGORY_ROWS = 3  # empty inputs under the categories, to add new ones
HISTORY_SHOWN = 50


async def _readable(session, user: User, code: str) -> Jurisdiction:
    jurisdiction = await jurisdictions.get(session, code)
    await ensure_scope(session, user, code)
    return jurisdiction


async def _may_edit(session, user: User, code: str) -> bool:
    return has_perm(user.role, Perm.settings_manage) and await in_scope(session, user, code)


@router.get("/staff/settings")
async def choose(request: Request, session: SessionDep,
                 user: User = page_perm(Perm.staff_pages)):
    """参数设置: one's own jurisdiction's page; an admin picks a jurisdiction."""
    if user.role != Role.admin and user.jurisdiction_code:
        return redirect(request, f"/staff/jurisdictions/{user.jurisdiction_code}/settings")
    return render(request, "jurisdictions/settings_index.html",
                  {"jurisdictions": await jurisdictions.with_congress(session)})


def _shown(value: Any, spec: SettingSpec) -> Any:
    """A value as the form's controls hold it: text, or a list of texts for categories."""
    if spec.kind == "list":
        return [str(v) for v in value]
    if spec.kind == "boolean":
        return "true" if value else "false"
    if spec.kind == "number" and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _posted(form, spec: SettingSpec) -> Any:
    """The value of one setting's control as posted (a form without it leaves it alone)."""
    if spec.kind == "list":
        names = [str(v).strip() for v in form.getlist(spec.name)]
        return [n for n in names if n]
    return str(form.get(spec.name, "")).strip()


def _shown_of(form) -> dict[str, Any]:
    """The values the form was rendered with (the hidden field `shown`), kept through refusals."""
    try:
        shown = json.loads(str(form.get("shown", "")))
    except ValueError:
        return {}
    return shown if isinstance(shown, dict) else {}


def _touched(values: dict[str, Any], shown: dict[str, Any]) -> dict[str, Any]:
    """The settings the person changed on the form: those whose control differs from what the
    page showed, so a change someone else saved meanwhile is not written back."""
    return {name: value for name, value in values.items()
            if name not in shown or value != shown[name]}


def _count(raw: str) -> str:
    """The number of settings a redirect says were saved, or '' for anything else."""
    return raw if raw.isdigit() and len(raw) <= 3 else ""


async def _page(request: Request, session, user: User, jurisdiction: Jurisdiction, *,
                values: dict[str, Any] | None = None, shown: dict[str, Any] | None = None,
                reason: str = "", error: DomainError | None = None, status: int = 200):
    settings = settings_for(jurisdiction)
    defaults = defaults_for(jurisdiction.level)
    current = {s.name: _shown(getattr(settings, s.name), s) for s in REGISTRY.values()}
    values = {**current, **(values or {})}
    problems = getattr(error, "problems", [])
    groups = []
    for stage, label, specs in by_stage():
        rows = []
        for spec in specs:
            value, default = getattr(settings, spec.name), getattr(defaults, spec.name)
            rows.append({"spec": spec, "value": value, "default": default,
                         "changed": value != default, "form": values.get(spec.name),
                         "errors": [p.zh for p in problems if p.setting == spec.name]})
        groups.append({"stage": stage, "label": label, "rows": rows})
    history, total = await service.history(session, jurisdiction.code, per_page=HISTORY_SHOWN)
    return render(request, "jurisdictions/settings.html", {
        "j": jurisdiction, "groups": groups, "history": history, "history_total": total,
        "history_shown": HISTORY_SHOWN, "REGISTRY": REGISTRY,
        "may_edit": await _may_edit(session, user, jurisdiction.code),
        "shown": json.dumps(shown or current, ensure_ascii=False),
        "blank_rows": BLANK_CATEGORY_ROWS, "categories_max": CATEGORIES_MAX,
        "reason": reason, "reason_errors": [p.zh for p in problems if p.setting == "reason"],
        "error": refusal_text(error) if error else None,
        "saved": _count(request.query_params.get("saved", "")),
        "unchanged": "unchanged" in request.query_params}, status=status)


@router.get("/staff/jurisdictions/{code}/settings")
async def settings_page(request: Request, code: str, session: SessionDep,
                        user: User = page_perm(Perm.staff_pages)):
    """本级参数设置: every setting by stage; the form for congress staff; the history."""
    jurisdiction = await _readable(session, user, code)
    return await _page(request, session, user, jurisdiction)


@router.post("/staff/jurisdictions/{code}/settings")
async def change_settings(request: Request, code: str, session: SessionDep,
                          user: User = page_perm(Perm.settings_manage)):
    """Save the settings the person changed; a refusal re-shows the form, nothing stored."""
    jurisdiction = await _readable(session, user, code)
    form = await request.form()
    values = {spec.name: _posted(form, spec) for spec in REGISTRY.values() if spec.name in form}
    reason = str(form.get("reason", ""))
    shown = _shown_of(form)
    async with attempting(session) as tried:
        refuse_nul(reason, *(t for v in values.values() for t in (v if isinstance(v, list) else [v])))
        change = await service.update(session, actor=user, code=code,
                                      changes=_touched(values, shown), reason=reason,
                                      strict=False)
    if exc := tried.refused:
        return await _page(request, session, user, jurisdiction, values=values,
                           shown=shown or None, reason=reason, error=exc, status=exc.status)
    flag = f"saved={len(change.changes)}" if change.changes else "unchanged"
    return redirect(request, f"/staff/jurisdictions/{code}/settings?{flag}")

