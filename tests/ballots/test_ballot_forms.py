"""Ballot forms (app/ballotbox/forms.py): the deputies' ballot's marks and rules."""

from __future__ import annotations

import pytest

from app.ballotbox.forms import DEPUTIES_BALLOT, canonical
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
