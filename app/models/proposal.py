"""Residents' proposals (the table; the 征集 workflow and API build on it)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, Numeric, String, Text
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, new_id, utcnow

# DOMAIN.md's default categories (瑶海区 2024); a cycle keeps its own copy.
DEFAULT_CATEGORIES = ["就业创业", "社会保障", "困难群体救助", "教育", "卫生健康", "环境保护",
                      "交通出行", "文体服务", "城乡建设", "公共安全"]


class Proposal(SQLModel, table=True):
    """Proposal — 民生实事建议 (群众点单): one proposal made in one cycle through one channel."""

    __tablename__ = "proposal"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    cycle_id: str = Field(foreign_key="cycle.id", index=True, max_length=32)
    title: str = Field(max_length=100)
    description: str = Field(sa_type=Text)
    category: str = Field(max_length=32)
    location_code: str = Field(foreign_key="jurisdiction.code", max_length=32)
    place: str = Field(default="", max_length=100)
    estimated_cost_wan: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2)))
    channel: str = Field(sa_column=Column(String(16), nullable=False))
    state: str = Field(sa_column=Column(String(16), nullable=False, index=True))
    proposer_id: str | None = Field(default=None, foreign_key="user_account.id", max_length=32)
    recorded_by: str | None = Field(default=None, foreign_key="user_account.id", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
