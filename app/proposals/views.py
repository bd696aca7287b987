"""Pages of 征集: propose (with similar proposals to endorse instead), the public list, one
proposal with its history, endorsements and comments."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, BinaryIO
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import UploadFile

from app.auth.roles import Perm, Role, has_perm
from app.candidates import service as candidates
from app.comments import service as comments
from app.comments.schemas import CommentIn, HideIn, ReportIn
from app.cycles import service as cycles
from app.db import SessionDep
from app.errors import DomainError, Forbidden, Invalid, NotFound, TooLarge
from app.jurisdictions import service as jurisdictions
from app.models import Comment, Cycle, Proposal, User
from app.pages.deps import LoggedIn, PageUser
from app.pages.forms import attempting, parse_form, refusal_text, refuse_nul
from app.pages.render import is_fragment_request, redirect, render
from app.proposals import engagement, photos, service
from app.proposals.detail import proposal_out
from app.proposals.labels import labels_ctx
from app.proposals.schemas import ProposalIn
from app.ratelimit import COMMENTS_PER_PERSON, proposals_rule
from app.workflows.cycle import CyclePhase
from app.workflows.proposal import ProposalState

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)

PER_PAGE = 20
SIMILAR_MIN_CHARS = 2
PROPOSERS = (Role.resident, Role.deputy, Role.gov_staff)
STAFF_CHANNELS = ("hotline", "visit", "letter", "deputy")
TEXT_FIELDS = ("title", "description", "category", "location_code", "place",
               "estimated_cost_wan", "channel", "proposer_name", "source_ref", "proposer_phone")
STAFF_FIELDS = ("channel", "proposer_name", "source_ref", "proposer_phone")
LABELS = {"title": "标题", "description": "具体内容", "category": "类别",
          "location_code": "所在乡镇（街道）", "place": "村（社区）/地点",
          "estimated_cost_wan": "估算金额（万元）", "channel": "来源渠道", "proposer_name": "建议人",
          "source_ref": "工单号", "proposer_phone": "联系电话"}
def fragment_block(request: Request, name: str) -> str | None:
    """`name` for an htmx fragment request; None for a history restore, which needs the page."""
    if request.headers.get("hx-history-restore-request") == "true":
        return None
    return name


def page_number(raw: str) -> int:
    return max(1, min(int(raw) if raw.isdigit() else 1, 100_000))


def may_propose_role(user: User | None) -> bool:
    return user is not None and user.role in PROPOSERS


def can_endorse(user: User | None, proposal: Proposal, cycle: Cycle) -> bool:
    """Whether to offer the 附议 button (the service still checks on submit)."""
    return (user is not None and user.role in (Role.resident, Role.deputy)
            and proposal.proposer_id != user.id
            and proposal.state in engagement.OPEN_STATES
            and cycle.phase == CyclePhase.soliciting)


async def endorse_state(session, user: User | None, proposals: list[Proposal],
                        cycle: Cycle) -> dict[str, str]:
    """Per proposal: 'done' (endorsed already), 'own', 'can', 'login' or '' (nothing to offer)."""
    state = {}
    for p in proposals:
        if user is None:
            open_ = p.state in engagement.OPEN_STATES and cycle.phase == CyclePhase.soliciting
            state[p.id] = "login" if open_ else ""
        elif p.proposer_id == user.id:
            state[p.id] = "own"
        elif await engagement.has_endorsed(session, user, p.id):
            state[p.id] = "done"
        else:
            state[p.id] = "can" if can_endorse(user, p, cycle) else ""
    return state


# ---------------------------------------------------------------- propose (提建议)

def _proposal_in(values: dict[str, str], *, staff: bool) -> ProposalIn:
    data = {k: values.get(k, "") for k in TEXT_FIELDS}
    data["estimated_cost_wan"] = data["estimated_cost_wan"].strip() or None
    if staff:
        data["channel"] = data["channel"] or None
    else:
        for name in STAFF_FIELDS:
            data.pop(name)
    return parse_form(ProposalIn, data, LABELS)


def _photo_files(uploads: list[UploadFile]) -> list[BinaryIO]:
    """The chosen photos' files: at most three, each at most 8 MB (checked before decoding);
    read only when the worker's decoding thread takes them (photos.encode)."""
    if len(uploads) > photos.MAX_PHOTOS:
        raise Invalid("too many photos", zh=f"每条建议最多 {photos.MAX_PHOTOS} 张照片。")
    files = []
    for upload in uploads:
        size = photos.size_of(upload.file)
        if size > photos.MAX_BYTES:
            raise TooLarge("photo too large", zh="每张照片不能超过 8 MB，请换一张或压缩后再传。")
        if size:
            files.append(upload.file)
    return files


@dataclass
class ChosenPhotos:
    """The photos of a proposal form, checked and re-encoded before the request's session
    begins (the route declares them ahead of it): decoding never holds SQLite's write turn."""

    chosen: bool  # the form carried photos
    encoded: list[photos.EncodedPhoto] | None = None  # None: not decoded (nobody logged in)
    refused: DomainError | None = None  # shown in the form with the rest, by the route


async def _chosen_photos(request: Request) -> ChosenPhotos:
    form = await request.form(max_files=10, max_fields=50)  # the route reads the same form
    uploads = [f for f in form.getlist("photos") if isinstance(f, UploadFile) and f.filename]
    if not uploads:
        return ChosenPhotos(False, [])
    if not request.scope.get("session"):  # nobody logged in: no decoding, login_required answers
        return ChosenPhotos(True)
    try:
        return ChosenPhotos(True, await photos.encode(_photo_files(uploads)))
    except DomainError as exc:
        return ChosenPhotos(True, refused=exc)


def _ensure_proposer(user: User) -> None:
    if user.role not in PROPOSERS:
        raise Forbidden("not a proposer", zh="只有群众、人大代表和政府工作人员可以提出建议。")


async def _new_page(request: Request, session, user: User, cycle: Cycle, *,
                    form: dict | None = None, error: str | None = None, status: int = 200,
                    photos_dropped: bool = False):
    form = form or {}
    places = await service.places_of(session, cycle)
    if not form.get("location_code"):
        # One's own township or county when it is a place of this cycle, else the cycle's own.
        own = user.jurisdiction_code
        form["location_code"] = (own if any(j.code == own for j in places)
                                 else cycle.jurisdiction_code)
    title = form.get("title", "").strip()
    similar = (await service.similar(session, cycle.id, title)
               if len(title) >= SIMILAR_MIN_CHARS else [])
    soliciting = cycle.phase == CyclePhase.soliciting
    return render(request, "proposals/new.html", {
        **labels_ctx(), "cycle": cycle, "form": form, "error": error,
        "places": places, "soliciting": soliciting,
        "staff": user.role == Role.gov_staff, "staff_channels": STAFF_CHANNELS,
        "similar": similar, "endorse": await endorse_state(session, user, similar, cycle),
        "in_form": True, "photos_dropped": photos_dropped, "max_photos": photos.MAX_PHOTOS,
    }, status=status if soliciting else max(status, 409))


@router.get("/cycles/{cycle_id}/proposals/new")
async def new_proposal(request: Request, cycle_id: str, session: SessionDep, user: LoggedIn,
                       title: str = ""):
    cycle = await cycles.get(session, cycle_id)
    _ensure_proposer(user)
    # Refuse a person from elsewhere before they type a whole proposal.
    await service.ensure_may_propose(session, user, cycle)
    return await _new_page(request, session, user, cycle, form={"title": title})


@router.post("/cycles/{cycle_id}/proposals/new")
async def submit_proposal(request: Request, cycle_id: str,
                          chosen: Annotated[ChosenPhotos, Depends(_chosen_photos)],
                          session: SessionDep, user: LoggedIn):
    """File the proposal and its photos together: a refused photo stores nothing at all."""
    cycle = await cycles.get(session, cycle_id)
    _ensure_proposer(user)
    form = await request.form(max_files=10, max_fields=50)
    values = {k: str(form.get(k, "")) for k in TEXT_FIELDS}  # kept whole to show again
    async with attempting(session) as tried:  # a photo refused: the proposal goes with it
        data = _proposal_in(values, staff=user.role == Role.gov_staff)
        if chosen.refused is not None:
            raise chosen.refused
        encoded = chosen.encoded
        if encoded is None:  # not decoded ahead (no page session seen): decode now, correctly
            uploads = [f for f in form.getlist("photos")
                       if isinstance(f, UploadFile) and f.filename]
            encoded = await photos.encode(_photo_files(uploads))
        rule = proposals_rule(user.role)
        await request.app.state.rate_limits.check(rule, user.id)
        proposal = await service.create(session, actor=user, cycle=cycle,
                                        **data.model_dump())
        if encoded:
            await photos.add_photos(session, actor=user, proposal=proposal, photos=encoded,
                                    media_dir=request.app.state.settings.media_dir)
        await request.app.state.rate_limits.hit(rule, user.id)  # only what was stored counts
    if exc := tried.refused:
        return await _new_page(request, session, user, cycle, form=values,
                               error=refusal_text(exc), status=exc.status,
                               photos_dropped=chosen.chosen)
    return redirect(request, f"/proposals/{proposal.id}?submitted=1")


@router.get("/cycles/{cycle_id}/proposals/similar")
async def similar_proposals(request: Request, cycle_id: str, session: SessionDep,
                            user: PageUser, title: str = ""):
    """While a title is typed: up to five live proposals like it, each with a 附议 button."""
    cycle = await cycles.get(session, cycle_id)
    title = title.strip()
    rows = (await service.similar(session, cycle.id, title)
            if len(title) >= SIMILAR_MIN_CHARS else [])
    fragment = is_fragment_request(request)
    return render(request, "proposals/similar.html", {
        **labels_ctx(), "cycle": cycle, "similar": rows, "title": title,
        "endorse": await endorse_state(session, user, rows, cycle),
        # In the proposal form the buttons belong to that form (forms cannot nest).
        "in_form": fragment}, block=fragment_block(request, "similar"))


@router.get("/propose")
async def propose(request: Request, session: SessionDep, user: PageUser):
    """我要提建议: straight to the one soliciting cycle that is one's own, else a choice."""
    rows, _ = await cycles.list_cycles(session, page=1, per_page=100)
    open_cycles = [c for c in rows if c.phase == CyclePhase.soliciting]
    if user is not None and user.role in (Role.resident, Role.deputy):
        own = {user.jurisdiction_code}
        for j in await jurisdictions.list_all(session):
            if j.code == user.jurisdiction_code and j.parent_code:
                own.add(j.parent_code)
        open_cycles = [c for c in open_cycles if c.jurisdiction_code in own]
        if len(open_cycles) == 1:
            return redirect(request, f"/cycles/{open_cycles[0].id}/proposals/new")
    names = {j.code: j.name for j in await jurisdictions.list_all(session)}
    return render(request, "proposals/propose.html", {"cycles": open_cycles, "names": names})


# ---------------------------------------------------------------- the public list

@router.get("/cycles/{cycle_id}/proposals")
async def proposal_list(request: Request, cycle_id: str, session: SessionDep, user: PageUser,
                        q: str = "", category: str = "", place: str = "", state: str = "",
                        sort: str = "newest", page: str = "1"):
    """Every proposal of a cycle: filter, search, sort; htmx swaps only the results."""
    cycle = await cycles.get(session, cycle_id)
    places = await service.places_of(session, cycle)
    f = service.ListFilter(
        q=q.strip(),
        category=category if category in cycle.categories else None,
        state=state if state in ProposalState.__members__ else None,
        location_code=place if place in {j.code for j in places} else None,
        sort="endorsed" if sort == "endorsed" else "newest")
    number = page_number(page)
    rows, total = await service.list_page(session, cycle, f, page=number, per_page=PER_PAGE)
    params = {"q": f.q, "category": f.category or "", "place": f.location_code or "",
              "state": f.state or "", "sort": f.sort}
    query = {k: v for k, v in params.items() if v and not (k == "sort" and v == "newest")}

    def page_url(n: int) -> str:
        pairs = {**query, "page": n} if n > 1 else query
        return f"/cycles/{cycle.id}/proposals" + ("?" + urlencode(pairs) if pairs else "")

    return render(request, "proposals/list.html", {
        **labels_ctx(), "cycle": cycle, "places": places,
        "place_names": {j.code: j.name for j in places}, "rows": rows, "total": total,
        "page": number, "pages": max(1, -(-total // PER_PAGE)), "filters": params,
        "page_url": page_url, "states": [str(s) for s in ProposalState],
        "may_propose": cycle.phase == CyclePhase.soliciting and (
            user is None or may_propose_role(user)),
    }, block=fragment_block(request, "results"),
        # The address bar shows the filters that apply, without the empty ones.
        headers={"HX-Push-Url": page_url(number)} if is_fragment_request(request) else None)


# ---------------------------------------------------------------- one proposal

async def _detail_page(request: Request, session, user: User | None, proposal: Proposal, *,
                       status: int = 200, error: str | None = None,
                       comment_error: str | None = None, comment_body: str = "",
                       block: str | None = None, notice: str = ""):
    cycle = await cycles.get(session, proposal.cycle_id)
    out = await proposal_out(session, proposal)
    places = {j.code: j.name for j in await service.places_of(session, cycle)}
    merged_into = (await service.get(session, proposal.merged_into_id)
                   if proposal.merged_into_id else None)
    carried_from = (await service.get(session, proposal.carried_from_id)
                    if proposal.carried_from_id else None)
    carried_from_cycle = carried_from and await cycles.get(session, carried_from.cycle_id)
    staff = await comments.moderates(session, user, cycle.jurisdiction_code)
    return render(request, "proposals/detail.html", {
        **labels_ctx(), "p": proposal, "out": out, "cycle": cycle,
        "place_name": places.get(proposal.location_code, proposal.location_code),
        "photos": await photos.photos_of(session, proposal.id),
        "merged_into": merged_into, "carried_from": carried_from,
        "carried_from_cycle": carried_from_cycle,
        "candidate": await candidates.public_candidate_of(session, proposal),
        "endorse": await endorse_state(session, user, [proposal], cycle),
        "comments": await comments.comments_on(session, proposal.id), "staff": staff,
        "may_hide": staff and has_perm(user.role, Perm.comment_moderate),
        "comments_open": cycle.phase != CyclePhase.closed,
        "error": error, "message": comment_error, "comment_body": comment_body,
        "notice": notice, "in_form": False,
    }, status=status, block=block)


# ?submitted=1 and the like after a redirect: which sentence (in the template) to show.
NOTICES = ("submitted", "endorsed", "commented", "reported", "hidden")


@router.get("/proposals/{proposal_id}")
async def proposal_page(request: Request, proposal_id: str, session: SessionDep,
                        user: PageUser):
    proposal = await service.get(session, proposal_id)
    notice = next((k for k in NOTICES if request.query_params.get(k)), "")
    return await _detail_page(request, session, user, proposal, notice=notice)


@router.get("/proposals/{proposal_id}/endorse")
@router.get("/proposals/{proposal_id}/comments")
async def back_to_proposal(request: Request, proposal_id: str):
    """After logging in, the log-in page sends one back to a form's address: show the proposal."""
    return redirect(request, f"/proposals/{proposal_id}")


@router.post("/proposals/{proposal_id}/endorse")
async def endorse(request: Request, proposal_id: str, session: SessionDep, user: LoggedIn):
    """附议; htmx swaps the button for 已附议 in place, otherwise back to the proposal."""
    proposal = await service.get(session, proposal_id)
    cycle = await cycles.get(session, proposal.cycle_id)
    async with attempting(session) as tried:
        await engagement.endorse(session, actor=user, proposal=proposal)
    if exc := tried.refused:
        if is_fragment_request(request):
            return render(request, "proposals/endorse.html", {
                **labels_ctx(), "p": proposal, "error": refusal_text(exc),
                "endorse": await endorse_state(session, user, [proposal], cycle)},
                status=exc.status, block="endorse")
        return await _detail_page(request, session, user, proposal, status=exc.status,
                                  error=refusal_text(exc))
    if is_fragment_request(request):
        return render(request, "proposals/endorse.html", {
            **labels_ctx(), "p": proposal, "endorse": {proposal.id: "done"}, "just": True},
            block="endorse")
    return redirect(request, f"/proposals/{proposal.id}?endorsed=1")


@router.post("/proposals/{proposal_id}/comments")
async def add_comment(request: Request, proposal_id: str, session: SessionDep, user: LoggedIn):
    proposal = await service.get(session, proposal_id)
    form = await request.form()
    body = str(form.get("body", ""))
    block = fragment_block(request, "comments") if is_fragment_request(request) else None
    async with attempting(session) as tried:
        refuse_nul(body)
        data = parse_form(CommentIn, {"body": body}, {"body": "评论"})
        await request.app.state.rate_limits.consume(COMMENTS_PER_PERSON, user.id)
        await comments.add_comment(session, actor=user, proposal=proposal, body=data.body)
    if exc := tried.refused:
        return await _detail_page(request, session, user, proposal, status=exc.status,
                                  comment_error=refusal_text(exc), comment_body=body,
                                  block=block)
    if block:
        return await _detail_page(request, session, user, proposal, block=block)
    return redirect(request, f"/proposals/{proposal.id}?commented=1#comments")


async def _proposal_comment(session, comment_id: str):
    """A comment on a proposal (a candidate's comments have their own pages), or 404."""
    comment = await comments.get_comment(session, comment_id)
    if comment.proposal_id is None:
        raise NotFound("not a proposal comment", zh="找不到该评论。")
    return comment


async def _comment_answer(request: Request, session, user: User, comment: Comment, *,
                          ok_param: str, error: str | None = None, status: int = 200,
                          next_url: str = ""):
    """htmx: the one comment again; otherwise back to where the person was."""
    proposal = await service.get(session, comment.proposal_id)
    if is_fragment_request(request):
        author = await session.get(User, comment.author_id)
        cycle = await cycles.get(session, proposal.cycle_id)
        staff = await comments.moderates(session, user, cycle.jurisdiction_code)
        return render(request, "proposals/detail.html", {
            "c": comment, "author": author.display_name if author else "",
            "staff": staff, "may_hide": staff and has_perm(user.role, Perm.comment_moderate),
            "comment_note": ok_param,
            "comments_open": True, "p": proposal, "error": error},
            status=status, block="comment")
    if error:
        return await _detail_page(request, session, user, proposal, status=status, error=error)
    if next_url.startswith("/staff/"):
        return redirect(request, next_url)
    return redirect(request, f"/proposals/{proposal.id}?{ok_param}=1#c-{comment.id}")


@router.post("/comments/{comment_id}/report")
async def report_comment(request: Request, comment_id: str, session: SessionDep,
                         user: LoggedIn):
    """举报: flag a comment for staff, once per person."""
    comment = await _proposal_comment(session, comment_id)
    form = await request.form()
    async with attempting(session) as tried:
        data = parse_form(ReportIn, {"reason": str(form.get("reason", ""))}, {"reason": "举报理由"})
        await comments.report(session, actor=user, comment=comment, reason=data.reason)
    if exc := tried.refused:
        return await _comment_answer(request, session, user, comment, ok_param="reported",
                                     error=refusal_text(exc), status=exc.status)
    return await _comment_answer(request, session, user, comment, ok_param="reported")


@router.post("/staff/comments/{comment_id}/hide")
async def hide_comment(request: Request, comment_id: str, session: SessionDep, user: LoggedIn):
    """Staff hide a comment with a reason; it stays stored, the public sees the reason."""
    if not has_perm(user.role, Perm.comment_moderate):
        raise Forbidden("not a moderator", zh="只有工作人员可以隐藏评论。")
    comment = await _proposal_comment(session, comment_id)
    form = await request.form()
    reason = str(form.get("reason", "")).strip()
    next_url = str(form.get("next", ""))
    async with attempting(session) as tried:
        if not reason:
            raise Invalid("reason missing", zh="请填写隐藏理由（会公开显示）。")
        data = parse_form(HideIn, {"reason": reason}, {"reason": "隐藏理由"})
        await comments.hide(session, actor=user, comment=comment, reason=data.reason)
    if exc := tried.refused:
        return await _comment_answer(request, session, user, comment, ok_param="hidden",
                                     error=refusal_text(exc), status=exc.status,
                                     next_url=next_url)
    return await _comment_answer(request, session, user, comment, ok_param="hidden",
                                 next_url=next_url)
