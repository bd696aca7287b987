"""The tally: boundaries of DOMAIN.md's rules, and properties on random ballots (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.ballots.tally import Ballot, RoundFacts, tally

IDS = [f"c{i}" for i in range(1, 13)]


def facts(seats=3, total=10, present=10, issued=10, base="all"):
    return RoundFacts(ballot_id="b1", round=1, seats=seats, total_deputies=total,
                      present=present, issued=issued, threshold_base=base)


def ballots_with_yes(counts: dict[str, int], n: int, seats: int) -> list[Ballot]:
    """n valid ballots (≤ seats yes each) where candidate c gets counts[c] yes marks."""
    marks: list[dict[str, str]] = [{} for _ in range(n)]
    for c, k in counts.items():
        for ballot in sorted(marks, key=len)[:k]:
            ballot[c] = "yes"
    assert all(len(m) <= seats for m in marks) and all(
        sum(c in m for m in marks) == k for c, k in counts.items()), "counts do not fit"
    return [Ballot(marks=m) for m in marks]


def run(counts, *, seats=3, total=20, n=20, candidates=None, base="all", issued=None):
    cands = [(c, c.upper()) for c in (candidates or list(counts))]
    return tally(facts(seats, total, n, issued if issued is not None else n, base), cands,
                 ballots_with_yes(counts, n, seats))


def test_exactly_half_of_all_deputies_fails_and_one_more_passes():
    r = run({"c1": 5, "c2": 6}, seats=2, total=10, n=10)
    assert r.threshold == 6
    assert [c.passed for c in r.candidates] == [False, True]
    r = run({"c1": 5}, seats=1, total=11, n=11)  # ⌊11/2⌋ + 1 = 6
    assert r.threshold == 6 and not r.candidates[0].passed


def test_threshold_base_present_and_cast():
    r = run({"c1": 4}, seats=1, total=20, n=7, base="present")
    assert r.threshold == 4 and r.candidates[0].passed
    r = run({"c1": 4}, seats=1, total=20, n=7, base="cast")
    assert r.threshold == 4
    r = run({"c1": 4}, seats=1, total=20, n=7, base="all")
    assert r.threshold == 11 and not r.candidates[0].passed


def test_a_ballot_with_more_yes_than_seats_is_invalid_but_cast():
    cands = [(c, c) for c in IDS[:4]]
    good = Ballot(marks={"c1": "yes", "c2": "yes", "c3": "no"})
    spoilt = Ballot(marks={"c1": "yes", "c2": "yes", "c3": "yes"})
    r = tally(facts(seats=2, total=3, present=3, issued=3), cands, [good, spoilt, good])
    assert (r.cast, r.valid, r.invalid) == (3, 2, 1)
    assert [c.yes for c in r.candidates] == [2, 2, 0, 0]
    assert r.candidates[2].no == 2 and r.candidates[3].abstain == 2  # unmarked is abstain


def test_unknown_candidates_bad_marks_and_recorded_invalid_papers_are_invalid():
    cands = [("c1", "a"), ("c2", "b")]
    bad = [Ballot(marks={"c9": "yes"}), Ballot(marks={"c1": "maybe"}),
           Ballot(marks={"c1": "yes"}, paper=True, invalid=True)]
    r = tally(facts(seats=1, total=5, present=5, issued=5), cands, bad)
    assert (r.cast, r.valid, r.invalid) == (3, 0, 3)
    assert all(c.yes == 0 and c.abstain == 0 for c in r.candidates)


def test_a_tie_inside_the_seats_needs_no_runoff():
    r = run({"c1": 15, "c2": 14, "c3": 14, "c4": 12}, seats=3)
    assert r.outcome == "complete" and r.selected_ids == ["c1", "c2", "c3"]
    assert [c.rank for c in r.candidates] == [1, 2, 2, 4]


def test_a_tie_across_the_last_seat_goes_to_a_runoff():
    r = run({"c1": 16, "c2": 15, "c3": 13, "c4": 13, "c5": 2}, seats=3)
    assert r.outcome == "runoff"
    assert r.selected_ids == ["c1", "c2"]
    assert r.runoff_candidate_ids == ["c3", "c4"] and r.remaining_seats == 1
    assert [c.selected for c in r.candidates] == [True, True, False, False, False]


def test_a_tie_of_everyone_for_every_seat():
    r = run({"c1": 12, "c2": 12, "c3": 12}, seats=2)
    assert r.outcome == "runoff" and r.selected_ids == []
    assert r.runoff_candidate_ids == ["c1", "c2", "c3"] and r.remaining_seats == 2


def test_fewer_passing_than_seats_is_a_shortfall():
    r = run({"c1": 15, "c2": 12, "c3": 10, "c4": 2}, seats=3)
    assert r.outcome == "shortfall" and r.selected_ids == ["c1", "c2"]
    assert r.remaining_seats == 1 and r.runoff_candidate_ids == ["c3", "c4"]
    assert r.candidates[2].rank is None


def test_more_ballots_returned_than_issued_voids_the_round():
    r = run({"c1": 15}, seats=1, n=20, issued=19)
    assert r.outcome == "void" and r.selected_ids == [] and r.remaining_seats == 1


def test_results_have_the_shape_api_md_names():
    d = run({"c1": 15, "c2": 2}, seats=2).as_dict()
    assert list(d) == ["ballot_id", "round", "seats", "total_deputies", "present", "issued",
                       "cast", "valid", "invalid", "threshold", "candidates", "outcome",
                       "selected_ids", "runoff_candidate_ids", "remaining_seats"]
    assert list(d["candidates"][0]) == ["id", "title", "yes", "no", "abstain", "passed",
                                        "selected", "rank"]


mark = st.sampled_from(["yes", "no", "abstain"])


@st.composite
def rounds(draw):
    n_candidates = draw(st.integers(2, 8))
    cands = IDS[:n_candidates]
    seats = draw(st.integers(1, n_candidates - 1))
    total = draw(st.integers(1, 40))
    ballots = draw(st.lists(st.builds(
        Ballot, marks=st.dictionaries(st.sampled_from(cands), mark, max_size=n_candidates)),
        max_size=total))
    return facts(seats, total, total, total), [(c, c) for c in cands], ballots


@settings(max_examples=300, deadline=None)
@given(rounds())
def test_properties_hold_for_random_rounds(round_):
    f, cands, ballots = round_
    r = tally(f, cands, ballots)
    assert r.cast == len(ballots) and r.valid + r.invalid == r.cast
    for c in r.candidates:
        assert c.yes + c.no + c.abstain == r.valid and min(c.yes, c.no, c.abstain) >= 0
        assert c.passed == (c.yes >= r.threshold) == (c.yes > f.total_deputies / 2)
        assert (c.rank is None) == (not c.passed)
        assert not c.selected or c.passed
    selected = [c for c in r.candidates if c.selected]
    assert len(selected) == len(r.selected_ids) <= f.seats
    assert len(selected) + r.remaining_seats == f.seats
    # Nobody left out has more yes than someone selected.
    if selected:
        lowest = min(c.yes for c in selected)
        assert all(c.yes <= lowest for c in r.candidates if c.passed and not c.selected)
    if r.outcome == "complete":
        assert len(selected) == f.seats and not r.runoff_candidate_ids
    if r.outcome == "runoff":
        tied = {c.yes for c in r.candidates if c.id in r.runoff_candidate_ids}
        assert len(tied) == 1 and len(r.runoff_candidate_ids) > r.remaining_seats
    if r.outcome == "shortfall":
        assert sum(c.passed for c in r.candidates) < f.seats
    # The order of the ballots never changes the result.
    assert tally(f, cands, list(reversed(ballots))).as_dict() == r.as_dict()
