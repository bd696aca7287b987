"""The registry of settings: every setting of JurisdictionSettings is described (Chinese name,
meaning, stage, default, input), docs/settings.md lists every one, and a setting declared
without its description is caught."""

from __future__ import annotations

import importlib.util
import typing
from pathlib import Path

import pytest
from pydantic import Field

from app.jurisdictions import registry
from app.jurisdictions.settings import STAGES, JurisdictionSettings, inconsistencies

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_in_the_registry_with_its_chinese_name_meaning_and_stage():
    assert list(registry.REGISTRY) == list(JurisdictionSettings.model_fields)
    for spec in registry.REGISTRY.values():
        assert spec.zh_name and not spec.zh_name.isascii(), spec.name
        assert spec.meaning.endswith("。") and not spec.meaning.isascii(), spec.name
        assert spec.stage in STAGES, spec.name
        assert spec.default == getattr(JurisdictionSettings(), spec.name)


def test_every_choice_has_a_chinese_label_for_every_value():
    for spec in registry.REGISTRY.values():
        annotation = JurisdictionSettings.model_fields[spec.name].annotation
        if spec.kind == "choice":
            assert [c.value for c in spec.choices] == list(typing.get_args(annotation))
        if spec.kind in ("choice", "boolean"):
            assert all(not c.label.isascii() for c in spec.choices), spec
            assert spec.default in [c.value for c in spec.choices]


def test_numbers_have_bounds_the_page_and_the_errors_can_state():
    for spec in registry.REGISTRY.values():
        if spec.kind in ("integer", "number"):
            assert spec.minimum is not None and spec.maximum is not None, spec.name
            assert spec.minimum <= spec.default <= spec.maximum, spec.name


def test_each_stage_but_none_is_empty_and_the_order_follows_the_cycle():
    stages = registry.by_stage()
    assert [s for s, _, _ in stages] == list(STAGES)
    assert all(specs for _, _, specs in stages)


def test_the_defaults_fit_together():
    assert inconsistencies(JurisdictionSettings()) == []


def test_a_setting_without_its_description_is_refused():
    class Careless(JurisdictionSettings):
        new_rule: int = Field(3, ge=1, le=9)

    with pytest.raises(TypeError, match="new_rule is not declared with setting"):
        registry._spec("new_rule", Careless)


def test_docs_list_every_setting_as_the_registry_describes_it():
    """Run .venv/bin/python scripts/settings_doc.py when this fails."""
    spec = importlib.util.spec_from_file_location("settings_doc",
                                                  ROOT / "scripts" / "settings_doc.py")
    doc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(doc)
    text = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert doc.with_table(text) == text, "run .venv/bin/python scripts/settings_doc.py"
    for name, spec_ in registry.REGISTRY.items():
        assert f"| `{name}` | {spec_.zh_name} |" in text
