"""Refresh the message catalogs: extract every marked string, then fill zh_Hant with OpenCC.

Source strings are simplified Chinese. The traditional catalog is converted character by
character (OpenCC `s2t`); a translation edited by hand is kept on later runs unless the
source string changed.  Run: .venv/bin/python scripts/i18n.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import opencc
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
POT = ROOT / "app" / "locale" / "messages.pot"
PO = ROOT / "app" / "locale" / "zh_Hant" / "LC_MESSAGES" / "messages.po"


def main() -> int:
    POT.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), "-q", "extract", "-F",
                    str(ROOT / "babel.cfg"), "--no-location", "--sort-output",
                    "--project", "minsheng", "-o", str(POT), str(ROOT / "app"), str(ROOT / "templates")], check=True)
    with POT.open("rb") as f:
        template = read_po(f)
    existing = {}
    if PO.exists():
        with PO.open("rb") as f:
            existing = {m.id: m.string for m in read_po(f) if m.id}
    converter = opencc.OpenCC("s2t")
    template.locale = "zh_Hant"
    template.fuzzy = False
    for message in template:
        if message.id:
            message.string = existing.get(message.id) or converter.convert(message.id)
    PO.parent.mkdir(parents=True, exist_ok=True)
    with PO.open("wb") as f:
        write_po(f, template, width=0, omit_header=False)
    print(f"{len([m for m in template if m.id])} messages → {PO.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
