"""The states of every workflow, as enums: a leaf module (it imports nothing of the app), so
the models can type their state columns with them while the workflows import the models.

Each workflow module re-exports its enum (`from app.workflows.project import ProjectState`
keeps working); the transition tables and labels stay there.
"""

from __future__ import annotations

from enum import StrEnum


class ProjectState(StrEnum):
    """ProjectState — 项目状态."""

    announced = "announced"
    in_progress = "in_progress"
    completed = "completed"
    accepted = "accepted"
    adjusted = "adjusted"
    suspended = "suspended"
    terminated = "terminated"


class ProposalState(StrEnum):
    """ProposalState — 建议状态."""

    submitted = "submitted"
    accepted = "accepted"
    rejected = "rejected"
    merged = "merged"
    adopted = "adopted"
    carried = "carried"


class CandidateState(StrEnum):
    """CandidateState — 候选项目状态."""

    drafted = "drafted"
    gov_approved = "gov_approved"
    party_approved = "party_approved"
    reviewed = "reviewed"


class CyclePhase(StrEnum):
    """CyclePhase — 周期阶段."""

    draft = "draft"
    soliciting = "soliciting"
    screening = "screening"
    commenting = "commenting"
    balloting = "balloting"
    announced = "announced"
    supervising = "supervising"
    evaluating = "evaluating"
    closed = "closed"


class BallotState(StrEnum):
    """BallotState — 票决轮次状态."""

    created = "created"
    open = "open"
    closed = "closed"
    tallied = "tallied"
    published = "published"
    void = "void"
