"""Proposal rules (征集): who may propose where and when, search, the public list."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.deps import ensure_scope
from app.auth.roles import Role
from app.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from app.i18n import N_
from app.jurisdictions import service as jurisdictions
from app.models import Cycle, Jurisdiction, Proposal, User
from app.proposals import listing
from app.proposals.listing import LIVE_STATES, ListFilter, Sort  # noqa: F401 (re-exported)
from app.search.text import index_text
from app.workflows.cycle import CyclePhase
from app.workflows.proposal import PROPOSAL_WORKFLOW, ProposalState

STAFF_CHANNELS = {"deputy", "hotline", "visit", "letter"}
# Who the public sees behind a proposal staff recorded from a hotline call, a visit or a letter:
# the channel's people, never the caller's name (a deputy proposes in public office, named).
RECORDED_PROPOSERS = {"hotline": N_("12345热线群众"), "visit": N_("走访群众"),
                      "letter": N_("来信群众")}
# What staff write when a caller gave no name.
ANONYMOUS_NAMES = {"匿名", "匿名来电", "匿名来信", "无", "不详"}


async def get(session: AsyncSession, proposal_id: str) -> Proposal:
    """Load a proposal or 404."""
    proposal = await session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound("There is no such proposal.", code="unknown_proposal",
                       zh="找不到该建议。")
    return proposal


async def places_of(session: AsyncSession, cycle: Cycle) -> list[Jurisdiction]:
    """The cycle's jurisdiction and those nested in it: where a proposal may be located."""
    return [j for j in await jurisdictions.list_all(session)
            if j.code == cycle.jurisdiction_code or j.parent_code == cycle.jurisdiction_code]


async def ensure_may_propose(session: AsyncSession, user: User, cycle: Cycle) -> None:
    """403 unless `user` may make proposals to `cycle` (their own township or county)."""
    if user.role in (Role.resident, Role.deputy):
        own = await session.get(Jurisdiction, user.jurisdiction_code)
        if cycle.jurisdiction_code not in (user.jurisdiction_code, own and own.parent_code):
            raise Forbidden("You can make proposals to the cycles of your own township or "
                            "county only.", code="outside_jurisdiction",
                            zh="您只能向本人所在乡镇或县的年度征集提出建议。")
    else:
        await ensure_scope(session, user, cycle.jurisdiction_code)


def _channel_for(user: User, requested: str | None) -> str:
    if user.role == Role.resident:
        if requested not in (None, "online"):
            raise Invalid("Residents propose online; other channels are recorded by staff.",
                          code="channel_not_allowed", zh="群众只能网上提交建议。")
        return "online"
    if user.role == Role.deputy:
        if requested not in (None, "deputy", "online"):
            raise Invalid("A deputy's proposal is recorded as channel 'deputy'.",
                          code="channel_not_allowed", zh="代表提出的建议渠道为“代表建议”。")
        return "deputy"
    if requested not in STAFF_CHANNELS:
        raise Invalid("Staff record proposals received by another channel: give channel "
                      "'hotline', 'visit', 'letter' or 'deputy'.", code="channel_required",
                      zh="请选择建议来源渠道：12345热线、走访/问卷、来信或代表建议。")
    return requested


async def ensure_open_to(session: AsyncSession, actor: User, cycle: Cycle) -> None:
    """403/409 unless `actor` may file a proposal in `cycle` now (role, jurisdiction, phase)."""
    if actor.role not in (Role.resident, Role.deputy, Role.gov_staff):
        raise Forbidden("Residents, deputies and government staff make proposals.",
                        code="permission_denied", zh="只有群众、人大代表和政府工作人员可以提出建议。")
    await ensure_may_propose(session, actor, cycle)
    if cycle.phase != CyclePhase.soliciting:
        raise Conflict("Proposals are accepted only while the cycle is soliciting (征集).",
                       code="not_soliciting", zh="本年度建议征集尚未开始或已经结束。")


# A mainland mobile number written anywhere in a text (138 0000 0000 and 138-0000-0000 too).
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def _private_in_text(texts: tuple[str, ...], name: str, phone: str) -> str | None:
    """Which private detail of a recorded proposer its public text shows: 'phone', 'name', None."""
    joined = "\n".join(texts)
    digits = re.sub(r"[\s\-]", "", joined)
    own = re.sub(r"\D", "", phone)
    if _MOBILE.search(digits) or (len(own) >= 7 and own in digits):
        return "phone"
    if len(name) >= 2 and name not in ANONYMOUS_NAMES and name in joined:
        return "name"
    return None


def field_problems(actor: User, cycle: Cycle, place_codes: set[str], *, title: str = "",
                   description: str = "", place: str = "", category: str, location_code: str,
                   channel: str | None, proposer_name: str = "", proposer_phone: str = "",
                   source_ref: str | None = None) -> list[tuple[str, DomainError]]:
    """Every rule a proposal's fields break in `cycle`, by field, in the order create() checks.

    The fields' own shapes (lengths, numbers) are ProposalIn's; these are the cycle's rules.
    """
    problems: list[tuple[str, DomainError]] = []
    try:
        channel = _channel_for(actor, channel)
    except DomainError as exc:
        problems.append(("channel", exc))
    if category not in cycle.categories:
        problems.append(("category", Invalid(
            f"'{category}' is not a category of this cycle; use one of: "
            f"{', '.join(cycle.categories)}.", code="unknown_category",
            zh="请从列表中选择类别。")))
    if location_code not in place_codes:
        problems.append(("location_code", Invalid(
            "The location must be this cycle's jurisdiction or a township or street inside it.",
            code="unknown_location", zh="请从列表中选择所在乡镇（街道）。")))
    if actor.role != Role.gov_staff:
        if source_ref or proposer_phone:
            problems.append(("source_ref" if source_ref else "proposer_phone", Invalid(
                "Only staff recording another channel give a record number or a phone.",
                code="staff_only_field", zh="只有工作人员代录时才填写工单号和联系电话。")))
        return problems
    if not proposer_name.strip():
        problems.append(("proposer_name", Invalid(
            "Say who made the proposal (proposer_name) when recording it.",
            code="proposer_name_required", zh="请填写建议人姓名或单位。")))
    if channel != "deputy":
        private = _private_in_text((title, description, place), proposer_name.strip(),
                                   proposer_phone)
        if private == "phone":
            problems.append(("description", Invalid(
                "Title, description and place are public: take the phone number out of them "
                "(give it as proposer_phone).", code="private_in_text",
                zh="标题、内容和地点会公开显示，请删去其中的电话号码（电话请填在“联系电话”）。")))
        elif private == "name":
            problems.append(("description", Invalid(
                "Title, description and place are public: take the proposer's name out of them.",
                code="private_in_text",
                zh=f"标题、内容和地点会公开显示，请删去其中的建议人姓名“{proposer_name.strip()}”。")))
    return problems


async def find_by_source_ref(session: AsyncSession, cycle_id: str,
                             refs: list[str]) -> dict[str, str]:
    """Record number → id of the cycle's proposal recorded under it, for those of `refs` known."""
    found: dict[str, str] = {}
    for start in range(0, len(refs), 500):  # a bounded IN list
        rows = await session.execute(select(Proposal.source_ref, Proposal.id).where(
            Proposal.cycle_id == cycle_id, Proposal.source_ref.in_(refs[start:start + 500])))
        found.update(dict(rows.all()))
    return found


def duplicate_record(source_ref: str, proposal_id: str) -> Conflict:
    """409: the record number was recorded in this cycle already."""
    return Conflict(f"Record {source_ref} was recorded in this cycle already (proposal "
                    f"{proposal_id}).", code="duplicate_source_ref",
                    zh=f"工单号 {source_ref} 已经录入过本年度（建议 {proposal_id}），不要重复录入。")


async def create(session: AsyncSession, *, actor: User, cycle: Cycle, title: str,
                 description: str, category: str, location_code: str, place: str = "",
                 estimated_cost_wan: Decimal | None = None, channel: str | None = None,
                 proposer_name: str = "", proposer_phone: str = "",
                 source_ref: str | None = None, received_at: datetime | None = None) -> Proposal:
    """File a proposal in a soliciting cycle; staff record other channels for the proposer."""
    fields = {"title": title, "description": description, "category": category,
              "location_code": location_code, "place": place,
              "estimated_cost_wan": estimated_cost_wan, "channel": channel,
              "proposer_name": proposer_name, "proposer_phone": proposer_phone,
              "source_ref": source_ref, "received_at": received_at}
    return (await create_many(session, actor=actor, cycle=cycle, items=[fields]))[0]


async def create_many(session: AsyncSession, *, actor: User, cycle: Cycle,
                      items: list[dict]) -> list[Proposal]:
    """File proposals (each with create()'s fields) all or none, each with its first
    transition and audit entry: one proposal, or a hotline export's records in one go."""
    await ensure_open_to(session, actor, cycle)
    place_codes = {j.code for j in await places_of(session, cycle)}
    staff = actor.role == Role.gov_staff
    refs = [item["source_ref"] for item in items if staff and item.get("source_ref")]
    known = await find_by_source_ref(session, cycle.id, refs) if refs else {}
    proposals: list[Proposal] = []
    seen: set[str] = set()
    for item in items:
        problems = field_problems(
            actor, cycle, place_codes, title=item["title"], description=item["description"],
            place=item.get("place", ""), category=item["category"],
            location_code=item["location_code"], channel=item.get("channel"),
            proposer_name=item.get("proposer_name", ""),
            proposer_phone=item.get("proposer_phone", ""), source_ref=item.get("source_ref"))
        if problems:
            raise problems[0][1]
        ref = item.get("source_ref") if staff else None
        if ref and (ref in known or ref in seen):
            raise duplicate_record(ref, known.get(ref, ""))
        if ref:
            seen.add(ref)
        proposals.append(Proposal(
            cycle_id=cycle.id, title=item["title"], description=item["description"],
            category=item["category"], location_code=item["location_code"],
            place=item.get("place", ""), estimated_cost_wan=item.get("estimated_cost_wan"),
            channel=_channel_for(actor, item.get("channel")), state=ProposalState.submitted,
            proposer_id=None if staff else actor.id, recorded_by=actor.id if staff else None,
            proposer_name=item.get("proposer_name", "").strip() if staff else "",
            proposer_phone=item.get("proposer_phone", "") if staff else "",
            source_ref=ref or None, received_at=item.get("received_at") if staff else None,
            search_text=index_text(item["title"], item["description"], item.get("place", ""))))
    if not seen:
        session.add_all(proposals)
        await session.flush()
    else:
        try:
            async with session.begin_nested():  # the same record filed twice at once: one wins
                session.add_all(proposals)
        except IntegrityError:
            known = await find_by_source_ref(session, cycle.id, sorted(seen))
            ref = next(iter(known), next(iter(seen)))
            raise duplicate_record(ref, known.get(ref, "")) from None
    await PROPOSAL_WORKFLOW.record_creations(session, proposals, actor=actor, reason="")
    await audit.record_many(session, [
        audit.Record(actor.username, "proposal.create", "proposal", p.id,
                     {"cycle_id": cycle.id, "channel": p.channel, "title": p.title}
                     | ({"source_ref": p.source_ref} if p.source_ref else {}))
        for p in proposals])
    return proposals


async def list_page(session: AsyncSession, cycle: Cycle, f: ListFilter, *, page: int,
                    per_page: int) -> tuple[list[Proposal], int]:
    """A page of a cycle's proposals, filtered, searched and sorted, with the total: the public
    list's rows (listing.page) as Proposals."""
    rows, total = await listing.page(session, cycle.id, f, page=page, per_page=per_page)
    return await _by_ids(session, [r.id for r in rows]), total


async def similar(session: AsyncSession, cycle_id: str, text: str, *, limit: int = 5,
                  exclude_id: str | None = None) -> list[Proposal]:
    """The cycle's live proposals most like `text`, best first (listing.similar), as Proposals."""
    rows = await listing.similar(session, cycle_id, text, limit=limit, exclude_id=exclude_id)
    return await _by_ids(session, [r.id for r in rows])


async def _by_ids(session: AsyncSession, ids: Sequence[str]) -> list[Proposal]:
    """The proposals with these ids, in this order (those gone since left out)."""
    if not ids:
        return []
    by_id = {p.id: p for p in await session.scalars(select(Proposal).where(Proposal.id.in_(ids)))}
    return [by_id[i] for i in ids if i in by_id]


def proposer_label(proposal: Proposal, proposer: User | None) -> str:
    """How the public sees who proposed: a masked name, a deputy named, a channel's people
    (12345热线群众) for one recorded by staff; never a phone number."""
    if proposal.channel in RECORDED_PROPOSERS:
        return RECORDED_PROPOSERS[proposal.channel]
    if proposal.channel != "online" and proposal.proposer_name:
        name = proposal.proposer_name
    elif proposer is not None:
        name = proposer.display_name
    else:
        return ""
    if proposal.channel == "deputy":
        return f"{name}（人大代表）"  # deputies propose in public office
    return name[:1] + "*" * max(1, min(2, len(name) - 1))
