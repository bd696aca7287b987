"""The list envelope of API.md: {items, total, page, per_page}."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int


class PageParams(BaseModel):
    page: int
    per_page: int


async def _page_params(page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                       per_page: Annotated[int, Query(ge=1, le=100)] = 20) -> PageParams:
    # async: FastAPI would run a plain function in its thread pool, a hand-over per request.
    return PageParams(page=page, per_page=per_page)


PageDep = Annotated[PageParams, Depends(_page_params)]
