"""AtomFeed — 公开信息订阅: announcements (公告), published ballot results, a government's draft
lists opened for public comment (征求意见) and implementation plans (实施方案) published or
changed, newest first.

The first three come from the workflows' transition history: a cycle entering `announced` or
`commenting`, a round entering `published`; plans from their saved versions. Entry ids are tag-like URNs of
the record, so they stay the same whatever host name the feed is read under; links point at
the public pages.
"""

from __future__ import annotations

from datetime import UTC, datetime

from feedgen.feed import FeedGenerator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ballotbox.forms import DEPUTIES_BALLOT
from app.i18n import gettext as _
from app.models import (
    BallotRound,
    Cycle,
    Jurisdiction,
    Project,
    ProjectPlanVersion,
    StateTransition,
)
from app.workflows.ballot import BALLOT_WORKFLOW, BallotState
from app.workflows.cycle import CYCLE_WORKFLOW, CyclePhase

FEED_SIZE = 50


async def _announcements(session: AsyncSession) -> list[tuple[StateTransition, Cycle, str]]:
    """Cycles entering `announced` (公告) or `commenting` (a draft list opened for comment)."""
    rows = await session.execute(
        select(StateTransition, Cycle, Jurisdiction.name)
        .join(Cycle, Cycle.id == StateTransition.entity_id)
        .join(Jurisdiction, Jurisdiction.code == Cycle.jurisdiction_code)
        .where(StateTransition.entity_type == CYCLE_WORKFLOW.entity_type,
               StateTransition.to_state.in_([CyclePhase.announced, CyclePhase.commenting]))
        .order_by(StateTransition.at.desc(), StateTransition.id.desc()).limit(FEED_SIZE))
    return list(rows.all())


async def _results(session: AsyncSession) -> list[tuple[StateTransition, BallotRound, Cycle]]:
    rows = await session.execute(
        select(StateTransition, BallotRound, Cycle)
        .join(BallotRound, BallotRound.id == StateTransition.entity_id)
        .join(Cycle, Cycle.id == BallotRound.cycle_id)
        .where(StateTransition.entity_type == BALLOT_WORKFLOW.entity_type,
               StateTransition.to_state == BallotState.published,
               BallotRound.state == BallotState.published,
               BallotRound.form == DEPUTIES_BALLOT.name)
        .order_by(StateTransition.at.desc(), StateTransition.id.desc()).limit(FEED_SIZE))
    return list(rows.all())


async def _plan_versions(session: AsyncSession) -> list[tuple[ProjectPlanVersion, Project, Cycle]]:
    rows = await session.execute(
        select(ProjectPlanVersion, Project, Cycle)
        .join(Project, Project.id == ProjectPlanVersion.project_id)
        .join(Cycle, Cycle.id == Project.cycle_id)
        .order_by(ProjectPlanVersion.saved_at.desc(), ProjectPlanVersion.id.desc())
        .limit(FEED_SIZE))
    return list(rows.all())


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


async def atom_feed(session: AsyncSession, base_url: str) -> bytes:
    """The Atom document; `base_url` is the site's root URL ending in '/'."""
    entries = []  # (at, record id, title, link, summary)
    for t, cycle, place in await _announcements(session):
        if t.to_state == CyclePhase.commenting:
            entries.append((_aware(t.at), t.id,
                            _("{title}：征求意见稿公开征求意见").format(title=cycle.title),
                            f"{base_url}cycles/{cycle.id}/draft-list",
                            _("{place}{year}年民生实事项目（征求意见稿）已公布，欢迎发表意见。").format(
                                place=place, year=cycle.year)))
        elif cycle.decided_by == "government":
            entries.append((_aware(t.at), t.id,
                            _("{title}：公告").format(title=cycle.title),
                            f"{base_url}cycles/{cycle.id}",
                            _("{place}{year}年民生实事项目经{meeting}研究确定（{number}），"
                              "已公告。").format(place=place, year=cycle.year,
                                                 meeting=cycle.adoption_meeting or "",
                                                 number=cycle.adoption_document_number or "")))
        else:
            entries.append((_aware(t.at), t.id,
                            _("{title}：公告").format(title=cycle.title),
                            f"{base_url}cycles/{cycle.id}",
                            _("{place}{year}年民生实事项目票决结果已公告。").format(
                                place=place, year=cycle.year)))
    for t, ballot, cycle in await _results(session):
        selected = len((ballot.results or {}).get("selected_ids", []))
        entries.append((_aware(t.at), t.id,
                        _("{title}：第{round}轮票决结果已公布").format(title=cycle.title,
                                                                 round=ballot.round),
                        f"{base_url}ballots/{ballot.id}/results",
                        _("应选{seats}项，当选{selected}项。").format(seats=ballot.seats,
                                                                selected=selected)))
    for version, project, cycle in await _plan_versions(session):
        if version.version == 1:
            title = _("{project}：实施方案已公布").format(project=project.title)
        else:
            title = _("{project}：实施方案第{n}版（修改）").format(project=project.title,
                                                          n=version.version)
        summary = _("{cycle}，责任单位：{unit}。").format(cycle=cycle.title,
                                                   unit=project.responsible_unit)
        if version.reason:
            summary += _("修改说明：{reason}").format(reason=version.reason)
        entries.append((_aware(version.saved_at), f"plan-version:{version.id}", title,
                        f"{base_url}projects/{project.id}", summary))
    entries.sort(key=lambda e: (e[0], e[1]), reverse=True)
    entries = entries[:FEED_SIZE]

    fg = FeedGenerator()
    fg.id("urn:minsheng:feed")
    fg.title(_("民生实事项目公告与票决结果"))
    fg.subtitle(_("民生实事项目人大代表票决制：公告、已公布的票决结果和实施方案"))
    fg.link(href=f"{base_url}feed.atom", rel="self", type="application/atom+xml")
    fg.link(href=base_url, rel="alternate", type="text/html")
    fg.language("zh-CN")
    fg.updated(entries[0][0] if entries else datetime(2000, 1, 1, tzinfo=UTC))
    for at, record_id, title, link, summary in entries:
        fe = fg.add_entry(order="append")
        # transition ids keep their URN of the first feed; plan versions name their kind
        fe.id(f"urn:minsheng:{record_id}" if record_id.startswith("plan-version:")
              else f"urn:minsheng:transition:{record_id}")
        fe.title(title)
        fe.link(href=link, rel="alternate", type="text/html")
        fe.summary(summary)
        fe.published(at)
        fe.updated(at)
    return fg.atom_str(pretty=True)
