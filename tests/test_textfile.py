"""The one encoding rule every CSV import follows (app/textfile.py)."""

from __future__ import annotations

import codecs

from app.textfile import decode_table_text

TEXT = "code,name\nlezhi,乐至县\n"


def test_utf8_with_or_without_bom_is_read_as_utf8():
    assert decode_table_text(TEXT.encode("utf-8")) == (TEXT, "UTF-8")
    assert decode_table_text(codecs.BOM_UTF8 + TEXT.encode("utf-8")) == (TEXT, "UTF-8")


def test_what_excel_saves_on_chinese_windows_is_read_as_gb18030():
    assert decode_table_text(TEXT.encode("gbk")) == (TEXT, "GB18030")


def test_unicode_text_with_a_bom_is_read_as_utf16():
    assert decode_table_text(TEXT.encode("utf-16")) == (TEXT, "UTF-16")


def test_a_bom_decides_the_encoding_alone():
    # UTF-8 BOM then bytes that are not UTF-8: refused, not read as GB18030 behind the BOM.
    assert decode_table_text(codecs.BOM_UTF8 + TEXT.encode("gbk")) is None
    assert decode_table_text(codecs.BOM_UTF16_LE + b"\x00\xd8") is None
