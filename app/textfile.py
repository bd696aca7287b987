"""Text files people upload from spreadsheet programs (CSV): which encoding, decided once.

Excel on Chinese Windows saves plain "CSV" in GBK (GB18030 is its superset), "CSV UTF-8" with a
BOM, and "Unicode text" in UTF-16 with a BOM. Every CSV import (deputy rosters, jurisdictions,
hotline exports) reads its bytes through `decode_table_text`, so they accept the same files.
"""

from __future__ import annotations

import codecs


def decode_table_text(data: bytes) -> tuple[str, str] | None:
    """(text, encoding name) of an uploaded CSV, or None when it is none of the encodings
    spreadsheet programs write.

    A file with a BOM is read in the BOM's encoding only; a file without one is UTF-8 when it is
    valid UTF-8 (recognised, not guessed: GBK bytes are almost never valid UTF-8), else GB18030.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        attempts = [("utf-16", "UTF-16")]
    elif data.startswith(codecs.BOM_UTF8):
        attempts = [("utf-8-sig", "UTF-8")]
    else:
        attempts = [("utf-8", "UTF-8"), ("gb18030", "GB18030")]
    for codec, name in attempts:
        try:
            return data.decode(codec), name
        except UnicodeDecodeError:
            continue
    return None
