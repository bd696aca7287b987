"""Page language: simplified Chinese by default, traditional when chosen (Babel catalogs)."""

from __future__ import annotations

import io
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from markupsafe import Markup

LOCALES = {"zh_Hans": "简体", "zh_Hant": "繁體"}
HTML_LANG = {"zh_Hans": "zh-CN", "zh_Hant": "zh-TW"}
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
COOKIE = "lang"

current_locale: ContextVar[str] = ContextVar("current_locale", default="zh_Hans")


def N_(message: str) -> str:  # noqa: N802 - the conventional name Babel extracts
    """Mark a string for extraction where it is defined; it is translated where shown."""
    return message


@lru_cache
def translations(locale: str) -> NullTranslations:
    """The catalog of `locale`, compiled from its .po file once per process.

    The source strings are simplified Chinese; scripts/i18n.py keeps zh_Hant up to date.
    """
    po = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale == "zh_Hans" or not po.is_file():
        return NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


@lru_cache(maxsize=4096)
def to_traditional(text: str) -> str:
    """Convert a dynamic sentence (an error message, say) for zh_Hant pages."""
    return _converter().convert(text)


def in_script(text):
    """A dynamic message (a refusal's sentence, a notification, a sentence built in code) in
    the script of the page being rendered: traditional characters on zh_Hant pages, as it is
    (simplified) otherwise. Templates apply it as the filter `|in_script` to every message
    that does not come from the catalog (tests/test_messages_in_script.py checks); messages
    are made in simplified Chinese and stay so until then (the JSON API answers them so).
    Anything not a string (None, a number) is given back unchanged; markup stays markup."""
    if not isinstance(text, str) or not text or current_locale.get() != "zh_Hant":
        return text
    converted = to_traditional(str(text))
    return Markup(converted) if isinstance(text, Markup) else converted


@lru_cache
def _converter():
    import opencc

    return opencc.OpenCC("s2t")


def gettext(message: str) -> str:
    """Translate into the request's language."""
    return translations(current_locale.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale.get()).ngettext(singular, plural, n)


def pick_locale(cookie_value: str | None, default: str) -> str:
    """The language a page is rendered in."""
    return cookie_value if cookie_value in LOCALES else default
