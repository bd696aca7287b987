"""`minsheng demo` (演示数据): 乐至县 with its townships and streets, people, a finished year and
a year in 征集, and its city 资阳市 with a finished year decided by the government (征求意见
instead of 票决), everything made through the services at the dates it would have happened.

- app/demo/calendar.py — which years (from today's date), the clock, the timeline of steps
- app/demo/people.py — jurisdictions, staff, deputy rosters, residents, responsible units
- app/demo/lezhi.py, townships.py, ziyang.py — the content: proposals, candidates, votes,
  comments on a draft list, plans
- app/demo/year.py — playing a year through the services, step by step: 筹备 and 征集
- app/demo/decided.py, balloted.py, government.py — a decided year: the candidates and plans,
  decided by the deputies' ballot (初定 → 票决 → 公开) or by the government (征求意见)

Loading twice changes nothing: a database that has 乐至县 already is only described.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.ballots import service as ballots
from app.demo import lezhi, townships, ziyang
from app.demo.balloted import FinishedYear
from app.demo.calendar import DemoClock, Timeline, Years, beijing
from app.demo.government import GovernmentYear
from app.demo.people import (
    CITY,
    COUNTY,
    DEMO_PASSWORD,
    DEPUTY_COUNTS,
    JURISDICTIONS,
    RESIDENTS,
    STAFF,
    set_up,
)
from app.demo.year import SolicitingYear
from app.models import Cycle, Jurisdiction, Project, utcnow
from app.models.base import clock_at
from app.projects.service import ANNOUNCED_PHASES
from app.timeutil import CHINA_TZ

__all__ = ["COUNTY", "DEMO_PASSWORD", "DemoResult", "describe", "guide_text", "load",
           "logins_text"]


@dataclass
class DemoResult:
    """What the demo holds: the county's current and finished years and where to look."""

    loaded: bool
    cycle_id: str | None = None           # 乐至县's year in 征集
    finished_cycle_id: str | None = None  # 乐至县's finished year (公开)
    round_ids: list[str] = field(default_factory=list)  # its published rounds, first first
    project_id: str | None = None         # its first project
    city_cycle_id: str | None = None      # 资阳市's finished year, decided by the government
    # Every cycle: (jurisdiction name, year, phase, id), county first, oldest first.
    cycles: list[tuple[str, int, str, str]] = field(default_factory=list)


async def load(session: AsyncSession) -> DemoResult:
    """Load the demo once; a second run finds it there and changes nothing."""
    if await session.get(Jurisdiction, COUNTY) is not None:
        return await describe(session, loaded=False)
    now = utcnow()
    years = Years(now.astimezone(CHINA_TZ).date())
    clock = DemoClock(beijing(date(years.finished - 1, 8, 20), 9), limit=now)
    with clock_at(clock):
        people = await set_up(session)
        timeline = Timeline()
        county = FinishedYear(session, people, timeline, years.finished, spec=lezhi.FINISHED)
        county.schedule()
        FinishedYear(session, people, timeline, years.finished,
                     spec=townships.FOXING_FINISHED).schedule()
        GovernmentYear(session, people, timeline, years.finished, spec=ziyang.FINISHED).schedule()
        yesterday = years.today - timedelta(days=1)
        for spec, reserve in ((lezhi.CURRENT, county.proposals),
                              (townships.JINSHUN_CURRENT, None),
                              (townships.FOXING_CURRENT, None)):
            SolicitingYear(session, people, timeline, years.current, spec.jurisdiction, spec.gov,
                           spec.seats).schedule(
                spec, years.soliciting_opened + timedelta(days=spec.opened_after), yesterday,
                reserve)
        await timeline.play(clock)
    await audit.record(session, actor="cli", action="demo.load", entity_type="jurisdiction",
                       entity_id=COUNTY, data={"accounts": len(people.by_username),
                                               "finished_year": years.finished,
                                               "current_year": years.current})
    return await describe(session, loaded=True)


async def describe(session: AsyncSession, *, loaded: bool = False) -> DemoResult:
    """The demo's cycles, rounds and a project as they are in the database."""
    rows = (await session.execute(
        select(Cycle, Jurisdiction.name).join(Jurisdiction,
                                              Jurisdiction.code == Cycle.jurisdiction_code)
        .order_by((Cycle.jurisdiction_code != COUNTY), Cycle.jurisdiction_code,
                  Cycle.year))).all()
    result = DemoResult(loaded, cycles=[(name, c.year, c.phase, c.id) for c, name in rows])
    county = [c for c, _ in rows if c.jurisdiction_code == COUNTY]
    finished = next((c for c in county if c.phase in ANNOUNCED_PHASES), None)
    current = next((c for c in reversed(county) if c.phase not in ANNOUNCED_PHASES), None)
    result.cycle_id = current.id if current else None
    if finished is not None:
        result.finished_cycle_id = finished.id
        result.round_ids = [r.id for r in await ballots.published_rounds(session, finished.id)]
        result.project_id = await session.scalar(
            select(Project.id).where(Project.cycle_id == finished.id)
            .order_by(Project.created_at).limit(1))
    result.city_cycle_id = next((c.id for c, _ in rows if c.jurisdiction_code == CITY
                                 and c.phase in ANNOUNCED_PHASES), None)
    return result


def logins_text() -> str:
    """The demo accounts, for the terminal."""
    lines = [f"Demo log-ins (password for all: {DEMO_PASSWORD}):"]
    for username, name, role, _ in STAFF:
        lines.append(f"  {username:<18} {role:<15} {name}")
    names = {code: name for code, name, _, _ in JURISDICTIONS}
    for code, count in DEPUTY_COUNTS.items():
        first = f"{code}-d001"
        lines.append(f"  {first:<18} {'deputy':<15} {names[code]}人大代表（… {code}-d{count:03d}）")
    phone, name, _ = RESIDENTS[0]
    lines.append(f"  {phone:<18} {'resident':<15} 群众 {name}（… {RESIDENTS[-1][0]}）")
    return "\n".join(lines)


def guide_text(result: DemoResult, url: str = "http://127.0.0.1:8000") -> str:
    """What to click to see each stage, with the demo's own addresses on the service at `url`."""
    cur, fin = result.cycle_id, result.finished_cycle_id
    if not (cur and fin and result.round_ids):
        return "The database has 乐至县 but not the demo's cycles; nothing to guide through."
    first, last = result.round_ids[0], result.round_ids[-1]
    lines = [
        f"What to click ({url}; log in at /login, password as above):",
        "",
        "乐至县's finished year — 征集, 初定, 票决 and 公开 all done:",
        f"  the whole year on one page: /cycles/{fin}",
        f"  征集  the proposals, every channel, with their decisions: /cycles/{fin}/proposals",
        f"  初定  the candidates as published (公示): /cycles/{fin}/candidates",
        f"  票决  round 1, a tie across the last seat: /ballots/{first}/results",
        f"        the run-off among the tied: /ballots/{last}/results",
        f"        the rounds' control pages (lezhi-congress): /staff/cycles/{fin}/ballots",
        f"  公开  the 公告: /cycles/{fin}/announcement",
        f"        a project and its plan, published late (逾期): /projects/{result.project_id}",
        f"        every plan, late ones flagged (lezhi-gov): /staff/cycles/{fin}/plans",
        "",
        "乐至县's current year — in 征集 long enough to move on:",
        f"  the proposals: /cycles/{cur}/proposals",
        "  propose or endorse (13800000001): /propose",
        f"  accept, reject or merge (lezhi-gov): /staff/cycles/{cur}/triage",
        f"  move it to 初定 in the 当前阶段 panel (lezhi-gov): /cycles/{cur}",
        f"  then build candidates (lezhi-gov): /staff/cycles/{cur}/candidates",
        "",
    ]
    if city := result.city_cycle_id:
        lines += [
            "资阳市's finished year — decided by the government: 征求意见 instead of 票决:",
            f"  the whole year on one page: /cycles/{city}",
            f"  征集  12345 hotline records, deputies' proposals: /cycles/{city}/proposals",
            f"  征求意见  the draft list, comments and the government's answers, one item "
            f"left out: /cycles/{city}/draft-list",
            f"        the comments and the adopting meeting's record (ziyang-gov): "
            f"/staff/cycles/{city}/draft-list",
            f"  公开  the 公告 of 资阳市人民政府: /cycles/{city}/announcement",
            f"        every plan (ziyang-gov): /staff/cycles/{city}/plans",
            "",
        ]
    lines += [
        "Every cycle, the city's and the townships' too (/archive):",
    ]
    lines += [f"  {name} {year} ({phase}): /cycles/{cycle_id}"
              for name, year, phase, cycle_id in result.cycles]
    return "\n".join(lines)
