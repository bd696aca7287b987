"""JSON shapes of the jurisdiction API."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.models import JurisdictionLevel
from app.schemas import Input


class JurisdictionIn(Input):
    code: str = Field(min_length=2, max_length=32, pattern=r"^[a-z][a-z0-9_-]*$",
                      description="lower-case letters, digits, - and _; starts with a letter")
    name: str = Field(min_length=1, max_length=100)
    level: JurisdictionLevel
    parent_code: str | None = Field(default=None, max_length=32)


class JurisdictionOut(BaseModel):
    code: str
    name: str
    level: str
    parent_code: str | None
    has_congress: bool
