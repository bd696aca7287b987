"""JSON shapes of the jurisdiction API."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.models import JurisdictionLevel
from app.schemas import Input

CODE_PATTERN = r"^[a-z][a-z0-9_-]*$"


class JurisdictionIn(Input):
    code: str = Field(min_length=2, max_length=32, pattern=CODE_PATTERN,
                      description="lower-case letters, digits, - and _; starts with a letter")
    name: str = Field(min_length=1, max_length=100)
    level: JurisdictionLevel
    parent_code: str | None = Field(default=None, max_length=32)
    division_code: str | None = Field(
        default=None, max_length=20,
        description="行政区划代码: 6 digits for a province, city or county, 9 for a township or "
                    "street; begins with its parent's (docs/install.md)")


class JurisdictionOut(BaseModel):
    code: str
    name: str
    level: str
    parent_code: str | None
    division_code: str | None
    has_congress: bool


class JurisdictionImportOut(BaseModel):
    created: int
    unchanged: int
