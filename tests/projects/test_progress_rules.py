"""监督's computed rules (app/projects/progress_rules.py): 序时进度 and the 督办 colour with its
reasons, for every case DOMAIN.md names, and exactly at the thresholds."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from app.projects.progress_rules import Colour, Facts, planned_percent, status

START, END = date(2027, 1, 1), date(2027, 12, 31)  # 364 days


def test_planned_progress_is_0_at_the_announcement_and_100_at_the_deadline():
    for mode in ("linear", "milestones"):
        assert planned_percent(START, END, [], date(2026, 12, 1), mode) == 0.0
        assert planned_percent(START, END, [], START, mode) == 0.0
        assert planned_percent(START, END, [], END, mode) == 100.0
        assert planned_percent(START, END, [], date(2028, 3, 1), mode) == 100.0


def test_linear_planned_progress_follows_the_days():
    assert planned_percent(START, END, [date(2027, 2, 1)], date(2027, 7, 2), "linear") == 50.0
    assert planned_percent(START, END, [], date(2027, 4, 1), "linear") == round(
        100 * 90 / 364, 1)


def test_each_milestone_before_the_deadline_is_an_equal_step():
    """Three milestones: 25 %, 50 %, 75 % on their due dates, straight lines in between; one on
    or after the deadline, or before the announcement, is no step."""
    dues = [date(2027, 3, 1), date(2027, 5, 1), date(2027, 11, 1), END, date(2028, 1, 1),
            date(2026, 6, 1)]
    on = {date(2027, 3, 1): 25.0, date(2027, 5, 1): 50.0, date(2027, 11, 1): 75.0}
    for day, expected in on.items():
        assert planned_percent(START, END, dues, day) == expected
    # halfway from 1 March (25 %) to 1 May (50 %): 31 March, 30 of 61 days
    assert planned_percent(START, END, dues, date(2027, 3, 31)) == round(25 + 25 * 30 / 61, 1)
    # given in any order
    assert planned_percent(START, END, list(reversed(dues)), date(2027, 5, 1)) == 50.0
    # no milestones: as linear
    assert planned_percent(START, END, [], date(2027, 7, 2)) == 50.0


def facts(**changes) -> Facts:
    base = Facts(state="in_progress", today=date(2027, 6, 1), announced=START, deadline=END,
                 planned=40.0, reported=35.0, last_report=date(2027, 5, 20),
                 overdue_findings=0, report_interval_days=31, yellow_gap_points=10,
                 red_gap_points=20)
    return replace(base, **changes)


def test_on_plan_is_green_with_its_words():
    s = status(facts())
    assert (s.colour, s.gap, s.words, s.reason_zh) == (Colour.green, 5.0, "正常推进", "按序时进度推进")


@pytest.mark.parametrize(("reported", "colour"), [
    (30.0, Colour.green),   # 10 behind: exactly the yellow line is not more than it
    (29.9, Colour.yellow),  # 10.1 behind
    (20.0, Colour.yellow),  # 20 behind: exactly the red line
    (17.0, Colour.red),     # 23 behind
])
def test_the_gap_against_the_thresholds(reported, colour):
    s = status(facts(reported=reported))
    assert s.colour is colour
    if colour is not Colour.green:
        assert s.reason_zh == f"落后序时进度 {s.gap:g} 个百分点"
    assert status(facts(reported=17.0)).reason_zh == "落后序时进度 23 个百分点"


def test_no_report_yet_counts_as_zero_and_silence_from_the_announcement():
    s = status(facts(reported=None, last_report=None, planned=5.0, today=date(2027, 1, 20)))
    assert (s.colour, s.gap) == (Colour.green, 5.0)
    s = status(facts(reported=None, last_report=None, planned=8.0, today=date(2027, 2, 10)))
    assert s.colour is Colour.yellow and s.reason_zh == "进度报告已逾期 9 天"


def test_a_report_overdue_is_yellow_and_twice_the_interval_is_red():
    s = status(facts(last_report=date(2027, 4, 25)))  # 37 days, interval 31
    assert s.colour is Colour.yellow and s.reasons == [
        ("progress report 6 day(s) overdue", "进度报告已逾期 6 天")]
    s = status(facts(last_report=date(2027, 3, 31)))  # 62 days: exactly twice is not more
    assert s.colour is Colour.yellow
    s = status(facts(last_report=date(2027, 3, 30)))  # 63 days
    assert s.colour is Colour.red and s.reason_zh == "已 63 天未报告进度"


def test_past_the_deadline_and_not_completed_is_red_with_every_reason():
    s = status(facts(today=date(2028, 1, 10), planned=100.0, reported=60.0,
                     last_report=date(2027, 12, 20), overdue_findings=2))
    assert s.colour is Colour.red and s.gap == 40.0
    assert s.reason_zh == ("2 条视察意见逾期未答复；已超过完工期限 10 天仍未完工；"
                           "落后序时进度 40 个百分点")
    assert "2 finding(s) unanswered" in s.reason_en


def test_red_lists_the_yellow_reasons_after_its_own():
    s = status(facts(overdue_findings=1, reported=28.0, last_report=date(2027, 4, 25)))
    assert s.colour is Colour.red
    assert [zh for _, zh in s.reasons] == ["1 条视察意见逾期未答复", "落后序时进度 12 个百分点",
                                          "进度报告已逾期 6 天"]


def test_completed_awaits_acceptance_and_is_measured_by_its_findings_only():
    done = facts(state="completed", today=date(2028, 2, 1), planned=100.0, reported=100.0,
                 last_report=date(2027, 10, 1))
    s = status(done)
    assert (s.colour, s.reason_zh) == (Colour.green, "已完工，待验收")
    assert status(replace(done, overdue_findings=1)).colour is Colour.red


def test_accepted_is_blue_and_suspended_or_terminated_have_no_colour():
    for state in ("accepted", "evaluated", "rectifying"):
        s = status(facts(state=state, overdue_findings=3, today=date(2029, 1, 1)))
        assert (s.colour, s.words, s.reason_zh) == (Colour.blue, "已验收", "已验收")
    for state, words in (("suspended", "已暂停"), ("terminated", "已终止")):
        s = status(facts(state=state, today=date(2029, 1, 1)))
        assert (s.colour, s.words, s.reason_zh) == (None, "", words)
