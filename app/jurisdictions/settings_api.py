"""JSON API: a jurisdiction's settings (本级参数), their history, and the registry describing
every setting."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from app.auth.deps import ensure_scope, require
from app.auth.roles import Perm
from app.db import SessionDep
from app.jurisdictions import service as jurisdictions
from app.jurisdictions import settings_service as service
from app.jurisdictions.registry import describe
from app.jurisdictions.settings import JurisdictionSettings, settings_for
from app.models import User
from app.pagination import Page, PageDep
from app.schemas import Input

router = APIRouter(tags=["settings"])


def _document_settings(schema: dict[str, Any]) -> None:
    """List every setting in the body's schema (each optional); the service checks them, so a
    wrong one gets a sentence saying what is allowed rather than a generic type error."""
    settings = JurisdictionSettings.model_json_schema()["properties"]
    schema["properties"] = {**settings, **schema.get("properties", {})}


class SettingsChangeIn(Input):
    """Only the settings to change, each with its new value, and why."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_document_settings)

    reason: str | None = Field(default=None,
                               description="why the settings change (required if one does)")


class Choice(BaseModel):
    value: Any
    label: str


class SettingDescription(BaseModel):
    name: str
    zh_name: str
    meaning: str
    stage: str
    stage_name: str
    default: Any
    kind: str = Field(description="integer, number, boolean, choice or list")
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    unit: str | None = None
    min_items: int | None = None
    max_items: int | None = None
    max_chars: int | None = None
    choices: list[Choice] | None = None
    level_defaults: dict[str, Any] | None = None


class Stage(BaseModel):
    stage: str
    name: str


class SettingsDescription(BaseModel):
    stages: list[Stage]
    settings: list[SettingDescription]


class SettingChange(BaseModel):
    setting: str
    from_: Any = Field(alias="from")
    to: Any


class SettingsHistoryItem(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    at: datetime
    by: str
    reason: str
    changes: list[SettingChange]


@router.get("/settings", response_model=SettingsDescription, response_model_exclude_none=True)
async def describe_settings():
    """Every setting a jurisdiction has: name, Chinese name, meaning, stage, default, input."""
    return describe()


@router.get("/jurisdictions/{code}/settings", response_model=JurisdictionSettings)
async def read_settings(code: str, session: SessionDep):
    """Every setting of the jurisdiction, defaults filled in."""
    return settings_for(await jurisdictions.get(session, code))


@router.put("/jurisdictions/{code}/settings", response_model=JurisdictionSettings)
async def change_settings(code: str, body: SettingsChangeIn, session: SessionDep,
                          actor: Annotated[User, require(Perm.settings_manage)]):
    """Change some settings (congress staff of the jurisdiction, admin); a reason is required.

    422 `invalid_settings` names every unknown setting and bad value with what is allowed;
    422 `reason_required` without a reason. A change of nothing stores nothing.
    """
    change = await service.update(session, actor=actor, code=code,
                                  changes=dict(body.model_extra or {}), reason=body.reason)
    return change.settings


@router.get("/jurisdictions/{code}/settings/history", response_model=Page[SettingsHistoryItem],
            response_model_by_alias=True)
async def settings_history(code: str, session: SessionDep, paging: PageDep,
                           actor: Annotated[User, require(Perm.staff_pages)]):
    """The changes of the jurisdiction's settings, newest first (its staff, admin)."""
    await jurisdictions.get(session, code)
    await ensure_scope(session, actor, code)
    rows, total = await service.history(session, code, page=paging.page,
                                        per_page=paging.per_page)
    items = [SettingsHistoryItem(at=e.at, by=e.by, reason=e.reason, changes=[
        SettingChange(setting=name, **{"from": old}, to=new) for name, old, new in e.changes])
        for e in rows]
    return Page(items=items, total=total, page=paging.page, per_page=paging.per_page)
