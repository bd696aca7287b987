"""A jurisdiction's parameters: every number DOMAIN.md marks *param*, with its default."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class JurisdictionSettings(BaseModel):
    """JurisdictionSettings — 本级参数: the rules one congress chose, defaults from DOMAIN.md."""

    model_config = ConfigDict(extra="forbid")

    soliciting_min_days: int = Field(30, ge=0, le=366, description="征集 lasts at least this long")
    quorum_numerator: int = Field(2, ge=1, description="quorum = ⌈num/den × T⌉ present")
    quorum_denominator: int = Field(3, ge=1)
    extra_candidates_ratio: float = Field(0.2, ge=0, le=5, description="差额: N + ⌈r × N⌉")
    threshold_base: Literal["all", "present", "cast"] = "all"
    secret_ballot: bool = True
    shortfall_policy: Literal["further_round", "leave_empty"] = "further_round"
    scrutineer_signoffs: int = Field(2, ge=1, le=10)
    publish_vote_counts: bool = True
    party_committee_step: bool = False
    plan_due_days: int = Field(30, ge=1, le=365)
    progress_report_max_days: int = Field(31, ge=1, le=365)
    finding_answer_days: int = Field(15, ge=1, le=365)
    objection_days: int = Field(7, ge=1, le=90)
    rectification_days: int = Field(60, ge=1, le=365)
    resident_scoring: bool = False


def settings_of(raw: dict | None) -> JurisdictionSettings:
    """Parse the stored settings (missing keys take their defaults)."""
    return JurisdictionSettings.model_validate(raw or {})
