"""JSON API: paper ballots (纸质选票) entered twice, and hall voting devices (表决器) imported."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Response, UploadFile
from pydantic import BaseModel, Field

from app.ballotbox import devices, paper
from app.ballots.api import CurrentBallot, StaffUser
from app.db import SessionDep
from app.schemas import Input

router = APIRouter(tags=["ballots"])


class PaperIssuedIn(Input):
    count: int = Field(ge=0, le=paper.MAX_SHEET, description="paper ballots handed out")


class PaperIssuedOut(BaseModel):
    count: int


class PaperSheetIn(Input):
    sheet: int = Field(ge=1, le=paper.MAX_SHEET, description="the sheet's number (1, 2, …)")
    marks: dict[str, str] = Field(
        default_factory=dict, max_length=200,
        description="candidate id → yes / no / abstain (or 赞成 / 反对 / 弃权); a candidate "
                    "left out counts as abstain; ignored when `spoilt`")
    spoilt: bool = Field(False, description="the whole sheet is spoilt (废票): counted as "
                                            "cast and invalid")


class SheetOut(BaseModel):
    sheet: int
    status: str = Field(description="pending (待复核, one entry) / confirmed (一致) / "
                                    "differs (不一致)")
    entries: int
    entered_by: list[str] = Field(description="usernames of the staff who entered it")
    differing_candidates: list[str] = Field(description="candidates the two entries read "
                                                        "differently")
    spoilt_differs: bool = Field(description="one entry says spoilt, the other does not")


class PaperBallotsOut(BaseModel):
    issued: int
    entered: int = Field(description="sheets with at least one entry")
    confirmed: int
    pending: int
    differing: int
    items: list[SheetOut]


class DeviceImportOut(BaseModel):
    imported: int
    issued: int


@router.put("/ballots/{ballot_id}/paper-issued", response_model=PaperIssuedOut)
async def set_paper_issued(ballot: CurrentBallot, body: PaperIssuedIn, session: SessionDep,
                           actor: StaffUser):
    """Record how many paper ballots were handed out (before the tally)."""
    return PaperIssuedOut(count=await paper.set_paper_issued(session, ballot, actor, body.count))


@router.post("/ballots/{ballot_id}/paper-ballots", response_model=SheetOut, status_code=201)
async def enter_paper_ballot(ballot: CurrentBallot, body: PaperSheetIn, session: SessionDep,
                             actor: StaffUser):
    """Enter one reading of a paper sheet; two staff accounts enter each sheet (closed round).

    Entering a sheet one entered already is refused (409 `same_entrant`), except to correct
    one's own entry of a sheet whose two entries differ.
    """
    sheet = await paper.enter_sheet(session, ballot, actor, sheet=body.sheet, marks=body.marks,
                                    spoilt=body.spoilt)
    return sheet.as_dict()


@router.delete("/ballots/{ballot_id}/paper-ballots/{sheet}", status_code=204)
async def withdraw_paper_ballot(ballot: CurrentBallot,
                                sheet: Annotated[int, Path(ge=1, le=paper.MAX_SHEET)],
                                session: SessionDep, actor: StaffUser) -> Response:
    """Withdraw one's own entry of a sheet not yet confirmed (a sheet number typed wrong)."""
    await paper.withdraw_entry(session, ballot, actor, sheet)
    return Response(status_code=204)


@router.get("/ballots/{ballot_id}/paper-ballots", response_model=PaperBallotsOut)
async def list_paper_ballots(ballot: CurrentBallot, session: SessionDep, actor: StaffUser):
    """Every entered sheet with its status, and the counts."""
    return (await paper.staff_summary(session, ballot, actor)).as_dict()


@router.post("/ballots/{ballot_id}/device-import", response_model=DeviceImportOut,
             status_code=201)
async def import_devices(ballot: CurrentBallot, session: SessionDep, actor: StaffUser,
                         file: Annotated[UploadFile, File(description="the devices' CSV export")],
                         issued: Annotated[int, Form(ge=0, le=devices.MAX_DEVICE_ROWS,
                                                     description="voting devices issued")]):
    """Import the hall's voting devices' CSV export, once per round (closed, before the tally).

    UTF-8 (BOM allowed); header `ballot,<candidate id or position>,…`; marks yes/no/abstain or
    赞成/反对/弃权, empty = abstain. The whole file is checked before anything is stored.
    """
    data = await file.read(devices.MAX_DEVICE_BYTES + 1)  # devices.import_devices says if too large
    imported = await devices.import_devices(session, ballot, actor, data=data, issued=issued)
    return DeviceImportOut(imported=imported, issued=issued)
