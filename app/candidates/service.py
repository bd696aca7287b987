"""Candidate rules (初定): built by gov staff from accepted proposals, edited until reviewed,
with every edit kept; the responsible units; the 公示 period."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.deps import ensure_scope
from app.auth.roles import Perm, has_perm
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.govlist import draft as government_list
from app.jurisdictions import service as jurisdictions
from app.models import (
    Candidate,
    CandidateRevision,
    CandidateSource,
    Cycle,
    Proposal,
    ResponsibleUnit,
    User,
    utcnow,
)
from app.notifications import service as inbox
from app.workflows.candidate import CANDIDATE_WORKFLOW, DRAFT_LIST_STATES, CandidateState
from app.workflows.cycle import CyclePhase
from app.workflows.proposal import PROPOSAL_WORKFLOW, ProposalState
from app.workflows.proposal import STATE_LABELS as PROPOSAL_STATE_LABELS

MAX_YEARS_AHEAD = 5  # a cross-year project may run this long past its cycle's year
# The public reasons of a proposal's adoption and release (its history, open data): no title.
ADOPTED_REASON = "列入候选项目"
RELEASED_REASON = "不再列入候选项目，回到储备库"
EDITABLE_FIELDS = ("title", "summary", "responsible_unit_id", "budget_wan", "funding", "targets",
                   "deadline", "feasibility")


async def get(session: AsyncSession, candidate_id: str) -> Candidate:
    candidate = await session.get(Candidate, candidate_id)
    if candidate is None:
        raise NotFound("There is no such candidate project.", code="unknown_candidate",
                       zh="找不到该候选项目。")
    return candidate


def public_states(cycle: Cycle) -> tuple[str, ...]:
    """The candidate states the public sees in `cycle`: reviewed ones (公示) for a ballot; for a
    list decided by the government, its draft list once published for comment (征求意见)."""
    if government_list.is_government(cycle):
        return DRAFT_LIST_STATES if government_list.draft_published(cycle) else ()
    return (CandidateState.reviewed,)


def is_public(candidate: Candidate, cycle: Cycle) -> bool:
    """Whether the public sees `candidate` (of `cycle`); drafts are the staff's."""
    return candidate.state in public_states(cycle)


async def public_candidate_of(session: AsyncSession, proposal: Proposal) -> Candidate | None:
    """The candidate built from `proposal`, when the public sees it (`is_public`), else None."""
    candidate = await session.scalar(
        select(Candidate).join(CandidateSource, CandidateSource.candidate_id == Candidate.id)
        .where(CandidateSource.proposal_id == proposal.id))
    if candidate is None:
        return None
    return candidate if is_public(candidate, await session.get(Cycle, candidate.cycle_id)) else None


# ---------------------------------------------------------------- responsible units (责任单位)

async def units(session: AsyncSession, jurisdiction_code: str) -> list[ResponsibleUnit]:
    """The jurisdiction's active responsible units, by name (404 for an unknown code)."""
    await jurisdictions.get(session, jurisdiction_code)
    return list(await session.scalars(select(ResponsibleUnit).where(
        ResponsibleUnit.jurisdiction_code == jurisdiction_code, ResponsibleUnit.active)
        .order_by(ResponsibleUnit.name)))


async def add_unit(session: AsyncSession, *, actor: User, jurisdiction_code: str,
                   name: str) -> ResponsibleUnit:
    await jurisdictions.get(session, jurisdiction_code)
    await ensure_scope(session, actor, jurisdiction_code)
    name = name.strip()
    exists = await session.scalar(select(ResponsibleUnit.id).where(
        ResponsibleUnit.jurisdiction_code == jurisdiction_code, ResponsibleUnit.name == name))
    if exists:
        raise Conflict(f"'{name}' is on the list already.", code="unit_exists",
                       zh=f"“{name}”已在责任单位名单中。")
    unit = ResponsibleUnit(jurisdiction_code=jurisdiction_code, name=name)
    session.add(unit)
    await session.flush()
    await audit.record(session, actor=actor.username, action="unit.create",
                       entity_type="responsible_unit", entity_id=unit.id, data={"name": name})
    return unit


async def _unit(session: AsyncSession, cycle: Cycle, name_or_id: str) -> ResponsibleUnit:
    unit = await session.scalar(select(ResponsibleUnit).where(
        ResponsibleUnit.jurisdiction_code == cycle.jurisdiction_code, ResponsibleUnit.active,
        (ResponsibleUnit.name == name_or_id) | (ResponsibleUnit.id == name_or_id)))
    if unit is None:
        raise Invalid(f"'{name_or_id}' is not on this jurisdiction's list of responsible units; "
                      "add it to the list first.", code="unknown_unit",
                      zh="责任单位不在本级名单中，请先在名单中添加。")
    return unit


# ---------------------------------------------------------------- building candidates

async def _ensure_builder(session: AsyncSession, actor: User, cycle: Cycle) -> None:
    """Government staff of the jurisdiction build and edit candidates, during 初定 only."""
    if not has_perm(actor.role, Perm.candidate_build):
        raise Forbidden("Government staff build and edit candidate projects.",
                        code="permission_denied", zh="候选项目由政府工作人员拟定和修改。")
    await ensure_scope(session, actor, cycle.jurisdiction_code)
    if cycle.phase != CyclePhase.screening:
        raise Conflict("Candidates are built and edited while the cycle is screening (初定).",
                       code="not_screening", zh="只有在初定阶段才能拟定或修改候选项目。")


def _check_money_and_dates(cycle: Cycle, budget: Decimal, funding: list[dict],
                           deadline: date) -> None:
    if funding:
        total = sum(Decimal(str(f["amount_wan"])) for f in funding)
        if total != budget:
            raise Invalid(f"The funding sources add up to {total} 万元 but the budget is "
                          f"{budget} 万元; make them equal.", code="funding_mismatch",
                          zh=f"资金来源合计 {total} 万元，与预算 {budget} 万元不符。")
    if deadline.year < cycle.year or deadline.year > cycle.year + MAX_YEARS_AHEAD:
        raise Invalid(f"The deadline must fall between {cycle.year} and "
                      f"{cycle.year + MAX_YEARS_AHEAD}.", code="bad_deadline",
                      zh=f"完成时限须在 {cycle.year} 年至 {cycle.year + MAX_YEARS_AHEAD} 年之间。")


async def _sources(session: AsyncSession, cycle: Cycle, proposal_ids: list[str],
                   candidate: Candidate | None = None) -> list[Proposal]:
    ids = list(dict.fromkeys(proposal_ids))
    rows = {p.id: p for p in await session.scalars(select(Proposal).where(Proposal.id.in_(ids)))}
    mine = set()
    if candidate is not None:
        mine = set(await session.scalars(select(CandidateSource.proposal_id).where(
            CandidateSource.candidate_id == candidate.id)))
    problems, problems_zh = [], []
    for pid in ids:
        p = rows.get(pid)
        if p is None or p.cycle_id != cycle.id:
            problems.append(f"{pid[:40]} is not a proposal of this cycle")
            problems_zh.append(f"编号 {pid[:40]} 不是本年度的建议")
        elif pid in mine:
            continue
        elif p.state != ProposalState.accepted:
            problems.append(f"“{p.title}” is {p.state}, not accepted")
            problems_zh.append(f"“{p.title}”目前是“{PROPOSAL_STATE_LABELS[p.state]}”")
    if problems:
        raise Invalid("Build candidates from accepted proposals of this cycle only: "
                      + "; ".join(problems) + ".", code="bad_sources",
                      zh="候选项目只能由本年度已采纳入库的建议生成：" + "；".join(problems_zh) + "。")
    return [rows[pid] for pid in ids]


def _snapshot(candidate: Candidate, source_ids: list[str]) -> dict[str, Any]:
    data = {f: getattr(candidate, f) for f in EDITABLE_FIELDS}
    data["budget_wan"] = f"{Decimal(candidate.budget_wan):.2f}"
    data["deadline"] = candidate.deadline.isoformat()
    data["proposal_ids"] = sorted(source_ids)
    return data


async def _record_revision(session: AsyncSession, actor: User, candidate: Candidate,
                           source_ids: list[str]) -> None:
    session.add(CandidateRevision(candidate_id=candidate.id, version=candidate.version,
                                  data=_snapshot(candidate, source_ids), edited_by=actor.username))
    await session.flush()


async def _adopt(session: AsyncSession, actor: User, candidate: Candidate,
                 proposals: list[Proposal]) -> None:
    cycle = await session.get(Cycle, candidate.cycle_id)
    then = ("将列入政府民生实事项目草案，公开征求意见。" if government_list.is_government(cycle)
            else "将提交人大代表票决。")
    for p in proposals:
        # The reason and the message name no candidate: a draft's title is the staff's until
        # the list is public (公示); the proposal's page then links the candidate by name.
        await PROPOSAL_WORKFLOW.apply(session, p, ProposalState.adopted, actor=actor,
                                      reason=ADOPTED_REASON)
        session.add(CandidateSource(candidate_id=candidate.id, proposal_id=p.id))
        await inbox.tell_proposer(session, p, f"您的建议“{p.title}”已列入候选项目，{then}")
    await session.flush()


async def create(session: AsyncSession, *, actor: User, cycle: Cycle, title: str, summary: str,
                 responsible_unit: str, budget_wan: Decimal, deadline: date,
                 proposal_ids: list[str], funding: list[dict] | None = None,
                 targets: list[str] | None = None, feasibility: str = "") -> Candidate:
    """Build a candidate from accepted proposals; they become `adopted`, proposers are told."""
    await _ensure_builder(session, actor, cycle)
    unit = await _unit(session, cycle, responsible_unit)
    funding = [{"source": f["source"], "amount_wan": str(f["amount_wan"])} for f in funding or []]
    _check_money_and_dates(cycle, budget_wan, funding, deadline)
    proposals = await _sources(session, cycle, proposal_ids)
    candidate = Candidate(cycle_id=cycle.id, title=title, summary=summary,
                          responsible_unit_id=unit.id, budget_wan=budget_wan, funding=funding,
                          targets=targets or [], deadline=deadline, feasibility=feasibility,
                          state=CandidateState.drafted, created_by=actor.id)
    session.add(candidate)
    await session.flush()
    await CANDIDATE_WORKFLOW.record_creation(session, candidate, actor=actor, reason="拟定")
    await _adopt(session, actor, candidate, proposals)
    await _record_revision(session, actor, candidate, [p.id for p in proposals])
    await audit.record(session, actor=actor.username, action="candidate.create",
                       entity_type="candidate", entity_id=candidate.id,
                       data={"cycle_id": cycle.id, "title": title,
                             "proposal_ids": [p.id for p in proposals]})
    return candidate


async def edit(session: AsyncSession, *, actor: User, candidate: Candidate,
               changes: dict[str, Any]) -> Candidate:
    """Change a candidate before it is reviewed; the new version is kept beside the old."""
    cycle = await session.get(Cycle, candidate.cycle_id)
    await _ensure_builder(session, actor, cycle)
    if candidate.state != CandidateState.drafted:
        raise Conflict("Only a drafted candidate can be edited; ask for it to be sent back.",
                       code="not_editable", zh="只有“拟定中”的候选项目可以修改，请先退回。")
    changes = {k: v for k, v in changes.items() if v is not None}
    if "responsible_unit" in changes:
        candidate.responsible_unit_id = (await _unit(session, cycle,
                                                     changes.pop("responsible_unit"))).id
    if "funding" in changes:
        changes["funding"] = [{"source": f["source"], "amount_wan": str(f["amount_wan"])}
                              for f in changes["funding"]]
    new_ids = changes.pop("proposal_ids", None)
    for field, value in changes.items():
        setattr(candidate, field, value)
    _check_money_and_dates(cycle, candidate.budget_wan, candidate.funding, candidate.deadline)
    current = list(await session.scalars(select(CandidateSource.proposal_id).where(
        CandidateSource.candidate_id == candidate.id)))
    if new_ids is not None:
        keep = await _sources(session, cycle, new_ids, candidate)
        added = [p for p in keep if p.id not in current]
        for pid in set(current) - {p.id for p in keep}:
            # A proposal no longer answered by this candidate goes back to the reserve.
            p = await session.get(Proposal, pid)
            await PROPOSAL_WORKFLOW.apply(session, p, ProposalState.accepted, actor=actor,
                                          reason=RELEASED_REASON)
            row = await session.scalar(select(CandidateSource).where(
                CandidateSource.proposal_id == pid))
            await session.delete(row)
        await _adopt(session, actor, candidate, added)
        current = [p.id for p in keep]
    candidate.version += 1
    candidate.updated_at = utcnow()
    session.add(candidate)
    await session.flush()
    await _record_revision(session, actor, candidate, current)
    return candidate


async def transition(session: AsyncSession, *, actor: User, candidate: Candidate, to: str,
                     reason: str) -> Candidate:
    cycle = await session.get(Cycle, candidate.cycle_id)
    await ensure_scope(session, actor, cycle.jurisdiction_code)
    await CANDIDATE_WORKFLOW.apply(session, candidate, to, actor=actor, reason=reason)
    return candidate


async def list_for(session: AsyncSession, cycle: Cycle, *, include_drafts: bool,
                   state: str | None = None) -> list[Candidate]:
    """The cycle's candidates: the public ones (`public_states`) for the public, all of them
    for staff."""
    query = select(Candidate).where(Candidate.cycle_id == cycle.id)
    if not include_drafts:
        query = query.where(Candidate.state.in_(public_states(cycle)))
    if state:
        query = query.where(Candidate.state == state)
    return list(await session.scalars(query.order_by(Candidate.created_at, Candidate.id)))


async def sources_of(session: AsyncSession, candidate_ids: list[str]
                     ) -> dict[str, list[Proposal]]:
    """The proposals each candidate answers, in one query."""
    result: dict[str, list[Proposal]] = {cid: [] for cid in candidate_ids}
    if not candidate_ids:
        return result
    rows = await session.execute(
        select(CandidateSource.candidate_id, Proposal)
        .join(Proposal, Proposal.id == CandidateSource.proposal_id)
        .where(CandidateSource.candidate_id.in_(candidate_ids))
        .order_by(Proposal.endorsement_count.desc(), Proposal.created_at))
    for cid, proposal in rows.all():
        result[cid].append(proposal)
    return result


async def unit_names(session: AsyncSession, unit_ids: set[str]) -> dict[str, str]:
    if not unit_ids:
        return {}
    rows = await session.execute(select(ResponsibleUnit.id, ResponsibleUnit.name)
                                 .where(ResponsibleUnit.id.in_(unit_ids)))
    return dict(rows.all())


async def revisions(session: AsyncSession, candidate: Candidate) -> list[CandidateRevision]:
    return list(await session.scalars(select(CandidateRevision).where(
        CandidateRevision.candidate_id == candidate.id).order_by(CandidateRevision.version)))


async def counts(session: AsyncSession, cycle_id: str) -> dict[str, int]:
    rows = await session.execute(select(Candidate.state, func.count())
                                 .where(Candidate.cycle_id == cycle_id).group_by(Candidate.state))
    return dict(rows.all())


# ---------------------------------------------------------------- 公示

async def set_publicity(session: AsyncSession, *, actor: User, cycle: Cycle, start: date,
                        end: date) -> Cycle:
    """Set the days the reviewed list is open for residents' comments."""
    await ensure_scope(session, actor, cycle.jurisdiction_code)
    if end < start:
        raise Invalid("The 公示 period must end on or after its first day.",
                      code="bad_period", zh="公示截止日期不能早于开始日期。")
    if (end - start).days > 60:
        raise Invalid("A 公示 period lasts at most 60 days.", code="bad_period",
                      zh="公示期最长 60 天。")
    cycle.publicity_start, cycle.publicity_end = start, end
    session.add(cycle)
    await session.flush()
    await audit.record(session, actor=actor.username, action="cycle.publicity",
                       entity_type="cycle", entity_id=cycle.id,
                       data={"start": start.isoformat(), "end": end.isoformat()})
    return cycle


def in_publicity(cycle: Cycle, today: date) -> bool:
    return bool(cycle.publicity_start and cycle.publicity_end
                and cycle.publicity_start <= today <= cycle.publicity_end)
