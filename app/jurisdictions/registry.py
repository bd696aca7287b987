"""The registry of settings (参数表): what app/jurisdictions/settings.py declares about each
setting, read once, for the API's description, the settings page and docs/settings.md."""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from typing import Any

import annotated_types

from app.i18n import N_
from app.jurisdictions.settings import (
    CATEGORY_MAX_CHARS,
    GOVERNMENT_LEVELS,
    STAGES,
    JurisdictionSettings,
    level_defaults,
)


@dataclass(frozen=True)
class Choice:
    """One value a setting may take, with its Chinese label."""

    value: Any
    label: str


@dataclass(frozen=True)
class SettingSpec:
    """SettingSpec — 参数说明: one setting's name, meaning, stage, default and input."""

    name: str
    zh_name: str
    meaning: str
    stage: str
    kind: str  # integer | number | boolean | choice | list
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    unit: str | None = None
    choices: tuple[Choice, ...] = ()
    min_items: int | None = None
    max_items: int | None = None
    max_chars: int | None = None
    level_defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def stage_name(self) -> str:
        return STAGES[self.stage]

    def allowed(self) -> str:
        """What the setting accepts, in English (for the API's error sentences)."""
        if self.kind == "integer":
            return f"a whole number from {_num(self.minimum)} to {_num(self.maximum)}"
        if self.kind == "number":
            return f"a number from {_num(self.minimum)} to {_num(self.maximum)}"
        if self.kind == "boolean":
            return "true or false"
        if self.kind == "choice":
            return "one of " + ", ".join(str(c.value) for c in self.choices)
        return (f"a list of {self.min_items} to {self.max_items} different names, each 1 to "
                f"{self.max_chars} characters on one line")

    def allowed_zh(self) -> str:
        """What the setting accepts, as the end of a Chinese sentence (for the page)."""
        unit = f"（单位：{self.unit}）" if self.unit else ""
        if self.kind == "integer":
            return f"须为 {_num(self.minimum)} 至 {_num(self.maximum)} 之间的整数{unit}"
        if self.kind == "number":
            return f"须为 {_num(self.minimum)} 至 {_num(self.maximum)} 之间的数"
        if self.kind in ("boolean", "choice"):
            labels = [f"“{c.label}”" for c in self.choices]
            return "须为" + "、".join(labels[:-1]) + "或" + labels[-1]
        return (f"须为 {self.min_items} 至 {self.max_items} 个不重复的类别，"
                f"每个 1 至 {self.max_chars} 个字")

    def label(self, value: Any) -> str:
        """A value as the page shows it (Chinese label, list joined, number with its unit)."""
        for choice in self.choices:
            if choice.value == value:
                return choice.label
        if self.kind == "list" and isinstance(value, list):
            return "、".join(str(v) for v in value)
        if self.kind == "number" and isinstance(value, float) and value.is_integer():
            value = int(value)
        if not self.unit:
            return str(value)
        return f"{value}{self.unit}" if self.unit == "%" else f"{value} {self.unit}"


def _num(value: float | None) -> str:
    if value is None:
        return "?"
    return str(int(value)) if float(value).is_integer() else str(value)


def _kind(annotation: Any) -> str:
    if annotation is bool:
        return "boolean"
    if annotation is int:
        return "integer"
    if annotation is float:
        return "number"
    if typing.get_origin(annotation) is typing.Literal:
        return "choice"
    if typing.get_origin(annotation) is list:
        return "list"
    raise TypeError(f"a setting of type {annotation!r} has no input on the settings page")


def _spec(name: str, model: type[JurisdictionSettings] = JurisdictionSettings) -> SettingSpec:
    """What `model` declares about setting `name` (TypeError if it is not declared with
    settings.setting(...): every setting needs its Chinese name, meaning and stage)."""
    info = model.model_fields[name]
    extra = info.json_schema_extra or {}
    if not (info.title and info.description and extra.get("x-stage")):
        raise TypeError(f"setting {name} is not declared with setting(...): it needs a Chinese "
                        "name, a meaning and a stage")
    kind = _kind(info.annotation)
    bounds: dict[str, Any] = {}
    for rule in info.metadata:
        if isinstance(rule, annotated_types.Ge):
            bounds["minimum"] = rule.ge
        elif isinstance(rule, annotated_types.Le):
            bounds["maximum"] = rule.le
        elif isinstance(rule, annotated_types.MinLen):
            bounds["min_items"] = rule.min_length
        elif isinstance(rule, annotated_types.MaxLen):
            bounds["max_items"] = rule.max_length
    labels = extra.get("x-choices", {})
    if kind == "boolean":
        values: tuple = (True, False)
        labels = {"true": N_("是"), "false": N_("否"), **labels}
    elif kind == "choice":
        values = typing.get_args(info.annotation)
    else:
        values = ()
    choices = tuple(Choice(v, labels.get(("true" if v else "false") if isinstance(v, bool)
                                         else str(v), str(v))) for v in values)
    default = info.get_default(call_default_factory=True)
    by_level = {level: level_defaults(level)[name] for level in sorted(GOVERNMENT_LEVELS)
                if name in level_defaults(level)}
    return SettingSpec(
        name=name, zh_name=info.title, meaning=info.description, stage=extra["x-stage"],
        kind=kind, default=default, step=extra.get("x-step"), unit=extra.get("x-unit"),
        choices=choices, max_chars=CATEGORY_MAX_CHARS if kind == "list" else None,
        level_defaults=by_level, **bounds)


# Every setting, in declaration order (which groups them by stage).
REGISTRY: dict[str, SettingSpec] = {name: _spec(name)
                                    for name in JurisdictionSettings.model_fields}


def by_stage() -> list[tuple[str, str, list[SettingSpec]]]:
    """(stage, its Chinese name, its settings) for the six stages, in order."""
    return [(stage, label, [s for s in REGISTRY.values() if s.stage == stage])
            for stage, label in STAGES.items()]


def describe() -> dict:
    """The machine-readable description of every setting (GET /api/v1/settings)."""
    items = []
    for s in REGISTRY.values():
        entry: dict[str, Any] = {"name": s.name, "zh_name": s.zh_name, "meaning": s.meaning,
                                 "stage": s.stage, "stage_name": s.stage_name,
                                 "default": s.default, "kind": s.kind}
        for key in ("minimum", "maximum", "step", "unit", "min_items", "max_items", "max_chars"):
            value = getattr(s, key)
            if value is not None:
                entry[key] = value
        if s.choices:
            entry["choices"] = [{"value": c.value, "label": c.label} for c in s.choices]
        if s.level_defaults:
            entry["level_defaults"] = s.level_defaults
        items.append(entry)
    return {"stages": [{"stage": k, "name": v} for k, v in STAGES.items()], "settings": items}


def markdown_table() -> str:
    """Every setting as Markdown, stage by stage (the generated part of docs/settings.md)."""
    lines = []
    for _, label, specs in by_stage():
        lines += [f"### {label}", "", "| setting | 名称 | 含义 | default | allowed |",
                  "|---|---|---|---|---|"]
        for s in specs:
            default = f"`{_md_value(s.default)}`"
            if s.level_defaults:
                default += "; " + ", ".join(f"{level}: `{_md_value(v)}`"
                                            for level, v in s.level_defaults.items())
            lines.append(f"| `{s.name}` | {s.zh_name} | {s.meaning} | {default} | "
                         f"{_md_allowed(s)} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _md_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(value)
    return str(value)


def _md_allowed(s: SettingSpec) -> str:
    if s.choices:
        return ", ".join(f"`{_md_value(c.value)}` {c.label}" for c in s.choices)
    text = s.allowed()
    return f"{text} ({s.unit})" if s.unit else text
