"""JSON API of 公开: a cycle's announcement (公告), its decided projects and their plans."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from app.auth.deps import require
from app.auth.roles import Perm
from app.cycles.deps import CurrentCycle
from app.db import SessionDep
from app.models import Project, User
from app.pagination import Page, PageDep
from app.projects import plans, progress, service, transitions
from app.projects.schemas import (
    AnnouncementOut,
    BoardItemOut,
    BoardOut,
    PlanIn,
    PlanSavedOut,
    PlanVersionOut,
    ProgressFiledOut,
    ProgressIn,
    ProgressOut,
    ProjectOut,
    ProjectStateOut,
    ProjectTransitionIn,
    SupervisionOut,
    announcement_out,
    plan_out,
    project_out,
    version_out,
)

router = APIRouter(tags=["publication"])


async def _load_project(project_id: str, session: SessionDep) -> Project:
    return await plans.get_project(session, project_id)


CurrentProject = Annotated[Project, Depends(_load_project)]


@router.get("/cycles/{cycle_id}/announcement", response_model=AnnouncementOut)
async def read_announcement(cycle: CurrentCycle, session: SessionDep):
    """The 公告 (anyone, once announced; 409 `not_announced` before).

    When the jurisdiction does not publish vote counts, each project's `yes` is null and the
    ballots' candidates carry no yes / no / abstain counts.
    """
    return announcement_out(await service.announcement(session, cycle))


@router.get("/cycles/{cycle_id}/projects", response_model=Page[ProjectOut])
async def list_projects(cycle: CurrentCycle, session: SessionDep, paging: PageDep):
    """The cycle's decided projects in 公告 order, with `state` and `plan` (anyone).

    `plan` is null until the government publishes it; `plan_due` and `plan_late` say when it
    is due and whether it is (or was) late. Empty before the cycle is announced. A cycle has at
    most its seats of projects, so the page is cut from the full list; a fixed number of
    queries whatever their number.
    """
    rows, show_counts = await service.list_projects(session, cycle)
    start = (paging.page - 1) * paging.per_page
    shown = rows[start:start + paging.per_page]
    due, current = await plans.plans_for(session, cycle, [r.project.id for r in shown])
    return Page(items=[project_out(r, show_counts, current.get(r.project.id), due)
                       for r in shown],
                total=len(rows), page=paging.page, per_page=paging.per_page)


@router.get("/cycles/{cycle_id}/supervision", response_model=BoardOut, tags=["supervision"])
async def supervision_board(cycle: CurrentCycle, session: SessionDep):
    """The cycle's 督办 board (anyone): counts by colour and every decided project with its
    colour, reason in words, reported and planned progress and money, reddest first (within a
    colour, furthest behind first). Computed when read; a fixed number of queries. Empty before
    the cycle is announced."""
    items = await progress.board(session, cycle)
    counts = dict.fromkeys(("green", "yellow", "red", "blue"), 0)
    for i in items:
        if i.figures.status.colour is not None:
            counts[i.figures.status.colour] += 1
    return BoardOut(counts=counts, items=[BoardItemOut(
        project_id=i.project.id, title=i.project.title,
        responsible_unit=i.project.responsible_unit, state=i.project.state,
        status=i.figures.status.colour, status_words=i.figures.status.words,
        status_reason=i.figures.status.reason_zh, percent=i.figures.percent,
        planned_percent=i.figures.planned_percent, gap=i.figures.status.gap,
        spent_wan=i.figures.spent_wan, budget_wan=i.project.budget_wan,
        overdue_findings=i.figures.overdue_findings) for i in items])


@router.get("/projects/{project_id}", response_model=ProjectOut)
async def read_project(project: CurrentProject, session: SessionDep):
    """One decided project with its `state` and `plan` (anyone)."""
    v = await plans.view(session, project)
    sources = await service.source_proposal_ids(session, [project.candidate_id])
    row = service.ProjectRow(project, sources.get(project.candidate_id, []), 0)
    out = project_out(row, v.publish_vote_counts, v.plan, v.due)
    sv = await progress.supervision(session, v)
    out.supervision = SupervisionOut(
        percent=sv.percent, planned_percent=sv.planned_percent, gap=sv.status.gap,
        spent_wan=sv.spent_wan, status=sv.status.colour, status_words=sv.status.words,
        status_reason=sv.status.reason_zh, last_report_at=sv.last_report_at,
        report_due=sv.report_due, open_findings=sv.open_findings,
        overdue_findings=sv.overdue_findings)
    return out


@router.put("/projects/{project_id}/plan", response_model=PlanSavedOut)
async def save_plan(project: CurrentProject, body: PlanIn, session: SessionDep,
                    actor: Annotated[User, require(Perm.plan_write)]):
    """Publish or change the implementation plan (gov_staff of the project's jurisdiction).

    The plan is public at once. 422 names what to fix (at least one milestone and one target;
    milestones between the announcement and the deadline; funding > 0 adding up to the decided
    budget; for a cross-year project one stage target per year); 409 before the cycle is
    announced, after it is closed, or for a terminated / accepted project. Saving the same plan
    again stores no new version (`changed`: false).
    """
    saved = await plans.save(session, actor=actor, project=project,
                             raw=body.model_dump(exclude={"reason"}), reason=body.reason)
    return PlanSavedOut(**plan_out(saved.plan, saved.due).model_dump(), project_id=project.id,
                        changed=saved.changed)


@router.post("/projects/{project_id}/transitions", response_model=ProjectStateOut,
             tags=["supervision"])
async def move_project(project: CurrentProject, body: ProjectTransitionIn, session: SessionDep,
                       actor: Annotated[User, require(Perm.staff_pages)]):
    """Move a project (监督): `in_progress` and `completed` by its unit's staff or gov_staff of its
    jurisdiction; `accepted` (验收) by congress_staff; `adjusted`, `suspended`, `terminated` and
    resuming a suspended project by congress_staff with the decision (`{"number", "date"}`,
    required for these, refused for the others) and a reason. 403 `not_your_unit` for another
    unit's project; 409 `illegal_transition` (what it can go to instead), `wrong_phase` before
    the announcement or after the cycle is closed; 422 `decision_required`,
    `decision_not_allowed`, `invalid_decision`, `reason_required`."""
    decision = (transitions.Decision(body.decision.number, body.decision.date)
                if body.decision is not None else None)
    await transitions.move(session, project, body.to, actor=actor, reason=body.reason,
                           decision=decision)
    return ProjectStateOut(state=project.state)


@router.post("/projects/{project_id}/progress", status_code=201, response_model=ProgressFiledOut,
             tags=["supervision"])
async def file_progress(project: CurrentProject, body: ProgressIn, session: SessionDep,
                        actor: Annotated[User, require(Perm.staff_pages)]):
    """File a progress report (unit_staff of the project's unit, gov_staff of its
    jurisdiction): public at once, never deleted. 409 `not_building` unless the project is
    in_progress (or completed, for a last correction); 422 `percent_decreased` for a percent
    below the last report's without `corrects`, `unknown_report`, `spent_mismatch` (the
    sources do not add up), `unknown_milestone`, `invalid_milestone_date`; 403
    `not_your_unit`, `role_not_allowed`. The answer has the day's 序时进度 and colour."""
    filed = await progress.file_report(session, project, actor, progress.ReportIn(
        percent=body.percent, spent_wan=body.spent_wan, note=body.note,
        spent_by_source=tuple((r.source, r.amount_wan) for r in body.spent_by_source),
        milestones_met=tuple((m.index, m.date) for m in body.milestones_met),
        corrects=body.corrects))
    return ProgressFiledOut(id=filed.id, percent=filed.percent,
                            planned_percent=filed.planned_percent, status=filed.status)


@router.get("/projects/{project_id}/progress", response_model=Page[ProgressOut],
            tags=["supervision"])
async def list_progress(project: CurrentProject, session: SessionDep, paging: PageDep):
    """The project's progress reports, newest first, each with what corrects it (anyone)."""
    reports = await progress.reports_of(session, project.id)
    corrected: dict[str, list[str]] = {}
    for r in reports:
        if r.corrects:
            corrected.setdefault(r.corrects, []).append(r.id)
    start = (paging.page - 1) * paging.per_page
    return Page(items=[ProgressOut(
        id=r.id, percent=r.percent, spent_wan=r.spent_wan, spent_by_source=r.spent_by_source,
        milestones_met=r.milestones_met, note=r.note, corrects=r.corrects,
        corrected_by=corrected.get(r.id, []), reported_on=r.reported_on,
        planned_percent=r.planned_percent, status=r.status, filed_by=r.filed_by,
        filed_at=r.filed_at) for r in reports[start:start + paging.per_page]],
        total=len(reports), page=paging.page, per_page=paging.per_page)


@router.get("/projects/{project_id}/plan/history", response_model=Page[PlanVersionOut])
async def plan_history(project: CurrentProject, session: SessionDep, paging: PageDep):
    """Every saved version of the plan, newest first, each with who, when, the 说明 and what
    changed from the version before (anyone)."""
    items = await plans.history(session, project)
    start = (paging.page - 1) * paging.per_page
    return Page(items=[version_out(i) for i in items[start:start + paging.per_page]],
                total=len(items), page=paging.page, per_page=paging.per_page)
