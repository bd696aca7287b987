"""The rules of 监督 that are computed, never typed: a project's planned progress (序时进度) on a
day, the gap to what its unit reported, and its status colour (督办) with the reasons in words
(DOMAIN.md 监督). Pure functions: no database, no clock — the caller says which day it is — so
the project page, the 督办 board, the month-end history and the reminders all read the same
answer at read time, and nothing has to be kept up to date by a scheduler.

Planned progress. 0 % on the day the project was announced, 100 % on its deadline. With the
setting `planned_progress` = `linear`, a straight line in between. With `milestones` (the
default), each milestone of the plan that falls before the deadline is an equal step on the way:
with k such milestones, the i-th is due at i / (k + 1) × 100 %, and the line runs straight from
one point to the next; a plan without milestones is linear.

Status colour (DOMAIN.md, thresholds from the jurisdiction's settings):

- **blue** (已验收): the project was accepted (验收), also once evaluated;
- **red** (红色督办): the deadline has passed and it is not completed; or it is more than
  `red_gap_points` behind plan; or a finding's answer is overdue; or no report for twice the
  reporting interval (`progress_report_max_days`, counted from the last report, or from the
  announcement before the first);
- **yellow** (黄色预警): more than `yellow_gap_points` behind plan, or a report overdue;
- **green** (正常推进) otherwise.

Every reason that applies is given, the colour's own first ("落后序时进度 23 个百分点"). Exactly the
threshold is not more than it. A completed project (已完工, awaiting 验收) is measured against
nothing but its findings. A suspended or terminated project has no colour: its state says it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Literal

from app.i18n import N_
from app.workflows.states import ProjectState

PlannedMode = Literal["milestones", "linear"]


class Colour(StrEnum):
    """Colour — 督办颜色."""

    blue = "blue"
    red = "red"
    yellow = "yellow"
    green = "green"


COLOUR_WORDS = {Colour.blue: N_("已验收"), Colour.red: N_("红色督办"), Colour.yellow: N_("黄色预警"),
                Colour.green: N_("正常推进")}

# Past 验收: the colour stays blue (测评's states are added to the project's workflow later).
ACCEPTED = frozenset({ProjectState.accepted, "evaluated", "rectifying"})
DONE_BUILDING = frozenset({ProjectState.completed}) | ACCEPTED
WITHOUT_COLOUR = frozenset({ProjectState.suspended, ProjectState.terminated})


def planned_percent(announced: date, deadline: date, milestone_dues: Sequence[date], on: date,
                    mode: PlannedMode = "milestones") -> float:
    """序时进度 on day `on`, in percent (one decimal): see the module."""
    if on <= announced:
        return 0.0
    if on >= deadline or deadline <= announced:
        return 100.0
    steps = sorted(d for d in milestone_dues if announced < d < deadline) \
        if mode == "milestones" else []
    points = [(announced, 0.0)]
    points += [(due, 100.0 * i / (len(steps) + 1)) for i, due in enumerate(steps, 1)]
    points.append((deadline, 100.0))
    for (d0, p0), (d1, p1) in zip(points, points[1:], strict=False):
        if d0 <= on <= d1:
            span = (d1 - d0).days
            share = (on - d0).days / span if span else 1.0
            return round(p0 + (p1 - p0) * share, 1)
    return 100.0  # cannot happen: `on` lies between the first and the last point


@dataclass(frozen=True)
class Facts:
    """What the colour of one project on one day depends on."""

    state: str
    today: date
    announced: date
    deadline: date
    planned: float  # planned_percent on `today`
    reported: float | None  # the latest report's percent; None before the first report
    last_report: date | None
    overdue_findings: int
    report_interval_days: int  # progress_report_max_days
    yellow_gap_points: int
    red_gap_points: int


@dataclass(frozen=True)
class Status:
    """Status — 督办状态: the colour (None: suspended or terminated), the gap in points (planned −
    reported, one decimal), and the reasons, (English, Chinese), the colour's own first."""

    colour: Colour | None
    gap: float
    reasons: list[tuple[str, str]] = field(default_factory=list)

    @property
    def reason_zh(self) -> str:
        return "；".join(zh for _, zh in self.reasons)

    @property
    def reason_en(self) -> str:
        return "; ".join(en for en, _ in self.reasons)

    @property
    def words(self) -> str:
        """The colour in words (never the colour alone), e.g. 红色督办."""
        return COLOUR_WORDS[self.colour] if self.colour else ""


def status(f: Facts) -> Status:
    """The colour and its reasons on `f.today` (see the module)."""
    gap = round(f.planned - (f.reported or 0.0), 1)
    if f.state in WITHOUT_COLOUR:
        words = "已暂停" if f.state == ProjectState.suspended else "已终止"
        return Status(None, gap, [(f"{f.state} by a congress decision", words)])
    if f.state in ACCEPTED:
        return Status(Colour.blue, 0.0, [("accepted", "已验收")])
    red: list[tuple[str, str]] = []
    yellow: list[tuple[str, str]] = []
    if f.overdue_findings:
        red.append((f"{f.overdue_findings} finding(s) unanswered past their due date",
                    f"{f.overdue_findings} 条视察意见逾期未答复"))
    if f.state not in DONE_BUILDING:
        if f.today > f.deadline:
            days = (f.today - f.deadline).days
            red.append((f"{days} day(s) past the deadline and not completed",
                        f"已超过完工期限 {days} 天仍未完工"))
        behind = (f"{gap:g} points behind planned progress", f"落后序时进度 {gap:g} 个百分点")
        if gap > f.red_gap_points:
            red.append(behind)
        elif gap > f.yellow_gap_points:
            yellow.append(behind)
        since = f.last_report or f.announced
        silent = (f.today - since).days
        if silent > 2 * f.report_interval_days:
            red.append((f"no progress report for {silent} days", f"已 {silent} 天未报告进度"))
        elif silent > f.report_interval_days:
            late = silent - f.report_interval_days
            yellow.append((f"progress report {late} day(s) overdue",
                           f"进度报告已逾期 {late} 天"))
    if red:
        return Status(Colour.red, gap, red + yellow)
    if yellow:
        return Status(Colour.yellow, gap, yellow)
    if f.state == ProjectState.completed:
        return Status(Colour.green, gap, [("completed, awaiting acceptance", "已完工，待验收")])
    return Status(Colour.green, gap, [("on plan", "按序时进度推进")])
