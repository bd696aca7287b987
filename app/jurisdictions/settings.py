"""A jurisdiction's parameters: every number DOMAIN.md marks *param*, with its default.

Each setting is declared once, below, with `setting(...)`: its default, the values it may take,
its Chinese name, a sentence saying what it means and the stage it belongs to. The API, the
settings page and docs/settings.md all read these declarations (app/jurisdictions/registry.py),
so a setting added here appears everywhere without another list to keep in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError, PydanticUndefined

from app.i18n import N_
from app.models.proposal import DEFAULT_CATEGORIES

if TYPE_CHECKING:
    from app.models import Jurisdiction

# Levels whose yearly list is, by default, fixed by the government rather than balloted.
GOVERNMENT_LEVELS = frozenset({"province", "city"})

# The six stages a setting belongs to (the cycle's phases of the same names; DOMAIN.md).
STAGES = {"soliciting": N_("征集"), "screening": N_("初定"), "balloting": N_("票决"),
          "announced": N_("公开"), "supervising": N_("监督"), "evaluating": N_("测评")}

CATEGORY_MAX_CHARS = 20
CATEGORIES_MAX = 30


def setting(default: Any = PydanticUndefined, *, name: str, meaning: str, stage: str, unit: str | None = None,
            choices: dict[Any, str] | None = None, step: float | None = None,
            **constraints: Any) -> Any:
    """Declare one setting: a pydantic Field carrying its Chinese name (`name`), what it means
    (`meaning`), its `stage`, and for the page a `unit`, a `step` or Chinese labels of its
    `choices` (every value of a Literal, or True/False of a switch)."""
    assert stage in STAGES, stage
    extra = {"x-stage": stage}
    if unit:
        extra["x-unit"] = unit
    if step:
        extra["x-step"] = step
    if choices:
        extra["x-choices"] = {_choice_key(k): v for k, v in choices.items()}
    return Field(default, title=name, description=meaning, json_schema_extra=extra,
                 **constraints)


def _choice_key(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


DAYS = N_("天")
BASES = {"all": N_("全体代表"), "present": N_("出席代表"), "cast": N_("投票的代表")}


class JurisdictionSettings(BaseModel):
    """JurisdictionSettings — 本级参数: the rules one congress chose, defaults from DOMAIN.md."""

    model_config = ConfigDict(extra="forbid")

    # 征集
    soliciting_min_days: int = setting(
        30, ge=0, le=366, stage="soliciting", unit=DAYS, name=N_("征集期最短天数"),
        meaning=N_("年度周期进入征集后，至少满这么多天才能结束征集、进入初定。"))
    categories: list[str] = setting(
        default_factory=lambda: list(DEFAULT_CATEGORIES), min_length=1,
        max_length=CATEGORIES_MAX, stage="soliciting", name=N_("建议类别"),
        meaning=N_("群众提建议时可选的类别。新建年度周期时采用这份清单，已建的周期保留自己的类别。"))
    # 初定
    party_committee_step: bool = setting(
        False, stage="screening", name=N_("党委审议环节"),
        choices={True: N_("设党委审议"), False: N_("不设")},
        meaning=N_("候选项目经政府常务会议通过后，先经党委审议，再交人大审查。"))
    extra_candidates_ratio: float = setting(
        0.2, ge=0, le=5, allow_inf_nan=False, step=0.05, stage="screening",
        name=N_("差额比例"),
        meaning=N_("候选项目须多于拟票决项目数：拟定 N 项时至少要有 N + ⌈比例 × N⌉ 个候选项目，"
                   "0.2 即 10 项至少 12 个。"))
    # 票决 — or, for a list decided by the government, the public comment period instead
    decided_by: Literal["ballot", "government"] = setting(
        "ballot", stage="balloting", name=N_("项目决定方式"),
        choices={"ballot": N_("人大代表票决"), "government": N_("政府研究确定")},
        meaning=N_("本级民生实事项目由人大代表票决决定，还是由政府在清单草案公开征求意见后研究确定"
                   "（省、市级默认由政府确定）。"))
    comment_period_min_days: int = setting(
        30, ge=1, le=366, stage="balloting", unit=DAYS, name=N_("征求意见期最短天数"),
        meaning=N_("由政府确定项目清单时，清单草案至少公开征求意见这么多天。"))
    quorum_numerator: int = setting(
        2, ge=1, le=100, stage="balloting", name=N_("法定出席人数（分子）"),
        meaning=N_("出席代表达到全体代表的“分子 / 分母”（向上取整）时，票决才能开始；"
                   "默认三分之二，比例不能大于 1。"))
    quorum_denominator: int = setting(
        3, ge=1, le=100, stage="balloting", name=N_("法定出席人数（分母）"),
        meaning=N_("与“法定出席人数（分子）”一起确定出席代表须达到全体代表的多大比例。"))
    threshold_base: Literal["all", "present", "cast"] = setting(
        "all", stage="balloting", name=N_("通过票数的基数"), choices=BASES,
        meaning=N_("候选项目的赞成票须超过这个人数的一半才算通过：全体代表（默认）、出席代表"
                   "或投票的代表。"))
    secret_ballot: bool = setting(
        True, stage="balloting", name=N_("无记名投票"),
        choices={True: N_("无记名"), False: N_("记名")},
        meaning=N_("票决默认以无记名方式进行，选票与代表身份分开保存；建立票决轮次时仍可单独选择。"))
    shortfall_policy: Literal["further_round", "leave_empty"] = setting(
        "further_round", stage="balloting", name=N_("名额未满时"),
        choices={"further_round": N_("在未通过的候选项目中再次投票"),
                 "leave_empty": N_("名额空缺，不再投票")},
        meaning=N_("通过的候选项目少于拟票决项目数时，剩余名额另行投票还是空缺。"))
    scrutineer_signoffs: int = setting(
        2, ge=1, le=10, stage="balloting", unit=N_("人"), name=N_("监票人确认人数"),
        meaning=N_("计票结果须经这么多名监票人确认后才能公布。"))
    # 公开
    publish_vote_counts: bool = setting(
        True, stage="announced", name=N_("公布得票数"),
        choices={True: N_("公布"), False: N_("不公布")},
        meaning=N_("公告中列出每个项目的赞成票数。"))
    plan_due_days: int = setting(
        30, ge=1, le=365, stage="announced", unit=DAYS, name=N_("实施方案期限"),
        meaning=N_("公告后这么多天内，政府须公布每个项目的实施方案，逾期的标为逾期。"))
    # 监督
    progress_report_max_days: int = setting(
        31, ge=1, le=365, stage="supervising", unit=DAYS, name=N_("进度报告间隔"),
        meaning=N_("责任单位至少每隔这么多天报告一次项目进度（默认每月）。"))
    planned_progress: Literal["milestones", "linear"] = setting(
        "milestones", stage="supervising", name=N_("序时进度算法"),
        choices={"milestones": N_("按进度节点"), "linear": N_("按时间均匀")},
        meaning=N_("计划进度的算法：按实施方案的进度节点平分（默认），或从公告日到完成时限均匀增长。"))
    yellow_gap_points: int = setting(
        10, ge=1, le=100, stage="supervising", unit=N_("个百分点"), name=N_("黄色督办线"),
        meaning=N_("实际进度落后序时进度超过这么多个百分点，项目标为黄色；须低于红色督办线。"))
    red_gap_points: int = setting(
        20, ge=1, le=100, stage="supervising", unit=N_("个百分点"), name=N_("红色督办线"),
        meaning=N_("实际进度落后序时进度超过这么多个百分点，项目标为红色。"))
    finding_answer_days: int = setting(
        15, ge=1, le=365, stage="supervising", unit=DAYS, name=N_("问题答复期限"),
        meaning=N_("视察中发现须答复的问题，责任单位须在这么多天内答复。"))
    finding_reopen_days: int = setting(
        30, ge=1, le=365, stage="supervising", unit=DAYS, name=N_("重新答复期限"),
        meaning=N_("监督小组退回答复后，责任单位须在这么多天内重新答复。"))
    objection_days: int = setting(
        7, ge=1, le=90, stage="supervising", unit=DAYS, name=N_("异议期限"),
        meaning=N_("进度报告公布后这么多天内，群众可以对它提出异议。"))
    # 测评
    evaluation_secret: bool = setting(
        True, stage="evaluating", name=N_("无记名测评"),
        choices={True: N_("无记名"), False: N_("记名")},
        meaning=N_("代表满意度测评默认以无记名方式进行。"))
    evaluation_base: Literal["all", "present", "cast"] = setting(
        "all", stage="evaluating", name=N_("测评结果的基数"), choices=BASES,
        meaning=N_("“满意”（或“满意”加“基本满意”）须超过这个人数的一半：全体代表（默认）、"
                   "出席代表或投票的代表。"))
    resident_scoring: bool = setting(
        False, stage="evaluating", name=N_("群众满意度评价"),
        choices={True: N_("开展"), False: N_("不开展")},
        meaning=N_("测评前，实名群众也可以对每个项目评价一次（码上评），结果与代表测评并列公布。"))
    deputies_weight: int = setting(
        50, ge=0, le=100, stage="evaluating", unit="%", name=N_("代表测评权重"),
        meaning=N_("综合满意率中代表测评所占的百分比；与群众评价权重合计须为 100。"))
    residents_weight: int = setting(
        50, ge=0, le=100, stage="evaluating", unit="%", name=N_("群众评价权重"),
        meaning=N_("综合满意率中群众评价所占的百分比；与代表测评权重合计须为 100。"))
    rectification_days: int = setting(
        60, ge=1, le=365, stage="evaluating", unit=DAYS, name=N_("整改报告期限"),
        meaning=N_("测评为不满意的项目，责任单位须在这么多天内提交整改报告。"))
    basically_satisfied_rectify: bool = setting(
        False, stage="evaluating", name=N_("基本满意也须整改"),
        choices={True: N_("须整改"), False: N_("不须整改")},
        meaning=N_("测评为基本满意的项目也须提交整改报告（不再重新测评）。"))

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: list[str]) -> list[str]:
        """Names trimmed, none empty, long, on two lines or given twice."""
        names = [name.strip() for name in value]
        for name in names:
            if not name or len(name) > CATEGORY_MAX_CHARS or any(ord(c) < 32 for c in name):
                raise PydanticCustomError(
                    "category_name", "'{name}' is not a category name: 1 to {max} characters "
                    "on one line", {"name": name[:40], "max": CATEGORY_MAX_CHARS})
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise PydanticCustomError("category_twice", "'{name}' is listed twice",
                                          {"name": name})
            seen.add(name)
        return names

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> JurisdictionSettings:
        """Settings that only make sense together (see inconsistencies); a caller that reports
        them one by one asks for them later (context {"consistency": "later"})."""
        if (info.context or {}).get("consistency") == "later":
            return self
        problems = inconsistencies(self)
        if problems:
            raise PydanticCustomError("inconsistent", "; ".join(p.en for p in problems))
        return self


@dataclass(frozen=True)
class Inconsistency:
    """Two or more settings that do not fit together, in English and Chinese."""

    settings: tuple[str, ...]
    en: str
    zh: str


def inconsistencies(s: JurisdictionSettings) -> list[Inconsistency]:
    """The cross-setting rules: yellow below red, weights adding up to 100, quorum at most 1."""
    problems = []
    if s.yellow_gap_points >= s.red_gap_points:
        problems.append(Inconsistency(
            settings=("yellow_gap_points", "red_gap_points"),
            en=f"yellow_gap_points ({s.yellow_gap_points}) must be below red_gap_points "
               f"({s.red_gap_points})",
            zh=f"黄色督办线（{s.yellow_gap_points}）须低于红色督办线（{s.red_gap_points}）"))
    if s.deputies_weight + s.residents_weight != 100:
        problems.append(Inconsistency(
            settings=("deputies_weight", "residents_weight"),
            en=f"deputies_weight and residents_weight must add up to 100 (now "
               f"{s.deputies_weight} + {s.residents_weight})",
            zh=f"代表测评权重与群众评价权重合计须为 100（现为 {s.deputies_weight} + "
               f"{s.residents_weight}）"))
    if s.quorum_numerator > s.quorum_denominator:
        problems.append(Inconsistency(
            settings=("quorum_numerator", "quorum_denominator"),
            en=f"the quorum quorum_numerator / quorum_denominator must not be above 1 (now "
               f"{s.quorum_numerator}/{s.quorum_denominator})",
            zh=f"法定出席人数的比例不能大于 1（现为 {s.quorum_numerator}/{s.quorum_denominator}）"))
    return problems


def settings_of(raw: dict | None) -> JurisdictionSettings:
    """Parse the stored settings (missing keys take their defaults)."""
    return JurisdictionSettings.model_validate(raw or {})


def level_defaults(level: str) -> dict:
    """Defaults that depend on the jurisdiction's level: above the county, lists are decided by
    the government (DOMAIN.md)."""
    return {"decided_by": "government"} if level in GOVERNMENT_LEVELS else {}


def defaults_for(level: str) -> JurisdictionSettings:
    """What a jurisdiction of `level` has before its congress changes anything."""
    return settings_of(level_defaults(level))


def settings_for(jurisdiction: Jurisdiction | None) -> JurisdictionSettings:
    """A jurisdiction's settings: what it stored, else its level's default, else DOMAIN.md's."""
    if jurisdiction is None:
        return settings_of(None)
    return settings_of({**level_defaults(jurisdiction.level), **(jurisdiction.settings or {})})
