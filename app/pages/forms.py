"""Validate a posted form with the API's own schema; explain problems in Chinese."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import inspect

from app.errors import DomainError, Invalid

M = TypeVar("M", bound=BaseModel)

_MESSAGES = {
    "missing": "必填",
    "string_too_short": "至少 {min_length} 个字",
    "string_too_long": "太长：最多 {max_length} 字，现有 {length} 字",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项，现有 {actual_length} 项",
    "greater_than_equal": "不能小于 {ge}",
    "less_than_equal": "不能大于 {le}",
    "int_parsing": "须为整数",
    "int_type": "须为整数",
    "string_pattern_mismatch": "格式不正确",
    "enum": "请从列表中选择",
    "literal_error": "请从列表中选择",
}


def _name(loc: tuple, labels: dict[str, str]) -> str:
    """The field's label, and the row of a list (「建设目标第 3 行」)."""
    name = labels.get(str(loc[0]), str(loc[0]))
    if len(loc) > 1 and isinstance(loc[1], int):
        name += f"第 {loc[1] + 1} 行" + (labels.get(str(loc[2]), "") if len(loc) > 2 else "")
    return name


def field_messages(exc: ValidationError, labels: dict[str, str],
                   messages: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """(field, Chinese sentence part) for each problem, field "" for the whole input; text too
    long says its limit and its length."""
    parts = []
    for err in exc.errors():
        loc, ctx = err.get("loc") or (), dict(err.get("ctx") or {})
        if not loc:  # a check of the whole form, e.g. app.schemas.Input's NUL check
            parts.append(("", "输入中含有无法保存的字符" if "NUL" in err.get("msg", "")
                          else "填写有误"))
            continue
        field, name = str(loc[0]), _name(loc, labels)
        if err["type"] == "missing" or (err["type"] == "string_too_short"
                                        and ctx.get("min_length", 1) <= 1):
            parts.append((field, f"「{name}」必填"))
            continue
        if isinstance(err.get("input"), str):
            ctx["length"] = len(err["input"])
        template = {**_MESSAGES, **(messages or {})}.get(err["type"], "填写有误")
        try:
            text = template.format(**ctx)
        except (KeyError, IndexError):
            text = "填写有误"
        parts.append((field, f"「{name}」{text}"))
    return parts


def explain(exc: ValidationError, labels: dict[str, str],
            messages: dict[str, str] | None = None) -> str:
    """One Chinese sentence naming each field to fix."""
    return "请修改：" + "；".join(text for _, text in field_messages(exc, labels, messages)) + "。"


def parse_form(model: type[M], data: dict[str, Any], labels: dict[str, str]) -> M:
    """`model` built from form fields, or Invalid with a Chinese explanation."""
    clean = {k: v for k, v in data.items() if k != "csrftoken"}
    try:
        return model.model_validate(clean)
    except ValidationError as exc:
        message = explain(exc, labels)
        raise Invalid(message, zh=message) from None


def refuse_nul(*texts: str) -> None:
    """Free text a form posts outside a schema: NUL cannot be stored (PostgreSQL)."""
    if any("\x00" in t for t in texts):
        raise Invalid("NUL character", zh="输入中含有无法保存的字符，请删除后重试。")


class Attempt:
    """What `attempting` saw: `refused` is the refusal (a DomainError), or None."""

    refused: DomainError | None = None


@asynccontextmanager
async def attempting(session) -> AsyncIterator[Attempt]:
    """The one way a page tries a change and shows its refusal (tests/test_refused_forms.py
    fails on any other `except DomainError` in a view):

        async with attempting(session) as attempt:
            data = parse_form(...)
            await service.change(session, ...)
        if exc := attempt.refused:
            return render(..., error=refusal_text(exc), status=exc.status)

    The block runs in a savepoint. A DomainError raised in it is caught and everything the
    block did is undone — what it flushed before refusing too — so the request's commit
    (app/db.py) stores nothing of it; the objects it had changed are loaded again, as stored,
    for the page to show. Any other exception goes on, as before.
    """
    outcome = Attempt()
    try:
        async with session.begin_nested():
            yield outcome
    except DomainError as exc:
        outcome.refused = exc
        await _reload_expired(session)


async def _reload_expired(session) -> None:
    """The savepoint's rollback expired what it had changed; a template cannot load lazily."""
    for obj in list(session.identity_map.values()):
        if inspect(obj).expired_attributes:
            await session.refresh(obj)


async def attempt(session, action) -> DomainError | None:
    """Await one service call (`action`, a coroutine) through `attempting`: None when it went
    through, else its refusal, with nothing of it stored (the page then shows `refusal_text`)."""
    async with attempting(session) as outcome:
        await action
    return outcome.refused


def refusal_text(exc: DomainError) -> str:
    """The sentence a page shows for a refusal: the Chinese one when the service gave it. The
    one place that picks it; the template shows it through `|in_script` (the visitor's script)."""
    return exc.zh or exc.message
