"""The guards of a government list's path through the cycle table (app/workflows/cycle.py):
初定 → 征求意见 needs a draft list; 征求意见 → 公开 needs the period's minimum length, every
comment answered or noted, and the adopting meeting's record.

Each returns None when the move may go ahead, or (English, Chinese) sentences naming everything
that is missing.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.govlist import draft
from app.govlist.comments import unanswered_count
from app.jurisdictions.settings import settings_for
from app.models import Candidate, Cycle, Jurisdiction, utcnow
from app.workflows.candidate import CandidateState


async def ready_for_comments(session: AsyncSession, cycle: Cycle,
                             reason: str) -> tuple[str, str] | None:
    """Guard of screening → commenting: a government list with at least one candidate through
    the government's approval chain, and none stopped half-way at the 党委 step."""
    if not draft.is_government(cycle):
        return ("This cycle's list is decided by the deputies' ballot (decided_by: ballot); it "
                "goes to the ballot (balloting), never to a public comment period.",
                "本年度民生实事项目由人大代表票决，应进入票决阶段，不进行征求意见。")
    jurisdiction = await session.get(Jurisdiction, cycle.jurisdiction_code)
    party_step = settings_for(jurisdiction).party_committee_step
    counts = dict((await session.execute(
        select(Candidate.state, func.count()).where(Candidate.cycle_id == cycle.id)
        .group_by(Candidate.state))).all())
    on_list = counts.get(CandidateState.party_approved if party_step
                         else CandidateState.gov_approved, 0)
    waiting = counts.get(CandidateState.gov_approved, 0) if party_step else 0
    if waiting:
        return (f"{waiting} candidate(s) passed the government meeting but not yet the 党委 step "
                "this jurisdiction requires; finish or send them back before publishing the draft.",
                f"还有 {waiting} 个候选项目已经政府常务会议通过、尚未经党委会议审议，"
                "请先办结或退回，再发布征求意见稿。")
    if not on_list:
        step = "党委会议" if party_step else "政府常务会议"
        return (f"The draft list is empty: at least one candidate must pass the government's "
                f"approval chain ({step}) before it goes to public comment.",
                f"征求意见稿中还没有项目：至少须有一个候选项目经{step}通过，才能公开征求意见。")
    return None


async def ready_to_adopt(session: AsyncSession, cycle: Cycle,
                         reason: str) -> tuple[str, str] | None:
    """Guard of commenting → announced: the period lasted its minimum, every comment is answered
    or noted, and the adopting meeting's name, date and document number are recorded."""
    jurisdiction = await session.get(Jurisdiction, cycle.jurisdiction_code)
    days = settings_for(jurisdiction).comment_period_min_days
    problems, problems_zh = [], []
    elapsed = utcnow() - cycle.phase_since
    if elapsed.total_seconds() < days * 86400:
        left = days - elapsed.days
        problems.append(f"the comment period lasts at least {days} days (this jurisdiction's "
                        f"setting); {left} more day(s) to go")
        problems_zh.append(f"征求意见期不少于 {days} 天（本级设定），还需 {left} 天")
    if open_ := await unanswered_count(session, cycle.id):
        problems.append(f"{open_} public comment(s) are neither answered nor noted")
        problems_zh.append(f"还有 {open_} 条意见未答复或记录")
    if not cycle.adoption_meeting or not cycle.adoption_date or not (
            cycle.adoption_document_number):
        problems.append("record the meeting that adopted the list, its date and document number")
        problems_zh.append("尚未填写研究确定的会议名称、日期和文号")
    if problems:
        return ("The list cannot be announced yet: " + "; ".join(problems) + ".",
                "暂不能公告：" + "；".join(problems_zh) + "。")
    return None
