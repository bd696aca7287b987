"""Comment schemas, shared by the API and the page forms of every domain that takes comments."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from app.models import Comment
from app.schemas import COMMENT, Input, clean_text


class CommentIn(Input):
    body: str = Field(min_length=COMMENT.min, max_length=COMMENT.max)

    _strip_body = field_validator("body", mode="before")(clean_text)


class CommentOut(BaseModel):
    id: str
    author: str
    body: str | None
    hidden: bool
    hidden_reason: str
    created_at: datetime


class ReportIn(Input):
    reason: str = Field(default="", max_length=500)


class HideIn(Input):
    reason: str = Field(min_length=1, max_length=500)


def comment_out(comment: Comment, author: str, *, staff: bool) -> CommentOut:
    """A comment as the API shows it: a hidden one's text only to its moderators (`staff`)."""
    hidden = comment.hidden_at is not None
    return CommentOut(id=comment.id, author=author, body=comment.body if staff or not hidden
                      else None, hidden=hidden, hidden_reason=comment.hidden_reason,
                      created_at=comment.created_at)
