"""A jurisdiction's parameters: every number DOMAIN.md marks *param*, with its default."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.models.proposal import DEFAULT_CATEGORIES

if TYPE_CHECKING:
    from app.models import Jurisdiction

# Levels whose yearly list is, by default, fixed by the government rather than balloted.
GOVERNMENT_LEVELS = frozenset({"province", "city"})


class JurisdictionSettings(BaseModel):
    """JurisdictionSettings — 本级参数: the rules one congress chose, defaults from DOMAIN.md."""

    model_config = ConfigDict(extra="forbid")

    # 征集 and 初定
    soliciting_min_days: int = Field(30, ge=0, le=366, description="征集 lasts at least this long")
    categories: list[str] = Field(default_factory=lambda: list(DEFAULT_CATEGORIES),
                                  min_length=1, max_length=30,
                                  description="proposal categories a new cycle starts with")
    party_committee_step: bool = False
    extra_candidates_ratio: float = Field(0.2, ge=0, le=5, description="差额: N + ⌈r × N⌉")
    # How the list is decided: by the deputies' ballot, or by the government after a public
    # comment period on the draft list (征求意见).
    decided_by: Literal["ballot", "government"] = "ballot"
    comment_period_min_days: int = Field(30, ge=1, le=366)
    # 票决
    quorum_numerator: int = Field(2, ge=1, description="quorum = ⌈num/den × T⌉ present")
    quorum_denominator: int = Field(3, ge=1)
    threshold_base: Literal["all", "present", "cast"] = "all"
    secret_ballot: bool = True
    shortfall_policy: Literal["further_round", "leave_empty"] = "further_round"
    scrutineer_signoffs: int = Field(2, ge=1, le=10)
    # 公开
    publish_vote_counts: bool = True
    plan_due_days: int = Field(30, ge=1, le=365)
    # 监督
    progress_report_max_days: int = Field(31, ge=1, le=365)
    planned_progress: Literal["milestones", "linear"] = "milestones"
    yellow_gap_points: int = Field(10, ge=1, le=100)
    red_gap_points: int = Field(20, ge=1, le=100)
    finding_answer_days: int = Field(15, ge=1, le=365)
    finding_reopen_days: int = Field(30, ge=1, le=365)
    objection_days: int = Field(7, ge=1, le=90)
    # 测评
    evaluation_secret: bool = True
    evaluation_base: Literal["all", "present", "cast"] = "all"
    resident_scoring: bool = False
    deputies_weight: int = Field(50, ge=0, le=100)
    residents_weight: int = Field(50, ge=0, le=100)
    rectification_days: int = Field(60, ge=1, le=365)
    basically_satisfied_rectify: bool = False


def settings_of(raw: dict | None) -> JurisdictionSettings:
    """Parse the stored settings (missing keys take their defaults)."""
    return JurisdictionSettings.model_validate(raw or {})


def level_defaults(level: str) -> dict:
    """Defaults that depend on the jurisdiction's level: above the county, lists are decided by
    the government (DOMAIN.md)."""
    return {"decided_by": "government"} if level in GOVERNMENT_LEVELS else {}


def settings_for(jurisdiction: Jurisdiction | None) -> JurisdictionSettings:
    """A jurisdiction's settings: what it stored, else its level's default, else DOMAIN.md's."""
    if jurisdiction is None:
        return settings_of(None)
    return settings_of({**level_defaults(jurisdiction.level), **(jurisdiction.settings or {})})
