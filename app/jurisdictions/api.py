"""JSON API: jurisdictions and the deputy roster import."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile

from app.auth.deps import require
from app.auth.roles import Perm
from app.db import SessionDep
from app.errors import Invalid, TooLarge
from app.jurisdictions import imports, service
from app.jurisdictions.schemas import JurisdictionImportOut, JurisdictionIn, JurisdictionOut
from app.models import Jurisdiction, User
from app.pagination import Page, PageDep
from app.users import service as users
from app.users.schemas import Credential, DeputyImportResult

router = APIRouter(tags=["jurisdictions"])

MAX_ROSTER_BYTES = 1_000_000


def to_out(j: Jurisdiction) -> JurisdictionOut:
    return JurisdictionOut(code=j.code, name=j.name, level=j.level, parent_code=j.parent_code,
                           division_code=j.division_code, has_congress=j.has_congress)


@router.post("/jurisdictions", status_code=201, response_model=JurisdictionOut)
async def create_jurisdiction(body: JurisdictionIn, session: SessionDep,
                              actor: Annotated[User, require(Perm.jurisdiction_manage)]):
    """Add a province, city, county, township or street where the nesting rules allow (admin)."""
    j = await service.create(session, actor=actor, code=body.code, name=body.name,
                             level=body.level, parent_code=body.parent_code,
                             division_code=body.division_code)
    return to_out(j)


@router.post("/jurisdictions/import", status_code=201, response_model=JurisdictionImportOut)
async def import_jurisdictions(session: SessionDep,
                               actor: Annotated[User, require(Perm.jurisdiction_manage)],
                               file: Annotated[UploadFile, File(
                                   description="CSV: code,name,level,parent_code[,division_code]")]):
    """Import jurisdictions from CSV (admin): the whole file is checked first, 422 lists every
    bad line; rows already stored unchanged are counted, never changed."""
    data = await file.read(imports.MAX_IMPORT_BYTES + 1)  # read_rows says if too large
    result = await imports.import_file(session, actor=actor.username, data=data)
    return JurisdictionImportOut(created=len(result.new), unchanged=len(result.unchanged))


@router.get("/jurisdictions", response_model=Page[JurisdictionOut])
async def list_jurisdictions(session: SessionDep, paging: PageDep):
    """Every jurisdiction in tree order: each top-level one, then what it contains."""
    rows = await service.list_all(session)
    start = (paging.page - 1) * paging.per_page
    return Page(items=[to_out(j) for j in rows[start:start + paging.per_page]], total=len(rows),
                page=paging.page, per_page=paging.per_page)


@router.post("/jurisdictions/{code}/deputies", status_code=201, response_model=DeputyImportResult)
async def import_deputies(code: str, session: SessionDep,
                          actor: Annotated[User, require(Perm.deputy_manage)],
                          file: Annotated[UploadFile, File(description="CSV roster")]):
    """Import the deputy roster from CSV: `username,display_name[,password]`."""
    data = await file.read(MAX_ROSTER_BYTES + 1)
    if len(data) > MAX_ROSTER_BYTES:
        raise TooLarge("The roster file is larger than 1 MB; split it.", code="file_too_large")
    if not data:
        raise Invalid("The uploaded file is empty.", code="csv_empty")
    created = await users.import_deputies(session, actor=actor, jurisdiction_code=code, data=data)
    return DeputyImportResult(
        created=len(created),
        credentials=[Credential(username=u, initial_password=p) for u, p in created if p])
