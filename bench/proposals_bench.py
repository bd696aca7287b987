#!/usr/bin/env python3
"""The public proposal list and search at 100,000 proposals: latency per request kind.

One run: a throwaway database (SQLite in a temp dir, or with --database postgresql a throwaway
PostgreSQL database, dropped afterwards) is migrated with `minsheng db upgrade`, loaded with
`minsheng demo`, then filled with --rows (100,000) generated proposals in the demo cycle:
Chinese titles and descriptions composed from livelihood themes × places × details, with
search_text from app.search.text.index_text, as the app writes it. Then uvicorn with
--server-workers (2) worker processes serves it and wrk measures, kind after kind, a page of 20 of:

  list newest, list by endorsements, one category, category+location+state, full-text search
  with a common word, a rarer word, a traditional-character word, two words, and the
  similar-proposals lookup (a title being typed)

each rotating through several query values (a wrk Lua script), at -c16 (throughput, latency
under load) and at -c1 (pure latency). p95 comes from the Lua done() hook. Target: p95 < 50 ms
for every kind at -c16 (MET / MISSED per kind); app ms/req is the CPU of the uvicorn processes
(supervisor and workers) per request at -c1.

    .venv/bin/python bench/proposals_bench.py                        # SQLite
    .venv/bin/python bench/proposals_bench.py --database postgresql --json /tmp/pb.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from http_bench import (  # noqa: E402  (bench/http_bench.py: the shared machinery)
    PG_SERVER_DEFAULT,
    BenchRun,
    cpu_sample,
    free_port,
    log,
    minsheng,
    uvicorn_cmd,
    wait_ready,
)

TARGET_P95_MS = 50.0
CHUNK_TIMEOUT = 180  # seconds for one generator process to make 5,000 proposals (takes ~3)

# ----------------------------------------------------------------------------- the text

# code → (name, places in it); a proposal's place column holds the short place name.
PLACES = {
    "lezhi": ("乐至县", ["县城", "城北新区", "城南片区", "老城区", "客运中心", "县人民医院周边",
                         "工业园区", "天池湖周边"]),
    "jinshun": ("金顺镇", ["石佛村", "天池村", "高寺村", "龙门村", "新桥村", "白鹤村", "双河村",
                           "金顺社区", "场镇"]),
    "foxing": ("佛星镇", ["青龙村", "凤凰村", "红星村", "大佛村", "观音村", "马鞍村", "回澜村",
                          "佛星社区", "场镇"]),
    "nanta": ("南塔街道", ["南门社区", "北街社区", "帅乡社区", "天池社区", "五马社区",
                           "宝林社区", "文庙社区", "滨河小区"]),
}
LOCATION_WEIGHTS = {"lezhi": 22, "jinshun": 27, "foxing": 25, "nanta": 26}

# Theme: category, weight, titles, situations, asks, title reasons. {p} place, {t} township,
# {n} a small count, {km} a distance, {h} households.
THEMES = [
    ("交通出行", 12,
     ["{p}通组道路硬化", "{p}主干道路面破损修复", "{p}至场镇道路拓宽改造", "{p}断头路打通",
      "{p}村道错车道和排水边沟建设"],
     ["{p}通往场镇的道路约{km}公里仍是泥结石路面，雨天泥泞，晴天扬尘。",
      "道路路面坑洼不平，部分路段宽度不足四米，会车十分困难。",
      "沿线有{h}户村民和一所小学，学生上下学存在安全隐患。",
      "农忙时节农产品运不出去，收购商的货车进不了村。"],
     ["建议按四级公路标准实施道路硬化，并完善排水边沟和错车道。",
      "建议尽快修复破损路面，在急弯陡坡处设置减速带和警示标志。",
      "建议把这段道路纳入今年农村公路建设计划，打通断头路。"],
     ["方便群众出行", "保障学生上学安全", "解决农产品运输难"]),
    ("城乡建设", 8,
     ["{p}安装太阳能路灯", "{p}主要路段路灯维修更换", "{p}背街小巷照明改造"],
     ["{p}主要道路和院落没有路灯，晚上漆黑一片。",
      "现有路灯大多损坏多年无人维修，老人夜间出行容易摔倒。",
      "晚上下晚自习的学生和下夜班的工人走夜路很不安全。"],
     ["建议在主要道路和人员密集处安装太阳能路灯{n}盏。",
      "建议明确路灯管护责任，定期巡查维修，坏了及时更换。"],
     ["方便夜间出行", "消除夜间安全隐患"]),
    ("城乡建设", 10,
     ["{p}农村饮水安全巩固提升", "{p}自来水管网改造", "解决{p}夏季停水问题",
      "{p}供水加压泵站建设"],
     ["每到夏季用水高峰，{p}地势较高的农户经常停水，有时一停就是好几天。",
      "现有供水管网铺设于二十年前，管道老化漏水，水质浑浊，有时还有异味。",
      "部分农户仍在饮用井水，水质没有经过检测，群众很不放心。"],
     ["建议改造老旧供水管网，新建加压泵站，确保群众喝上放心水。",
      "建议将自来水管网延伸到{p}所有村民小组，并定期公布水质检测结果。"],
     ["让群众喝上放心水", "保障夏季用水"]),
    ("社会保障", 10,
     ["{p}设立老年助餐点", "{p}建设社区老年食堂", "为{p}独居老人提供送餐上门服务",
      "{p}日间照料中心建设", "{p}居家养老服务站建设"],
     ["{p}六十岁以上老人占常住人口三成以上，子女大多外出务工。",
      "{p}养老服务设施短缺，养老机构床位紧张，居家养老服务跟不上。",
      "很多独居老人年纪大了做饭困难，经常一顿饭吃两顿，营养跟不上。",
      "{p}目前没有日间照料中心，老人白天无处可去。"],
     ["建议在{p}设立老年助餐点，为老人提供低价午餐，行动不便的送餐上门。",
      "建议依托村（社区）便民服务中心建设日间照料中心，配备助餐、助浴和康复设施。"],
     ["解决老人吃饭难", "让老人老有所养"]),
    ("教育", 8,
     ["{t}中心小学教室照明改造", "{p}学校教室护眼灯更换", "{t}初级中学运动场改造"],
     ["{t}中心小学部分教室灯光昏暗、频闪，孩子们看黑板很吃力。",
      "近几年学生近视率明显上升，家长们很担心。",
      "学校运动场还是煤渣跑道，下雨天没法上体育课。"],
     ["建议按国家标准更换教室护眼灯具和黑板灯，改善学生用眼环境。",
      "建议改造学校运动场，铺设塑胶跑道和人造草坪。"],
     ["保护学生视力", "改善办学条件"]),
    ("卫生健康", 8,
     ["{t}卫生院医疗设备更新", "{p}村卫生室标准化建设", "{t}卫生院增设儿科门诊"],
     ["{t}卫生院的B超、DR等设备老旧，经常出故障。",
      "村卫生室只有一名乡村医生，药品种类少，群众小病也要跑县城。",
      "卫生院没有儿科医生，孩子半夜发烧只能往县医院送。"],
     ["建议更新卫生院检查设备，并加强医务人员培训。",
      "建议推进村卫生室标准化建设，落实家庭医生签约服务。"],
     ["方便群众就近看病", "解决看病难"]),
    ("交通出行", 8,
     ["{p}增设公共停车位", "{p}老旧小区停车难治理", "{p}周边停车难问题"],
     ["{p}私家车越来越多，停车位严重不足，车辆乱停乱放堵塞消防通道。",
      "晚上回家找不到车位，只能停在路边，经常被贴罚单。"],
     ["建议利用边角空地建设公共停车场，新增停车位{n}个。",
      "建议错时开放机关单位停车场，缓解周边停车压力。"],
     ["缓解停车难", "保障消防通道畅通"]),
    ("环境保护", 7,
     ["{p}生活垃圾分类设施建设", "{p}垃圾清运不及时问题", "{p}增设垃圾分类投放点"],
     ["{p}垃圾桶数量少，清运不及时，夏天臭气熏天，蚊蝇滋生。",
      "群众垃圾分类意识不强，分类投放设施也不完善。"],
     ["建议增设分类投放点和果皮箱，提高清运频次，开展垃圾分类宣传。"],
     ["改善人居环境", "推进垃圾分类"]),
    ("环境保护", 6,
     ["{p}河道清淤整治", "{p}河段综合治理及滨河步道建设", "{p}堰塘整治"],
     ["流经{p}的河道多年未清淤，河床抬高，汛期容易漫堤。",
      "河道两岸有生活垃圾和污水直排，水体发黑发臭。"],
     ["建议实施河道清淤截污，修建护坡和滨河步道。",
      "建议落实河长制，加强日常巡查保洁。"],
     ["还群众一河清水", "保障汛期安全"]),
    ("文体服务", 7,
     ["{p}建设全民健身广场", "{p}健身器材更新维护", "{p}建设文化活动广场"],
     ["{p}没有像样的健身场地，群众跳广场舞只能在路边。",
      "现有健身器材锈蚀损坏，存在安全隐患。"],
     ["建议建设小型健身广场，配置健身器材、篮球架和照明设施。"],
     ["丰富群众文体生活", "满足群众健身需求"]),
    ("城乡建设", 6,
     ["{p}老旧小区加装电梯", "{p}多层住宅加装电梯补贴", "{p}电梯加装协调推进"],
     ["{p}有不少上世纪九十年代建成的六七层住宅，没有电梯。",
      "楼里住着很多老人，腿脚不便，上下楼非常困难，有的几个月都下不了楼。"],
     ["建议出台老旧小区加装电梯补贴政策，简化审批流程，由社区牵头协调居民意见。"],
     ["方便老人上下楼", "解决老年人出行难"]),
    ("城乡建设", 5,
     ["{t}农贸市场提档改造", "{p}规范马路市场", "{t}农贸市场排水改造"],
     ["{t}农贸市场棚顶漏雨、排水不畅，地面常年湿滑。",
      "市场摊位拥挤，很多商贩占道经营，赶场天交通堵塞。"],
     ["建议对农贸市场进行标准化改造，完善排水、照明和消防设施，划定临时摊区。"],
     ["改善购物环境", "解决赶场天拥堵"]),
    ("交通出行", 6,
     ["开通{t}至县城公交线路", "{p}增设公交站点和候车亭", "延长{p}公交线路运营时间"],
     ["{p}到县城没有直达公交，群众进城看病办事要转两次车。",
      "现有班车班次少，末班车发车太早，学生和务工人员很不方便。"],
     ["建议开通城乡公交线路，增加班次，在{p}设置公交站点和候车亭。"],
     ["方便群众进城", "方便学生和务工人员出行"]),
    ("就业创业", 5,
     ["在{p}建设零工市场", "开展{t}返乡青年技能培训", "{p}就业创业服务站建设"],
     ["每天早上很多打零工的人在路边等活，风吹日晒，信息也不对称。",
      "返乡青年想创业，但缺技术、缺资金，不知道找哪个部门。"],
     ["建议建设零工市场，及时发布用工信息，开展电工、家政、电商等技能培训。",
      "建议落实创业担保贷款政策，为返乡创业人员提供一站式服务。"],
     ["促进群众就近就业", "支持返乡创业"]),
    ("困难群体救助", 4,
     ["{p}残疾儿童康复训练点建设", "{p}困难家庭临时救助", "{p}留守儿童关爱服务"],
     ["残疾儿童到外地做康复训练，交通和住宿费用很高，家庭负担重。",
      "{p}有不少留守儿童由爷爷奶奶照看，课后无人辅导。"],
     ["建议在县里设立康复训练点，给予康复费用补助。",
      "建议建设儿童之家，组织志愿者开展课后辅导和心理关爱。"],
     ["减轻困难家庭负担", "关爱留守儿童"]),
    ("公共安全", 4,
     ["{p}安装视频监控", "{p}学校门口交通安全设施", "{p}消防通道整治"],
     ["{p}近来发生多起盗窃电动车的案件，主要路口没有监控。",
      "学校门口车流量大，没有红绿灯和斑马线，学生过马路很危险。",
      "小区消防通道被杂物和车辆占用，一旦发生火灾后果不堪设想。"],
     ["建议在主要路口和院落出入口安装高清视频监控。",
      "建议在学校门口施划斑马线、安装红绿灯和隔离护栏。"],
     ["保障群众生命财产安全", "守护学生上下学安全"]),
    ("教育", 4,
     ["{p}增设普惠性幼儿园", "{p}小学课后托管服务"],
     ["{p}适龄儿童多，公办幼儿园学位紧张，私立幼儿园收费太高。",
      "双职工家庭下午四点后没人接孩子，孩子放学后无处可去。"],
     ["建议新建或改扩建普惠性幼儿园，增加学位。",
      "建议学校开展课后托管服务，安排老师看护辅导作业。"],
     ["解决入园难", "解决接孩子难"]),
    ("环境保护", 3,
     ["{p}生活污水处理设施建设", "{p}污水管网改造"],
     ["{p}生活污水直排沟渠，气味难闻，影响周边农田。"],
     ["建议建设小型污水处理站，完善污水收集管网。"],
     ["改善人居环境"]),
    ("社会保障", 3,
     ["{p}医保报销便民服务点", "{p}社保业务就近办理"],
     ["老人办理医保报销和社保认证要跑到县城，来回一天，很不方便。"],
     ["建议在村（社区）便民服务中心设立医保社保代办点，实现就近办理。"],
     ["让群众少跑路"]),
    # Rare themes: a few hundred proposals each (the "rarer word" queries).
    ("公共安全", 1,
     ["{p}水库山坪塘防溺水设施建设"],
     ["{p}山坪塘多，没有护栏和警示牌，每年暑假都担心孩子下水游泳。"],
     ["建议在水库和山坪塘周边安装防溺水护栏、警示牌和救生设备。"],
     ["预防学生溺水"]),
    ("文体服务", 1,
     ["{p}农家书屋提档升级"],
     ["{p}农家书屋图书陈旧，开放时间少，很少有人去看书。"],
     ["建议更新图书，增加电子阅读设备，安排专人管理并延长开放时间。"],
     ["丰富群众精神文化生活"]),
    ("社会保障", 1,
     ["{p}公共场所无障碍设施改造"],
     ["{p}不少公共场所没有坡道和无障碍卫生间，坐轮椅的群众出门很难。"],
     ["建议对公共场所和老旧小区实施无障碍改造。"],
     ["方便残疾人和老年人出行"]),
    ("公共安全", 1,
     ["{p}电动车集中充电桩建设"],
     ["很多居民把电动车推进楼道充电，存在火灾隐患。"],
     ["建议在小区内建设电动车集中充电桩和充电车棚。"],
     ["消除电动车充电火灾隐患"]),
]
CLOSINGS = ["以上建议恳请政府予以考虑。", "群众对此反映强烈，希望今年能列入民生实事项目。",
            "这件事关系到群众切身利益，盼望早日解决。",
            "据了解，附近群众对此意见较大，多次向村（社区）反映过。",
            "建议相关部门实地调研，统筹安排资金。", "如能实施，将惠及周边{h}余名群众。"]
BACKGROUND = ["去年已有多名群众通过12345热线反映此事，但一直没有得到解决。",
              "村民小组召开院坝会议讨论过，大家一致同意，愿意投工投劳。",
              "附近还有敬老院和幼儿园，老人和小孩受影响尤其大。",
              "资金可由县级财政和乡镇共同承担，村（社区）组织群众参与监督。",
              "这个问题在人大代表走访时也被多次提到，代表们建议优先考虑。",
              "周边几个村（社区）情况类似，可以统筹规划、一并实施。"]
TITLE_DETAILS = ["（涉及{h}户群众）", "，群众反映多年", "，恳请列入今年民生实事", "（代表联名）"]
NUMBERS = {"n": ["20", "30", "40", "50", "60", "80", "100", "120", "200"],
           "km": ["1.5", "2", "2.3", "3", "3.8", "4.5", "5", "6.2"],
           "h": ["80", "120", "200", "300", "450", "600", "1000"]}

STATES = (("submitted", 58), ("accepted", 30), ("rejected", 7), ("merged", 5))
CHANNELS = (("online", 70), ("deputy", 10), ("hotline", 10), ("visit", 5), ("letter", 5))
PROPOSER_NAMES = {"deputy": "人大代表", "hotline": "12345热线来电群众", "visit": "走访问卷",
                  "letter": "群众来信"}


def _pick(rng: random.Random, weighted) -> str:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


def _fill(text: str, rng: random.Random, place: str, township: str) -> str:
    nums = {k: rng.choice(v) for k, v in NUMBERS.items()}
    return text.format(p=place, t=township, **nums)


def compose(rng: random.Random, theme, location: str) -> tuple[str, str, str]:
    """(title, description, place) for one proposal about `theme` located at `location`."""
    category, _w, titles, situations, asks, reasons = theme
    township, places = PLACES[location]
    place = rng.choice(places)
    where = place if place.startswith(("县", "全县")) else township + place
    obj = _fill(rng.choice(titles), rng, where, township)
    reason = rng.choice(reasons)
    shape = rng.random()
    if shape < 0.45:
        title = f"关于{obj}、{reason}的建议"
    elif shape < 0.75:
        title = f"{obj}，{reason}"
    else:
        title = f"恳请{obj}，{reason}"
    if len(title) < 20:
        title = f"关于{obj}、{reason}的民生实事建议"
    if rng.random() < 0.25:
        title += _fill(rng.choice(TITLE_DETAILS), rng, place, township)
    title = title[:60]
    sentences = rng.sample(situations, k=rng.randint(1, len(situations)))
    if rng.random() < 0.4:
        sentences += rng.sample(BACKGROUND, k=rng.randint(1, 3))
    sentences += rng.sample(asks, k=rng.randint(1, len(asks)))
    if rng.random() < 0.6:
        sentences.append(rng.choice(CLOSINGS))
    desc = "".join(_fill(s, rng, place, township) for s in sentences)
    extras = [c for c in CLOSINGS if c not in sentences]
    rng.shuffle(extras)
    while len(desc) < 80 and extras:
        desc += _fill(extras.pop(), rng, place, township)
    if len(desc) > 300:  # drop whole sentences from the end, never mid-word
        desc = desc[:300].rsplit("。", 1)[0] + "。"
    return title, desc, place


# -------- search_text: exactly index_text(title, description, place), with a per-block cache.
# jieba cuts a text block by block (runs of han/alnum between punctuation and spaces) and each
# block independently, so caching the words of each block gives the same words in the same
# order; main() checks that against index_text on a sample.

_BLOCK_CACHE: dict[str, list[str]] = {}


def _init_worker() -> None:
    from app.search.text import warm_up

    warm_up()


def cached_index_text(*parts: str) -> str:
    import jieba

    from app.search.text import _WORD, fold

    text = fold(" ".join(p for p in parts if p))
    seen: dict[str, None] = {}
    for block in jieba.re_han_default.split(text):
        if not block:
            continue
        toks = _BLOCK_CACHE.get(block)
        if toks is None:
            toks = [t.strip() for t in jieba.cut_for_search(block)]
            toks = [t for t in toks if t and _WORD.search(t) and '"' not in t]
            if len(_BLOCK_CACHE) < 500_000:
                _BLOCK_CACHE[block] = toks
        for t in toks:
            seen.setdefault(t, None)
    return " ".join(seen)


@dataclass
class ChunkSpec:
    index: int
    seed: int
    times: list[datetime]
    cycle_id: str
    categories: list[str]
    residents: list[str]
    staff_id: str


def generate_chunk(spec: ChunkSpec) -> list[dict]:
    """Proposals for the given (sorted) creation times; merged_into_id is set by the caller."""
    rng = random.Random(spec.seed * 1_000_003 + spec.index)
    themes = [t for t in THEMES if t[0] in spec.categories]
    weights = [t[1] for t in themes]
    rows = []
    for created in spec.times:
        theme = rng.choices(themes, weights=weights)[0]
        location = rng.choices(list(LOCATION_WEIGHTS), weights=list(LOCATION_WEIGHTS.values()))[0]
        title, desc, place = compose(rng, theme, location)
        channel = _pick(rng, CHANNELS)
        r = rng.random()  # endorsements: most 0–5, a long tail, a few hundred at the top
        if r < 0.85:
            endorsements = min(5, int(rng.expovariate(0.6)))
        elif r < 0.99:
            endorsements = 6 + int(rng.expovariate(1 / 15))
        else:
            endorsements = 100 + int(rng.expovariate(1 / 120))
        rows.append({
            "id": uuid.uuid4().hex, "cycle_id": spec.cycle_id, "title": title,
            "description": desc, "category": theme[0], "location_code": location,
            "place": place,
            "estimated_cost_wan": (None if rng.random() < 0.3
                                   else Decimal(rng.choice([5, 10, 20, 50, 80, 120, 300, 600,
                                                            1200, 4000]))),
            "channel": channel, "state": _pick(rng, STATES),
            "proposer_id": rng.choice(spec.residents) if channel == "online" else None,
            "recorded_by": None if channel == "online" else spec.staff_id,
            "proposer_name": "" if channel == "online" else PROPOSER_NAMES[channel],
            "endorsement_count": endorsements, "merged_into_id": None, "carried_from_id": None,
            "search_text": cached_index_text(title, desc, place), "created_at": created,
        })
    return rows


def load_proposals(database_url: str, rows_wanted: int, seed: int, workers: int) -> dict:
    """Bulk-insert generated proposals into the demo cycle; ANALYZE. Returns what it made."""
    from sqlalchemy import create_engine, select, text

    from app.config import async_database_url
    from app.models import Cycle, Proposal, User
    from app.search.text import index_text

    engine = create_engine(async_database_url(database_url).replace("+aiosqlite", ""))
    t0 = time.perf_counter()
    try:
        with engine.connect() as conn:
            # The demo's county year in 征集 (its finished year and the townships' are not it).
            cycle = conn.execute(select(Cycle.id, Cycle.categories).where(
                Cycle.jurisdiction_code == "lezhi", Cycle.phase == "soliciting")).first()
            residents = list(conn.scalars(select(User.id).where(User.role == "resident")))
            staff_id = conn.scalar(select(User.id).where(User.username == "lezhi-gov"))
        cycle_id, categories = cycle[0], list(cycle[1])
        missing = {t[0] for t in THEMES} - set(categories)
        if missing:
            log(f"warning: themes of categories {missing} not in the cycle; left out")

        rng = random.Random(seed)
        now = datetime.now(UTC)
        start = now - timedelta(days=60)
        # Busier on some days than others, chronological like real filings.
        times = sorted(start + timedelta(seconds=rng.betavariate(1.2, 0.9) * 60 * 86400)
                       for _ in range(rows_wanted))
        chunk = 5000
        specs = [ChunkSpec(i, seed, times[o:o + chunk], cycle_id, categories, residents, staff_id)
                 for i, o in enumerate(range(0, rows_wanted, chunk))]
        table = Proposal.__table__
        inserted, live_ids, sample = 0, [], []
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(workers, initializer=_init_worker) as pool:  # terminated on leaving
            chunks = pool.imap(generate_chunk, specs)
            for _ in specs:
                try:  # a worker killed mid-chunk would leave imap waiting forever
                    rows = chunks.next(timeout=CHUNK_TIMEOUT)
                except multiprocessing.TimeoutError:
                    raise RuntimeError(f"no generated chunk for {CHUNK_TIMEOUT}s: did a "
                                       "generator process die?") from None
                for row in rows:  # merged into an earlier live proposal (same theme or not)
                    if row["state"] == "merged":
                        if live_ids:
                            row["merged_into_id"] = rng.choice(live_ids[-5000:])
                        else:
                            row["state"] = "rejected"
                    elif row["state"] in ("submitted", "accepted"):
                        live_ids.append(row["id"])
                sample.extend(rng.sample(rows, min(20, len(rows))))
                with engine.begin() as conn:
                    conn.execute(table.insert(), rows)
                inserted += len(rows)
        t_gen = time.perf_counter() - t0
        # The cache must not change what index_text would have written.
        mismatches = sum(index_text(r["title"], r["description"], r["place"]) != r["search_text"]
                         for r in sample)
        if mismatches:
            raise RuntimeError(f"search_text differs from index_text on {mismatches} of "
                               f"{len(sample)} sampled rows")
        t1 = time.perf_counter()
        if engine.dialect.name == "sqlite":
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        else:
            # VACUUM as autovacuum would soon after a bulk load (visibility map), then ANALYZE.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM (ANALYZE) proposal, proposal_search")
                conn.exec_driver_sql("ANALYZE")
        t_analyze = time.perf_counter() - t1
        with engine.connect() as conn:
            stats = {
                "rows": conn.scalar(text("SELECT count(*) FROM proposal")),
                "by_state": dict(conn.execute(text(
                    "SELECT state, count(*) FROM proposal GROUP BY state")).all()),
                "avg_title": conn.scalar(text("SELECT avg(length(title)) FROM proposal")),
                "avg_desc": conn.scalar(text("SELECT avg(length(description)) FROM proposal")),
            }
        lens_t = [len(r["title"]) for r in sample]
        lens_d = [len(r["description"]) for r in sample]
        return {"cycle_id": cycle_id, "categories": categories, "inserted": inserted,
                "generate_insert_s": t_gen, "analyze_s": t_analyze,
                "verified_sample": len(sample), "stats": stats,
                "sample_title_len": (min(lens_t), max(lens_t)),
                "sample_desc_len": (min(lens_d), max(lens_d)),
                "example": {k: str(sample[0][k]) for k in ("title", "description", "place",
                                                           "search_text")}}
    finally:
        engine.dispose()


def any_word_matches(database_url: str, cycle_id: str, q: str) -> int:
    """How many live proposals share any word with `q`: what similar() has to rank."""
    import asyncio

    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from app.config import async_database_url
    from app.proposals import search
    from app.proposals.service import LIVE_STATES
    from app.search.text import query_words

    words = query_words(q)
    if not words:
        return 0

    async def count() -> int:
        engine = create_async_engine(async_database_url(database_url))
        try:
            async with AsyncSession(engine) as session:
                return await search.count(session, search.Scope(cycle_id, list(LIVE_STATES)),
                                          search.Words(words, any_word=True))
        finally:
            await engine.dispose()

    return asyncio.run(count())


# ----------------------------------------------------------------------------- the kinds

def kinds(cycle_id: str, categories: list[str]) -> list[tuple[str, str, list[str]]]:
    """(name, description, paths) per request kind; each path is one rotated query value."""
    base = f"/api/v1/cycles/{cycle_id}/proposals"

    def url(**params) -> str:
        return f"{base}?{urlencode(params, quote_via=quote)}"

    combos = [("交通出行", "jinshun", "submitted"), ("社会保障", "foxing", "accepted"),
              ("城乡建设", "nanta", "submitted"), ("教育", "lezhi", "accepted"),
              ("环境保护", "jinshun", "accepted"), ("卫生健康", "nanta", "submitted")]
    return [
        ("list_newest", "list, newest first (pages 1,2,3,5,10)",
         [url(page=p) for p in (1, 2, 3, 5, 10)]),
        ("list_endorsed", "list, most endorsed first (pages 1,2,3,5,10)",
         [url(sort="endorsed", page=p) for p in (1, 2, 3, 5, 10)]),
        ("category", "one category (each of the cycle's ten)",
         [url(category=c) for c in categories]),
        ("cat_loc_state", "category + location + state",
         [url(category=c, location_code=loc, state=s) for c, loc, s in combos]),
        ("q_common", "search, common word", [url(q=w) for w in ("道路", "老人", "改造", "安全")]),
        ("q_rare", "search, rarer word", [url(q=w) for w in ("防溺水", "书屋", "无障碍", "充电桩")]),
        ("q_traditional", "search, traditional characters",
         [url(q=w) for w in ("電梯", "路燈", "飲水", "衛生院", "養老")]),
        ("q_two_words", "search, two words",
         [url(q=w) for w in ("道路 硬化", "老人 助餐", "教室 照明", "河道 清淤", "停车 公共")]),
        ("similar", "similar proposals to a title being typed",
         [f"{base}/similar?{urlencode({'text': t}, quote_via=quote)}"
          for t in ("村里的路太烂了想修水泥路", "小区老房子加装电梯", "给老年人办个食堂",
                    "学校门口太堵了", "晚上没有路灯很黑")]),
    ]


LUA = r"""
local paths = { %(paths)s }
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  i = (tid or 0) * 3
end
function request()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCHJSON {\"requests\": %%d, \"duration_us\": %%d, \"p50_us\": %%d, \"p95_us\": %%d, " ..
    "\"p99_us\": %%d, \"max_us\": %%d, \"mean_us\": %%f, \"socket_errors\": %%d, " ..
    "\"status_errors\": %%d}\n",
    summary.requests, summary.duration, latency:percentile(50.0), latency:percentile(95.0),
    latency:percentile(99.0), latency.max, latency.mean,
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def postgres_cpu() -> float:
    """CPU seconds of every local postgres process (with reaped children: parallel workers)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, rest = stat.read_text().rsplit(")", 1)
            if head.split("(", 1)[1] != "postgres":
                continue
            f = rest.split()
            total += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
        except (OSError, ValueError, IndexError):
            continue
    return total / tick


def measure(base_url: str, script: Path, seconds: float, connections: int, pid: int) -> dict:
    """wrk on `script`, with the CPU the server, the database and everything else used meanwhile
    (other > 0.2 cores means the machine was not idle: noisy figures)."""
    before, db_before = cpu_sample(pid), postgres_cpu()
    r = run_wrk(base_url, script, seconds, connections)
    after, db_after = cpu_sample(pid), postgres_cpu()
    if before and after:
        wall = after["t"] - before["t"]
        server = after["server"] - before["server"]
        db = db_after - db_before
        busy = after["machine"] - before["machine"]
        other = busy - server - db - (after["loadgen"] - before["loadgen"])
        r.update(server_ms_per_req=server * 1000 / max(1, r["requests"]),
                 db_ms_per_req=db * 1000 / max(1, r["requests"]),
                 other_cores=max(0.0, other / wall))
    return r


def write_lua(path: Path, paths: list[str]) -> None:
    lua_paths = ", ".join(json.dumps(p) for p in paths)  # percent-encoded ASCII
    path.write_text(LUA % {"paths": lua_paths}, encoding="utf-8")


def run_wrk(base_url: str, script: Path, seconds: float, connections: int) -> dict:
    secs = max(1, round(seconds))
    threads = min(2, connections)
    cmd = [shutil.which("wrk") or "wrk", f"-t{threads}", f"-c{connections}", f"-d{secs}s",
           "--latency", "--timeout", "10s", "-s", str(script), base_url]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 30, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    m = re.search(r"^BENCHJSON (\{.*\})$", done.stdout, re.MULTILINE)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", done.stdout, re.MULTILINE)
    if not m or not rps:
        raise RuntimeError(f"unexpected wrk output:\n{done.stdout}\n{done.stderr}")
    r = json.loads(m.group(1))
    return {"rps": float(rps.group(1)), "p50": r["p50_us"] / 1000, "p95": r["p95_us"] / 1000,
            "p99": r["p99_us"] / 1000, "max": r["max_us"] / 1000, "requests": r["requests"],
            "errors": r["socket_errors"] + r["status_errors"]}


@dataclass
class KindResult:
    kind: str
    what: str
    hits: list[int]
    loaded: dict = field(default_factory=dict)   # -cN
    single: dict = field(default_factory=dict)   # -c1
    extra: dict = field(default_factory=dict)


def fmt_ms(v: float | None) -> str:
    return "-" if v is None else (f"{v:.1f}" if v < 100 else f"{v:.0f}")


def fmt_hits(h: list[int]) -> str:
    lo, hi = min(h), max(h)
    return f"{lo}" if lo == hi else f"{lo}–{hi}"


def print_table(results: list[KindResult], meta: dict) -> None:
    c = meta["connections"]
    print(f"\nminsheng proposals bench — {meta['database']}, {meta['rows']:,} proposals in the "
          f"cycle, page of 20, {meta['server_workers']} uvicorn worker(s), {meta['cpus']} CPUs; wrk -c{c} for "
          f"{meta['duration_s']:g}s and -c1 for {meta['single_duration_s']:g}s per kind; "
          f"target p95 < {TARGET_P95_MS:g} ms")
    head = ("kind", "hits (total)", f"c{c} req/s", f"c{c} p50", f"c{c} p95", f"c{c} p99",
            "c1 req/s", "c1 p50", "c1 p95", "c1 p99", "app ms/req", "db ms/req", "other CPU",
            "1st ask", "errors", f"p95 < {TARGET_P95_MS:g} ms at c{c}")
    rows = []
    for r in results:
        flag = "MET" if r.loaded["p95"] < TARGET_P95_MS else "MISSED"
        if r.single["p95"] >= TARGET_P95_MS:
            flag += " (c1 too)"
        rows.append((r.kind, fmt_hits(r.hits), f"{r.loaded['rps']:,.0f}",
                     fmt_ms(r.loaded["p50"]), fmt_ms(r.loaded["p95"]), fmt_ms(r.loaded["p99"]),
                     f"{r.single['rps']:,.0f}", fmt_ms(r.single["p50"]),
                     fmt_ms(r.single["p95"]), fmt_ms(r.single["p99"]),
                     fmt_ms(r.single.get("server_ms_per_req")),
                     fmt_ms(r.single.get("db_ms_per_req")),
                     f"{max(r.loaded.get('other_cores', 0), r.single.get('other_cores', 0)):.2f}",
                     fmt_ms(max(r.extra.get("first_ms") or [0])),
                     str(r.loaded["errors"] + r.single["errors"]), flag))
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]

    def line(cells) -> str:
        return "  ".join(x.ljust(w) if i in (0, 1, len(cells) - 1) else x.rjust(w)
                         for i, (x, w) in enumerate(zip(cells, widths, strict=True)))

    print(line(head))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))
    print("(latencies in ms; hits: `total` of the list per rotated query value, for similar the "
          "rows returned, of which any-word matches: "
          + ", ".join(str(x) for x in next((r.extra.get("any_word_matches", [])
                                           for r in results if r.kind == "similar"), []))
          + ")")
    print("app ms/req, db ms/req: CPU time of the uvicorn processes and of PostgreSQL per request "
          "at -c1; other CPU: cores used by anything else during the kind's runs (the larger of "
          "the two; over 0.2 means the machine was not idle and the latencies are noisy); 1st "
          "ask: the slowest first request of a query value (one at a time, before the warm-up: "
          "nothing remembered yet)")
    print(f"MET / MISSED: p95 under {TARGET_P95_MS:g} ms or not with {c} concurrent "
          f"connections on {meta['server_workers']} worker(s) (queueing included); (c1 too): "
          f"one request at a time misses it as well (the query itself)\n")


# ----------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--pg-server", default=os.environ.get("MINSHENG_TEST_PG", PG_SERVER_DEFAULT),
                   help=f"PostgreSQL server for --database postgresql ({PG_SERVER_DEFAULT})")
    p.add_argument("--rows", type=int, default=100_000, help="proposals to generate (100000)")
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument("--workers", type=int, default=2, help="generator processes (2)")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per kind under load (10)")
    p.add_argument("--connections", type=int, default=16, help="connections under load (16)")
    p.add_argument("--single-duration", type=float, default=5.0,
                   help="seconds per kind at -c1 (5)")
    p.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per kind (2)")
    p.add_argument("--server-workers", type=int, default=2,
                   help="uvicorn worker processes serving the app (2)")
    p.add_argument("--only", help="comma-separated kinds to measure (all)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON here")
    args = p.parse_args(argv)
    if args.rows <= 0 or args.duration <= 0 or args.connections <= 0:
        p.error("--rows, --duration and --connections must be positive")
    if not shutil.which("wrk"):
        p.error("wrk is not installed")

    import httpx

    run = BenchRun(args.database, args.pg_server, "minsheng-pbench-")
    procs, tmp, env, database_url = run.procs, run.tmp, run.env, run.database_url
    try:
        minsheng(["demo"], env)
        log(f"generating and inserting {args.rows:,} proposals ({args.workers} processes)")
        # The generator reads settings too (via app imports): point them at this database.
        os.environ.update({k: v for k, v in env.items() if k.startswith("MINSHENG_")})
        made = load_proposals(database_url, args.rows, args.seed, args.workers)
        print(f"generated and inserted {made['inserted']:,} proposals in "
              f"{made['generate_insert_s']:.1f}s (ANALYZE {made['analyze_s']:.1f}s); search_text "
              f"checked against index_text on {made['verified_sample']} sampled rows; title "
              f"{made['sample_title_len'][0]}–{made['sample_title_len'][1]} chars, description "
              f"{made['sample_desc_len'][0]}–{made['sample_desc_len'][1]} (sample)", flush=True)
        print(f"  table: {made['stats']['rows']:,} rows, by state {made['stats']['by_state']}, "
              f"avg title {float(made['stats']['avg_title']):.1f} / description "
              f"{float(made['stats']['avg_desc']):.1f} chars", flush=True)
        print(f"  e.g. {made['example']['title']} | {made['example']['description'][:70]}… | "
              f"[{made['example']['search_text'][:60]}…]", flush=True)
        cycle_id = made["cycle_id"]

        port = free_port()
        log_path = tmp / "server.log"
        cmd = uvicorn_cmd("app.main:create_app", port, factory=True)
        cmd[cmd.index("--workers") + 1] = str(args.server_workers)
        proc = procs.start(cmd, env=env, log_path=log_path)
        base_url = f"http://127.0.0.1:{port}"
        wait_ready(proc, f"{base_url}/healthz", log_path)

        # The traditional query must find the simplified text.
        r = httpx.get(f"{base_url}/api/v1/cycles/{cycle_id}/proposals",
                      params={"q": "電梯"}, timeout=30).raise_for_status().json()
        if r["total"] <= 0 or not any("电梯" in it["title"] for it in r["items"]):
            raise RuntimeError(f"q=電梯 found no 电梯 proposal: total {r['total']}")
        log(f"q=電梯 finds {r['total']} proposals, e.g. {r['items'][0]['title']}")
        # Every worker and its reader threads up and connected before the first asks are timed.
        neutral = tmp / "neutral.lua"
        write_lua(neutral, [f"/api/v1/cycles/{cycle_id}/proposals?state=carried"])
        run_wrk(base_url, neutral, 1, 4)
        # One client for the first asks: a new httpx client per request costs 20–50 ms itself.
        client = httpx.Client(timeout=30)

        wanted = set(args.only.split(",")) if args.only else None
        every_kind = kinds(cycle_id, made["categories"])
        unknown = (wanted or set()) - {name for name, _, _ in every_kind}
        if unknown:
            log(f"--only: no kind {', '.join(sorted(unknown))}; the kinds are "
                + ", ".join(name for name, _, _ in every_kind))
            return 2
        results: list[KindResult] = []
        for name, what, paths in every_kind:
            if wanted and name not in wanted:
                continue
            hits, extra = [], {"first_ms": []}
            for path in paths:
                # The first ask of each query value: nothing remembered yet (app/proposals/
                # search.py keeps a search's results until the cycle changes).
                t0 = time.perf_counter()
                resp = client.get(base_url + path).raise_for_status().json()
                extra["first_ms"].append((time.perf_counter() - t0) * 1000)
                hits.append(len(resp) if isinstance(resp, list) else resp["total"])
                if isinstance(resp, dict) and len(resp["items"]) != min(20, resp["total"]):
                    raise RuntimeError(f"{path}: {len(resp['items'])} items of {resp['total']}")
            if name == "similar":
                from urllib.parse import parse_qs, urlsplit

                extra["any_word_matches"] = [
                    any_word_matches(database_url, cycle_id,
                                     parse_qs(urlsplit(path).query)["text"][0])
                    for path in paths]
            script = tmp / f"{name}.lua"
            write_lua(script, paths)
            log(f"{name}: hits {hits}; warm-up {args.warmup:g}s, c{args.connections} "
                f"{args.duration:g}s, c1 {args.single_duration:g}s")
            if args.warmup > 0:
                run_wrk(base_url, script, args.warmup, args.connections)
            loaded = measure(base_url, script, args.duration, args.connections, proc.pid)
            single = measure(base_url, script, args.single_duration, 1, proc.pid)
            if proc.poll() is not None:
                raise RuntimeError(f"server died:\n{log_path.read_text(errors='replace')[-3000:]}")
            results.append(KindResult(name, what, hits, loaded, single, extra))
        client.close()

        meta = {"database": args.database, "rows": made["stats"]["rows"],
                "connections": args.connections, "duration_s": args.duration,
                "single_duration_s": args.single_duration, "warmup_s": args.warmup,
                "cpus": os.cpu_count(), "server_workers": args.server_workers,
                "generate_insert_s": made["generate_insert_s"]}
        print_table(results, meta)
        missed = [r.kind for r in results if r.loaded["p95"] >= TARGET_P95_MS]
        print(f"target p95 < {TARGET_P95_MS:g} ms at -c{args.connections} on "
              f"{args.server_workers} worker(s): "
              + (f"MISSED by {', '.join(missed)}" if missed else "MET by every kind"))
        busy = [f"{r.kind} {max(r.loaded.get('other_cores', 0), r.single.get('other_cores', 0)):.2f}"
                for r in results
                if max(r.loaded.get("other_cores", 0), r.single.get("other_cores", 0)) > 0.2]
        if busy:
            log("warning: other processes used CPU during the run (cores: " + ", ".join(busy)
                + "); the figures are noisy, rerun when the machine is idle")
        for r in results:
            if r.loaded["errors"] or r.single["errors"]:
                log(f"warning: {r.kind} had errors or non-2xx answers")
        if args.json:
            Path(args.json).write_text(json.dumps(
                {"meta": meta, "results": [asdict(r) for r in results]},
                ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            log(f"JSON written to {args.json}")
        return 0
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        run.close()


if __name__ == "__main__":
    sys.exit(main())
