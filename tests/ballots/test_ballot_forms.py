"""Ballot forms (app/ballotbox/forms.py): the marks and rules of the deputies' ballot (票决) and
of the evaluation's score form (测评)."""

from __future__ import annotations

import pytest

from app.ballotbox.forms import DEPUTIES_BALLOT, EVALUATION, FORMS, canonical, form_of
from app.errors import Invalid

ITEMS = ("b", "a", "c")


def test_content_is_every_item_sorted_with_unmarked_as_abstain():
    assert DEPUTIES_BALLOT.content(ITEMS, {"c": "yes"}) == canonical(
        {"a": "abstain", "b": "abstain", "c": "yes"}) == '{"a":"abstain","b":"abstain","c":"yes"}'


def test_a_cast_is_refused_for_an_item_not_on_the_ballot_or_more_yes_than_seats():
    DEPUTIES_BALLOT.check(ITEMS, {"a": "yes", "b": "yes", "c": "no"}, 2)
    with pytest.raises(Invalid) as refused:
        DEPUTIES_BALLOT.check(ITEMS, {"z": "yes"}, 2)
    assert refused.value.code == "unknown_candidate" and "z" in refused.value.message
    with pytest.raises(Invalid) as refused:
        DEPUTIES_BALLOT.check(ITEMS, {"a": "yes", "b": "yes", "c": "yes"}, 2)
    assert refused.value.code == "too_many_yes" and "3" in refused.value.zh


def test_paper_and_device_marks_are_read_through_the_aliases():
    assert DEPUTIES_BALLOT.normalise({"a": "赞成", "b": " NO "}, ITEMS) == {
        "b": "no", "a": "yes", "c": "abstain"}
    with pytest.raises(Invalid) as refused:
        DEPUTIES_BALLOT.normalise({"a": "maybe"}, ITEMS)
    assert refused.value.code == "invalid_mark"


def test_a_spoilt_sheet_or_more_yes_than_seats_is_invalid_not_refused():
    assert not DEPUTIES_BALLOT.is_invalid({"a": "yes", "b": "yes"}, 2)
    assert DEPUTIES_BALLOT.is_invalid({"a": "yes", "b": "yes", "c": "yes"}, 2)
    assert DEPUTIES_BALLOT.is_invalid({}, 2, spoilt=True)


# --- the evaluation's form (测评), the box's second -----------------------------------------------

def test_the_forms_are_found_by_the_name_a_round_keeps():
    assert form_of("deputies_ballot") is DEPUTIES_BALLOT and form_of("evaluation") is EVALUATION
    assert set(FORMS) == {"deputies_ballot", "evaluation"}
    assert (EVALUATION.head_key, EVALUATION.items_key, EVALUATION.marks_key) == (
        "evaluation", "projects", "scores")  # API.md's evaluation bulletin
    assert (DEPUTIES_BALLOT.head_key, DEPUTIES_BALLOT.items_key, DEPUTIES_BALLOT.marks_key) == (
        "ballot", "candidates", "marks")


def test_a_score_form_has_four_marks_no_limit_and_refuses_a_ballots_marks():
    EVALUATION.check(ITEMS, {"a": "satisfied", "b": "basically_satisfied",
                             "c": "unsatisfied"}, 0)
    assert EVALUATION.content(ITEMS, {"a": "satisfied"}) == canonical(
        {"a": "satisfied", "b": "abstain", "c": "abstain"})
    for marks, code in (({"a": "yes"}, "invalid_mark"), ({"p": "satisfied"}, "unknown_project")):
        with pytest.raises(Invalid) as refused:
            EVALUATION.check(ITEMS, marks, 0)
        assert refused.value.code == code
    with pytest.raises(Invalid) as refused:
        DEPUTIES_BALLOT.check(ITEMS, {"a": "satisfied"}, 2)
    assert refused.value.code == "invalid_mark" and "赞成" in refused.value.zh
    assert not EVALUATION.is_invalid({item: "satisfied" for item in ITEMS}, 0)


def test_two_marks_for_one_project_on_paper_count_as_abstain_for_that_project():
    """DOMAIN.md 测评: a paper form with two marks for one project counts as abstain for it;
    on a deputies' ballot several marks for a candidate cannot be entered (the sheet is
    entered as spoilt instead)."""
    assert EVALUATION.normalise({"a": ["满意", "不满意"], "b": ["基本满意"],
                                 "c": ["satisfied", "满意"]}, ITEMS) == {
        "a": "abstain", "b": "basically_satisfied", "c": "satisfied"}
    with pytest.raises(Invalid) as refused:
        EVALUATION.normalise({"a": ["满意", "maybe"]}, ITEMS)
    assert refused.value.code == "invalid_mark"
    with pytest.raises(Invalid) as refused:
        DEPUTIES_BALLOT.normalise({"a": ["赞成", "反对"]}, ITEMS)
    assert refused.value.code == "invalid_mark" and "废票" in refused.value.zh
    assert DEPUTIES_BALLOT.normalise({"a": ["赞成", "yes"]}, ITEMS)["a"] == "yes"
