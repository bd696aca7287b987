"""Page language: simplified Chinese by default, traditional when chosen (Babel catalogs)."""

from __future__ import annotations

from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations

LOCALES = {"zh_Hans": "简体", "zh_Hant": "繁體"}
HTML_LANG = {"zh_Hans": "zh-CN", "zh_Hant": "zh-TW"}
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
COOKIE = "lang"

current_locale: ContextVar[str] = ContextVar("current_locale", default="zh_Hans")


@lru_cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalog of `locale`; the source strings are simplified Chinese."""
    if locale == "zh_Hans":
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [locale], domain="messages")


def gettext(message: str) -> str:
    """Translate into the request's language."""
    return translations(current_locale.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale.get()).ngettext(singular, plural, n)


def pick_locale(cookie_value: str | None, default: str) -> str:
    """The language a page is rendered in."""
    return cookie_value if cookie_value in LOCALES else default
