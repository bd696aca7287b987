"""Projects (民生实事项目): made from the selected candidates when a cycle is announced (for a list
decided by the government: from the adopted draft list, app/govlist/draft.py).

`make_projects` runs inside the cycle's move to `announced` (app/cycles/service.py), in the
same transaction. `announcement` and `list_projects` read with a fixed number of queries
whatever the number of projects: the projects, their candidates' source proposals, the
published rounds, the jurisdiction's settings and the moment of the announcement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.ballots import service as ballots
from app.errors import Conflict
from app.govlist import comments as draft_comments
from app.govlist import draft
from app.jurisdictions.settings import settings_for
from app.models import (
    BallotRound,
    Candidate,
    CandidateSource,
    Cycle,
    Jurisdiction,
    Project,
    ResponsibleUnit,
    StateTransition,
)
from app.workflows.cycle import CYCLE_WORKFLOW, CyclePhase
from app.workflows.engine import Actor
from app.workflows.project import PROJECT_WORKFLOW, ProjectState

# The phases in which the cycle's 公告 exists (announced and every later one).
ANNOUNCED_PHASES = (CyclePhase.announced, CyclePhase.supervising, CyclePhase.evaluating,
                    CyclePhase.closed)


def _selections(rounds: list[BallotRound]) -> dict[str, tuple[BallotRound, int, int]]:
    """candidate id → (the round that selected it, its yes votes there, its place in the list).

    Places follow the rounds, then each round's `selected_ids` (ranked by yes); a candidate
    selected twice (it cannot be) would keep its first round.
    """
    chosen: dict[str, tuple[BallotRound, int, int]] = {}
    for r in rounds:
        yes = {c["id"]: c["yes"] for c in r.results.get("candidates", [])}
        for cid in r.results.get("selected_ids") or []:
            if cid not in chosen:
                chosen[cid] = (r, yes.get(cid, 0), len(chosen))
    return chosen


@dataclass(frozen=True)
class _Pick:
    """A candidate that becomes a project, and the round and yes votes that chose it (none for
    a list decided by the government)."""

    candidate_id: str
    ballot_id: str | None = None
    yes: int | None = None


async def make_projects(session: AsyncSession, cycle: Cycle, *, actor: Actor) -> list[Project]:
    """Turn the selected candidates of the cycle's published rounds — or, for a list decided by
    the government, its adopted draft items — into projects (idempotent).

    Each new project starts `announced`, recorded through the project workflow; candidates
    that already have a project are left alone. Returns the projects made now.
    """
    if draft.is_government(cycle):
        picks = [_Pick(c.id) for c in await draft.adopted_items(session, cycle)]  # draft order
        reason = (f"{cycle.adoption_meeting}研究确定（{cycle.adoption_document_number}），"
                  "公告为民生实事项目")
        action, extra = "project.create_from_list", {
            "document_number": cycle.adoption_document_number}
    else:
        chosen = _selections(await ballots.published_rounds(session, cycle.id))
        picks = [_Pick(cid, ballot.id, yes) for cid, (ballot, yes, _) in chosen.items()]
        reason, action, extra = "票决选定，公告为民生实事项目", "project.create_from_ballot", {}
    if not picks:
        return []
    existing = set(await session.scalars(select(Project.candidate_id).where(
        Project.candidate_id.in_([p.candidate_id for p in picks]))))
    todo = [p for p in picks if p.candidate_id not in existing]
    if not todo:
        return []
    rows = (await session.execute(
        select(Candidate, ResponsibleUnit.name)
        .join(ResponsibleUnit, ResponsibleUnit.id == Candidate.responsible_unit_id)
        .where(Candidate.id.in_([p.candidate_id for p in todo])))).all()
    by_id = {c.id: (c, unit) for c, unit in rows}
    made = []
    for pick in todo:  # in announcement (or draft-list) order
        candidate, unit = by_id[pick.candidate_id]
        made.append(Project(
            cycle_id=cycle.id, candidate_id=candidate.id, title=candidate.title,
            responsible_unit=unit, responsible_unit_id=candidate.responsible_unit_id,
            budget_wan=candidate.budget_wan, deadline=candidate.deadline, yes=pick.yes,
            ballot_id=pick.ballot_id, state=ProjectState.announced))
    session.add_all(made)
    await session.flush()
    await PROJECT_WORKFLOW.record_creations(session, made, actor=actor, reason=reason)
    await audit.record(session, actor=actor.username, action=action, entity_type="cycle",
                       entity_id=cycle.id, data={"projects": [p.id for p in made],
                                                 "candidates": [p.candidate_id for p in made],
                                                 **extra})
    return made


def ensure_announced(cycle: Cycle) -> None:
    """409 unless the cycle has been announced (公开 or a later phase)."""
    if cycle.phase not in ANNOUNCED_PHASES:
        raise Conflict("The result of this cycle is not announced yet; the 公告 appears when the "
                       "cycle enters 'announced'.", code="not_announced",
                       zh="本年度票决结果尚未公告。")


async def published_at(session: AsyncSession, cycle: Cycle) -> datetime:
    """When the cycle entered `announced` (its recorded transition; else its phase start)."""
    at = await session.scalar(select(StateTransition.at).where(
        StateTransition.entity_type == CYCLE_WORKFLOW.entity_type,
        StateTransition.entity_id == cycle.id,
        StateTransition.to_state == CyclePhase.announced)
        .order_by(StateTransition.at.desc()).limit(1))
    return at or cycle.phase_since


def published_at_in(cycle: Cycle, history: list[StateTransition]) -> datetime:
    """`published_at` read off the cycle's phase history already loaded (oldest first)."""
    return next((m.at for m in reversed(history) if m.to_state == CyclePhase.announced),
                None) or cycle.phase_since


@dataclass
class ProjectRow:
    """One project as published: the row, its source proposals and its place in the 公告."""

    project: Project
    source_proposal_ids: list[str]
    place: int


@dataclass
class Announcement:
    """Announcement — 公告: the decided projects and the published rounds behind them, or, for a
    list decided by the government, the adopting meeting's record and the comment figures."""

    cycle: Cycle
    jurisdiction: Jurisdiction
    published_at: datetime
    rounds: list[BallotRound]
    projects: list[ProjectRow] = field(default_factory=list)
    publish_vote_counts: bool = True
    comments: draft_comments.CommentFigures | None = None  # a government list's 征求意见

    @property
    def decided_by(self) -> str:
        return self.cycle.decided_by

    @property
    def by_government(self) -> bool:
        return draft.is_government(self.cycle)

    @property
    def adoption(self) -> dict | None:
        return draft.adoption_of(self.cycle)

    @property
    def issued_by(self) -> str:
        """The body the 公告 speaks for: a government list's 人民政府 (瑶海区人民政府); else the
        jurisdiction's congress session when the cycle names it (乐至县第十八届人民代表大会第五次
        会议), else its 人民代表大会."""
        if self.by_government:
            return self.jurisdiction.name + "人民政府"
        return self.jurisdiction.name + (self.cycle.congress_session or "人民代表大会")

    def ballots(self) -> list[dict]:
        """The published rounds' results; without the per-candidate counts when they are hidden.

        With `publish_vote_counts` off each candidate keeps id, title, passed, selected and
        rank; its yes / no / abstain counts are left out. Round-level figures (T, present,
        issued, cast, valid, invalid, threshold) stay: they say how the vote went, not who
        got how many votes.
        """
        out: list[dict] = []
        for r in self.rounds:
            results = dict(r.results)
            if not self.publish_vote_counts:
                results["candidates"] = [
                    {k: v for k, v in c.items() if k not in ("yes", "no", "abstain")}
                    for c in results.get("candidates", [])]
            out.append(results)
        return out


async def source_proposal_ids(session: AsyncSession,
                              candidate_ids: list[str]) -> dict[str, list[str]]:
    """candidate id → the ids of the proposals it answers, sorted (one query; none if empty)."""
    sources: dict[str, list[str]] = {}
    if candidate_ids:
        pairs = await session.execute(
            select(CandidateSource.candidate_id, CandidateSource.proposal_id)
            .where(CandidateSource.candidate_id.in_(candidate_ids))
            .order_by(CandidateSource.proposal_id))
        for cid, pid in pairs:
            sources.setdefault(cid, []).append(pid)
    return sources


async def _project_rows(session: AsyncSession, cycle_id: str,
                        rounds: list[BallotRound]) -> list[ProjectRow]:
    """The cycle's projects in 公告 order: as the rounds selected them, or (no rounds: a
    government list) in the order of the draft list."""
    pairs = (await session.execute(
        select(Project, Candidate.created_at).join(Candidate, Candidate.id == Project.candidate_id)
        .where(Project.cycle_id == cycle_id).order_by(Candidate.created_at, Candidate.id))).all()
    projects = [p for p, _ in pairs]
    sources = await source_proposal_ids(session, [p.candidate_id for p in projects])
    places = {cid: place for cid, (_, _, place) in _selections(rounds).items()}
    if not rounds:
        places = {p.candidate_id: i for i, p in enumerate(projects)}
    rows = [ProjectRow(p, sources.get(p.candidate_id, []),
                       places.get(p.candidate_id, len(places))) for p in projects]
    rows.sort(key=lambda row: (row.place, row.project.title, row.project.id))
    return rows


async def announcement(session: AsyncSession, cycle: Cycle) -> Announcement:
    """The cycle's 公告, or 409 if it is not announced yet (the same number of queries for a
    balloted and a government list: rounds for one, comment figures for the other)."""
    ensure_announced(cycle)
    jurisdiction = await session.get(Jurisdiction, cycle.jurisdiction_code)
    figures = None
    if draft.is_government(cycle):
        rounds: list[BallotRound] = []
        figures = await draft_comments.figures(session, cycle.id)
    else:
        rounds = await ballots.published_rounds(session, cycle.id)
    return Announcement(
        cycle=cycle, jurisdiction=jurisdiction, published_at=await published_at(session, cycle),
        rounds=rounds, projects=await _project_rows(session, cycle.id, rounds),
        publish_vote_counts=settings_for(jurisdiction).publish_vote_counts,
        comments=figures)


async def list_projects(session: AsyncSession, cycle: Cycle) -> tuple[list[ProjectRow], bool]:
    """The cycle's projects in 公告 order, and whether vote counts are published."""
    jurisdiction = await session.get(Jurisdiction, cycle.jurisdiction_code)
    rounds = ([] if draft.is_government(cycle)
              else await ballots.published_rounds(session, cycle.id))
    return (await _project_rows(session, cycle.id, rounds),
            settings_for(jurisdiction).publish_vote_counts)
