"""Checking an implementation plan (实施方案) before it is saved: every rule, one sentence each.

`validate` normalises what was sent (stripped text, dates as YYYY-MM-DD, amounts with two
decimals, milestones in due order, stage targets in year order) and names every problem, in
English for the API and in Chinese for the pages; the code is that of the first problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from app.errors import Invalid
from app.models import Project

# Sensible sizes of one plan (a county project has a handful of each).
MAX_MILESTONES = 30
MAX_FUNDING_ROWS = 10
MAX_TARGETS = 20
MAX_TITLE = 100      # a milestone's title
MAX_SOURCE = 50      # a funding source's name (as candidates)
MAX_TARGET = 200     # a target or a stage target
MAX_REASON = 500     # the 说明 of a change
MAX_AMOUNT = Decimal("1000000")


def funding_total(funding: list[dict]) -> Decimal:
    """The sum of the funding rows' amounts (万元)."""
    return sum((Decimal(str(f.get("amount_wan", "0"))) for f in funding), Decimal("0"))


@dataclass
class _Problems:
    items: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, code: str, en: str, zh: str) -> None:
        self.items.append((code, en, zh))

    def raise_any(self) -> None:
        if self.items:
            raise Invalid(" ".join(en for _, en, _ in self.items), code=self.items[0][0],
                          zh="请修改：" + "；".join(zh for _, _, zh in self.items) + "。")


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _as_amount(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


def _check_milestones(raw: list, announced_on: date, deadline: date, p: _Problems) -> list[dict]:
    if not raw:
        p.add("plan_needs_milestone", "Give at least one milestone with its due date.",
              "至少填写一个节点（里程碑）及其完成日期")
    if len(raw) > MAX_MILESTONES:
        p.add("too_many_milestones", f"At most {MAX_MILESTONES} milestones.",
              f"节点最多 {MAX_MILESTONES} 个")
    out = []
    for n, m in enumerate(raw[:MAX_MILESTONES], 1):
        title, due = _text(m.get("title")), _as_date(m.get("due"))
        if not title or len(title) > MAX_TITLE:
            p.add("milestone_title", f"Milestone {n} needs a title of 1 to {MAX_TITLE} "
                  "characters.", f"第 {n} 个节点的名称须为 1 至 {MAX_TITLE} 个字")
        if due is None:
            p.add("milestone_due", f"Milestone {n} needs a due date (YYYY-MM-DD).",
                  f"第 {n} 个节点的完成日期须写成 2027-03-31 这样的日期")
        elif not announced_on <= due <= deadline:
            p.add("milestone_due_out_of_range",
                  f"Milestone {n} is due {due}; milestones fall between the announcement "
                  f"({announced_on}) and the project's deadline ({deadline}).",
                  f"第 {n} 个节点的完成日期 {due} 须在公告日 {announced_on} 至项目完成时限 "
                  f"{deadline} 之间")
        out.append({"title": title, "due": due.isoformat() if due else ""})
    titles = [m["title"] for m in out if m["title"]]
    if len(set(titles)) != len(titles):
        p.add("milestone_repeated", "Two milestones have the same title; name each once.",
              "有两个节点名称相同，请合并或改名")
    return sorted(out, key=lambda m: m["due"])


def _check_funding(raw: list, budget: Decimal, p: _Problems) -> list[dict]:
    if not raw:
        p.add("plan_needs_funding", "Give the funding by source (at least one row).",
              "至少填写一项资金来源及金额")
    if len(raw) > MAX_FUNDING_ROWS:
        p.add("too_many_funding_rows", f"At most {MAX_FUNDING_ROWS} funding sources.",
              f"资金来源最多 {MAX_FUNDING_ROWS} 项")
    out, ok = [], True
    for n, f in enumerate(raw[:MAX_FUNDING_ROWS], 1):
        source, amount = _text(f.get("source")), _as_amount(f.get("amount_wan"))
        if not source or len(source) > MAX_SOURCE:
            p.add("funding_source", f"Funding row {n} needs a source of 1 to {MAX_SOURCE} "
                  "characters.", f"第 {n} 项资金的来源须为 1 至 {MAX_SOURCE} 个字")
        if amount is None or amount <= 0 or amount > MAX_AMOUNT or -amount.as_tuple().exponent > 2:
            ok = False
            p.add("funding_amount", f"Funding row {n} needs an amount in 万元 greater than 0, "
                  "with at most two decimals.",
                  f"第 {n} 项资金的金额须为大于 0 的万元数（最多两位小数）")
        out.append({"source": source,
                    "amount_wan": f"{amount.quantize(Decimal('0.01')):f}" if ok and amount
                    is not None else ""})
    sources = [f["source"] for f in out if f["source"]]
    if len(set(sources)) != len(sources):
        p.add("funding_source_repeated", "A funding source is listed twice; add its amounts up "
              "in one row.", "同一资金来源填写了两次，请合并为一行")
    if out and ok:
        total = funding_total(out)
        if total != budget:
            p.add("funding_total_mismatch",
                  f"The funding adds up to {total} 万元 but the decided budget is {budget} 万元. "
                  "The plan must carry the budget the deputies decided; a different total is a "
                  "major adjustment (重大调整), which needs a decision of the congress first.",
                  f"资金合计 {total} 万元，与票决确定的预算 {budget} 万元不符；实施方案须按决定的预算"
                  "安排资金，改变总额属于重大调整，须先经人大决定")
    return out


def _check_targets(raw: list, p: _Problems) -> list[str]:
    if not raw:
        p.add("plan_needs_target", "Give at least one measurable target.",
              "至少填写一项可量化的目标")
    if len(raw) > MAX_TARGETS:
        p.add("too_many_targets", f"At most {MAX_TARGETS} targets.", f"目标最多 {MAX_TARGETS} 项")
    out = [_text(t) for t in raw[:MAX_TARGETS]]
    for n, t in enumerate(out, 1):
        if not t or len(t) > MAX_TARGET:
            p.add("target_text", f"Target {n} must be 1 to {MAX_TARGET} characters.",
                  f"第 {n} 项目标须为 1 至 {MAX_TARGET} 个字")
    if len(set(out)) != len(out):
        p.add("target_repeated", "A target is listed twice.", "有重复的目标")
    return out


def _check_stages(raw: list, first_year: int, last_year: int, p: _Problems) -> list[dict]:
    years = list(range(first_year, last_year + 1))
    out = []
    for f in raw[:len(years) + 5]:
        year, target = f.get("year"), _text(f.get("target"))
        try:
            year = int(str(year).strip())
        except ValueError:
            year = None
        if year not in years:
            p.add("stage_target_year", f"Stage targets are for the years {first_year} to "
                  f"{last_year}; {f.get('year')!s:.10} is not one of them.",
                  f"阶段目标的年份须在 {first_year} 至 {last_year} 年之间")
        if not target or len(target) > MAX_TARGET:
            p.add("stage_target_text", f"Each stage target must be 1 to {MAX_TARGET} "
                  "characters.", f"阶段目标须为 1 至 {MAX_TARGET} 个字")
        out.append({"year": year, "target": target})
    given = [s["year"] for s in out if s["year"] in years]
    if len(set(given)) != len(given):
        p.add("stage_target_repeated", "Give one stage target per year.",
              "每年只填写一个阶段目标")
    if last_year > first_year:
        missing = [y for y in years if y not in given]
        if missing:
            p.add("stage_targets_missing",
                  f"This project runs from {first_year} to {last_year}: give a stage target "
                  f"for each year (missing: {', '.join(map(str, missing))}).",
                  f"本项目跨年度实施（{first_year}—{last_year} 年），须逐年填写阶段目标"
                  f"（缺 {'、'.join(map(str, missing))} 年）")
    return sorted(out, key=lambda s: s["year"] or 0)


def validate(project: Project, announced_on: date, raw: dict) -> dict[str, list]:
    """The plan normalised for storage, or Invalid naming every problem (code of the first).

    `raw` holds milestones [{"title", "due"}], funding [{"source", "amount_wan"}], targets
    [str] and stage_targets [{"year", "target"}]; stage targets are required, one per year from
    the announcement's year to the deadline's, when the project runs across years.
    """
    p = _Problems()
    data = {
        "milestones": _check_milestones(list(raw.get("milestones") or []), announced_on,
                                        project.deadline, p),
        "funding": _check_funding(list(raw.get("funding") or []), project.budget_wan, p),
        "targets": _check_targets(list(raw.get("targets") or []), p),
        "stage_targets": _check_stages(list(raw.get("stage_targets") or []), announced_on.year,
                                       max(project.deadline.year, announced_on.year), p),
    }
    p.raise_any()
    return data
