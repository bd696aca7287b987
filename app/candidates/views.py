"""Public pages of 初定: the candidate list (公示), one candidate with its comments, and the print
view handed to deputies; and the helpers the staff pages (staff_views.py) share."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import ValidationError

from app.auth.deps import ensure_scope, in_scope
from app.auth.roles import STAFF_ROLES, Perm, has_perm
from app.candidates import service
from app.comments import service as comments
from app.comments.schemas import CommentIn, HideIn, ReportIn
from app.cycles import service as cycles
from app.db import SessionDep
from app.errors import Forbidden, Invalid, NotFound
from app.govlist.draft import draft_published
from app.i18n import COOKIE, N_, pick_locale, to_traditional
from app.jurisdictions import service as jurisdictions
from app.models import Candidate, Cycle, User
from app.pages import forms
from app.pages.deps import LoggedIn, PageUser, page_perm
from app.pages.formats import wan
from app.pages.forms import attempting, parse_form, refusal_text, refuse_nul
from app.pages.render import is_fragment_request, redirect, render
from app.proposals.labels import labels_ctx as proposal_labels
from app.ratelimit import COMMENTS_PER_PERSON
from app.timeutil import china_today
from app.workflows.candidate import CANDIDATE_WORKFLOW, STATE_LABELS, CandidateState
from app.workflows.cycle import CyclePhase
from app.workflows.engine import history

router = APIRouter(include_in_schema=False)

PICK_LIMIT = 50  # accepted proposals listed in the builder; search narrows the rest
FUNDING_ROWS, TARGET_ROWS = (3, 10), (3, 20)  # (rows shown at first, most rows)
TEXT_FIELDS = ("title", "summary", "responsible_unit", "budget_wan", "deadline", "feasibility")
LABELS = {"title": "项目名称", "summary": "项目概述", "responsible_unit": "责任单位",
          "budget_wan": "预算（万元）", "deadline": "完成时限", "feasibility": "可行性说明",
          "funding": "资金来源", "targets": "建设目标", "proposal_ids": "来源建议",
          "start": "公示开始日期", "end": "公示截止日期", "name": "责任单位名称",
          "source": "的来源", "amount_wan": "的金额"}
# Beyond app.pages.forms' sentences: the candidate form's money, dates and lines.
MESSAGES = {"greater_than": "须大于 {gt}", "decimal_parsing": "须为数字",
            "decimal_max_places": "最多保留 {decimal_places} 位小数", "decimal_max_digits": "数字太大",
            "too_long": "最多 {max_length} 行，现有 {actual_length} 行",
            "date_from_datetime_parsing": "须为日期（年-月-日）", "date_parsing": "须为日期（年-月-日）",
            "value_error": "每条 1–200 字"}
# The buttons of the approval chain, by the state they lead to.
MOVE_LABELS = {CandidateState.gov_approved: N_("政府常务会议通过"),
               CandidateState.party_approved: N_("党委会议通过"),
               CandidateState.reviewed: N_("人大审查通过"),
               CandidateState.drafted: N_("退回修改")}


def localized(request: Request, text: str | None) -> str | None:
    """A sentence made here, in traditional characters on zh_Hant pages (render() converts
    only `error` and `message`)."""
    locale = pick_locale(request.cookies.get(COOKIE), request.app.state.settings.default_locale)
    return to_traditional(text) if text and locale == "zh_Hant" else text


def labels_ctx() -> dict:
    return {**proposal_labels(), "PROPOSAL_STATES": proposal_labels()["STATE_LABELS"],
            "STATE_LABELS": {str(k): v for k, v in STATE_LABELS.items()},
            "MOVE_LABELS": {str(k): v for k, v in MOVE_LABELS.items()}, "wan": wan}


def explain(exc: ValidationError) -> str:
    """One Chinese sentence naming each field (and row) to fix."""
    return forms.explain(exc, LABELS, MESSAGES)


async def _staff_cycle(session, user: User, cycle_id: str) -> Cycle:
    cycle = await cycles.get(session, cycle_id)
    await ensure_scope(session, user, cycle.jurisdiction_code)
    return cycle


def _ensure_builder(user: User) -> None:
    if not has_perm(user.role, Perm.candidate_build):
        raise Forbidden("not gov staff", zh="候选项目由政府工作人员拟定和修改。")


async def _is_staff_of(session, user: User | None, cycle: Cycle) -> bool:
    return (user is not None and user.role in STAFF_ROLES
            and await in_scope(session, user, cycle.jurisdiction_code))


# ---------------------------------------------------------------- the public list (公示)

async def _public_cards(session, rows: list[Candidate]) -> list[dict]:
    """Candidates with their unit's name and the proposals they answer."""
    sources = await service.sources_of(session, [c.id for c in rows])
    names = await service.unit_names(session, {c.responsible_unit_id for c in rows})
    return [{"c": c, "unit": names.get(c.responsible_unit_id, ""), "sources": sources[c.id]}
            for c in rows]


async def _public_ctx(session, cycle: Cycle) -> dict:
    rows = await service.list_for(session, cycle, include_drafts=False)
    return {**labels_ctx(), "cycle": cycle, "cards": await _public_cards(session, rows),
            "jurisdiction": await jurisdictions.get(session, cycle.jurisdiction_code),
            "in_publicity": service.in_publicity(cycle, china_today())}


@router.get("/cycles/{cycle_id}/candidates")
async def public_list(request: Request, cycle_id: str, session: SessionDep, user: PageUser):
    """The reviewed candidates with their units, money, targets and the proposals they answer."""
    cycle = await cycles.get(session, cycle_id)
    return render(request, "candidates/list.html", {
        **await _public_ctx(session, cycle),
        "staff": await _is_staff_of(session, user, cycle)}, shared=True)


@router.get("/cycles/{cycle_id}/candidates/print")
async def print_list(request: Request, cycle_id: str, session: SessionDep):
    """The reviewed list on A4, as handed to the deputies at the session."""
    cycle = await cycles.get(session, cycle_id)
    return render(request, "candidates/print.html", {
        **await _public_ctx(session, cycle), "today": china_today()})


# ---------------------------------------------------------------- one candidate, its comments

async def _visible(session, user: User | None, candidate_id: str) -> tuple[Candidate, Cycle]:
    """A published candidate for all; a draft for the staff of its jurisdiction only (else 404)."""
    candidate = await service.get(session, candidate_id)
    cycle = await cycles.get(session, candidate.cycle_id)
    if not service.is_public(candidate, cycle) and not await _is_staff_of(session, user, cycle):
        raise NotFound("no such candidate", zh="找不到该候选项目。")
    return candidate, cycle


NOTICES = ("commented", "reported", "hidden")


async def _detail_page(request: Request, session, user: User | None, candidate: Candidate,
                       cycle: Cycle, *, status: int = 200, message: str | None = None,
                       comment_body: str = "", block: str | None = None, notice: str = ""):
    staff = await _is_staff_of(session, user, cycle)
    return render(request, "candidates/detail.html", {
        **labels_ctx(), "cycle": cycle, "card": (await _public_cards(session, [candidate]))[0],
        "history": await history(session, CANDIDATE_WORKFLOW.entity_type, candidate.id),
        "comments": await comments.comments_on(session, candidate_id=candidate.id),
        "comments_open": (service.is_public(candidate, cycle) and cycle.phase != CyclePhase.closed
                          and not draft_published(cycle)
                          and service.in_publicity(cycle, china_today())),
        "public": service.is_public(candidate, cycle),
        "on_draft_list": draft_published(cycle),
        "staff": staff and user.role in comments.MODERATORS,
        "may_hide": staff and has_perm(user.role, Perm.comment_moderate),
        "message": message, "comment_body": comment_body, "notice": notice,
    }, status=status, block=block)


@router.get("/candidates/{candidate_id}")
async def candidate_page(request: Request, candidate_id: str, session: SessionDep,
                         user: PageUser):
    candidate, cycle = await _visible(session, user, candidate_id)
    notice = next((k for k in NOTICES if request.query_params.get(k)), "")
    return await _detail_page(request, session, user, candidate, cycle, notice=notice)


@router.get("/candidates/{candidate_id}/comments")
async def back_to_candidate(request: Request, candidate_id: str):
    """After logging in, the log-in page sends one back to the form's address."""
    return redirect(request, f"/candidates/{candidate_id}")


@router.post("/candidates/{candidate_id}/comments")
async def add_comment(request: Request, candidate_id: str, session: SessionDep,
                      user: LoggedIn):
    """Comment during the 公示 period (comments.add_comment refuses outside it)."""
    candidate, cycle = await _visible(session, user, candidate_id)
    body = str((await request.form()).get("body", ""))
    block = "comments" if is_fragment_request(request) else None
    async with attempting(session) as tried:
        refuse_nul(body)
        data = parse_form(CommentIn, {"body": body}, {"body": "评论"})
        await request.app.state.rate_limits.consume(COMMENTS_PER_PERSON, user.id)
        await comments.add_comment(session, actor=user, candidate=candidate, body=data.body)
    if exc := tried.refused:
        return await _detail_page(request, session, user, candidate, cycle, status=exc.status,
                                  message=refusal_text(exc), comment_body=body, block=block)
    if block:
        return await _detail_page(request, session, user, candidate, cycle, block=block)
    return redirect(request, f"/candidates/{candidate.id}?commented=1#comments")


async def _comment_of(session, user: User | None, candidate_id: str, comment_id: str):
    candidate, cycle = await _visible(session, user, candidate_id)
    comment = await comments.get_comment(session, comment_id)
    if comment.candidate_id != candidate.id:
        raise NotFound("no such comment", zh="找不到该评论。")
    return candidate, cycle, comment


async def _comment_answer(request: Request, session, user: User, candidate: Candidate,
                          cycle: Cycle, comment, note: str, error: str | None = None,
                          status: int = 200):
    """htmx: the one comment again; otherwise back to the candidate."""
    if is_fragment_request(request):
        author = await session.get(User, comment.author_id)
        staff = await _is_staff_of(session, user, cycle)
        return render(request, "candidates/detail.html", {
            "c": comment, "author": author.display_name if author else "",
            "candidate_id": candidate.id, "staff": staff and user.role in comments.MODERATORS,
            "may_hide": staff and has_perm(user.role, Perm.comment_moderate),
            "comment_note": note, "error": error}, status=status, block="comment")
    if error:
        return await _detail_page(request, session, user, candidate, cycle, status=status,
                                  message=error)
    return redirect(request, f"/candidates/{candidate.id}?{note}=1#c-{comment.id}")


@router.post("/candidates/{candidate_id}/comments/{comment_id}/report")
async def report_comment(request: Request, candidate_id: str, comment_id: str,
                         session: SessionDep, user: LoggedIn):
    """举报 a comment on a candidate, once per person."""
    candidate, cycle, comment = await _comment_of(session, user, candidate_id, comment_id)
    reason = str((await request.form()).get("reason", "")).strip()
    async with attempting(session) as tried:
        data = parse_form(ReportIn, {"reason": reason}, {"reason": "举报理由"})
        await comments.report(session, actor=user, comment=comment, reason=data.reason)
    if exc := tried.refused:
        return await _comment_answer(request, session, user, candidate, cycle, comment,
                                     "reported", refusal_text(exc), exc.status)
    return await _comment_answer(request, session, user, candidate, cycle, comment, "reported")


@router.post("/staff/candidates/{candidate_id}/comments/{comment_id}/hide")
async def hide_comment(request: Request, candidate_id: str, comment_id: str,
                       session: SessionDep, user: User = page_perm(Perm.comment_moderate)):
    """Staff hide a comment with a public reason; it stays stored."""
    candidate, cycle, comment = await _comment_of(session, user, candidate_id, comment_id)
    reason = str((await request.form()).get("reason", "")).strip()
    async with attempting(session) as tried:
        if not reason:
            raise Invalid("reason missing", zh="请填写隐藏理由（会公开显示）。")
        data = parse_form(HideIn, {"reason": reason}, {"reason": "隐藏理由"})
        await comments.hide(session, actor=user, comment=comment, reason=data.reason)
    if exc := tried.refused:
        return await _comment_answer(request, session, user, candidate, cycle, comment,
                                     "hidden", refusal_text(exc), exc.status)
    return await _comment_answer(request, session, user, candidate, cycle, comment, "hidden")
