"""Every table, imported so the metadata is complete for Alembic and the app."""

from app.models.audit import AuditAnchor, AuditEntry
from app.models.ballot import (
    BallotAttendance,
    BallotBoxKey,
    BallotContent,
    BallotEnvelope,
    BallotItem,
    BallotParticipation,
    BallotReceipt,
    BallotRound,
    BallotScrutineer,
    DeviceBallot,
    PaperEntry,
)
from app.models.base import new_id, utcnow
from app.models.candidate import Candidate, CandidateRevision, CandidateSource, ResponsibleUnit
from app.models.cycle import Cycle
from app.models.jurisdiction import Jurisdiction, JurisdictionLevel
from app.models.login_session import LoginSession
from app.models.notification import Notification, SmsCode, SmsMessage
from app.models.plan import ProjectPlan, ProjectPlanVersion
from app.models.progress import ProgressReport
from app.models.project import Project, ProjectDecision
from app.models.proposal import (
    DEFAULT_CATEGORIES,
    Comment,
    CommentReport,
    Endorsement,
    Proposal,
    ProposalPhoto,
    ProposalTally,
)
from app.models.user import JurisdictionGrant, User
from app.models.workflow import StateTransition

__all__ = ["DEFAULT_CATEGORIES", "AuditAnchor", "AuditEntry", "BallotAttendance", "BallotBoxKey",
           "BallotContent", "BallotEnvelope", "BallotItem", "BallotParticipation", "BallotReceipt", "BallotRound",
           "BallotScrutineer", "Candidate", "CandidateRevision", "DeviceBallot", "PaperEntry", "ProgressReport", "ProjectDecision",
           "CandidateSource", "ResponsibleUnit", "Comment", "CommentReport", "Cycle", "Endorsement",
           "Jurisdiction", "JurisdictionGrant", "JurisdictionLevel", "Notification", "Project",
           "LoginSession",
           "ProjectPlan", "ProjectPlanVersion", "ProposalTally",
           "Proposal",
           "ProposalPhoto", "SmsCode", "SmsMessage", "StateTransition", "User", "new_id", "utcnow"]
