"""Public pages of 票决: the live turnout partial and a round's published results.

Turnout (present, cast) is what anyone may see while a round runs; the results page shows the
tally only once the round is published, as GET /api/v1/ballots/{id}/results does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Request

from app.auth.deps import in_scope
from app.auth.roles import Perm, has_perm
from app.ballotbox import rounds
from app.ballotbox.forms import DEPUTIES_BALLOT
from app.ballots.labels import state_labels
from app.db import SessionDep
from app.i18n import N_
from app.models import BallotRound, Cycle, User
from app.pages.deps import PageUser
from app.pages.render import render
from app.workflows.ballot import BALLOT_WORKFLOW, BallotState
from app.workflows.engine import history

router = APIRouter(include_in_schema=False)

# Turnout is polled while deputies can still arrive or vote; it stops once the round closes.
LIVE_STATES = (BallotState.created, BallotState.open)
POLL_SECONDS = 3

THRESHOLD_BASES = {"all": N_("全体代表"), "present": N_("出席代表"), "cast": N_("收回选票")}


def labels_ctx() -> dict:
    return {"BALLOT_STATES": state_labels(),
            "THRESHOLD_BASES": THRESHOLD_BASES, "POLL_SECONDS": POLL_SECONDS}


async def turnout_ctx(session, ballot: BallotRound) -> dict:
    """Turnout — 出席与投票情况: present and cast counts with T and the quorum; never content."""
    counts = await rounds.turnout(session, ballot)
    return {"ballot_id": ballot.id, "state": ballot.state, "present": counts["present"],
            "cast": counts["cast"], "total": ballot.total_deputies, "quorum": ballot.quorum,
            "live": ballot.state in LIVE_STATES}


async def void_reason(session, ballot: BallotRound) -> str:
    """Why the round was voided (作废理由), from its recorded transitions."""
    moves = await history(session, BALLOT_WORKFLOW.entity_type, ballot.id)
    return next((m.reason for m in reversed(moves) if m.to_state == BallotState.void), "")


# ---------------------------------------------------------------- the bar chart (SVG)

CHART_WIDTH = 340
BAR_AREA = 250      # user units the roster size T spans
LABEL_SIZE = 15     # font size of candidate titles (user units)
LINE_EM = 21.5      # ems of title per line: wraps inside the chart's width
TOP = 34            # room above the first row for the threshold label


@dataclass
class ChartRow:
    """One candidate's bar: label lines, then yes / no / abstain segments scaled to T."""

    title: str
    lines: list[str]
    label_y: list[float]
    bar_y: float
    yes: int
    no: int
    abstain: int
    yes_w: float
    no_w: float
    abstain_w: float
    selected: bool
    passed: bool


@dataclass
class Chart:
    """BarChart — 票数条形图: geometry computed here so the template only draws."""

    width: int
    height: float
    threshold: int
    threshold_x: float
    label_x: float
    label_anchor: str
    rows: list[ChartRow] = field(default_factory=list)
    bar_area: int = BAR_AREA
    bar_height: int = 18


def _em(ch: str) -> float:
    return 0.55 if ord(ch) < 0x2E80 else 1.0  # Latin and digits are about half a CJK glyph


def wrap(text: str, width_em: float = LINE_EM) -> list[str]:
    """Split a title into lines no wider than `width_em` (SVG text does not wrap by itself)."""
    lines, line, used = [], "", 0.0
    for ch in text:
        w = _em(ch)
        if line and used + w > width_em:
            lines.append(line)
            line, used = "", 0.0
        line += ch
        used += w
    return [*lines, line] if line else lines or [""]


def chart_of(results: dict) -> Chart:
    """The chart of a tallied round: one horizontal bar per candidate, stacked top to bottom."""
    total = max(results["total_deputies"], 1)
    scale = BAR_AREA / total
    threshold_x = round(results["threshold"] * scale, 1)
    # The label sits centred on the line unless that would push it off either edge.
    label_anchor, label_x = "middle", threshold_x
    if threshold_x < 60:
        label_anchor, label_x = "start", max(threshold_x - 4, 0)
    elif threshold_x > CHART_WIDTH - 60:
        label_anchor, label_x = "end", threshold_x + 4
    chart = Chart(width=CHART_WIDTH, height=0, threshold=results["threshold"],
                  threshold_x=threshold_x, label_x=label_x, label_anchor=label_anchor)
    y = TOP
    for c in results["candidates"]:
        lines = wrap(c["title"])
        label_y = [y + LABEL_SIZE + i * (LABEL_SIZE + 4) for i in range(len(lines))]
        bar_y = label_y[-1] + 7
        chart.rows.append(ChartRow(
            title=c["title"], lines=lines, label_y=label_y, bar_y=bar_y, yes=c["yes"],
            no=c["no"], abstain=c["abstain"], yes_w=round(c["yes"] * scale, 1),
            no_w=round(c["no"] * scale, 1), abstain_w=round(c["abstain"] * scale, 1),
            selected=c["selected"], passed=c["passed"]))
        y = bar_y + chart.bar_height + 14
    chart.height = y
    return chart


# ---------------------------------------------------------------- pages

async def _is_staff_of(session, user: User | None, ballot: BallotRound) -> bool:
    if user is None or not has_perm(user.role, Perm.ballot_manage):
        return False
    cycle = await session.get(Cycle, ballot.cycle_id)
    return await in_scope(session, user, cycle.jurisdiction_code)


@router.get("/ballots/{ballot_id}/turnout")
async def turnout_partial(request: Request, ballot_id: str, session: SessionDep, seen: str = ""):
    """出席与投票情况: the small partial pages poll (counts only, never content).

    `seen` is the state the page was drawn in: once the round has moved on, htmx reloads the
    whole page (the deputy's ballot form appears when it opens, staff see the next step, the
    results page shows the results once published).
    """
    ballot = await rounds.get(session, ballot_id, DEPUTIES_BALLOT.name)
    headers = {"Cache-Control": "no-store"}
    if (request.headers.get("hx-request") == "true" and seen in BallotState.__members__
            and seen != ballot.state):
        headers["HX-Refresh"] = "true"
    return render(request, "ballots/_turnout.html", {
        **labels_ctx(), "turnout": await turnout_ctx(session, ballot)}, headers=headers)


@router.get("/ballots/{ballot_id}/results")
async def results_page(request: Request, ballot_id: str, session: SessionDep, user: PageUser):
    """计票结果: the figures, a bar chart and a table once published; before that, turnout."""
    ballot, cycle = await rounds.get_with_cycle(session, ballot_id, DEPUTIES_BALLOT.name)
    published = ballot.state == BallotState.published and ballot.results is not None
    return render(request, "ballots/results.html", {
        **labels_ctx(), "ballot": ballot, "cycle": cycle, "published": published,
        "results": ballot.results if published else None,
        "chart": chart_of(ballot.results) if published else None,
        "turnout": await turnout_ctx(session, ballot),
        "void_reason": await void_reason(session, ballot)
        if ballot.state == BallotState.void else "",
        "is_staff": await _is_staff_of(session, user, ballot)}, shared=True)
