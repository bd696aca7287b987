"""The demo's calendar (演示日历): which years it shows, when each step happened, and the clock
that writes those steps with their dates.

Everything is computed from today's Beijing date, so the demo tells a coherent story whenever it
is loaded: a finished year whose session and the session after it (where 测评 will happen once
built) are past, and a current year whose 征集 opened long enough ago to move on.
"""

from __future__ import annotations

import heapq
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from app.timeutil import CHINA_TZ

# How long before today the current year's 征集 opened: more than the default minimum (30 days).
SOLICITING_DAYS_AGO = 46
# The clock moves on this much on every reading, so records written in one step keep their order.
TICK = timedelta(milliseconds=1)


def beijing(day: date, hour: int, minute: int = 0) -> datetime:
    """A Beijing wall-clock moment as an aware UTC datetime."""
    return datetime.combine(day, time(hour, minute), CHINA_TZ).astimezone(UTC)


@dataclass(frozen=True)
class Years:
    """Which years the demo shows, seen from `today` (a Beijing date)."""

    today: date

    @property
    def finished(self) -> int:
        """The finished year: its session (Jan–Feb) and the next year's session are past."""
        return self.today.year - 1 if self.today.month >= 3 else self.today.year - 2

    @property
    def current(self) -> int:
        """The year now in 征集: the one decided at the next session."""
        return self.finished + 2

    @property
    def soliciting_opened(self) -> date:
        """The day the current year's 征集 opened."""
        return self.today - timedelta(days=SOLICITING_DAYS_AGO)


def zh_number(n: int) -> str:
    """1–99 in Chinese numerals (五, 十八, 二十一), as session names write them."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def congress_session(year: int) -> str:
    """The people's congress session that decides `year`'s list, held early that year.

    Congresses sit five years (the 18th from 2021); its first session is the election in the
    autumn, so the yearly sessions are the 2nd to the 6th (2025: 第十八届人民代表大会第五次会议).
    """
    term, index = divmod(year - 2022, 5)
    return f"第{zh_number(18 + term)}届人民代表大会第{zh_number(index + 2)}次会议"


class DemoClock:
    """What `utcnow()` answers while the demo loads: the moment the script has reached, one tick
    later on each reading. It never goes back, and never past `limit` (the real time)."""

    def __init__(self, start: datetime, limit: datetime) -> None:
        self._now = start
        self._limit = limit

    def __call__(self) -> datetime:
        self._now += TICK
        return self._now

    def move_to(self, when: datetime) -> None:
        """Jump forward to `when`. Steps at one moment follow each other a few ticks apart; a
        step more than a minute before the last reading, or after now, is a script error."""
        if when > self._limit:
            raise RuntimeError(f"the demo would write a record dated {when}, after now")
        if when < self._now - timedelta(minutes=1):
            raise RuntimeError(f"the demo clock cannot go back from {self._now} to {when}")
        self._now = max(self._now, when)


Step = Callable[[], Awaitable[object]]


@dataclass(order=True)
class _Event:
    when: datetime
    order: int
    run: Step = field(compare=False)


class Timeline:
    """The demo's steps, each at its moment, played in time order (ties in the order added).

    Steps of different cycles interleave as they would have happened, so the audit chain reads in
    time order too.
    """

    def __init__(self) -> None:
        self._events: list[_Event] = []
        self._added = 0

    def at(self, when: datetime, run: Step) -> None:
        """Add a step to happen at `when`."""
        self._added += 1
        heapq.heappush(self._events, _Event(when, self._added, run))

    async def play(self, clock: DemoClock) -> None:
        """Run every step in time order with the clock set to its moment. A step may add later
        steps (the session of a ballot adds its rounds as they come)."""
        while self._events:
            event = heapq.heappop(self._events)
            clock.move_to(event.when)
            await event.run()
