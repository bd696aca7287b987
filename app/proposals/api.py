"""JSON API: proposals (征集) — filing, the public list and search, endorsements, review."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response

from app.auth.deps import CurrentUser, bearer_claims, ensure_scope, require
from app.auth.roles import Perm
from app.cycles.deps import CurrentCycle
from app.db import SessionDep
from app.errors import Invalid, TooLarge
from app.models import Proposal, User
from app.pagination import Page, PageDep
from app.proposals import engagement, export, hotline, listing, photos, review, service
from app.proposals.detail import proposal_out
from app.proposals.hotline_file import MAX_FILE_BYTES
from app.proposals.schemas import (
    CarryIn,
    CarryOut,
    EndorsementOut,
    ImportOut,
    ImportProblemOut,
    ImportRowOut,
    ProposalCreated,
    ProposalIn,
    ProposalOut,
    ProposalSummary,
    ReviewIn,
    SimilarOut,
    StateOut,
    summary,
)
from app.ratelimit import HOTLINE_IMPORTS_PER_ACCOUNT, proposals_rule
from app.workflows.proposal import ProposalState

router = APIRouter(tags=["proposals"])


async def _proposal(proposal_id: str, session: SessionDep) -> Proposal:
    return await service.get(session, proposal_id)


CurrentProposal = Annotated[Proposal, Depends(_proposal)]


@router.post("/cycles/{cycle_id}/proposals", status_code=201, response_model=ProposalCreated)
async def create_proposal(cycle: CurrentCycle, body: ProposalIn, request: Request,
                          session: SessionDep, actor: CurrentUser):
    """File a proposal while the cycle is soliciting (resident, deputy; gov_staff records one).

    gov_staff recording another channel give `channel` and `proposer_name`, and may give the
    channel's record number `source_ref` (12345 工单号, once per cycle: again → 409
    duplicate_source_ref) and `proposer_phone` (staff only, never public).
    """
    rule = proposals_rule(actor.role)
    limits = request.app.state.rate_limits
    await limits.check(rule, actor.id)
    proposal = await service.create(session, actor=actor, cycle=cycle, **body.model_dump())
    await limits.hit(rule, actor.id)  # a refused attempt uses up nothing
    return ProposalCreated(id=proposal.id, state=proposal.state)


@router.post("/cycles/{cycle_id}/proposals/import", status_code=201, response_model=ImportOut)
async def import_hotline(
        cycle: CurrentCycle, request: Request, response: Response, session: SessionDep,
        actor: Annotated[User, require(Perm.proposal_record)],
        file: Annotated[UploadFile, File(description="the hotline export: .xlsx or .csv")],
        dry_run: Annotated[bool, Query(description="check and answer the preview; store "
                                                    "nothing")] = False):
    """Import a 12345 hotline export (gov_staff of the jurisdiction, while soliciting).

    CSV (UTF-8, BOM or not, or GBK/GB18030) or XLSX; columns 工单号, 标题, 诉求内容, 类别
    required, 来电时间, 来电人, 联系电话, 所在乡镇（街道）, 地点, 估算金额（万元）, 渠道 optional
    (docs/hotline.md). With `dry_run=true`: 200 and every row's verdict, nothing stored.
    Otherwise the whole file is checked again: 422 `import_rows_invalid` with `errors` (line,
    column, field, detail) if any row has a problem, else 201 with the rows created and those
    skipped because their 工单号 is in the cycle already.
    """
    limits = request.app.state.rate_limits
    if not dry_run:
        await limits.check(HOTLINE_IMPORTS_PER_ACCOUNT, actor.id)
    data = await file.read(MAX_FILE_BYTES + 1)  # read_export says if too large
    result = await hotline.import_file(session, actor=actor, cycle=cycle, data=data,
                                       filename=file.filename or "", dry_run=dry_run)
    if dry_run:
        response.status_code = 200
    elif result.count("created"):
        await limits.hit(HOTLINE_IMPORTS_PER_ACCOUNT, actor.id)
    return import_out(result)


def import_out(result: hotline.ImportResult) -> ImportOut:
    """The import's answer: counts and every row."""
    return ImportOut(
        dry_run=result.dry_run, valid=result.valid, rows=len(result.rows),
        to_create=result.count("create"), created=result.count("created"),
        skipped=result.count("skip"), invalid=result.count("invalid"), columns=result.columns,
        ignored_columns=result.ignored_columns,
        items=[ImportRowOut(line=r.line, source_ref=r.source_ref, status=r.status,
                            title=r.title, channel=r.channel, location_code=r.location_code,
                            proposal_id=r.proposal_id,
                            problems=[ImportProblemOut(**vars(p)) for p in r.problems])
               for r in result.rows])


@router.get("/cycles/{cycle_id}/proposals", response_model=Page[ProposalSummary])
async def list_proposals(
        cycle_id: str, session: SessionDep, paging: PageDep,
        q: Annotated[str, Query(max_length=100, description="words, simplified or traditional")] = "",
        category: Annotated[str | None, Query(max_length=32)] = None,
        state: ProposalState | None = None,
        location_code: Annotated[str | None, Query(max_length=32)] = None,
        sort: Annotated[str, Query(pattern="^(newest|oldest|endorsed)$")] = "newest"):
    """The cycle's proposals: filter, search (q), sort by newest or most endorsed."""
    f = listing.ListFilter(q=q, category=category, state=state, location_code=location_code,
                           sort=sort)
    # listing.page answers 404 for an unknown cycle itself (in the same hand-over).
    rows, total = await listing.page(session, cycle_id, f, page=paging.page,
                                     per_page=paging.per_page)
    return Page(items=[summary(p) for p in rows], total=total, page=paging.page,
                per_page=paging.per_page)


@router.get("/cycles/{cycle_id}/proposals/similar", response_model=list[SimilarOut])
async def similar_proposals(cycle_id: str, session: SessionDep,
                            text: Annotated[str, Query(max_length=200)] = ""):
    """Proposals like `text` (a title being typed), so a resident can endorse instead."""
    rows = await listing.similar(session, cycle_id, text)  # 404 for an unknown cycle
    return [SimilarOut(id=p.id, title=p.title, state=p.state, endorsements=p.endorsement_count)
            for p in rows]


@router.get("/cycles/{cycle_id}/proposals.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
async def export_proposals(cycle: CurrentCycle, session: SessionDep,
                           actor: Annotated[User, require(Perm.proposal_export)]):
    """Every proposal of the cycle as CSV (UTF-8 with BOM) for staff."""
    await ensure_scope(session, actor, cycle.jurisdiction_code)
    return Response(await export.proposals_csv(session, cycle), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition":
                             f'attachment; filename="proposals-{cycle.year}.csv"'})


@router.get("/proposals/{proposal_id}", response_model=ProposalOut, response_model_by_alias=True)
async def read_proposal(proposal: CurrentProposal, session: SessionDep):
    """One proposal with its endorsements, photos and public history."""
    return await proposal_out(session, proposal)


async def _encoded_photos(request: Request, files: Annotated[list[UploadFile], File(
        description="1–3 photos")]) -> list[photos.EncodedPhoto]:
    """The uploaded photos, checked and re-encoded before the request's session begins (the
    route declares them ahead of it): on SQLite a writing request's session holds the worker's
    write turn, and decoding must never hold it. Only a caller with a signed token gets here."""
    bearer_claims(request)
    if not files:
        raise Invalid("Attach at least one photo.", code="no_photos", zh="请选择照片。")
    if len(files) > photos.MAX_PHOTOS:
        raise photos.too_many_photos()
    for upload in files:  # the files stay spooled (on disk) until decoded
        if photos.size_of(upload.file) > photos.MAX_BYTES:
            raise TooLarge("A photo may be at most 8 MB.", code="photo_too_large",
                           zh="每张照片不能超过 8 MB。")
    return await photos.encode([upload.file for upload in files])


@router.post("/proposals/{proposal_id}/photos", status_code=201)
async def upload_photos(encoded: Annotated[list[photos.EncodedPhoto], Depends(_encoded_photos)],
                        proposal: CurrentProposal, request: Request, session: SessionDep,
                        actor: CurrentUser):
    """Attach photos (JPEG/PNG/WebP, 8 MB each); they are re-encoded without metadata."""
    stored = await photos.add_photos(session, actor=actor, proposal=proposal, photos=encoded,
                                     media_dir=request.app.state.settings.media_dir)
    return {"photos": [photos.photo_url(p) for p in stored]}


@router.post("/proposals/{proposal_id}/endorsements", status_code=201,
             response_model=EndorsementOut)
async def endorse(proposal: CurrentProposal, session: SessionDep, actor: CurrentUser):
    """附议: back a proposal (resident, deputy), once per person."""
    await engagement.endorse(session, actor=actor, proposal=proposal)
    return EndorsementOut(proposal_id=proposal.id, endorsements=proposal.endorsement_count)


@router.post("/proposals/{proposal_id}/review", response_model=StateOut)
async def review_proposal(proposal: CurrentProposal, body: ReviewIn, session: SessionDep,
                          actor: Annotated[User, require(Perm.proposal_review)]):
    """Accept, reject with a public reason, or merge into another proposal (gov_staff)."""
    await review.review(session, actor=actor, proposal=proposal, decision=body.decision,
                        reason=body.reason, merge_into_id=body.merge_into_id)
    return StateOut(state=proposal.state)


@router.get("/jurisdictions/{code}/reserve", response_model=list[ProposalSummary])
async def reserve(code: str, session: SessionDep,
                  actor: Annotated[User, require(Perm.proposal_review)],
                  before_year: Annotated[int, Query(ge=2000, le=2101)] = 2101):
    """储备库: accepted proposals of earlier cycles that were not adopted."""
    await ensure_scope(session, actor, code)
    return [summary(p) for p in await review.reserve(session, code, before_year=before_year)]


@router.post("/cycles/{cycle_id}/reserve", status_code=201, response_model=CarryOut)
async def carry_from_reserve(cycle: CurrentCycle, body: CarryIn, session: SessionDep,
                             actor: Annotated[User, require(Perm.proposal_review)]):
    """Carry reserve proposals into this cycle with their history and endorsements."""
    pairs = await review.carry(session, actor=actor, cycle=cycle,
                               proposal_ids=body.proposal_ids, reason=body.reason)
    return CarryOut(carried=[{"from": a.id, "id": b.id} for a, b in pairs])
