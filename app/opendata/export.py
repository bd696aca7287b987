"""OpenDataExport — 开放数据: a cycle's public record as one ZIP of CSV files and bulletins.

Only what the public already sees goes in: proposals as the public proposal pages show them
(a masked proposer, never an account, a phone number or a comment), the reviewed candidates
(公示), the results and bulletins of published rounds, and the announced projects with their
implementation plans (实施方案). A list decided by the government has no ballot: its ZIP holds
the published draft list as candidates.csv, the public comments on it with the government's
answers (comments.csv) instead of results.csv and bulletins, and README.txt names the adopting
meeting. The columns of every CSV are described once, in FILES below, from which both the CSV
header and README.txt are written.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ballots import service as ballots
from app.candidates import service as candidates
from app.candidates.detail import candidate_outs
from app.govlist import comments as draft_comments
from app.govlist import draft
from app.models import Cycle, Jurisdiction, ProjectPlan, Proposal, StateTransition, User
from app.projects import plans
from app.projects import service as projects
from app.proposals.service import proposer_label
from app.workflows.proposal import CHANNELS, PROPOSAL_WORKFLOW, STATE_LABELS

# (column, 中文说明, English description) for each CSV file, in column order.
PROPOSAL_COLUMNS = [
    ("id", "建议编号", "proposal id"),
    ("created_at", "提交时间（UTC，ISO 8601）", "when it was filed (UTC, ISO 8601)"),
    ("title", "标题", "title"),
    ("description", "内容（为什么需要、谁受益）", "description (why it is needed, who benefits)"),
    ("category", "类别", "category"),
    ("location_code", "所在区域代码", "code of the jurisdiction it is located in"),
    ("location_name", "所在区域名称", "name of that jurisdiction"),
    ("place", "村、社区或道路", "village, community or road"),
    ("estimated_cost_wan", "估算费用（万元，可为空）", "estimated cost in 万元 (may be empty)"),
    ("channel", "提交渠道代码：online, deputy, hotline, visit, letter",
     "channel code: online, deputy, hotline, visit, letter"),
    ("channel_name", "提交渠道名称", "channel name (Chinese)"),
    ("state", "状态代码：submitted, accepted, rejected, merged, adopted, carried",
     "state code: submitted, accepted, rejected, merged, adopted, carried"),
    ("state_name", "状态名称", "state name (Chinese)"),
    ("state_reason", "最近一次状态变更的公开理由（如未采纳的理由）",
     "public reason given with the latest state change (e.g. why it was rejected)"),
    ("endorsements", "附议人数", "number of endorsements (附议)"),
    ("proposer", "提议人（与公开页面一致：群众姓名已遮盖，人大代表署名）",
     "proposer as the public pages show it: a resident's name masked, a deputy named"),
    ("merged_into_id", "被合并到的建议编号（可为空）", "id of the proposal it was merged into"),
    ("carried_from_id", "由哪一年度储备库建议结转而来（可为空）",
     "id of the reserve proposal it was carried from"),
]

CANDIDATE_COLUMNS = [
    ("id", "候选项目编号", "candidate project id"),
    ("title", "项目名称", "title"),
    ("summary", "项目内容", "summary"),
    ("responsible_unit", "责任单位", "responsible unit"),
    ("budget_wan", "预算（万元）", "budget in 万元"),
    ("deadline", "完成期限（YYYY-MM-DD）", "deadline (YYYY-MM-DD)"),
    ("funding", "资金来源，JSON 数组：[{\"source\", \"amount_wan\"}]",
     "funding by source, a JSON array of {\"source\", \"amount_wan\"}"),
    ("targets", "目标，JSON 字符串数组", "targets, a JSON array of strings"),
    ("feasibility", "可行性说明", "feasibility notes"),
    ("state", "状态代码（票决的年度均为 reviewed：人大审查通过；政府研究确定的年度为 gov_approved 或 "
              "party_approved：列入征求意见稿）",
     "state code (reviewed: approved by the congress, in a balloted year; gov_approved or "
     "party_approved: on the draft list, in a year decided by the government)"),
    ("version", "修订版本号", "revision number"),
    ("source_proposal_ids", "来源建议编号，以分号分隔", "ids of the source proposals, ';'-separated"),
    ("updated_at", "最后修改时间（UTC，ISO 8601）", "last change (UTC, ISO 8601)"),
]

RESULT_COLUMNS = [
    ("ballot_id", "票决轮次编号（对应 bulletins/<ballot_id>.json）",
     "ballot round id (see bulletins/<ballot_id>.json)"),
    ("round", "轮次", "round number"),
    ("seats", "本轮应选项目数", "seats to fill in this round"),
    ("candidate_id", "候选项目编号", "candidate project id"),
    ("candidate_title", "候选项目名称", "candidate project title"),
    ("yes", "赞成票", "yes votes"),
    ("no", "反对票", "no votes"),
    ("abstain", "弃权票", "abstentions"),
    ("passed", "是否过半数通过：true 或 false", "whether it reached the threshold: true or false"),
    ("selected", "是否当选为民生实事项目：true 或 false",
     "whether it was selected as a project: true or false"),
    ("rank", "名次（可为空）", "rank (may be empty)"),
    ("threshold", "通过所需赞成票数", "yes votes needed to pass"),
    ("total_deputies", "全体代表人数 T", "all deputies of the congress (T)"),
    ("present", "出席代表人数", "deputies present"),
    ("issued", "发出选票数", "ballots issued"),
    ("cast", "收回选票数", "ballots cast"),
    ("valid", "有效票数", "valid ballots"),
    ("invalid", "无效票数", "invalid ballots"),
    ("outcome", "本轮结果：complete, runoff, shortfall, void",
     "round outcome: complete, runoff, shortfall, void"),
]

PROJECT_COLUMNS = [
    ("id", "民生实事项目编号", "project id"),
    ("candidate_id", "来源候选项目编号", "id of the candidate it was decided from"),
    ("title", "项目名称", "title"),
    ("responsible_unit", "责任单位", "responsible unit"),
    ("budget_wan", "预算（万元）", "budget in 万元"),
    ("deadline", "完成时限（YYYY-MM-DD）", "deadline (YYYY-MM-DD)"),
    ("state", "状态代码：announced, in_progress, completed, accepted 等",
     "state code: announced, in_progress, completed, accepted, …"),
    ("yes", "当选轮次的赞成票（本级不公布票数时为空）",
     "yes votes in the round that selected it (empty where counts are not published)"),
    ("ballot_id", "当选轮次编号", "id of the ballot round that selected it"),
    ("source_proposal_ids", "来源建议编号，以分号分隔", "ids of the source proposals, ';'-separated"),
    ("plan_due", "实施方案应公布日期（公告日加本级规定天数，YYYY-MM-DD）",
     "date the implementation plan is due (announcement date + the jurisdiction's days)"),
    ("plan_published_at", "实施方案首次公布时间（UTC，ISO 8601；未公布为空）",
     "when the implementation plan was first published (UTC, ISO 8601; empty if not yet)"),
    ("plan_late", "实施方案是否逾期（逾期公布或逾期未公布）：true 或 false",
     "whether the plan is late (published after plan_due, or still missing after it)"),
    ("plan_version", "实施方案版本号（每次修改加一；未公布为空）",
     "version of the plan (one more for each change; empty if not yet published)"),
    ("plan_updated_at", "实施方案最近修改时间（UTC，ISO 8601）",
     "when the plan was last changed (UTC, ISO 8601)"),
    ("milestones", "进度节点，JSON：[{\"title\": 节点, \"due\": 完成日期}]",
     "milestones as JSON: [{\"title\", \"due\" (YYYY-MM-DD)}]"),
    ("funding", "资金来源，JSON：[{\"source\": 来源, \"amount_wan\": 万元}]，合计等于预算",
     "funding by source as JSON: [{\"source\", \"amount_wan\"}], adding up to the budget"),
    ("targets", "建设目标，JSON 字符串数组", "measurable targets, a JSON array of strings"),
    ("stage_targets", "跨年度项目的年度阶段目标，JSON：[{\"year\": 年份, \"target\": 目标}]",
     "yearly stage targets of a cross-year project as JSON: [{\"year\", \"target\"}]"),
]

COMMENT_COLUMNS = [
    ("id", "意见编号", "comment id"),
    ("created_at", "发表时间（UTC，ISO 8601）", "when it was posted (UTC, ISO 8601)"),
    ("candidate_id", "所针对的征求意见稿事项编号（为空：针对征求意见稿整体）",
     "id of the draft item it is about (empty: the draft list as a whole)"),
    ("candidate_title", "所针对的事项名称", "title of that item"),
    ("author", "发表人（与公开页面一致）", "author, as the public page shows it"),
    ("body", "意见内容（被隐藏的意见为空）", "the comment (empty when hidden)"),
    ("hidden", "是否因违反规定被隐藏：true 或 false", "whether it was hidden: true or false"),
    ("hidden_reason", "隐藏理由", "why it was hidden"),
    ("answer_kind", "办理方式：answered（答复）、noted（已记录）", "answered or noted"),
    ("answer_text", "答复或记录说明", "the reply, or the note"),
    ("answered_by", "办理人", "who answered"),
    ("answered_at", "办理时间（UTC，ISO 8601）", "when it was answered (UTC, ISO 8601)"),
]

FILES = {"proposals.csv": PROPOSAL_COLUMNS, "candidates.csv": CANDIDATE_COLUMNS,
         "results.csv": RESULT_COLUMNS, "projects.csv": PROJECT_COLUMNS}
# A list decided by the government: its comments take the place of the ballot's results.
GOVERNMENT_FILES = {"proposals.csv": PROPOSAL_COLUMNS, "candidates.csv": CANDIDATE_COLUMNS,
                    "comments.csv": COMMENT_COLUMNS, "projects.csv": PROJECT_COLUMNS}


@dataclass
class OpenData:
    """OpenData — 开放数据: the rows of one cycle's files, read from the database."""

    cycle: Cycle
    jurisdiction_name: str
    proposals: list[list] = field(default_factory=list)
    candidates: list[list] = field(default_factory=list)
    results: list[list] = field(default_factory=list)
    projects: list[list] = field(default_factory=list)
    bulletins: dict[str, dict] = field(default_factory=dict)
    comments: list[list] = field(default_factory=list)

    @property
    def by_government(self) -> bool:
        return draft.is_government(self.cycle)

    @property
    def files(self) -> dict[str, list[tuple[str, str, str]]]:
        return GOVERNMENT_FILES if self.by_government else FILES

    def rows(self, name: str) -> list[list]:
        return {"proposals.csv": self.proposals, "candidates.csv": self.candidates,
                "results.csv": self.results, "projects.csv": self.projects,
                "comments.csv": self.comments}[name]


def _text(value) -> str:
    """A free-text cell that spreadsheet programs will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _flag(value) -> str:
    return "true" if value else "false"


def _plain(value) -> str:
    return "" if value is None else str(value)


async def _proposal_rows(session: AsyncSession, cycle: Cycle) -> list[list]:
    reasons = dict((await session.execute(
        select(StateTransition.entity_id, StateTransition.reason)
        .where(StateTransition.entity_type == PROPOSAL_WORKFLOW.entity_type,
               StateTransition.entity_id.in_(
                   select(Proposal.id).where(Proposal.cycle_id == cycle.id)))
        .order_by(StateTransition.at, StateTransition.id))).all())  # the last one wins
    rows = await session.execute(
        select(Proposal, Jurisdiction.name, User)
        .join(Jurisdiction, Jurisdiction.code == Proposal.location_code)
        .outerjoin(User, User.id == Proposal.proposer_id)
        .where(Proposal.cycle_id == cycle.id).order_by(Proposal.created_at, Proposal.id))
    return [[p.id, p.created_at.isoformat(), _text(p.title), _text(p.description),
             _text(p.category), p.location_code, _text(place_name), _text(p.place),
             _plain(p.estimated_cost_wan), p.channel, CHANNELS.get(p.channel, ""), p.state,
             STATE_LABELS.get(p.state, ""), _text(reasons.get(p.id, "")), p.endorsement_count,
             _text(proposer_label(p, proposer)), _plain(p.merged_into_id),
             _plain(p.carried_from_id)]
            for p, place_name, proposer in rows.all()]


async def _candidate_rows(session: AsyncSession, cycle: Cycle) -> list[list]:
    public = await candidates.list_for(session, cycle, include_drafts=False)
    return [[c.id, _text(c.title), _text(c.summary), _text(c.responsible_unit),
             str(c.budget_wan), c.deadline.isoformat(),
             json.dumps(c.funding, ensure_ascii=False, default=str),
             json.dumps(c.targets, ensure_ascii=False), _text(c.feasibility), c.state, c.version,
             ";".join(s.id for s in c.source_proposals), c.updated_at.isoformat()]
            for c in await candidate_outs(session, public)]


def _result_rows(results: dict) -> list[list]:
    return [[results["ballot_id"], results["round"], results["seats"], c["id"],
             _text(c["title"]), c["yes"], c["no"], c["abstain"], _flag(c["passed"]),
             _flag(c["selected"]), _plain(c["rank"]), results["threshold"],
             results["total_deputies"], results["present"], results["issued"], results["cast"],
             results["valid"], results["invalid"], results["outcome"]]
            for c in results["candidates"]]


async def _comment_rows(session: AsyncSession, cycle: Cycle) -> list[list]:
    """The draft list's comments as the public page shows them: a hidden one without its text."""
    if not draft.draft_published(cycle):
        return []
    out = []
    for r in await draft_comments.list_comments(session, cycle):
        c = r.comment
        hidden = c.hidden_at is not None
        out.append([c.id, c.created_at.isoformat(), _plain(c.candidate_id), _text(r.item_title),
                    _text(r.author), "" if hidden else _text(c.body), _flag(hidden),
                    _text(c.hidden_reason), _plain(c.answer_kind), _text(c.answer_text),
                    _text(c.answered_by),
                    c.answered_at.isoformat() if c.answered_at else ""])
    return out


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _plan_cells(plan: ProjectPlan | None, due: date) -> list[str]:
    """The plan columns of one project (empty cells but the due date and flag without a plan)."""
    late = _flag(plans.is_late(due, plan.published_at if plan else None))
    if plan is None:
        return [due.isoformat(), "", late, "", "", "", "", "", ""]
    return [due.isoformat(), plan.published_at.isoformat(), late, str(plan.version),
            plan.updated_at.isoformat(), _json(plan.milestones), _json(plan.funding),
            _json(plan.targets), _json(plan.stage_targets)]


async def collect(session: AsyncSession, cycle: Cycle) -> OpenData:
    """Read everything public about `cycle` into plain rows."""
    jurisdiction = await session.get(Jurisdiction, cycle.jurisdiction_code)
    data = OpenData(cycle=cycle, jurisdiction_name=jurisdiction.name if jurisdiction else "")
    data.proposals = await _proposal_rows(session, cycle)
    data.candidates = await _candidate_rows(session, cycle)
    rows, counts_public = await projects.list_projects(session, cycle)
    due, current = await plans.plans_for(session, cycle, [r.project.id for r in rows])
    data.projects = [[r.project.id, r.project.candidate_id, _text(r.project.title),
                      _text(r.project.responsible_unit), _plain(r.project.budget_wan),
                      r.project.deadline.isoformat(), r.project.state,
                      _plain(r.project.yes if counts_public else None),
                      _plain(r.project.ballot_id),
                      ";".join(r.source_proposal_ids),
                      *_plan_cells(current.get(r.project.id), due)] for r in rows]
    if data.by_government:
        data.comments = await _comment_rows(session, cycle)
        return data
    for ballot in await ballots.published_rounds(session, cycle.id):
        data.results += _result_rows(ballot.results)
        data.bulletins[ballot.id] = await ballots.bulletin(session, ballot)
    return data


def csv_bytes(columns: list[tuple[str, str, str]], rows: list[list]) -> bytes:
    """UTF-8 with a BOM (so spreadsheets read Chinese), CRLF line endings (RFC 4180)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([name for name, _, _ in columns])
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _government_lines(data: OpenData) -> list[str]:
    """README lines of a list decided by the government: how it was decided and its files."""
    c = data.cycle
    lines = ["定单方式 decided by: 政府研究确定 / the government (decided_by: government), "
             "after a public comment period on the draft list (征求意见)"]
    if c.adoption_meeting:
        lines.append(f"研究确定 adopted by: {c.adoption_meeting}，{c.adoption_date.isoformat()}，"
                     f"{c.adoption_document_number}")
        for row in c.adoption_left_out or []:
            lines.append(f"未列入 left out: {row['title']}（{row['candidate_id']}）— {row['reason']}")
    return lines


def readme(data: OpenData) -> str:
    """README.txt: every file and every column, in Chinese and English."""
    c = data.cycle
    if data.by_government:
        files = [
            "  proposals.csv — 本周期收到的全部群众建议，与公开建议页面一致 / "
            "every proposal of the cycle, as the public proposal pages show it",
            "  candidates.csv — 政府公开征求意见的项目草案（征求意见稿）/ "
            "the draft list the government published for comment",
            "  comments.csv — 对征求意见稿的公开意见及政府的答复或记录 / "
            "the public comments on the draft list with the government's answers",
            "  projects.csv — 公告的民生实事项目及其实施方案（周期进入公开阶段后才有）/ "
            "the projects the 公告 announced, with their implementation plans (once the cycle "
            "has entered 公开); every version of a plan: GET /api/v1/projects/<id>/plan/history",
            "  README.txt — 本说明 / this file",
        ]
    else:
        files = [
            "  proposals.csv — 本周期收到的全部群众建议，与公开建议页面一致 / "
            "every proposal of the cycle, as the public proposal pages show it",
            "  candidates.csv — 经人大审查通过并公示的候选项目 / "
            "the candidate projects reviewed by the congress and made public (公示)",
            "  results.csv — 已公布轮次的计票结果，每个候选项目每轮一行 / "
            "results of the published ballot rounds, one row per candidate per round",
            "  projects.csv — 公告的民生实事项目及其实施方案（周期进入公开阶段后才有）/ "
            "the projects the 公告 announced, with their implementation plans (once the cycle "
            "has entered 公开); every version of a plan: GET /api/v1/projects/<id>/plan/history",
            "  bulletins/<ballot_id>.json — 已公布轮次的计票清单（与 "
            "GET /api/v1/ballots/<ballot_id>/bulletin 相同），可据此重新计票（minsheng tally）/ "
            "the bulletin of each published round (the same as GET /api/v1/ballots/<ballot_id>"
            "/bulletin), from which anyone can recompute the tally (minsheng tally)",
            "  README.txt — 本说明 / this file",
        ]
    lines = [
        f"{c.title}（{data.jurisdiction_name}，{c.year}年）— 开放数据 / open data",
        f"周期编号 cycle id: {c.id}",
        *([f"票决会议 congress session: {data.jurisdiction_name}{c.congress_session}"]
          if c.congress_session and not data.by_government else []),
        *(_government_lines(data) if data.by_government else []),
        "",
        "本压缩包只包含已公开的信息。CSV 文件为 UTF-8 编码（带 BOM）、逗号分隔、CRLF 换行"
        "（RFC 4180）；以 = + - @ 开头的文本前加了一个单引号，以免电子表格把它当作公式。",
        "This archive holds only what is public. The CSV files are UTF-8 with a BOM, "
        "comma-separated, with CRLF line endings (RFC 4180); a text cell that starts with "
        "= + - @ is prefixed with a single quote so spreadsheets do not run it as a formula.",
        "",
        "文件 / files:",
        *files,
        "",
    ]
    for name, columns in data.files.items():
        lines.append(f"[{name}]")
        lines += [f"{col}: {zh} / {en}" for col, zh, en in columns]
        lines.append("")
    return "\r\n".join(lines)


def build_zip(data: OpenData) -> bytes:
    """The ZIP itself (CPU-bound: run it in a thread)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("README.txt", ("\ufeff" + readme(data)).encode("utf-8"))
        for name, columns in data.files.items():
            z.writestr(name, csv_bytes(columns, data.rows(name)))
        for ballot_id, bulletin in data.bulletins.items():
            z.writestr(f"bulletins/{ballot_id}.json",
                       json.dumps(bulletin, ensure_ascii=False, indent=2).encode("utf-8"))
    return buffer.getvalue()


async def open_data_zip(session: AsyncSession, cycle: Cycle) -> bytes:
    """The cycle's open-data ZIP: read in the loop, written and compressed in a thread."""
    data = await collect(session, cycle)
    return await asyncio.to_thread(build_zip, data)


def zip_filename(cycle: Cycle) -> str:
    return f"minsheng-{cycle.jurisdiction_code}-{cycle.year}-open-data.zip"
