"""Jurisdictions: provinces, cities, counties, townships and streets, nested."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, String
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow


class JurisdictionLevel(StrEnum):
    """The level of a jurisdiction (行政级别); a street (街道) has no congress and cannot ballot.

    `province` covers 省, 自治区 and 直辖市; `city` 地级市, 自治州 and 盟; `county` 县, 县级市,
    市辖区 and 旗; `township` 乡, 镇 and 民族乡; `street` 街道.
    """

    province = "province"
    city = "city"
    county = "county"
    township = "township"
    street = "street"


class Jurisdiction(SQLModel, table=True):
    """Jurisdiction — 行政区域 (省 / 市 / 县 / 乡镇 / 街道); each with a congress has its own deputy
    roster."""

    __tablename__ = "jurisdiction"

    code: str = Field(sa_column=Column(String(32), primary_key=True))
    name: str = Field(sa_column=Column(String(100), nullable=False))
    level: str = Field(sa_column=Column(String(16), nullable=False))
    parent_code: str | None = Field(default=None, foreign_key="jurisdiction.code", index=True,
                                    max_length=32)
    # 行政区划代码 (GB/T 2260): 6 digits for a province, city or county, 9 for a township or
    # street; optional, unique when given (app/jurisdictions/nesting.py has the rules).
    division_code: str | None = Field(default=None, sa_column=Column(String(9), unique=True))
    # The jurisdiction's parameters (DOMAIN.md "param"); see app/jurisdictions/settings.py.
    settings: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def has_congress(self) -> bool:
        return self.level != JurisdictionLevel.street
