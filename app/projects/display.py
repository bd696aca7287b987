"""How the pages write a plan and its changes in Chinese (public page, staff form, dashboard)."""

from __future__ import annotations

from decimal import Decimal

from app.i18n import N_
from app.i18n import gettext as _
from app.projects.plans import HistoryItem

FIELD_LABELS = {"milestones": N_("节点"), "funding": N_("资金"), "targets": N_("目标"),
                "stage_targets": N_("阶段目标")}
ACTION_LABELS = {"added": N_("新增"), "removed": N_("删除"), "changed": N_("修改")}


def wan(value) -> str:
    """A sum in 万元 without trailing zeros (1200.00 → 1200, 85.50 → 85.5)."""
    text = f"{Decimal(str(value)):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def item_text(field: str, item) -> str:
    """One milestone, funding row, target or stage target as a short phrase."""
    if item is None:
        return ""
    if field == "milestones":
        return _("%(t)s（%(d)s 完成）") % {"t": item["title"], "d": item["due"]}
    if field == "funding":
        return _("%(s)s %(a)s 万元") % {"s": item["source"], "a": wan(item["amount_wan"])}
    if field == "stage_targets":
        return _("%(y)s年：%(t)s") % {"y": item["year"], "t": item["target"]}
    return str(item)


def change_rows(item: HistoryItem) -> list[dict]:
    """One version's changes as {"field", "action", "old", "new"} phrases for a page."""
    return [{"field": _(FIELD_LABELS[c["field"]]), "action": c["action"],
             "action_label": _(ACTION_LABELS[c["action"]]),
             "old": item_text(c["field"], c["old"]), "new": item_text(c["field"], c["new"])}
            for c in item.changes]
