"""`minsheng demo`: 乐至县 with two townships and a street, people, and a 2024 cycle in 征集."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.passwords import hash_password
from app.auth.roles import Role
from app.cycles import service as cycles
from app.jurisdictions import service as jurisdictions
from app.models import Jurisdiction, Proposal, ResponsibleUnit, User
from app.search.text import index_text
from app.workflows.cycle import CyclePhase

COUNTY = "lezhi"
DEMO_PASSWORD = "minsheng2024"

JURISDICTIONS = [
    ("lezhi", "乐至县", "county", None),
    ("jinshun", "金顺镇", "township", "lezhi"),
    ("foxing", "佛星镇", "township", "lezhi"),
    ("nanta", "南塔街道", "street", "lezhi"),
]
DEPUTY_COUNTS = {"lezhi": 280, "jinshun": 52, "foxing": 48}

STAFF = [
    ("admin", "系统管理员", Role.admin, "lezhi"),
    ("lezhi-gov", "王民生（县民生办）", Role.gov_staff, "lezhi"),
    ("lezhi-congress", "李人大（县人大常委会）", Role.congress_staff, "lezhi"),
    ("lezhi-unit", "张交通（县交通运输局）", Role.unit_staff, "lezhi"),
    ("jinshun-gov", "刘镇政（金顺镇政府）", Role.gov_staff, "jinshun"),
    ("jinshun-congress", "陈主席（金顺镇人大主席团）", Role.congress_staff, "jinshun"),
    ("foxing-gov", "杨镇政（佛星镇政府）", Role.gov_staff, "foxing"),
    ("foxing-congress", "赵主席（佛星镇人大主席团）", Role.congress_staff, "foxing"),
]
RESIDENTS = [
    ("13800000001", "周大爷", "jinshun"),
    ("13800000002", "吴阿姨", "nanta"),
    ("13800000003", "郑师傅", "foxing"),
    ("13800000004", "孙老师", "lezhi"),
    ("13800000005", "何女士", "nanta"),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "建国志强秀英桂兰国华明军丽华海燕小红文杰春梅晓东永红德明玉兰俊杰子涵雨萱浩然思远淑芬红梅家豪晨阳宏伟美玲立新翠花志明雪梅成林"

# (title, description, category, location, place, cost 万元, channel, proposer index or None)
PROPOSALS = [
    ("古乐路金顺镇至冯店镇段改造", "古乐路金顺镇至冯店镇段约 7.8 公里，路面破损、会车困难，雨天泥泞，沿线 3 个村 1.2 万群众和学生出行不便，建议按三级公路标准改建。", "交通出行", "jinshun", "金顺镇至冯店镇", "4680", "online", 0),
    ("发行“惠民卡”，本地商户消费打折", "建议政府联合本地商超、药店、餐饮发行惠民卡，困难群众和老年人持卡消费享受折扣，带动县城消费。", "社会保障", "lezhi", "县城", "300", "deputy", None),
    ("建设户外劳动者爱心驿站", "环卫工人、快递员、外卖骑手夏天没有地方喝水歇脚，建议在城区设置 10 处爱心驿站，配饮水机、微波炉、充电插座和卫生间。", "城乡建设", "nanta", "城区主干道沿线", "80", "online", 1),
    ("增设农村老年助餐点", "村里独居老人多，做饭难，建议在佛星镇各村设老年助餐点，提供低价午餐，行动不便的送餐上门。", "社会保障", "foxing", "各村便民服务中心", "150", "visit", 2),
    ("中小学教室照明改造", "部分乡镇学校教室灯光昏暗、频闪，影响孩子视力，建议按国家标准更换护眼灯具和黑板灯。", "教育", "lezhi", "全县中小学", "520", "online", 3),
    ("农村饮水安全巩固提升", "夏季用水高峰期部分村组停水，水质浑浊，建议改造供水管网，新建加压泵站。", "城乡建设", "jinshun", "石佛村、天池村", "610", "hotline", None),
    ("城区增设公共停车位", "县城老城区停车难，占道停车堵塞消防通道，建议利用边角地建设公共停车场，新增车位 800 个。", "交通出行", "nanta", "老城区", "1200", "online", 4),
    ("乡镇卫生院设备更新", "镇卫生院 B 超、DR 等设备老旧，群众小病也要跑县城，建议更新检查设备并培训人员。", "卫生健康", "foxing", "佛星镇卫生院", "380", "deputy", None),
    ("农贸市场提档改造", "金顺镇农贸市场棚顶漏雨、排水不畅、摊位拥挤，建议改造为标准化市场。", "城乡建设", "jinshun", "金顺镇场镇", "450", "letter", None),
    ("城区河道综合治理", "流经城区的河道有垃圾和异味，建议清淤截污并建设滨河步道。", "环境保护", "nanta", "城区河段", "900", "online", 1),
    ("残疾儿童康复服务补助", "残疾儿童到外地康复费用高，建议在县里设立康复训练点并提供补助。", "困难群体救助", "lezhi", "县残联", "200", "hotline", None),
    ("建设零工市场", "打零工的人每天在路边等活，建议建设零工市场，发布用工信息，提供技能培训。", "就业创业", "lezhi", "县城客运站附近", "120", "visit", None),
    ("村级全民健身广场", "佛星镇多个村没有健身场地，建议建设小型健身广场，配健身器材和照明。", "文体服务", "foxing", "各村", "260", "online", 2),
]


# Responsible units (责任单位) of the county, for building candidate projects.
UNITS = ["县交通运输局", "县教育和体育局", "县卫生健康局", "县民政局", "县水利局", "县住房和城乡建设局",
         "县人力资源和社会保障局", "县综合行政执法局", "县商务局", "县残疾人联合会", "金顺镇人民政府",
         "佛星镇人民政府"]

# Who stood behind the proposals staff recorded from other channels.
DEMO_PROPOSERS = {"deputy": "刘建华", "hotline": "12345热线来电群众", "visit": "金顺镇走访问卷",
                  "letter": "群众来信"}


@dataclass
class DemoResult:
    loaded: bool
    cycle_id: str | None


def _names(count: int, rng: random.Random) -> list[str]:
    names, seen = [], set()
    while len(names) < count:
        name = rng.choice(SURNAMES) + rng.choice(GIVEN[::2]) + rng.choice(GIVEN[1::2])
        if rng.random() < 0.3:
            name = name[:2]
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


async def load(session: AsyncSession) -> DemoResult:
    """Load the demo once; a second run finds it there and changes nothing."""
    if await session.get(Jurisdiction, COUNTY) is not None:
        cycle_id = await session.scalar(select(Proposal.cycle_id).limit(1))
        return DemoResult(False, cycle_id)

    pw_hash = hash_password(DEMO_PASSWORD)
    system = User(username="system", display_name="系统", role=Role.admin,
                  jurisdiction_code=COUNTY, password_hash="!", is_active=False)
    for code, name, level, parent in JURISDICTIONS:
        await jurisdictions.create(session, actor=system, code=code, name=name, level=level,
                                   parent_code=parent)
    people: dict[str, User] = {}
    for username, name, role, j in STAFF:
        people[username] = User(username=username, display_name=name, role=role,
                                jurisdiction_code=j, password_hash=pw_hash)
    rng = random.Random(2024)
    for j, count in DEPUTY_COUNTS.items():
        for i, name in enumerate(_names(count, rng), start=1):
            username = f"{j}-d{i:03d}"
            people[username] = User(username=username, display_name=name, role=Role.deputy,
                                    jurisdiction_code=j, password_hash=pw_hash)
    residents = []
    for phone, name, j in RESIDENTS:
        people[phone] = User(username=phone, display_name=name, role=Role.resident,
                             jurisdiction_code=j, password_hash=pw_hash)
        residents.append(people[phone])
    session.add_all(people.values())
    await session.flush()
    await audit.record(session, actor="system", action="demo.load", entity_type="jurisdiction",
                       entity_id=COUNTY, data={"accounts": len(people)})

    session.add_all(ResponsibleUnit(jurisdiction_code=COUNTY, name=name) for name in UNITS)
    gov = people["lezhi-gov"]
    cycle = await cycles.create(session, actor=gov, jurisdiction_code=COUNTY, year=2024,
                                title="乐至县2024年民生实事项目", seats=10,
                                congress_session="第十八届人民代表大会第四次会议")
    await cycles.transition(session, actor=gov, cycle=cycle, to=CyclePhase.soliciting,
                            reason="县政府常务会议决定启动2024年民生实事项目征集")
    for title, desc, category, loc, place, cost, channel, who in PROPOSALS:
        session.add(Proposal(
            cycle_id=cycle.id, title=title, description=desc, category=category,
            location_code=loc, place=place, estimated_cost_wan=Decimal(cost), channel=channel,
            state="submitted",
            proposer_id=residents[who].id if who is not None else None,
            recorded_by=None if channel == "online" else gov.id,
            proposer_name="" if who is not None else DEMO_PROPOSERS[channel],
            search_text=index_text(title, desc, place)))
    await session.flush()
    return DemoResult(True, cycle.id)


def logins_text() -> str:
    """The demo accounts, for the terminal."""
    lines = [f"Demo log-ins (password for all: {DEMO_PASSWORD}):"]
    for username, name, role, _ in STAFF:
        lines.append(f"  {username:<18} {role:<15} {name}")
    lines.append(f"  {'lezhi-d001':<18} {'deputy':<15} 乐至县人大代表（lezhi-d001 … lezhi-d280）")
    lines.append(f"  {'jinshun-d001':<18} {'deputy':<15} 金顺镇人大代表（… jinshun-d052）")
    lines.append(f"  {'foxing-d001':<18} {'deputy':<15} 佛星镇人大代表（… foxing-d048）")
    lines.append(f"  {RESIDENTS[0][0]:<18} {'resident':<15} 群众 {RESIDENTS[0][1]}")
    return "\n".join(lines)
