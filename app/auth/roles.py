"""Roles and the role → permission table every route checks through its dependency."""

from __future__ import annotations

from enum import StrEnum

from app.i18n import N_


class Role(StrEnum):
    """Role — 角色."""

    resident = "resident"              # 群众
    deputy = "deputy"                  # 人大代表
    gov_staff = "gov_staff"            # 政府 / 民生办
    unit_staff = "unit_staff"          # 责任单位
    congress_staff = "congress_staff"  # 人大常委会 / 乡镇人大主席团
    admin = "admin"                    # 系统管理员


ROLE_LABELS = {
    Role.resident: N_("群众"),
    Role.deputy: N_("人大代表"),
    Role.gov_staff: N_("政府工作人员"),
    Role.unit_staff: N_("责任单位"),
    Role.congress_staff: N_("人大工作人员"),
    Role.admin: N_("系统管理员"),
}

STAFF_ROLES = frozenset({Role.gov_staff, Role.unit_staff, Role.congress_staff, Role.admin})


class Perm(StrEnum):
    """A permission a route requires."""

    jurisdiction_manage = "jurisdiction.manage"
    user_manage = "user.manage"              # any account, any role
    deputy_manage = "deputy.manage"          # deputies of one's own jurisdiction
    grant_manage = "grant.manage"
    cycle_create = "cycle.create"
    cycle_transition = "cycle.transition"
    audit_read = "audit.read"
    staff_pages = "staff.pages"
    proposal_review = "proposal.review"      # accept / reject / merge, carry from the reserve
    proposal_record = "proposal.record"      # record hotline, visit, letter, deputy proposals
    proposal_export = "proposal.export"
    comment_moderate = "comment.moderate"
    sms_outbox_read = "sms.outbox"
    unit_manage = "unit.manage"              # the list of responsible units (责任单位)
    candidate_build = "candidate.build"      # build and edit candidate projects (初定)
    publicity_manage = "publicity.manage"    # the candidate list's 公示 period
    ballot_manage = "ballot.manage"          # ballot rounds: attendance, opening, tally (票决)
    plan_write = "plan.write"                # the projects' implementation plans (实施方案)
    settings_manage = "settings.manage"      # the jurisdiction's rules (本级参数)
    list_adopt = "list.adopt"                # a government-decided list: answer comments on
                                             # the draft, record the adopting meeting


ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.resident: frozenset(),
    Role.deputy: frozenset(),
    Role.unit_staff: frozenset({Perm.staff_pages}),
    Role.gov_staff: frozenset({Perm.cycle_create, Perm.cycle_transition, Perm.staff_pages,
                               Perm.proposal_review, Perm.proposal_record, Perm.proposal_export,
                               Perm.comment_moderate, Perm.sms_outbox_read, Perm.unit_manage,
                               Perm.publicity_manage, Perm.candidate_build, Perm.plan_write,
                               Perm.list_adopt}),
    Role.congress_staff: frozenset({Perm.deputy_manage, Perm.cycle_transition, Perm.audit_read,
                                    Perm.staff_pages, Perm.proposal_export,
                                    Perm.comment_moderate, Perm.sms_outbox_read,
                                    Perm.publicity_manage, Perm.ballot_manage,
                                    Perm.settings_manage}),
    Role.admin: frozenset(Perm),
}


def has_perm(role: str, perm: Perm) -> bool:
    """Whether `role` carries `perm` in the table."""
    try:
        return perm in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False
