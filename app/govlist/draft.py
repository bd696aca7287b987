"""The draft list (征求意见稿) of a list decided by the government, its comment period and the
adopting meeting's record (通过记录).

The draft list is the cycle's candidates that went through the government's approval chain
(`DRAFT_LIST_STATES`); it is public from the moment the cycle enters `commenting` and frozen
from then on (candidates change only in 初定). The adopting meeting (区长办公会, 区政府常务会议 …)
adopts it, possibly leaving items out with a reason; the record is kept on the cycle and quoted
by the 公告.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.deps import ensure_scope
from app.auth.roles import Perm, has_perm
from app.errors import Conflict, Forbidden, Invalid
from app.jurisdictions.settings import settings_for
from app.models import Candidate, Cycle, Jurisdiction, StateTransition, User, utcnow
from app.timeutil import CHINA_TZ, china_today
from app.workflows.candidate import DRAFT_LIST_STATES
from app.workflows.cycle import CyclePhase, DecidedBy

# Phases in which a government's draft list is public: the comment period and every later one.
PUBLISHED_PHASES = (CyclePhase.commenting, CyclePhase.announced, CyclePhase.supervising,
                    CyclePhase.evaluating, CyclePhase.closed)
MAX_LEFT_OUT_REASON = 500


def is_government(cycle: Cycle) -> bool:
    """Whether the cycle's list is decided by the government (no deputies' ballot)."""
    return cycle.decided_by == DecidedBy.government


def ensure_government(cycle: Cycle) -> None:
    """409 `decided_by_ballot` for a cycle whose list the deputies decide."""
    if not is_government(cycle):
        raise Conflict("This cycle's list is decided by the deputies' ballot; it has no draft "
                       "list for public comment.", code="decided_by_ballot",
                       zh="本年度民生实事项目由人大代表票决，没有征求意见稿。")


def draft_published(cycle: Cycle) -> bool:
    """Whether the cycle's draft list is public (a government list from `commenting` on)."""
    return is_government(cycle) and cycle.phase in PUBLISHED_PHASES


def ensure_published(cycle: Cycle) -> None:
    """409 unless the draft list is public (ballot cycles: `decided_by_ballot`)."""
    ensure_government(cycle)
    if not draft_published(cycle):
        raise Conflict("The draft list is published when the cycle enters its comment period "
                       "(commenting).", code="not_published",
                       zh="征求意见稿尚未发布：进入征求意见阶段后公开。")


def ensure_commenting(cycle: Cycle) -> None:
    """409 unless the cycle is in its comment period."""
    ensure_government(cycle)
    if cycle.phase != CyclePhase.commenting:
        raise Conflict("This is done during the comment period on the draft list (commenting); "
                       f"the cycle is in '{cycle.phase}'.", code="not_commenting",
                       zh="只有在征求意见阶段才能办理。")


async def draft_items(session: AsyncSession, cycle: Cycle) -> list[Candidate]:
    """The candidates on the cycle's draft list, in the order they were built."""
    return list(await session.scalars(select(Candidate).where(
        Candidate.cycle_id == cycle.id, Candidate.state.in_(DRAFT_LIST_STATES))
        .order_by(Candidate.created_at, Candidate.id)))


def left_out_ids(cycle: Cycle) -> set[str]:
    """The draft items the adopting meeting left out."""
    return {row["candidate_id"] for row in cycle.adoption_left_out or []}


async def adopted_items(session: AsyncSession, cycle: Cycle) -> list[Candidate]:
    """The draft items the adopting meeting kept: the adopted list, in draft order."""
    dropped = left_out_ids(cycle)
    return [c for c in await draft_items(session, cycle) if c.id not in dropped]


# ---------------------------------------------------------------- the comment period


@dataclass(frozen=True)
class CommentPeriod:
    """CommentPeriod — 征求意见期: when it began, the least it lasts, when it ended."""

    began: datetime
    min_days: int
    ended: datetime | None  # when the cycle entered `announced`; None while it runs

    @property
    def earliest_end(self) -> datetime:
        """The first moment the list may be adopted (began + the minimum days)."""
        return self.began + timedelta(days=self.min_days)

    @property
    def began_on(self) -> date:
        return self.began.astimezone(CHINA_TZ).date()

    @property
    def earliest_end_on(self) -> date:
        return self.earliest_end.astimezone(CHINA_TZ).date()

    @property
    def ended_on(self) -> date | None:
        return self.ended.astimezone(CHINA_TZ).date() if self.ended else None

    @property
    def open(self) -> bool:
        return self.ended is None

    def days_left(self) -> int:
        """Whole days until the minimum is reached (0 once it is, or once the period ended)."""
        if self.ended is not None:
            return 0
        seconds = (self.earliest_end - utcnow()).total_seconds()
        return max(0, math.ceil(seconds / 86400))


def comment_period(cycle: Cycle, jurisdiction: Jurisdiction | None,
                   history: list[StateTransition]) -> CommentPeriod | None:
    """The cycle's comment period from its phase history (oldest first), or None before it."""
    began = next((m.at for m in history if m.to_state == CyclePhase.commenting), None)
    if began is None:
        if cycle.phase != CyclePhase.commenting:
            return None
        began = cycle.phase_since
    ended = next((m.at for m in history if m.to_state == CyclePhase.announced), None)
    return CommentPeriod(began, settings_for(jurisdiction).comment_period_min_days,
                         ended if cycle.phase != CyclePhase.commenting else None)


# ---------------------------------------------------------------- the adopting meeting

_YEAR_IN_BRACKETS = re.compile(r"[\[(（【［〔]\s*(\d{4})\s*[\])）】］〕]")
# GB/T 9704-2012 发文字号: 机关代字, the year in 六角括号 〔〕, the number without 第 or leading 0,
# then 号 — 瑶政〔2026〕3号.
DOCUMENT_NUMBER = re.compile(r"^[^\s〔〕]{1,40}〔\d{4}〕[1-9]\d{0,5}号$")


def meeting_name(raw: str) -> str:
    """The adopting meeting's name without spaces, or 422: it names a meeting (…会 / …会议)."""
    name = "".join((raw or "").split())
    if not 2 <= len(name) <= 100 or not name.endswith(("会", "会议")):
        raise Invalid("Name the meeting that adopted the list, e.g. 区长办公会 or "
                      "区政府常务会议 (at most 100 characters).", code="invalid_meeting",
                      zh="请填写研究确定民生实事项目的会议名称，如“区长办公会”“区政府常务会议”"
                         "（不超过100个字）。")
    return name


def document_number(raw: str) -> str:
    """The document number in the GB/T 9704 form 瑶政〔2026〕3号 (other brackets around the year
    are turned into 〔〕), or 422."""
    text = _YEAR_IN_BRACKETS.sub(r"〔\1〕", "".join((raw or "").split()))
    if not DOCUMENT_NUMBER.match(text):
        raise Invalid("Give the adopting document's number as issued, e.g. 瑶政〔2026〕3号 "
                      "(issuer, year in brackets, number, 号).", code="invalid_document_number",
                      zh="请按发文字号格式填写文号，如“瑶政〔2026〕3号”（机关代字、〔年份〕、序号、号）。")
    return text


def adoption_of(cycle: Cycle) -> dict[str, Any] | None:
    """The adopting meeting's record as the API shows it, or None when none is recorded."""
    if not cycle.adoption_meeting:
        return None
    return {"meeting": cycle.adoption_meeting, "date": cycle.adoption_date,
            "document_number": cycle.adoption_document_number,
            "left_out": list(cycle.adoption_left_out or []),
            "recorded_by": cycle.adoption_recorded_by, "recorded_at": cycle.adoption_recorded_at}


def _snapshot(cycle: Cycle) -> dict[str, Any] | None:
    record = adoption_of(cycle)
    if record is None:
        return None
    return {"meeting": record["meeting"], "date": record["date"].isoformat(),
            "document_number": record["document_number"],
            "left_out": [{"candidate_id": r["candidate_id"], "reason": r["reason"]}
                         for r in record["left_out"]]}


async def record_adoption(session: AsyncSession, *, actor: User, cycle: Cycle, meeting: str,
                          on: date, number: str, left_out: list[dict]) -> Cycle:
    """Record (or correct, until the 公告) the meeting that adopted the draft list: its name,
    date and document number, and the items it left out, each with a reason.

    Government staff of the jurisdiction, during the comment period. The date is not in the
    future and not before the period began; every item left out is on the draft list, once,
    with a reason; at least one item stays. Each change is an audit entry with from and to.
    """
    if not has_perm(actor.role, Perm.list_adopt):
        raise Forbidden("Government staff record the adopting meeting.",
                        code="permission_denied", zh="通过记录由政府工作人员填写。")
    await ensure_scope(session, actor, cycle.jurisdiction_code)
    ensure_commenting(cycle)
    name, text = meeting_name(meeting), document_number(number)
    began = cycle.phase_since.astimezone(CHINA_TZ).date()
    if on > china_today():
        raise Invalid("The adopting meeting's date is in the future; record it once the meeting "
                      "has been held.", code="invalid_adoption_date",
                      zh="会议日期晚于今天：请在会议召开后再填写。")
    if on < began:
        raise Invalid(f"The adopting meeting cannot be before the comment period began "
                      f"({began.isoformat()}).", code="invalid_adoption_date",
                      zh=f"会议日期不能早于征求意见开始之日（{began.isoformat()}）。")
    items = {c.id: c for c in await draft_items(session, cycle)}
    rows, seen, problems, problems_zh = [], set(), [], []
    for i, row in enumerate(left_out, start=1):
        cid, reason = str(row.get("candidate_id") or ""), (row.get("reason") or "").strip()
        if cid not in items:
            problems.append(f"item {i} ({cid[:40]}) is not on the draft list")
            problems_zh.append(f"第{i}项（{cid[:40]}）不在征求意见稿中")
        elif cid in seen:
            problems.append(f"item {i} names “{items[cid].title}” twice")
            problems_zh.append(f"第{i}项“{items[cid].title}”重复")
        elif not reason or len(reason) > MAX_LEFT_OUT_REASON:
            problems.append(f"give the reason “{items[cid].title}” is left out "
                            f"(1–{MAX_LEFT_OUT_REASON} characters)")
            problems_zh.append(f"请说明“{items[cid].title}”未列入的理由（1–{MAX_LEFT_OUT_REASON}字）")
        else:
            seen.add(cid)
            rows.append({"candidate_id": cid, "title": items[cid].title, "reason": reason})
    if problems:
        raise Invalid("Items left out: " + "; ".join(problems) + ".", code="invalid_left_out",
                      zh="未列入事项有误：" + "；".join(problems_zh) + "。")
    if items and len(rows) == len(items):
        raise Invalid("The adopted list cannot leave out every item of the draft.",
                      code="invalid_left_out", zh="不能将征求意见稿中的事项全部删除。")
    before = _snapshot(cycle)
    cycle.adoption_meeting, cycle.adoption_date = name, on
    cycle.adoption_document_number, cycle.adoption_left_out = text, rows
    after = _snapshot(cycle)
    if after != before:
        cycle.adoption_recorded_by, cycle.adoption_recorded_at = actor.username, utcnow()
        session.add(cycle)
        await session.flush()
        await audit.record(session, actor=actor.username, action="cycle.adoption",
                           entity_type="cycle", entity_id=cycle.id,
                           data={"from": before, "to": after})
    return cycle
