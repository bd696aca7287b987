"""Staff pages of 初定: the candidate builder and editor (gov staff), the approval chain with
the 差额 rule, and the 公示 period."""

from __future__ import annotations

from itertools import zip_longest

from fastapi import APIRouter, Request
from pydantic import ValidationError

from app.auth.roles import Perm, has_perm
from app.candidates import service
from app.candidates.schemas import CandidateIn, PublicityIn, TransitionIn, UnitIn
from app.candidates.views import (
    FUNDING_ROWS,
    LABELS,
    PICK_LIMIT,
    TARGET_ROWS,
    TEXT_FIELDS,
    _ensure_builder,
    _staff_cycle,
    explain,
    labels_ctx,
    wan,
)
from app.db import SessionDep
from app.errors import Conflict, Forbidden, Invalid
from app.i18n import N_
from app.models import Candidate, Cycle, Proposal, User
from app.pages.deps import LoggedIn, page_perm
from app.pages.forms import attempting, parse_form, refusal_text, refuse_nul
from app.pages.render import is_fragment_request, redirect, render
from app.proposals import service as proposals
from app.proposals.labels import labels_ctx as proposal_labels
from app.workflows.candidate import CANDIDATE_WORKFLOW, CandidateState, quota
from app.workflows.cycle import CyclePhase
from app.workflows.engine import history

router = APIRouter(include_in_schema=False)


# ---------------------------------------------------------------- the builder form (拟定 / 修改)

def _blank() -> dict:
    return {**{k: "" for k in TEXT_FIELDS}, "funding": [], "targets": [], "proposal_ids": [],
            "q": "", "category": "", "place": "", "new_unit": "", "funding_rows": 0,
            "target_rows": 0}


def _values_of(candidate: Candidate, source_ids: list[str]) -> dict:
    return {**_blank(), "title": candidate.title, "summary": candidate.summary,
            "responsible_unit": candidate.responsible_unit_id,
            "budget_wan": wan(candidate.budget_wan), "deadline": candidate.deadline.isoformat(),
            "feasibility": candidate.feasibility, "targets": list(candidate.targets),
            "funding": [(f["source"], wan(f["amount_wan"])) for f in candidate.funding],
            "proposal_ids": source_ids}


def _number(raw, most: int) -> int:
    text = str(raw or "")
    return min(int(text), most) if text.isdigit() and len(text) < 4 else 0


def _read(form) -> dict:
    """What was typed, kept as typed, to show the form again."""
    v = {k: str(form.get(k, "")) for k in TEXT_FIELDS}
    funding = list(zip_longest([str(s) for s in form.getlist("funding_source")],
                               [str(a) for a in form.getlist("funding_amount")],
                               fillvalue=""))
    while funding and not any(x.strip() for x in funding[-1]):
        funding.pop()
    targets = [str(t) for t in form.getlist("target")]
    while targets and not targets[-1].strip():
        targets.pop()
    v.update(funding=funding, targets=targets,
             proposal_ids=list(dict.fromkeys(str(x) for x in form.getlist("proposal_ids"))),
             funding_rows=_number(form.get("funding_rows"), FUNDING_ROWS[1]),
             target_rows=_number(form.get("target_rows"), TARGET_ROWS[1]),
             **{k: str(form.get(k, "")).strip() for k in ("q", "category", "place", "new_unit")})
    return v


def _candidate_in(v: dict) -> CandidateIn:
    """The typed form as the API's CandidateIn (blank rows dropped), or Invalid in Chinese."""
    if not v["proposal_ids"]:
        raise Invalid("no sources", zh="请至少勾选一条已采纳入库的群众建议。")
    data = {k: v[k] for k in TEXT_FIELDS if v[k].strip()}  # blank → 必填, not a parse error
    data.update(proposal_ids=v["proposal_ids"],
                funding=[{"source": s, "amount_wan": a.strip()} for s, a in v["funding"]
                         if s.strip() or a.strip()],
                targets=[t for t in v["targets"] if t.strip()])
    try:
        return CandidateIn.model_validate(data)
    except ValidationError as exc:
        message = explain(exc)
        raise Invalid(message, zh=message) from None


async def _sources_message(session, cycle: Cycle, ids: list[str]) -> str:
    """service._sources names the refused proposals in English inside its Chinese sentence;
    say it again in Chinese (the service still decides)."""
    states = proposal_labels()["STATE_LABELS"]
    parts = []
    for pid in ids:
        p = await session.get(Proposal, pid)
        if p is None or p.cycle_id != cycle.id:
            parts.append("有一条不是本年度的建议")
        elif p.state != "accepted":
            parts.append(f"“{p.title}”目前是“{states[p.state]}”")
    return "候选项目只能由本年度已采纳入库的建议生成：" + "；".join(parts or ["请重新勾选"]) + "。"


async def _picker(session, cycle: Cycle, v: dict) -> dict:
    """Accepted proposals matching the search (most endorsed first), and those already ticked."""
    places = await proposals.places_of(session, cycle)
    f = proposals.ListFilter(
        q=v["q"], state="accepted", sort="endorsed",
        category=v["category"] if v["category"] in cycle.categories else None,
        location_code=v["place"] if v["place"] in {j.code for j in places} else None)
    rows, total = await proposals.list_page(session, cycle, f, page=1, per_page=PICK_LIMIT)
    chosen = [p for p in [await session.get(Proposal, pid) for pid in v["proposal_ids"]]
              if p is not None and p.cycle_id == cycle.id]
    ticked = set(v["proposal_ids"])
    return {"chosen": chosen, "results": [p for p in rows if p.id not in ticked],
            "total": total, "shown": len(rows), "places": places,
            "place_names": {j.code: j.name for j in places}}


FIELD_NAMES = {"title": N_("项目名称"), "summary": N_("项目概述"), "responsible_unit_id": N_("责任单位"),
               "budget_wan": N_("预算（万元）"), "funding": N_("资金来源（万元）"), "targets": N_("建设目标"),
               "deadline": N_("完成时限"), "feasibility": N_("可行性说明"),
               "proposal_ids": N_("来源建议")}
LONG_FIELDS = ("summary", "feasibility")


async def _revision_rows(session, candidate: Candidate) -> list[dict]:
    """Each saved version with who, when and what changed from the one before."""
    revisions = await service.revisions(session, candidate)
    units = await service.unit_names(session, {r.data.get("responsible_unit_id") for r in revisions})
    titles = {}
    for r in revisions:
        for pid in r.data.get("proposal_ids", []):
            if pid not in titles:
                p = await session.get(Proposal, pid)
                titles[pid] = p.title if p else pid

    def shown(field, value):
        if value is None:
            return "—"
        if field == "responsible_unit_id":
            return units.get(value, value)
        if field == "budget_wan":
            return wan(value)
        if field == "funding":
            return "，".join(f"{f['source']} {wan(f['amount_wan'])}" for f in value) or "—"
        if field == "targets":
            return "；".join(value) or "—"
        if field == "proposal_ids":
            return "、".join(f"“{titles[p]}”" for p in value)
        return value

    rows, before = [], None
    for r in revisions:
        changes = []
        for f in FIELD_NAMES if before is not None else ():
            if f in LONG_FIELDS and before.get(f) != r.data.get(f):
                changes.append({"field": f, "old": None, "new": None})
            elif f not in LONG_FIELDS and (old := shown(f, before.get(f))) != (
                    new := shown(f, r.data.get(f))):  # 4680 and 4680.00 are the same budget
                changes.append({"field": f, "old": old, "new": new})
        rows.append({"r": r, "changes": changes, "first": before is None})
        before = r.data
    return list(reversed(rows))


async def _form_page(request: Request, session, user: User, cycle: Cycle, v: dict, *,
                     candidate: Candidate | None = None, error: str | None = None,
                     status: int = 200, block: str | None = None, unit_note: str = "",
                     unit_error: str = ""):
    funding_n = min(FUNDING_ROWS[1], max(FUNDING_ROWS[0], len(v["funding"]) + 1,
                                         v["funding_rows"]))
    target_n = min(TARGET_ROWS[1], max(TARGET_ROWS[0], len(v["targets"]) + 1, v["target_rows"]))
    open_ = cycle.phase == CyclePhase.screening and (
        candidate is None or candidate.state == CandidateState.drafted)
    return render(request, "candidates/form.html", {
        **labels_ctx(), "cycle": cycle, "candidate": candidate, "form": v, "error": error,
        "units": await service.units(session, cycle.jurisdiction_code),
        "may_add_unit": has_perm(user.role, Perm.unit_manage), "unit_note": unit_note,
        "unit_error": unit_error, "FIELD_NAMES": FIELD_NAMES, "funding_n": funding_n,
        "target_n": target_n, "open": open_,
        "action": (f"/staff/candidates/{candidate.id}/edit" if candidate
                   else f"/staff/cycles/{cycle.id}/candidates/new"),
        "picker": await _picker(session, cycle, v),
        "revisions": await _revision_rows(session, candidate) if candidate else [],
    }, status=status if open_ else max(status, 409), block=block)


async def _form_action(request: Request, session, user: User, cycle: Cycle, v: dict,
                       action: str, candidate: Candidate | None):
    """The form's helper buttons: filter the proposals, add a unit, add rows (None: save)."""
    if action == "filter":
        return await _form_page(request, session, user, cycle, v, candidate=candidate,
                                block="picker")
    if action in ("more_funding", "more_targets"):
        field, rows = (("funding", FUNDING_ROWS) if action == "more_funding"
                       else ("targets", TARGET_ROWS))
        key = f"{field.rstrip('s')}_rows"
        v[key] = min(rows[1], max(v[key], rows[0], len(v[field]) + 1) + 2)
        return await _form_page(request, session, user, cycle, v, candidate=candidate,
                                block=field)
    if action == "add_unit":
        async with attempting(session) as tried:
            if not has_perm(user.role, Perm.unit_manage):
                raise Forbidden("not allowed", zh="您的角色无权维护责任单位名单。")
            name = parse_form(UnitIn, {"name": v["new_unit"]}, LABELS).name
            unit = await service.add_unit(session, actor=user, name=name,
                                          jurisdiction_code=cycle.jurisdiction_code)
        if exc := tried.refused:
            return await _form_page(request, session, user, cycle, v, candidate=candidate,
                                    unit_error=refusal_text(exc), status=exc.status,
                                    block="unit")
        v.update(responsible_unit=unit.id, new_unit="")
        return await _form_page(request, session, user, cycle, v, candidate=candidate,
                                unit_note=unit.name, block="unit")
    return None


@router.get("/staff/cycles/{cycle_id}/candidates/new")
async def new_candidate(request: Request, cycle_id: str, session: SessionDep, user: LoggedIn):
    _ensure_builder(user)
    cycle = await _staff_cycle(session, user, cycle_id)
    return await _form_page(request, session, user, cycle, _blank())


@router.post("/staff/cycles/{cycle_id}/candidates/new")
async def create_candidate(request: Request, cycle_id: str, session: SessionDep,
                           user: LoggedIn):
    """拟定: build a candidate from ticked accepted proposals; all of it is stored, or nothing."""
    _ensure_builder(user)
    cycle = await _staff_cycle(session, user, cycle_id)
    form = await request.form()
    v = _read(form)
    action = str(form.get("action", ""))
    if answer := await _form_action(request, session, user, cycle, v, action, None):
        return answer
    async with attempting(session) as tried:
        data = _candidate_in(v)
        candidate = await service.create(
            session, actor=user, cycle=cycle, **data.model_dump(exclude={"funding"}),
            funding=[f.model_dump() for f in data.funding])
    if exc := tried.refused:
        message = (await _sources_message(session, cycle, v["proposal_ids"])
                   if exc.code == "bad_sources" else refusal_text(exc))
        return await _form_page(request, session, user, cycle, v, error=message,
                                status=exc.status)
    return redirect(request, f"/staff/cycles/{cycle.id}/candidates?done={candidate.id}"
                             f"#c-{candidate.id}")


async def _sources_ids(session, candidate: Candidate) -> list[str]:
    return [p.id for p in (await service.sources_of(session, [candidate.id]))[candidate.id]]


@router.get("/staff/candidates/{candidate_id}/edit")
async def edit_form(request: Request, candidate_id: str, session: SessionDep, user: LoggedIn):
    _ensure_builder(user)
    candidate = await service.get(session, candidate_id)
    cycle = await _staff_cycle(session, user, candidate.cycle_id)
    return await _form_page(request, session, user, cycle,
                            _values_of(candidate, await _sources_ids(session, candidate)),
                            candidate=candidate)


@router.post("/staff/candidates/{candidate_id}/edit")
async def edit_candidate(request: Request, candidate_id: str, session: SessionDep,
                         user: LoggedIn):
    """修改 a drafted candidate; the service keeps the new version beside the old ones."""
    _ensure_builder(user)
    candidate = await service.get(session, candidate_id)
    cycle = await _staff_cycle(session, user, candidate.cycle_id)
    form = await request.form()
    v = _read(form)
    action = str(form.get("action", ""))
    if answer := await _form_action(request, session, user, cycle, v, action, candidate):
        return answer
    async with attempting(session) as tried:
        if cycle.phase != CyclePhase.screening:  # service.edit does not check the phase
            raise Conflict("not screening", zh="只有在初定阶段才能修改候选项目。")
        data = _candidate_in(v)
        changes = data.model_dump(exclude={"funding"})
        changes["funding"] = [f.model_dump() for f in data.funding]
        await service.edit(session, actor=user, candidate=candidate, changes=changes)
    if exc := tried.refused:
        message = (await _sources_message(session, cycle, v["proposal_ids"])
                   if exc.code == "bad_sources" else refusal_text(exc))
        return await _form_page(request, session, user, cycle, v, candidate=candidate,
                                error=message, status=exc.status)
    return redirect(request, f"/staff/cycles/{cycle.id}/candidates?done={candidate.id}"
                             f"#c-{candidate.id}")


# ---------------------------------------------------------------- the approval chain (审议)

async def _moves(session, user: User, candidate: Candidate) -> list[str]:
    """The steps this person may take now, as the workflow says (its guards: only in 初定, the
    jurisdiction's 党委 setting hides the other path, a list decided by the government has no
    congress review)."""
    return [str(m.target) for m in await CANDIDATE_WORKFLOW.moves_for(session, candidate, user)
            if m.allowed]


async def _cards(session, user: User, cycle: Cycle, rows: list[Candidate]) -> list[dict]:
    sources = await service.sources_of(session, [c.id for c in rows])
    names = await service.unit_names(session, {c.responsible_unit_id for c in rows})
    cards = []
    for c in rows:
        steps = await history(session, CANDIDATE_WORKFLOW.entity_type, c.id)
        cards.append({"c": c, "unit": names.get(c.responsible_unit_id, ""),
                      "sources": sources[c.id], "last": steps[-1] if steps else None,
                      "moves": await _moves(session, user, c),
                      "may_edit": has_perm(user.role, Perm.candidate_build) and c.state == CandidateState.drafted
                      and cycle.phase == CyclePhase.screening})
    return cards


async def _quota_ctx(session, cycle: Cycle) -> dict:
    have, need = await quota(session, cycle)
    return {"have": have, "need": need, "enough": have >= need}


async def _chain_page(request: Request, session, user: User, cycle: Cycle, *,
                      error: str | None = None, status: int = 200, failed: dict | None = None,
                      done: str = "", moved: str = "", publicity: dict | None = None,
                      publicity_error: str | None = None, publicity_saved: bool = False):
    rows = await service.list_for(session, cycle, include_drafts=True)
    cards = await _cards(session, user, cycle, rows)
    for card in cards:
        card["saved"], card["moved"] = card["c"].id == done, card["c"].id == moved
        if failed and card["c"].id == failed["id"]:
            card.update(error=failed["error"], reason=failed["reason"])
    return render(request, "candidates/chain.html", {
        **labels_ctx(), "cycle": cycle, "cards": cards, "quota": await _quota_ctx(session, cycle),
        "error": error, "screening": cycle.phase == CyclePhase.screening,
        "may_build": has_perm(user.role, Perm.candidate_build),
        "may_publicize": has_perm(user.role, Perm.publicity_manage),
        "publicity": publicity or {
            "start": cycle.publicity_start.isoformat() if cycle.publicity_start else "",
            "end": cycle.publicity_end.isoformat() if cycle.publicity_end else ""},
        "publicity_error": publicity_error, "publicity_saved": publicity_saved,
    }, status=status)


@router.get("/staff/cycles/{cycle_id}/candidates")
async def chain_page(request: Request, cycle_id: str, session: SessionDep, done: str = "",
                     moved: str = "", publicity: str = "",
                     user: User = page_perm(Perm.staff_pages)):
    """All the cycle's candidates, the steps each may take, the 差额 rule, the 公示 period."""
    cycle = await _staff_cycle(session, user, cycle_id)
    return await _chain_page(request, session, user, cycle, done=done, moved=moved,
                             publicity_saved=publicity == "1")


@router.post("/staff/candidates/{candidate_id}/transition")
async def move_candidate(request: Request, candidate_id: str, session: SessionDep,
                         user: User = page_perm(Perm.staff_pages)):
    """政府常务会议通过 / 党委会议通过 / 人大审查通过 / 退回修改, each recorded with its reason."""
    candidate = await service.get(session, candidate_id)
    cycle = await _staff_cycle(session, user, candidate.cycle_id)
    form = await request.form()
    to = str(form.get("to", ""))
    reason = str(form.get("reason", "")).strip()
    fragment = is_fragment_request(request)
    async with attempting(session) as tried:
        refuse_nul(reason)
        if to not in CandidateState.__members__:
            raise Invalid("pick a step", zh="请选择要办理的步骤。")
        data = parse_form(TransitionIn, {"to": to, "reason": reason}, {"reason": "说明"})
        await service.transition(session, actor=user, candidate=candidate, to=data.to,
                                 reason=data.reason)
    if exc := tried.refused:
        message = refusal_text(exc)
        if not fragment:
            return await _chain_page(request, session, user, cycle, error=message,
                                     status=exc.status, failed={"id": candidate.id,
                                                                "error": message,
                                                                "reason": reason})
        card = (await _cards(session, user, cycle, [candidate]))[0]
        return render(request, "candidates/chain.html", {
            **labels_ctx(), "cycle": cycle, "card": {**card, "error": message,
                                                "reason": reason},
        }, status=exc.status, block="card")
    if not fragment:
        return redirect(request, f"/staff/cycles/{cycle.id}/candidates?moved={candidate.id}"
                                 f"#c-{candidate.id}")
    card = (await _cards(session, user, cycle, [candidate]))[0]
    return render(request, "candidates/chain.html", {
        **labels_ctx(), "cycle": cycle, "card": {**card, "moved": True},
        "quota": await _quota_ctx(session, cycle)}, block="moved")


@router.post("/staff/cycles/{cycle_id}/publicity")
async def set_publicity(request: Request, cycle_id: str, session: SessionDep,
                        user: User = page_perm(Perm.publicity_manage)):
    """公示期: the days residents may comment on the reviewed list."""
    cycle = await _staff_cycle(session, user, cycle_id)
    form = await request.form()
    typed = {k: str(form.get(k, "")).strip() for k in ("start", "end")}
    async with attempting(session) as tried:
        try:
            data = PublicityIn.model_validate({k: v for k, v in typed.items() if v})
        except ValidationError as exc:
            raise Invalid("bad dates", zh=explain(exc)) from None
        await service.set_publicity(session, actor=user, cycle=cycle, start=data.start,
                                    end=data.end)
    if exc := tried.refused:
        return await _chain_page(request, session, user, cycle, status=exc.status,
                                 publicity=typed, publicity_error=refusal_text(exc))
    return redirect(request, f"/staff/cycles/{cycle.id}/candidates?publicity=1#publicity")


