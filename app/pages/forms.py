"""Validate a posted form with the API's own schema; explain problems in Chinese."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.errors import DomainError, Invalid

M = TypeVar("M", bound=BaseModel)

_MESSAGES = {
    "missing": "必填",
    "string_too_short": "至少 {min_length} 个字",
    "string_too_long": "太长（最多 {max_length} 字）",
    "greater_than_equal": "不能小于 {ge}",
    "less_than_equal": "不能大于 {le}",
    "int_parsing": "须为整数",
    "int_type": "须为整数",
    "string_pattern_mismatch": "格式不正确",
    "enum": "请从列表中选择",
    "literal_error": "请从列表中选择",
}


def explain(exc: ValidationError, labels: dict[str, str]) -> str:
    """One Chinese sentence naming each field to fix."""
    parts = []
    for err in exc.errors():
        field = str(err["loc"][0]) if err.get("loc") else ""
        if not field:  # a check of the whole form, e.g. app.schemas.Input's NUL check
            parts.append("输入中含有无法保存的字符" if "NUL" in err.get("msg", "") else "填写有误")
            continue
        if err["type"] in ("missing", "string_too_short") and (err.get("ctx") or {}).get(
                "min_length", 1) <= 1:
            parts.append(f"「{labels.get(field, field)}」必填")
            continue
        template = _MESSAGES.get(err["type"], "填写有误")
        try:
            text = template.format(**(err.get("ctx") or {}))
        except (KeyError, IndexError):
            text = template
        parts.append(f"「{labels.get(field, field)}」{text}")
    return "请修改：" + "；".join(parts) + "。"


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


async def attempt(session, action) -> DomainError | None:
    """Await one service call (`action`, a coroutine) in a savepoint: None when it went through,
    else its refusal, with nothing of it stored (the page then shows `refusal_text`)."""
    try:
        async with session.begin_nested():
            await action
    except DomainError as exc:
        return exc
    return None


def refusal_text(exc: DomainError) -> str:
    """The sentence a page shows for a refusal: the Chinese one when the service gave it."""
    return exc.zh or exc.message
