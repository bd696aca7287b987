"""A decided project's states (DOMAIN.md 监督): announced → in_progress → completed → accepted
(验收), with the side states adjusted, suspended and terminated that need a congress decision.

Projects are born `announced` when the cycle enters 公开; app/projects/transitions.py moves them
(whose project, when, and the congress decisions on top of this table).
"""

from __future__ import annotations

from app.auth.roles import Role
from app.i18n import N_
from app.workflows.engine import Transition, Workflow
from app.workflows.states import ProjectState

STATE_LABELS = {
    ProjectState.announced: N_("已公告"),
    ProjectState.in_progress: N_("实施中"),
    ProjectState.completed: N_("已完工"),
    ProjectState.accepted: N_("已验收"),
    ProjectState.adjusted: N_("已调整"),
    ProjectState.suspended: N_("已暂停"),
    ProjectState.terminated: N_("已终止"),
}

_BUILDERS = frozenset({Role.gov_staff, Role.unit_staff})
_CONGRESS = frozenset({Role.congress_staff})

PROJECT_WORKFLOW = Workflow(
    entity_type="project",
    states=ProjectState,
    transitions=[
        Transition(ProjectState.announced, ProjectState.in_progress, _BUILDERS),
        Transition(ProjectState.in_progress, ProjectState.completed, _BUILDERS),
        Transition(ProjectState.completed, ProjectState.accepted, _CONGRESS),
        # A major adjustment, suspension or termination needs a congress decision (DOMAIN.md).
        Transition(ProjectState.in_progress, ProjectState.adjusted, _CONGRESS,
                   reason_required=True),
        Transition(ProjectState.adjusted, ProjectState.in_progress, _BUILDERS),
        Transition(ProjectState.in_progress, ProjectState.suspended, _CONGRESS,
                   reason_required=True),
        Transition(ProjectState.suspended, ProjectState.in_progress, _CONGRESS,
                   reason_required=True),
        Transition(ProjectState.in_progress, ProjectState.terminated, _CONGRESS,
                   reason_required=True),
        Transition(ProjectState.suspended, ProjectState.terminated, _CONGRESS,
                   reason_required=True),
    ],
)
