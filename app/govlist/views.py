"""Pages of a list decided by the government: the public draft list (征求意见稿) with its comments
and answers, and the staff page (征求意见办理) listing the comments not yet answered, with the
adopting meeting's record.

Both faces call the services of app/govlist; a refusal re-shows the page with its sentence and
stores nothing (app/pages/forms.attempt).
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request

from app.auth.deps import ensure_scope, in_scope
from app.auth.roles import Perm, has_perm
from app.comments import service as comment_service
from app.comments.schemas import CommentIn, HideIn, ReportIn
from app.cycles import service as cycles
from app.db import SessionDep
from app.errors import Invalid, NotFound
from app.govlist import comments, draft
from app.govlist.view import draft_list
from app.models import Comment, Cycle, User
from app.pages.deps import LoggedIn, PageUser, page_perm
from app.pages.formats import wan
from app.pages.forms import attempt, parse_form, refusal_text, refuse_nul
from app.pages.render import is_fragment_request, redirect, render
from app.ratelimit import COMMENTS_PER_PERSON
from app.timeutil import china_today
from app.workflows.states import CyclePhase

router = APIRouter(include_in_schema=False)

NOTICES = ("commented", "reported", "hidden")


async def _moderator(session, user: User | None, cycle: Cycle) -> bool:
    return (user is not None and has_perm(user.role, Perm.comment_moderate)
            and await in_scope(session, user, cycle.jurisdiction_code))


def _grouped(rows: list[comments.DraftComment]) -> dict[str | None, list]:
    """Comments by the item they are about (None: the whole list), oldest first."""
    by: dict[str | None, list] = {}
    for r in rows:
        by.setdefault(r.comment.candidate_id, []).append((r.comment, r.author))
    return by


async def _public_page(request: Request, session, user: User | None, cycle: Cycle, *,
                       status: int = 200, message: str | None = None,
                       message_for: str | None = None, body: str = "", notice: str = ""):
    d = await draft_list(session, cycle)
    moderator = await _moderator(session, user, cycle)
    return render(request, "govlist/draft_list.html", {
        "cycle": cycle, "jurisdiction": d.jurisdiction, "d": d, "wan": wan,
        "comments": _grouped(await comments.list_comments(session, cycle)),
        "comments_open": cycle.phase == CyclePhase.commenting, "staff": moderator, "may_hide": moderator,
        "may_answer": (user is not None and has_perm(user.role, Perm.list_adopt)
                       and await in_scope(session, user, cycle.jurisdiction_code)),
        "message": message, "message_for": message_for or "list", "comment_body": body,
        "notice": notice}, status=status)


@router.get("/cycles/{cycle_id}/draft-list")
async def draft_list_page(request: Request, cycle_id: str, session: SessionDep, user: PageUser):
    """征求意见稿: the draft list, the period's dates and days left, every item with its facts
    and comments, and the forms to comment (logged in, during the period)."""
    cycle = await cycles.get(session, cycle_id)
    notice = next((k for k in NOTICES if request.query_params.get(k)), "")
    return await _public_page(request, session, user, cycle, notice=notice)


@router.get("/cycles/{cycle_id}/draft-list/comments")
async def back_to_draft_list(request: Request, cycle_id: str):
    """After logging in, the log-in page sends one back to the form's address."""
    return redirect(request, f"/cycles/{cycle_id}/draft-list")


@router.post("/cycles/{cycle_id}/draft-list/comments")
async def comment_page(request: Request, cycle_id: str, session: SessionDep, user: LoggedIn):
    """Comment on the whole draft list or (field `candidate_id`) on one item."""
    cycle = await cycles.get(session, cycle_id)
    form = await request.form()
    body = str(form.get("body", ""))
    item = str(form.get("candidate_id", "")) or None
    made: list[Comment] = []

    async def post() -> None:
        refuse_nul(body, item or "")
        data = parse_form(CommentIn, {"body": body}, {"body": "意见"})
        await request.app.state.rate_limits.consume(COMMENTS_PER_PERSON, user.id)
        made.append(await comments.add(session, actor=user, cycle=cycle, body=data.body,
                                       candidate_id=item))

    if refused := await attempt(session, post()):
        return await _public_page(request, session, user, cycle, status=refused.status,
                                  message=refusal_text(refused), message_for=item, body=body)
    return redirect(request, f"/cycles/{cycle.id}/draft-list?commented=1#c-{made[0].id}")


async def _comment_of(session, cycle_id: str, comment_id: str) -> tuple[Cycle, Comment]:
    cycle = await cycles.get(session, cycle_id)
    draft.ensure_published(cycle)
    comment = await session.get(Comment, comment_id)
    if comment is None or comment.cycle_id != cycle.id:
        raise NotFound("no such comment", code="unknown_comment", zh="找不到该意见。")
    return cycle, comment


async def _after_moderation(request: Request, session, user: User, cycle: Cycle,
                            comment: Comment, note: str, refused=None):
    """htmx: the one comment again, with its note; otherwise back to the page."""
    if is_fragment_request(request):
        author = await session.get(User, comment.author_id)
        moderator = await _moderator(session, user, cycle)
        return render(request, "govlist/_comment.html", {
            "c": comment, "author": author.display_name, "cycle": cycle, "staff": moderator,
            "may_hide": moderator, "comment_note": note,
            "error": refused and refusal_text(refused)},
            status=refused.status if refused else 200)
    if refused:
        return await _public_page(request, session, user, cycle, status=refused.status,
                                  message=refusal_text(refused))
    return redirect(request, f"/cycles/{cycle.id}/draft-list?{note}=1#c-{comment.id}")


@router.post("/cycles/{cycle_id}/draft-list/comments/{comment_id}/report")
async def report_page(request: Request, cycle_id: str, comment_id: str, session: SessionDep,
                      user: LoggedIn):
    """举报 a comment on the draft list, once per person."""
    cycle, comment = await _comment_of(session, cycle_id, comment_id)
    reason = str((await request.form()).get("reason", ""))

    async def report() -> None:
        data = parse_form(ReportIn, {"reason": reason}, {"reason": "举报理由"})
        await comment_service.report(session, actor=user, comment=comment, reason=data.reason)

    refused = await attempt(session, report())
    return await _after_moderation(request, session, user, cycle, comment, "reported", refused)


@router.post("/staff/cycles/{cycle_id}/draft-list/comments/{comment_id}/hide")
async def hide_page(request: Request, cycle_id: str, comment_id: str, session: SessionDep,
                    user: User = page_perm(Perm.comment_moderate)):
    """Staff hide a comment with a public reason; it stays stored (and needs no answer)."""
    cycle, comment = await _comment_of(session, cycle_id, comment_id)
    form = await request.form()
    reason = str(form.get("reason", ""))

    async def hide() -> None:
        data = parse_form(HideIn, {"reason": reason}, {"reason": "隐藏理由（会公开显示）"})
        await comment_service.hide(session, actor=user, comment=comment, reason=data.reason)

    refused = await attempt(session, hide())
    if form.get("back") == "staff":  # the staff page's own form
        if refused:
            return await _staff_page(request, session, user, cycle, status=refused.status,
                                     failed={"id": comment.id, "error": refusal_text(refused)})
        return redirect(request, f"/staff/cycles/{cycle.id}/draft-list?hidden=1#unanswered")
    return await _after_moderation(request, session, user, cycle, comment, "hidden", refused)


# ---------------------------------------------------------------- staff: 征求意见办理

async def _staff_page(request: Request, session, user: User, cycle: Cycle, *,
                      status: int = 200, failed: dict | None = None,
                      adoption_error: str | None = None, adoption_form: dict | None = None,
                      notice: str = ""):
    d = await draft_list(session, cycle)
    waiting = await comments.list_comments(session, cycle, unanswered=True)
    record = d.adoption or {}
    left = {r["candidate_id"]: r["reason"] for r in record.get("left_out", [])}
    form = adoption_form or {
        "meeting": record.get("meeting", ""),
        "date": record["date"].isoformat() if record.get("date") else "",
        "document_number": record.get("document_number", ""), "left_out": left}
    return render(request, "govlist/staff.html", {
        "cycle": cycle, "jurisdiction": d.jurisdiction, "d": d, "waiting": waiting,
        "may_answer": has_perm(user.role, Perm.list_adopt) and cycle.phase == CyclePhase.commenting,
        "may_hide": has_perm(user.role, Perm.comment_moderate), "failed": failed or {},
        "adoption_error": adoption_error, "form": form, "today": china_today().isoformat(),
        "notice": notice, "wan": wan}, status=status)


async def _staff_cycle(session, user: User, cycle_id: str) -> Cycle:
    cycle = await cycles.get(session, cycle_id)
    await ensure_scope(session, user, cycle.jurisdiction_code)
    draft.ensure_published(cycle)
    return cycle


@router.get("/staff/cycles/{cycle_id}/draft-list")
async def staff_page(request: Request, cycle_id: str, session: SessionDep,
                     user: User = page_perm(Perm.staff_pages)):
    """征求意见办理: the comments not yet answered (oldest first) with answer and note forms,
    the figures, and the adopting meeting's record."""
    cycle = await _staff_cycle(session, user, cycle_id)
    notice = next((k for k in ("answered", "hidden", "recorded")
                   if request.query_params.get(k)), "")
    return await _staff_page(request, session, user, cycle, notice=notice)


@router.post("/staff/comments/{comment_id}/answer")
async def answer_page(request: Request, comment_id: str, session: SessionDep,
                      user: User = page_perm(Perm.list_adopt)):
    """答复 (a reply) or 已记录 (noted, optional note) for one comment."""
    comment, cycle = await comments.get_draft_comment(session, comment_id)
    await ensure_scope(session, user, cycle.jurisdiction_code)
    form = await request.form()
    kind = str(form.get("kind", ""))
    text = str(form.get("text", ""))

    async def answer() -> None:
        refuse_nul(text, kind)
        await comments.answer(session, actor=user, comment=comment, cycle=cycle, kind=kind,
                              text=text)

    if refused := await attempt(session, answer()):
        return await _staff_page(request, session, user, cycle, status=refused.status,
                                 failed={"id": comment.id, "error": refusal_text(refused),
                                         "text": text})
    return redirect(request, f"/staff/cycles/{cycle.id}/draft-list?answered=1#unanswered")


@router.post("/staff/cycles/{cycle_id}/adoption")
async def adoption_page(request: Request, cycle_id: str, session: SessionDep,
                        user: User = page_perm(Perm.list_adopt)):
    """The adopting meeting's record: name, date, document number, items left out (a ticked
    item needs its reason)."""
    cycle = await _staff_cycle(session, user, cycle_id)
    form = await request.form()
    meeting = str(form.get("meeting", ""))
    number = str(form.get("document_number", ""))
    raw_date = str(form.get("date", ""))
    ticked = [str(v) for v in form.getlist("left_out")]
    left = {cid: str(form.get(f"reason_{cid}", "")).strip() for cid in ticked}

    async def save() -> None:
        refuse_nul(meeting, number, raw_date, *ticked, *left.values())
        try:
            on = date.fromisoformat(raw_date)
        except ValueError:
            raise Invalid("bad date", code="invalid_adoption_date",
                          zh="请填写会议日期（年-月-日）。") from None
        await draft.record_adoption(
            session, actor=user, cycle=cycle, meeting=meeting, on=on, number=number,
            left_out=[{"candidate_id": cid, "reason": reason} for cid, reason in left.items()])

    if refused := await attempt(session, save()):
        return await _staff_page(request, session, user, cycle, status=refused.status,
                                 adoption_error=refusal_text(refused),
                                 adoption_form={"meeting": meeting, "date": raw_date,
                                                "document_number": number, "left_out": left})
    return redirect(request, f"/staff/cycles/{cycle.id}/draft-list?recorded=1#adoption")
