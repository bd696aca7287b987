"""Staff pages of 征集 (gov_staff): the triage queue, reported comments, the reserve (储备库),
the CSV export."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from app.auth.deps import ensure_scope
from app.auth.roles import Perm, has_perm
from app.comments import service as comments
from app.cycles import service as cycles
from app.db import SessionDep
from app.errors import Invalid
from app.models import Cycle, Proposal, User
from app.pages.deps import page_perm
from app.pages.forms import attempting, parse_form, refusal_text, refuse_nul
from app.pages.render import is_fragment_request, redirect, render
from app.proposals import export, review, service
from app.proposals.labels import labels_ctx
from app.proposals.schemas import CarryIn, ReviewIn
from app.proposals.views import page_number
from app.workflows.proposal import REJECTION_REASONS, REVIEW_PHASES, ProposalState

router = APIRouter(include_in_schema=False, prefix="/staff")

QUEUE_PER_PAGE = 20
SIMILAR_BESIDE = 3
REVIEW_LABELS = {"decision": "处理结果", "reason": "理由", "merge_into_id": "合并到的建议编号"}


async def _staff_cycle(session, user: User, cycle_id: str) -> Cycle:
    cycle = await cycles.get(session, cycle_id)
    await ensure_scope(session, user, cycle.jurisdiction_code)
    return cycle


async def _queue(session, cycle: Cycle, page: int) -> tuple[list[Proposal], int]:
    """Submitted proposals awaiting review, oldest first (service.list_page sorts newest first)."""
    where = (Proposal.cycle_id == cycle.id, Proposal.state == ProposalState.submitted)
    total = await session.scalar(select(func.count()).select_from(Proposal).where(*where)) or 0
    rows = await session.scalars(select(Proposal).where(*where)
                                 .order_by(Proposal.created_at, Proposal.id)
                                 .offset((page - 1) * QUEUE_PER_PAGE).limit(QUEUE_PER_PAGE))
    return list(rows), total


async def _place_names(session, cycle: Cycle) -> dict[str, str]:
    return {j.code: j.name for j in await service.places_of(session, cycle)}


async def _item_ctx(session, cycle: Cycle, p: Proposal) -> dict:
    return {"p": p, "similar": await service.similar(session, cycle.id, p.title,
                                                     limit=SIMILAR_BESIDE, exclude_id=p.id)}


async def _triage_page(request: Request, session, user: User, cycle: Cycle, *, page: int = 1,
                       done: Proposal | None = None, failed: dict | None = None,
                       error: str | None = None, status: int = 200):
    rows, total = await _queue(session, cycle, page)
    items = [await _item_ctx(session, cycle, p) for p in rows]
    if failed:  # keep what was picked on the item that was refused
        for item in items:
            if item["p"].id == failed["id"]:
                item["form"] = failed
    places = await _place_names(session, cycle)
    return render(request, "proposals/triage.html", {
        **labels_ctx(), "cycle": cycle, "items": items, "total": total, "page": page,
        "pages": max(1, -(-total // QUEUE_PER_PAGE)), "place_names": places,
        "reasons": REJECTION_REASONS, "reviewing": cycle.phase in REVIEW_PHASES,
        "done": done, "error": error,
        "reported": (await comments.reported_comments(session, cycle.jurisdiction_code)
                     if has_perm(user.role, Perm.comment_moderate) else []),
        "may_export": has_perm(user.role, Perm.proposal_export),
    }, status=status)


@router.get("/cycles/{cycle_id}/triage")
async def triage(request: Request, cycle_id: str, session: SessionDep, page: str = "1",
                 done: str = "", user: User = page_perm(Perm.proposal_review)):
    """The queue of submitted proposals, each beside the three most like it."""
    cycle = await _staff_cycle(session, user, cycle_id)
    finished = None
    if done:
        finished = await session.get(Proposal, done)
        finished = finished if finished and finished.cycle_id == cycle.id else None
    return await _triage_page(request, session, user, cycle, page=page_number(page),
                              done=finished)


def _review_input(form) -> dict:
    """What the person picked: decision, reason (quick pick and/or own words), merge target."""
    decision = str(form.get("decision", ""))
    picked = str(form.get("reason_pick", "")).strip()
    own = str(form.get("reason", "")).strip()
    target = (str(form.get("merge_other", "")).strip()
              or str(form.get("merge_into_id", "")).strip())
    return {"decision": decision, "reason_pick": picked, "reason": own,
            "merge_into_id": target}


@router.post("/proposals/{proposal_id}/review")
async def review_proposal(request: Request, proposal_id: str, session: SessionDep,
                          user: User = page_perm(Perm.proposal_review)):
    """采纳入库 / 不予采纳 (with a public reason) / 合并到; the proposer is told."""
    proposal = await service.get(session, proposal_id)
    cycle = await _staff_cycle(session, user, proposal.cycle_id)
    form = await request.form()
    picked = _review_input(form)
    page = page_number(str(form.get("page", "1")))
    async with attempting(session) as tried:
        refuse_nul(*picked.values())
        if picked["decision"] not in ("accept", "reject", "merge"):
            raise Invalid("pick a decision", zh="请选择：采纳入库、不予采纳或合并。")
        if picked["decision"] == "reject":
            reason = "；".join(x for x in (picked["reason_pick"], picked["reason"]) if x)
            if not reason:
                raise Invalid("reason required", zh="不予采纳须说明理由（会公开显示）：请点选或填写。")
        else:
            reason = ""  # accepting: "进入储备库"; merging: the service names the target
        data = parse_form(ReviewIn, {"decision": picked["decision"], "reason": reason,
                                     "merge_into_id": picked["merge_into_id"] or None},
                          REVIEW_LABELS)
        await review.review(session, actor=user, proposal=proposal,
                            decision=data.decision, reason=data.reason,
                            merge_into_id=data.merge_into_id)
    if exc := tried.refused:
        message = refusal_text(exc)
        if is_fragment_request(request):
            return render(request, "proposals/triage.html", {
                **labels_ctx(), **await _item_ctx(session, cycle, proposal), "form": picked,
                "reasons": REJECTION_REASONS, "cycle": cycle, "item_error": message,
                "error": message, "page": page, "place_names": await _place_names(session, cycle)},
                status=exc.status, block="item")
        return await _triage_page(request, session, user, cycle, page=page,
                                  failed={**picked, "id": proposal.id, "error": message},
                                  error=message, status=exc.status)
    if is_fragment_request(request):
        return render(request, "proposals/triage.html", {
            **labels_ctx(), "p": proposal, "cycle": cycle, "finished": True,
            "merged_into": (await service.get(session, proposal.merged_into_id)
                            if proposal.merged_into_id else None)}, block="item")
    return redirect(request, f"/staff/cycles/{cycle.id}/triage?page={page}&done={proposal.id}")


@router.get("/cycles/{cycle_id}/reserve")
async def reserve_page(request: Request, cycle_id: str, session: SessionDep, carried: str = "",
                       user: User = page_perm(Perm.proposal_review)):
    """储备库: accepted, not adopted proposals of earlier years, to carry into this cycle."""
    cycle = await _staff_cycle(session, user, cycle_id)
    return await _reserve_page(request, session, cycle,
                               carried=int(carried) if carried.isdigit() else None)


async def _reserve_page(request: Request, session, cycle: Cycle, *, carried: int | None = None,
                        chosen: set[str] | None = None, reason: str = "",
                        error: str | None = None, status: int = 200):
    rows = await review.reserve(session, cycle.jurisdiction_code, before_year=cycle.year)
    years = {}
    for p in rows:
        if p.cycle_id not in years:
            years[p.cycle_id] = (await cycles.get(session, p.cycle_id)).year
    places = await _place_names(session, cycle)
    return render(request, "proposals/reserve.html", {
        **labels_ctx(), "cycle": cycle, "rows": rows, "years": years, "place_names": places,
        "carried": carried, "chosen": chosen or set(), "reason": reason, "error": error,
    }, status=status)


@router.post("/cycles/{cycle_id}/reserve")
async def carry(request: Request, cycle_id: str, session: SessionDep,
                user: User = page_perm(Perm.proposal_review)):
    cycle = await _staff_cycle(session, user, cycle_id)
    form = await request.form()
    ids = [str(v) for v in form.getlist("proposal_ids")]
    reason = str(form.get("reason", "")).strip()
    async with attempting(session) as tried:
        refuse_nul(reason, *ids)
        if not ids:
            raise Invalid("choose proposals", zh="请勾选要结转的建议。")
        data = parse_form(CarryIn, {"proposal_ids": ids, "reason": reason},
                          {"proposal_ids": "结转的建议", "reason": "结转说明"})
        pairs = await review.carry(session, actor=user, cycle=cycle,  # all of them or none
                                   proposal_ids=data.proposal_ids, reason=data.reason)
    if exc := tried.refused:
        return await _reserve_page(request, session, cycle, chosen=set(ids), reason=reason,
                                   error=refusal_text(exc), status=exc.status)
    return redirect(request, f"/staff/cycles/{cycle.id}/reserve?carried={len(pairs)}")


@router.get("/cycles/{cycle_id}/proposals.csv")
async def export_csv(cycle_id: str, session: SessionDep,
                     user: User = page_perm(Perm.proposal_export)):
    """Every proposal of the cycle as CSV (UTF-8 with BOM), for a logged-in staff member."""
    cycle = await _staff_cycle(session, user, cycle_id)
    return Response(await export.proposals_csv(session, cycle),
                    media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition":
                             f'attachment; filename="proposals-{cycle.year}.csv"'})

