"""Reading and changing a jurisdiction's settings (本级参数): checked against the registry, a
required reason, one audit entry per change with each setting's from and to."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.deps import ensure_scope
from app.errors import Invalid
from app.jurisdictions import service as jurisdictions
from app.jurisdictions.registry import REGISTRY
from app.jurisdictions.settings import (
    JurisdictionSettings,
    defaults_for,
    inconsistencies,
    settings_for,
)
from app.models import AuditEntry, Jurisdiction, User

ACTION = "jurisdiction.settings"
MAX_REASON = 500
MAX_UNKNOWN_NAMED = 20  # unknown settings named one by one in a refusal; the rest are counted


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a requested change: which setting, what, and what is allowed."""

    setting: str
    kind: str  # unknown_setting | invalid_value | inconsistent | reason_required | reason_too_long
    en: str
    zh: str


class SettingsInvalid(Invalid):
    """A change refused as a whole (nothing stored); `problems` names each thing to fix."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        only_reason = all(p.setting == "reason" for p in problems)
        super().__init__(
            "Nothing was changed. Fix these: " + "; ".join(p.en for p in problems) + ".",
            code="reason_required" if only_reason and problems[0].kind == "reason_required"
            else "invalid_settings",
            zh="没有保存任何修改。请修改：" + "；".join(p.zh for p in problems) + "。")
        # The API adds these to its {"detail", "code"} answer, in the shape of its other 422s.
        self.extra = {"errors": [{"loc": ["body", p.setting], "msg": p.en, "type": p.kind}
                                 for p in problems]}


@dataclass
class SettingsChange:
    """What a change did: the settings after it and each changed setting's (from, to)."""

    settings: JurisdictionSettings
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class HistoryEntry:
    """One recorded change of settings, read back from the audit log."""

    at: datetime
    by: str  # the username
    by_name: str  # their display name (the username if the account is gone)
    reason: str
    changes: list[tuple[str, Any, Any]]  # (setting, from, to) in registry order


def check(before: JurisdictionSettings, changes: dict[str, Any], *,
          strict: bool = True) -> tuple[JurisdictionSettings | None, list[Problem]]:
    """The settings `changes` would make from `before`, or the problems that stop them.

    `strict` (the JSON API) takes values as JSON types; the page sends text, read leniently.
    """
    unknown = [name for name in changes if name not in REGISTRY]
    problems = [_unknown(name) for name in unknown[:MAX_UNKNOWN_NAMED]]
    if len(unknown) > MAX_UNKNOWN_NAMED:
        more = len(unknown) - MAX_UNKNOWN_NAMED
        problems.append(Problem("…", "unknown_setting", f"and {more} more unknown settings",
                                f"另有 {more} 个未知参数"))
    known = {k: v for k, v in changes.items() if k in REGISTRY}
    bad: dict[str, Problem] = {}
    try:
        after = _validated(before, known, strict)
    except ValidationError as exc:
        for err in exc.errors():
            name = str(err["loc"][0]) if err.get("loc") else ""
            if name in known and name not in bad:
                bad[name] = _invalid(name, err)
        # The other changes are still checked against each other (and what stays).
        after = _validated(before, {k: v for k, v in known.items() if k not in bad}, strict)
    problems += bad.values()
    for mismatch in inconsistencies(after):
        # Shown beside the first of its settings that the change touches.
        name = next((n for n in mismatch.settings if n in changes), mismatch.settings[0])
        problems.append(Problem(name, "inconsistent", mismatch.en, mismatch.zh))
    return (None, problems) if problems else (after, [])


def _validated(before: JurisdictionSettings, changes: dict[str, Any],
               strict: bool) -> JurisdictionSettings:
    """`before` with `changes`, each value checked; settings that must fit together are
    checked by the caller, which names each mismatch."""
    return JurisdictionSettings.model_validate({**before.model_dump(), **changes}, strict=strict,
                                               context={"consistency": "later"})


def _unknown(name: str) -> Problem:
    close = difflib.get_close_matches(name, list(REGISTRY), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return Problem(str(name)[:64], "unknown_setting",
                   f"'{str(name)[:64]}' is not a setting{hint}; GET /api/v1/settings lists them",
                   f"没有名为“{str(name)[:64]}”的参数")


def _invalid(name: str, err: dict) -> Problem:
    spec = REGISTRY[name]
    en = f"{name} must be {spec.allowed()}"
    zh = f"「{spec.zh_name}」{spec.allowed_zh()}"
    if err["type"] in ("category_name", "category_twice"):  # which name is wrong, too
        en += f": {err['msg']}"
        zh += (f"：“{err['ctx']['name']}”重复了" if err["type"] == "category_twice"
               else f"：“{err['ctx']['name']}”不合要求")
    return Problem(name, "invalid_value", en, zh)


def stored_form(jurisdiction: Jurisdiction, settings: JurisdictionSettings) -> dict[str, Any]:
    """What to store: only the settings that differ from the jurisdiction level's defaults,
    so a setting nobody changed follows its default."""
    defaults = defaults_for(jurisdiction.level).model_dump()
    return {k: v for k, v in settings.model_dump().items() if v != defaults[k]}


async def update(session: AsyncSession, *, actor: User, code: str, changes: dict[str, Any],
                 reason: str | None, strict: bool = True) -> SettingsChange:
    """Change some of a jurisdiction's settings (congress staff of it, admin), with a reason.

    Every problem is reported at once and nothing is stored (SettingsInvalid, 422); a change
    that changes nothing stores nothing and needs no reason.
    """
    await jurisdictions.get(session, code)  # 404 before 403
    await ensure_scope(session, actor, code)
    # Lock the row: two changes at once must not both start from the same "from".
    jurisdiction = await session.scalar(
        select(Jurisdiction).where(Jurisdiction.code == code).with_for_update()
        .execution_options(populate_existing=True))
    before = settings_for(jurisdiction)
    after, problems = check(before, changes, strict=strict)
    reason = (reason or "").strip()
    if after is not None:
        diff = {name: (getattr(before, name), getattr(after, name)) for name in REGISTRY
                if getattr(before, name) != getattr(after, name)}
    else:
        diff = {name: (None, None) for name in changes if name in REGISTRY}
    if diff and not reason:
        problems.append(Problem("reason", "reason_required",
                                "reason: say why the settings change (it is kept in the record)",
                                "请填写修改原因（将记入修改记录）"))
    if len(reason) > MAX_REASON:
        problems.append(Problem("reason", "reason_too_long",
                                f"reason: at most {MAX_REASON} characters",
                                f"修改原因不能超过 {MAX_REASON} 个字"))
    if problems:
        raise SettingsInvalid(problems)
    if not diff:
        return SettingsChange(before)
    jurisdiction.settings = stored_form(jurisdiction, after)
    session.add(jurisdiction)
    await session.flush()
    await audit.record(session, actor=actor.username, action=ACTION, entity_type="jurisdiction",
                       entity_id=code, data={
                           "changes": {name: {"from": old, "to": new}
                                       for name, (old, new) in diff.items()},
                           "reason": reason})
    return SettingsChange(after, diff)


async def history(session: AsyncSession, code: str, *, page: int = 1,
                  per_page: int = 50) -> tuple[list[HistoryEntry], int]:
    """The jurisdiction's changes of settings, newest first, from the audit log."""
    where = (AuditEntry.entity_type == "jurisdiction", AuditEntry.entity_id == code,
             AuditEntry.action == ACTION)
    total = await session.scalar(select(func.count()).select_from(AuditEntry).where(*where))
    rows = await session.scalars(select(AuditEntry).where(*where).order_by(
        AuditEntry.seq.desc()).offset((page - 1) * per_page).limit(per_page))
    rows = list(rows)
    names = dict((await session.execute(select(User.username, User.display_name).where(
        User.username.in_({row.actor for row in rows})))).all()) if rows else {}
    entries = []
    order = {name: i for i, name in enumerate(REGISTRY)}
    for row in rows:
        data = json.loads(row.data)
        changes = sorted(((name, c.get("from"), c.get("to"))
                          for name, c in (data.get("changes") or {}).items()),
                         key=lambda c: order.get(c[0], len(order)))
        entries.append(HistoryEntry(at=row.at, by=row.actor, by_name=names.get(row.actor, row.actor),
                                    reason=data.get("reason", ""), changes=changes))
    return entries, total or 0
