"""`minsheng jurisdictions import FILE`: created/unchanged and exit 0; every bad line and exit
1; an unreadable file and exit 2. It runs the same checker as the API."""

from __future__ import annotations

import json

from tests.jurisdictions.helpers import ZIYANG, audit_actions, jurisdiction_count
from tests.test_config_and_cli import minsheng


def test_the_command_imports_once_and_then_finds_everything_unchanged(client, world,
                                                                       database_url, tmp_path):
    path = tmp_path / "ziyang.csv"
    path.write_bytes(ZIYANG.encode("gb18030"))
    before = jurisdiction_count(client)
    r = minsheng(database_url, "jurisdictions", "import", str(path))
    assert r.returncode == 0, r.stderr
    assert "created 5, unchanged 0 (GB18030 file, 5 rows)" in r.stdout
    assert jurisdiction_count(client) == before + 5
    r = minsheng(database_url, "jurisdictions", "import", str(path))
    assert r.returncode == 0 and "created 0, unchanged 5" in r.stdout, r.stderr
    assert jurisdiction_count(client) == before + 5
    entries = audit_actions(client, "jurisdiction.import")
    assert [e.actor for e in entries] == ["cli", "cli"]
    assert [json.loads(e.data)["created"] for e in entries] == [5, 0]
    # Standard input works as well.
    r = minsheng(database_url, "jurisdictions", "import", "-",
                 stdin="code,name,level,parent_code\nlz7,七镇,township,lezhi\n")
    assert r.returncode == 0 and "created 1, unchanged 0" in r.stdout, r.stderr


def test_a_file_with_bad_lines_prints_every_one_and_stores_nothing(client, world, database_url,
                                                                   tmp_path):
    path = tmp_path / "bad.csv"
    rows = "".join(f"t{i},镇{i},township,nowhere{i}\n" for i in range(25))
    path.write_text("code,name,level,parent_code\ngood,好镇,township,lezhi\n" + rows,
                    encoding="utf-8")
    r = minsheng(database_url, "jurisdictions", "import", str(path))
    assert r.returncode == 1
    assert "nothing was imported: 25 line(s) to fix" in r.stderr
    for i in range(25):  # every line, not the first twenty
        assert f"line {i + 3}: The parent 'nowhere{i}' is neither in the file nor stored." in (
            r.stderr)
    assert "line 2:" not in r.stderr
    assert jurisdiction_count(client) == 4
    path.write_text("code,name\nx,y\n", encoding="utf-8")
    r = minsheng(database_url, "jurisdictions", "import", str(path))
    assert r.returncode == 1 and "The first line must name the columns" in r.stderr


def test_an_unreadable_file_is_exit_two(client, world, database_url, tmp_path):
    r = minsheng(database_url, "jurisdictions", "import", str(tmp_path / "missing.csv"))
    assert r.returncode == 2 and "cannot read" in r.stderr and "Traceback" not in r.stderr
    path = tmp_path / "binary.csv"
    path.write_bytes(b"code,name,level,parent_code\n\x80\xff\x80,x,county,\n")
    r = minsheng(database_url, "jurisdictions", "import", str(path))
    assert r.returncode == 2 and "neither UTF-8 nor GB18030" in r.stderr
    path.write_bytes(b"PK\x03\x04 a workbook")
    r = minsheng(database_url, "jurisdictions", "import", str(path))
    assert r.returncode == 2 and "spreadsheet workbook" in r.stderr
    assert jurisdiction_count(client) == 4


def test_help_describes_the_import_command():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "app.cli", "jurisdictions", "import", "--help"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    for words in ("code,name,level,parent_code[,division_code]", "Exit 0", "GBK"):
        assert words in r.stdout
