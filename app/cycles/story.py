"""The cycle story (年度全景): one cycle told from 征集 to 公开 on one public page.

A list decided by the government tells its comment period (征求意见) where a balloted one tells
its ballot: the draft list instead of the reviewed candidates, the comment figures read in the
query that reads a balloted cycle's rounds, the adopting meeting's record from the cycle row.

`cycle_story` gathers everything the page shows with a fixed number of queries, whatever the
number of proposals, candidates, rounds or projects: the jurisdiction (read with the cycle by
the page), the cycle's phase history, the proposals counted in SQL (GROUP BY category, channel
and state), the reviewed candidates with their number of source proposals (GROUP BY), the
rounds, the projects and their implementation plans (app/projects/plans.plan_summaries; the
plans' due date comes from the history already read). The page takes seven in all
(tests/cycles/test_story.py counts them).

`archive` does the same for the archive pages: jurisdictions, then cycles with their number of
projects in one grouped query.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ballotbox.forms import DEPUTIES_BALLOT
from app.candidates.service import public_states
from app.cycles.service import phase_history
from app.govlist import comments as draft_comments
from app.govlist import draft
from app.i18n import N_
from app.jurisdictions.settings import settings_for
from app.models import (
    BallotRound,
    Candidate,
    CandidateSource,
    Cycle,
    Jurisdiction,
    Project,
    Proposal,
    ResponsibleUnit,
)
from app.projects.plans import PlanSummary, plan_summaries
from app.projects.service import published_at_in
from app.proposals.service import LIVE_STATES
from app.timeutil import CHINA_TZ
from app.workflows.ballot import BallotState
from app.workflows.cycle import GOVERNMENT_TIMELINE, TIMELINE, CyclePhase, timeline_for
from app.workflows.proposal import CHANNELS, ProposalState

# How the page words each state's share of the proposals received, in this order.
STATE_PHRASES = [
    (ProposalState.adopted, N_("列入候选项目 %(n)s 条")),
    (ProposalState.accepted, N_("进入储备库 %(n)s 条")),
    (ProposalState.rejected, N_("未采纳 %(n)s 条")),
    (ProposalState.merged, N_("合并 %(n)s 条")),
    (ProposalState.submitted, N_("待审核 %(n)s 条")),
    (ProposalState.carried, N_("结转下一年度 %(n)s 条")),
]

# Where each phase sits on the six-stage timeline; draft comes before it, closed after it. The
# comment period of a government list sits where a balloted list has its ballot.
_PLACE = {**{str(p): i for i, p in enumerate(GOVERNMENT_TIMELINE)},
          **{str(p): i for i, p in enumerate(TIMELINE)}}


def timeline_place(phase: str) -> int:
    """The index of `phase` on the six-stage timeline: -1 for draft, 6 for closed."""
    if phase in _PLACE:
        return _PLACE[phase]
    return -1 if phase == CyclePhase.draft else len(TIMELINE)


def reached(cycle: Cycle, phase: str) -> bool:
    """Whether the cycle has entered `phase` (one of the six stages) or gone past it."""
    return timeline_place(cycle.phase) >= _PLACE[phase]


@dataclass
class Stage:
    """One of the six stages: when it began and ended (Beijing dates) and where the cycle is."""

    phase: str
    status: str              # "done", "now" or "todo"
    began: date | None
    ended: date | None


@dataclass
class Bar:
    """One row of a figure: a label, its count and its share of the largest row (0–100)."""

    key: str
    label: str
    count: int
    percent: int
    translate: bool = False  # a page label (channels); category names are the cycle's data


@dataclass
class ProposalFigures:
    """征集 in figures: every proposal the cycle received, by category, channel and state."""

    total: int
    by_category: list[Bar]
    by_channel: list[Bar]
    by_state: dict[str, int]
    carried_in: int          # copies carried in from earlier years' reserve (储备库)
    live: int                # as the public list shows by default (submitted, accepted, adopted)

    def state_parts(self) -> list[tuple[str, int]]:
        """(phrase, count) for each state with proposals, in STATE_PHRASES order."""
        return [(phrase, self.by_state[str(s)]) for s, phrase in STATE_PHRASES
                if self.by_state.get(str(s))]


@dataclass
class CandidateLine:
    """A public candidate (reviewed, or on a government's published draft list) and how many
    residents' proposals it answers."""

    id: str
    title: str
    unit: str
    budget_wan: Decimal
    proposals: int
    selected: bool = False
    left_out: bool = False  # a government list: the adopting meeting left it out


@dataclass
class SelectedLine:
    """A candidate a published round selected: yes votes (None when not published), project."""

    candidate_id: str
    title: str
    yes: int | None
    project_id: str | None


@dataclass
class RoundResult:
    """One published round as the story tells it."""

    ballot_id: str
    round: int
    seats: int
    total_deputies: int
    present: int
    cast: int
    threshold: int
    outcome: str
    candidates: int
    selected: list[SelectedLine]


@dataclass
class ProjectLine:
    """A decided project with its plan summary and the number of proposals behind it."""

    project: Project
    plan: PlanSummary | None
    proposals: int


@dataclass
class CycleStory:
    """CycleStory — 年度全景: everything the public cycle page tells, gathered at once."""

    cycle: Cycle
    jurisdiction: Jurisdiction
    stages: list[Stage]
    history: list
    proposals: ProposalFigures
    candidates: list[CandidateLine]
    rounds: list[RoundResult]
    projects: list[ProjectLine]
    publish_vote_counts: bool
    budget_total_wan: Decimal = Decimal("0")
    adopted_into_candidates: int = 0
    late_plans: int = 0
    missing_plans: int = 0
    reached: dict[str, bool] = field(default_factory=dict)
    all_rounds: list[BallotRound] = field(default_factory=list)  # every round, published or not
    # A list decided by the government: its comment period, the comments' figures and the
    # adopting meeting's record (None for a balloted list).
    period: draft.CommentPeriod | None = None
    comments: draft_comments.CommentFigures | None = None
    adoption: dict | None = None

    @property
    def by_government(self) -> bool:
        return draft.is_government(self.cycle)

    def published_by_ballot(self) -> dict[str, RoundResult]:
        """ballot id → its published round, for the page's list of every round."""
        return {r.ballot_id: r for r in self.rounds}


def beijing_date(value) -> date | None:
    return value.astimezone(CHINA_TZ).date() if value else None


def _stages(cycle: Cycle, moves: list) -> list[Stage]:
    """The six stages with the Beijing date each began (first entry) and ended (next entry)."""
    began: dict[str, date] = {}
    for m in moves:  # oldest first
        if m.to_state not in began:
            began[m.to_state] = beijing_date(m.at)
    now = timeline_place(cycle.phase)
    stages = []
    order = [str(p) for p in timeline_for(cycle.decided_by)] + [str(CyclePhase.closed)]
    for i, phase in enumerate(order[:-1]):
        status = "done" if i < now else ("now" if i == now else "todo")
        ended = began.get(order[i + 1]) if status == "done" else None
        stages.append(Stage(phase, status, began.get(phase), ended))
    return stages


def _bars(counts: Counter, keys: list[tuple[str, str]], *, translate: bool = False) -> list[Bar]:
    """Rows for `keys` (key, label), then any other key counted, largest first (ties: order)."""
    known = dict(keys)
    keys_ = set(known)
    for key in counts:
        if key not in known:
            known[key] = key
    top = max(counts.values(), default=0)
    rows = [Bar(k, label, counts.get(k, 0),
                round(100 * counts.get(k, 0) / top) if top else 0, translate and k in keys_)
            for k, label in known.items()]
    position = {k: i for i, k in enumerate(known)}
    rows.sort(key=lambda b: (-b.count, position[b.key]))
    return rows


async def _proposal_figures(session: AsyncSession, cycle: Cycle) -> ProposalFigures:
    rows = (await session.execute(
        select(Proposal.category, Proposal.channel, Proposal.state, func.count(),
               func.count(Proposal.carried_from_id))
        .where(Proposal.cycle_id == cycle.id)
        .group_by(Proposal.category, Proposal.channel, Proposal.state))).all()
    by_category: Counter = Counter()
    by_channel: Counter = Counter()
    by_state: Counter = Counter()
    carried = 0
    for category, channel, state, n, n_carried in rows:
        by_category[category] += n
        by_channel[channel] += n
        by_state[state] += n
        carried += n_carried
    return ProposalFigures(
        total=sum(by_state.values()),
        by_category=_bars(by_category, [(c, c) for c in cycle.categories]),
        by_channel=_bars(by_channel, list(CHANNELS.items()), translate=True),
        by_state={str(s): by_state.get(str(s), 0) for s in ProposalState},
        carried_in=carried, live=sum(by_state.get(str(s), 0) for s in LIVE_STATES))


async def _candidates(session: AsyncSession, cycle: Cycle) -> list[CandidateLine]:
    """The public candidates — reviewed, or a government's published draft list — each with its
    count of source proposals."""
    states = public_states(cycle)
    if not states:
        return []
    rows = (await session.execute(
        select(Candidate.id, Candidate.title, ResponsibleUnit.name, Candidate.budget_wan,
               func.count(CandidateSource.id))
        .join(ResponsibleUnit, ResponsibleUnit.id == Candidate.responsible_unit_id)
        .outerjoin(CandidateSource, CandidateSource.candidate_id == Candidate.id)
        .where(Candidate.cycle_id == cycle.id, Candidate.state.in_(states))
        .group_by(Candidate.id, ResponsibleUnit.id)
        .order_by(Candidate.created_at, Candidate.id))).all()
    return [CandidateLine(cid, title, unit, budget, n) for cid, title, unit, budget, n in rows]


def _round_results(rounds: list[BallotRound], show_counts: bool,
                   project_of: dict[str, str]) -> list[RoundResult]:
    out = []
    for r in rounds:
        res = r.results
        by_id = {c["id"]: c for c in res.get("candidates", [])}
        selected = [SelectedLine(cid, by_id.get(cid, {}).get("title", ""),
                                 by_id.get(cid, {}).get("yes") if show_counts else None,
                                 project_of.get(cid))
                    for cid in res.get("selected_ids") or []]
        out.append(RoundResult(
            ballot_id=r.id, round=res.get("round", r.round), seats=res.get("seats", 0),
            total_deputies=res.get("total_deputies", 0), present=res.get("present", 0),
            cast=res.get("cast", 0), threshold=res.get("threshold", 0),
            outcome=res.get("outcome", ""), candidates=len(by_id), selected=selected))
    return out


async def cycle_story(session: AsyncSession, cycle: Cycle,
                      jurisdiction: Jurisdiction | None = None) -> CycleStory:
    """The whole story of `cycle`, in a fixed number of queries (seven, six when the caller read
    the jurisdiction with the cycle).

    Every round of the cycle is read once: the published ones tell the results, and the page's
    票决 section lists them all (`all_rounds`). A government list has no rounds: that query
    counts its comments instead.
    """
    if jurisdiction is None:  # else the caller read it with the cycle
        jurisdiction = await session.get(Jurisdiction, cycle.jurisdiction_code)
    show_counts = settings_for(jurisdiction).publish_vote_counts
    moves = await phase_history(session, cycle)
    figures = await _proposal_figures(session, cycle)
    candidates = await _candidates(session, cycle) if reached(cycle, CyclePhase.screening) else []
    by_government = draft.is_government(cycle)
    figures_of_comments = None
    if by_government:
        all_rounds: list[BallotRound] = []
        figures_of_comments = await draft_comments.figures(session, cycle.id)
    else:
        all_rounds = list(await session.scalars(select(BallotRound).where(
            BallotRound.cycle_id == cycle.id, BallotRound.form == DEPUTIES_BALLOT.name)
            .order_by(BallotRound.round)))
    rounds = [r for r in all_rounds if r.state == BallotState.published and r.results]
    projects: list[Project] = []
    if reached(cycle, CyclePhase.announced):
        projects = list(await session.scalars(select(Project).where(
            Project.cycle_id == cycle.id)))
    # 公告 order: the rounds in order, each round's selections ranked by yes.
    place: dict[str, int] = {}
    for r in rounds:
        for cid in r.results.get("selected_ids") or []:
            place.setdefault(cid, len(place))
    dropped = draft.left_out_ids(cycle)
    if by_government and reached(cycle, CyclePhase.announced):  # 公告 order: the draft list's
        for c in candidates:
            if c.id not in dropped:
                place.setdefault(c.id, len(place))
    projects.sort(key=lambda p: (place.get(p.candidate_id, len(place)), p.title, p.id))
    plans = (await plan_summaries(session, cycle, [p.id for p in projects],
                                  published_at_in(cycle, moves)) if projects else {})
    sources = {c.id: c.proposals for c in candidates}
    for c in candidates:
        c.selected = c.id in place
        c.left_out = c.id in dropped
    lines = [ProjectLine(p, plans.get(p.id), sources.get(p.candidate_id, 0)) for p in projects]
    return CycleStory(
        cycle=cycle, jurisdiction=jurisdiction, stages=_stages(cycle, moves), history=moves,
        proposals=figures, candidates=candidates,
        rounds=_round_results(rounds, show_counts, {p.candidate_id: p.id for p in projects}),
        projects=lines, publish_vote_counts=show_counts,
        budget_total_wan=sum((p.budget_wan for p in projects), Decimal("0")),
        adopted_into_candidates=sum(c.proposals for c in candidates),
        late_plans=sum(1 for line in lines if line.plan and line.plan.late),
        missing_plans=sum(1 for line in lines if line.plan and line.plan.saved_at is None),
        reached={p: reached(cycle, p) for p in _PLACE}, all_rounds=all_rounds,
        period=draft.comment_period(cycle, jurisdiction, moves) if by_government else None,
        comments=figures_of_comments,
        adoption=draft.adoption_of(cycle) if by_government else None)


# ---------------------------------------------------------------- the archive (往年档案)


@dataclass
class ArchivedCycle:
    """A cycle as the archive lists it: its phase and how many projects it decided."""

    cycle: Cycle
    projects: int


@dataclass
class ArchiveEntry:
    """A jurisdiction with its cycles, newest year first."""

    jurisdiction: Jurisdiction
    cycles: list[ArchivedCycle]
    depth: int = 0


async def _cycles_with_counts(session: AsyncSession,
                              codes: list[str] | None = None) -> list[ArchivedCycle]:
    """Cycles (of `codes`, or all) newest year first, each with its number of projects."""
    query = (select(Cycle, func.count(Project.id))
             .outerjoin(Project, Project.cycle_id == Cycle.id)
             .group_by(Cycle.id)
             .order_by(Cycle.year.desc(), Cycle.jurisdiction_code))
    if codes is not None:
        query = query.where(Cycle.jurisdiction_code.in_(codes))
    return [ArchivedCycle(c, n) for c, n in (await session.execute(query)).all()]


def _tree(rows: list[Jurisdiction], root: str | None) -> list[tuple[Jurisdiction, int]]:
    """`rows` in tree order under `root` (None: every top-level one), with their depth."""
    by_parent: dict[str | None, list[Jurisdiction]] = {}
    for j in sorted(rows, key=lambda j: j.code):
        by_parent.setdefault(j.parent_code, []).append(j)
    out: list[tuple[Jurisdiction, int]] = []

    def walk(parent: str | None, depth: int) -> None:
        for j in by_parent.get(parent, []):
            out.append((j, depth))
            walk(j.code, depth + 1)

    walk(root, 0)
    return out


async def archive(session: AsyncSession) -> list[ArchiveEntry]:
    """Every jurisdiction (tree order) with its cycles, newest first: two queries."""
    rows = list(await session.scalars(select(Jurisdiction)))
    cycles = await _cycles_with_counts(session)
    by_j: dict[str, list[ArchivedCycle]] = {}
    for c in cycles:
        by_j.setdefault(c.cycle.jurisdiction_code, []).append(c)
    return [ArchiveEntry(j, by_j.get(j.code, []), depth) for j, depth in _tree(rows, None)]


def by_year(cycles: list[ArchivedCycle]) -> list[tuple[int, list[ArchivedCycle]]]:
    """Cycles grouped by year, newest year first (their order kept inside a year)."""
    years: dict[int, list[ArchivedCycle]] = {}
    for c in sorted(cycles, key=lambda c: -c.cycle.year):
        years.setdefault(c.cycle.year, []).append(c)
    return list(years.items())


async def jurisdiction_archive(session: AsyncSession, jurisdiction: Jurisdiction
                               ) -> tuple[list[tuple[int, list[ArchivedCycle]]],
                                          list[ArchiveEntry]]:
    """One jurisdiction's cycles by year, and the jurisdictions inside it with their cycles.

    Two queries (the jurisdiction itself is loaded by the caller): the jurisdictions, and the
    cycles with their project counts (this one's and those inside it); nothing per cycle.
    """
    rows = list(await session.scalars(select(Jurisdiction)))
    inside = _tree(rows, jurisdiction.code)
    codes = [jurisdiction.code, *(j.code for j, _ in inside)]
    cycles = await _cycles_with_counts(session, codes)
    by_j: dict[str, list[ArchivedCycle]] = {}
    for c in cycles:
        by_j.setdefault(c.cycle.jurisdiction_code, []).append(c)
    return (by_year(by_j.get(jurisdiction.code, [])),
            [ArchiveEntry(j, by_j.get(j.code, []), depth) for j, depth in inside])
