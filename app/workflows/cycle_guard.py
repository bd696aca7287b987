"""The guard of 票决 → 公开: a cycle is announced on a published ballot result (DOMAIN.md).

The cycle may enter `announced` when no round of it is unfinished, at least one round is
published, and the selected candidates of its published rounds fill its seats. Seats that
remain are accepted in two cases:

- the latest published round was a shortfall under the jurisdiction's `leave_empty` policy:
  the seats stay empty by rule, the published result says so, and no further reason is asked;
- otherwise (a tie or a shortfall that calls for a further round, or fewer seats put to the
  vote than the cycle has) only if staff record why the remaining seats stay empty: that
  record is the transition's reason, kept in the cycle's history with who and when.

The workflow table of app/workflows/cycle.py calls `ready_to_announce`. It reads the ballot
rounds through the models and the ballot workflow only, so the workflows package imports nothing
from app/ballots.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ballotbox.forms import DEPUTIES_BALLOT
from app.models import BallotRound, Cycle
from app.workflows.ballot import STATE_LABELS, UNFINISHED, BallotState


@dataclass(frozen=True)
class SeatStatus:
    """SeatStatus — 名额产生情况: where a cycle's ballot stands against its seats."""

    seats: int
    filled: int
    published_rounds: int
    unfinished: BallotRound | None  # the first round not yet published or void
    empty_by_rule: int  # seats the latest published round leaves empty under `leave_empty`

    @property
    def remaining(self) -> int:
        return max(self.seats - self.filled, 0)

    @property
    def needs_reason(self) -> bool:
        """Seats remain that no rule leaves empty: staff must say why they stay empty."""
        return self.remaining > self.empty_by_rule


async def seat_status(session: AsyncSession, cycle: Cycle) -> SeatStatus:
    """How many of the cycle's seats its published rounds filled, and what is still open."""
    rounds = list(await session.scalars(select(BallotRound).where(
        BallotRound.cycle_id == cycle.id, BallotRound.form == DEPUTIES_BALLOT.name)
        .order_by(BallotRound.round)))
    unfinished = next((r for r in rounds if r.state in UNFINISHED), None)
    published = [r for r in rounds if r.state == BallotState.published and r.results]
    selected: set[str] = set()
    for r in published:
        selected.update(r.results.get("selected_ids") or [])
    empty_by_rule = 0
    if published:
        latest = published[-1]
        if latest.results.get("outcome") == "shortfall" and latest.shortfall_policy == (
                "leave_empty"):
            empty_by_rule = int(latest.results.get("remaining_seats") or 0)
    return SeatStatus(seats=cycle.seats, filled=len(selected), published_rounds=len(published),
                      unfinished=unfinished, empty_by_rule=empty_by_rule)


async def ready_to_announce(session: AsyncSession, cycle: Cycle,
                            reason: str) -> tuple[str, str] | None:
    """Guard of balloting → announced: None, or (English, Chinese) saying what is missing."""
    status = await seat_status(session, cycle)
    if (busy := status.unfinished) is not None:
        label = STATE_LABELS[BallotState(busy.state)]
        return (f"Round {busy.round} of this cycle is not finished ({busy.state}); publish or "
                f"void it before announcing the result.",
                f"第 {busy.round} 轮票决尚未结束（{label}），请先公布或作废，再进入公开阶段。")
    if status.published_rounds == 0:
        return ("No ballot round of this cycle is published; 公开 needs a published ballot "
                "result.",
                "本年度还没有公布的票决结果，不能进入公开阶段。")
    if status.needs_reason and not reason:
        n = status.remaining
        return (f"{n} of {status.seats} seats are not filled: hold a further round, or give the "
                f"reason the remaining seats stay empty.",
                f"还有 {n} 个名额未产生：请再次投票，或说明剩余名额空缺的理由。")
    return None
