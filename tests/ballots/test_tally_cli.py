"""`minsheng tally FILE`: recount a bulletin; exit 0 equal, 1 different, 2 unreadable."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from app.ballots.tally import Ballot, RoundFacts, tally


def bulletin(with_results=True) -> dict:
    cands = [{"id": "c1", "title": "古乐路改建"}, {"id": "c2", "title": "老年助餐点"},
             {"id": "c3", "title": "教室照明"}]
    ballots = [{"marks": {"c1": "yes", "c2": "yes"}, "paper": False},
               {"marks": {"c1": "yes", "c3": "no"}, "paper": False},
               {"marks": {"c1": "yes", "c2": "yes", "c3": "yes"}, "paper": True}]
    head = {"id": "b1", "round": 1, "seats": 2, "total_deputies": 3, "present": 3, "issued": 3,
            "threshold_base": "all", "secret": True}
    data = {"ballot": head, "candidates": cands, "receipts": [], "ballots": ballots}
    if with_results:
        facts = RoundFacts("b1", 1, 2, 3, 3, 3)
        data["results"] = tally(facts, [(c["id"], c["title"]) for c in cands],
                                [Ballot(b["marks"]) for b in ballots]).as_dict()
    return data


def minsheng_tally(tmp_path, data, name="bulletin.json") -> subprocess.CompletedProcess:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False),
                    encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "app.cli", "tally", str(path)],
                          capture_output=True, text=True, timeout=60)


def test_a_matching_bulletin_exits_0_and_prints_the_results(tmp_path):
    r = minsheng_tally(tmp_path, bulletin())
    assert r.returncode == 0, r.stderr
    results = json.loads(r.stdout)
    assert results["invalid"] == 1 and results["selected_ids"] == ["c1"]
    assert results["outcome"] == "shortfall" and "match" in r.stderr


def test_a_bulletin_without_results_exits_0(tmp_path):
    assert minsheng_tally(tmp_path, bulletin(with_results=False)).returncode == 0


def test_a_tampered_result_exits_1_naming_where(tmp_path):
    data = bulletin()
    data["results"]["candidates"][1]["yes"] = 3
    r = minsheng_tally(tmp_path, data)
    assert r.returncode == 1
    assert "results.candidates[c2].yes: published 3, recomputed 1" in r.stderr


def test_unreadable_or_malformed_files_exit_2(tmp_path):
    assert minsheng_tally(tmp_path, "{not json").returncode == 2
    assert minsheng_tally(tmp_path, {"ballot": {}}).returncode == 2
    data = bulletin()
    data["ballots"][0] = "yes"
    r = minsheng_tally(tmp_path, data)
    assert r.returncode == 2 and "ballots[0]" in r.stderr
    r = subprocess.run([sys.executable, "-m", "app.cli", "tally", str(tmp_path / "none.json")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2


def test_reads_standard_input(tmp_path):
    r = subprocess.run([sys.executable, "-m", "app.cli", "tally", "-"],
                       input=json.dumps(bulletin()), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0


def test_an_evaluation_bulletin_is_read_by_the_box_and_not_miscounted(tmp_path):
    """The box reads a bulletin of either form (app/ballotbox/bulletin.py); the 测评 recount comes
    with 测评, so until then `minsheng tally` says so instead of counting scores as votes."""
    from app.ballotbox.bulletin import BulletinError, read
    from app.ballotbox.forms import EVALUATION

    data = {"evaluation": {"id": "e1", "round": 1, "total_deputies": 5, "present": 4,
                           "issued": 4, "threshold_base": "all", "secret": True},
            "projects": [{"id": "p1", "title": "道路"}, {"id": "p2", "title": "供水"}],
            "receipts": [],
            "ballots": [{"scores": {"p1": "satisfied", "p2": "abstain"}, "paper": False},
                        {"scores": {"p1": "unsatisfied"}, "paper": True, "invalid": True}]}
    bulletin = read(data)
    assert bulletin.form is EVALUATION and bulletin.items == [("p1", "道路"), ("p2", "供水")]
    assert [(b.marks, b.paper, b.invalid) for b in bulletin.ballots] == [
        ({"p1": "satisfied", "p2": "abstain"}, False, False), ({"p1": "unsatisfied"}, True, True)]
    for broken, says in ((dict(data, ballots=[{"marks": {}}]), "'scores'"),
                         (dict(data, projects=[]), "'projects'"),
                         ({**data, "ballot": data["evaluation"]}, "'ballot' or 'evaluation'")):
        with pytest.raises(BulletinError) as refused:
            read(broken)
        assert says in str(refused.value)
    r = minsheng_tally(tmp_path, data)
    assert r.returncode == 2 and "测评" in r.stderr and not r.stdout
