"""The base of every request body (unknown fields refused, no NUL characters anywhere) and how
long the text people type may be."""

from __future__ import annotations

from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, model_validator


class Limit(NamedTuple):
    """The fewest and the most characters of a typed text (a Chinese character counts one)."""

    min: int
    max: int


# Minimums only stop empty or accidental input: "修路" is a whole title, "社区老人吃饭不方便" a
# description. Maximums leave room for what people write; longer text is refused with the limit
# and its length (422 on the API, a message on the form that keeps the text), never cut. The
# API schemas, the forms' hints and their live counters (LIMITS in the templates) share them.
TITLE = Limit(2, 100)          # a proposal's or a candidate's title (标题, 项目名称)
DESCRIPTION = Limit(4, 5000)   # a proposal's 具体内容, a candidate's 项目概述
FEASIBILITY = Limit(0, 5000)   # a candidate's 可行性说明
COMMENT = Limit(1, 2000)       # a comment (评论) on a proposal or a candidate
LIMITS = {"title": TITLE, "description": DESCRIPTION, "feasibility": FEASIBILITY,
          "comment": COMMENT}


def clean_text(value: Any) -> Any:
    """Typed text as stored: surrounding blanks dropped, line breaks as \\n (a form posts
    \\r\\n), so a length counts what the person sees."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").strip()
    return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class Input(BaseModel):
    """A request body. NUL cannot be stored by PostgreSQL, so it is refused on every database."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if _has_nul(data):
            raise ValueError("text must not contain NUL characters")
        return data
