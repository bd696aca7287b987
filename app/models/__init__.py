"""Every table, imported so the metadata is complete for Alembic and the app."""

from app.models.audit import AuditEntry
from app.models.base import new_id, utcnow
from app.models.cycle import Cycle
from app.models.jurisdiction import Jurisdiction, JurisdictionLevel
from app.models.proposal import DEFAULT_CATEGORIES, Proposal
from app.models.user import JurisdictionGrant, User
from app.models.workflow import StateTransition

__all__ = ["AuditEntry", "Cycle", "Jurisdiction", "JurisdictionGrant", "JurisdictionLevel", "Proposal", "DEFAULT_CATEGORIES",
           "StateTransition", "User", "new_id", "utcnow"]
