"""The demo's places and people (区域和人员): 资阳市 and its county 乐至县 with townships and
streets, staff, deputy rosters, residents and responsible units, all made through the services."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.passwords import hash_password_async
from app.auth.roles import Role
from app.candidates import service as candidates
from app.errors import Conflict
from app.jurisdictions import service as jurisdictions
from app.models import User
from app.residents import service as residents
from app.users import service as users

COUNTY = "lezhi"
CITY = "ziyang"
DEMO_PASSWORD = "lezhi-demo-2024"

# 资阳市, the city 乐至县 belongs to, and real townships and streets of 乐至县 (a few of them).
JURISDICTIONS = [
    ("ziyang", "资阳市", "city", None),
    ("lezhi", "乐至县", "county", "ziyang"),
    ("jinshun", "金顺镇", "township", "lezhi"),
    ("foxing", "佛星镇", "township", "lezhi"),
    ("baolin", "宝林镇", "township", "lezhi"),
    ("panlong", "蟠龙镇", "township", "lezhi"),
    ("dongshan", "东山镇", "township", "lezhi"),
    ("tianchi", "天池街道", "street", "lezhi"),
    ("nanta", "南塔街道", "street", "lezhi"),
]
PARENTS = {code: parent for code, _, _, parent in JURISDICTIONS}


def within(code: str | None) -> list[str]:
    """`code` and every jurisdiction it lies in, up to the top (南塔街道 → 乐至县 → 资阳市)."""
    found = []
    while code is not None:
        found.append(code)
        code = PARENTS.get(code)
    return found


# 行政区划代码 (GB/T 2260) of the city and the county; the townships' are left out (optional).
DIVISION_CODES = {"ziyang": "512000", "lezhi": "512022"}
# Deputy rosters (代表名单): the county congress, each township's own and the city congress.
DEPUTY_COUNTS = {"lezhi": 280, "jinshun": 52, "foxing": 48, "baolin": 61, "panlong": 45,
                 "dongshan": 50, "ziyang": 240}

STAFF = [
    ("admin", "系统管理员", Role.admin, None),
    ("lezhi-gov", "王民生（县民生办）", Role.gov_staff, "lezhi"),
    ("lezhi-congress", "李人大（县人大常委会）", Role.congress_staff, "lezhi"),
    ("lezhi-unit", "张交通（县交通运输局）", Role.unit_staff, "lezhi"),
    ("jinshun-gov", "刘镇政（金顺镇政府）", Role.gov_staff, "jinshun"),
    ("jinshun-congress", "陈主席（金顺镇人大主席团）", Role.congress_staff, "jinshun"),
    ("foxing-gov", "杨镇政（佛星镇政府）", Role.gov_staff, "foxing"),
    ("foxing-congress", "赵主席（佛星镇人大主席团）", Role.congress_staff, "foxing"),
    ("ziyang-gov", "周为民（市政府民生办）", Role.gov_staff, "ziyang"),
    ("ziyang-congress", "黄监督（市人大常委会）", Role.congress_staff, "ziyang"),
]
RESIDENTS = [
    ("13800000001", "周大爷", "jinshun"),
    ("13800000002", "吴阿姨", "nanta"),
    ("13800000003", "郑师傅", "foxing"),
    ("13800000004", "孙老师", "tianchi"),
    ("13800000005", "何女士", "nanta"),
    ("13800000006", "冯大姐", "tianchi"),
    ("13800000007", "蒋师傅", "baolin"),
    ("13800000008", "罗同学", "tianchi"),
    ("13800000009", "唐医生", "nanta"),
    ("13800000010", "曾大爷", "panlong"),
    ("13800000011", "钟女士", "jinshun"),
    ("13800000012", "邓老板", "dongshan"),
]

# Responsible units (责任单位) by jurisdiction.
UNITS = {
    "ziyang": ["市教育和体育局", "市卫生健康委员会", "市民政局", "市住房和城乡建设局",
               "市交通运输局", "市人力资源和社会保障局", "市水务局", "市城市管理局", "市残疾人联合会"],
    "lezhi": ["县交通运输局", "县教育和体育局", "县卫生健康局", "县民政局", "县水利局",
              "县住房和城乡建设局", "县人力资源和社会保障局", "县综合行政执法局", "县商务局",
              "县残疾人联合会", "县总工会", "县农业农村局", "金顺镇人民政府", "佛星镇人民政府"],
    "jinshun": ["金顺镇社会事务办公室", "金顺镇规划建设和生态环境办公室", "金顺镇农业农村办公室"],
    "foxing": ["佛星镇社会事务办公室", "佛星镇规划建设和生态环境办公室", "佛星镇农业农村办公室"],
}

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
            "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
            "邵万钱严覃武戴莫孔向汤")
GIVEN = ("建国志强秀英桂兰国华明军丽华海燕小红文杰春梅晓东永红德明玉兰俊杰子涵雨萱浩然思远淑芬红梅家豪"
         "晨阳宏伟美玲立新翠花志明雪梅成林")


@dataclass
class People:
    """Everyone the demo made, by username; deputies by jurisdiction in roster order."""

    by_username: dict[str, User] = field(default_factory=dict)
    deputies: dict[str, list[User]] = field(default_factory=dict)
    residents: list[User] = field(default_factory=list)

    def __getitem__(self, username: str) -> User:
        return self.by_username[username]

    def residents_in(self, code: str) -> list[User]:
        """Residents who live in `code` or anywhere inside it."""
        return [r for r in self.residents if code in within(r.jurisdiction_code)]


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


async def administrator(session: AsyncSession) -> User:
    """The demo's administrator, who sets the installation up: the `admin` account, made as
    `minsheng create-admin` makes one if it is not there (one made before the demo keeps its
    own password)."""
    admin = await users.by_username(session, "admin")
    if admin is None:
        username, name, _, _ = STAFF[0]
        return await users.create_admin(session, username=username, password=DEMO_PASSWORD,
                                        display_name=name)
    if admin.role != Role.admin or not admin.is_active:
        raise Conflict("The account 'admin' is there but is not an active administrator; the "
                       "demo sets its county up as 'admin'.", code="demo_admin_taken",
                       zh="账号 admin 已存在但不是启用的系统管理员，演示数据须由 admin 加载。")
    return admin


async def _account(session: AsyncSession, admin: User, username: str, name: str, role: str,
                   code: str, unit_id: str | None = None) -> User:
    """The demo's account, or the one already there by that name."""
    existing = await users.by_username(session, username)
    if existing is not None:
        return existing
    return await users.create(session, actor=admin, username=username, password=DEMO_PASSWORD,
                              display_name=name, role=role, jurisdiction_code=code,
                              unit_id=unit_id)


async def _resident(session: AsyncSession, phone: str, name: str, code: str) -> User:
    """A resident registered with their number, as residents register themselves (the demo's
    numbers reach no phone, so no code is texted), or the account already there."""
    existing = await users.by_username(session, phone)
    if existing is not None:
        return existing
    return await residents.register_verified(session, phone=phone, password=DEMO_PASSWORD,
                                             display_name=name, jurisdiction_code=code)


async def set_up(session: AsyncSession) -> People:
    """Jurisdictions and accounts as the administrator adds them, residents registering, each
    congress's staff importing its deputy roster (the administrator where the demo has none)
    and each government's staff its responsible units."""
    admin = await administrator(session)
    for code, name, level, parent in JURISDICTIONS:
        await jurisdictions.create(session, actor=admin, code=code, name=name, level=level,
                                   parent_code=parent, division_code=DIVISION_CODES.get(code))
    people = People()
    people.by_username[admin.username] = admin
    for username, name, role, code in STAFF:
        if role != Role.unit_staff:  # after their units, below
            people.by_username[username] = await _account(session, admin, username, name,
                                                          role, code)
    for phone, name, code in RESIDENTS:
        resident = await _resident(session, phone, name, code)
        people.by_username[phone] = resident
        people.residents.append(resident)
    # The rosters share the one demo password, hashed once (argon2 takes ~20 ms a hash).
    shared_hash = await hash_password_async(DEMO_PASSWORD)
    rng = random.Random(2024)
    for code, count in DEPUTY_COUNTS.items():
        roster = [(f"{code}-d{i:03d}", name, shared_hash, False)
                  for i, name in enumerate(_names(count, rng), start=1)]
        deputies = await users.store_roster(
            session, actor=people.by_username.get(f"{code}-congress", admin),
            jurisdiction_code=code, people=roster)
        people.deputies[code] = deputies
        people.by_username.update((d.username, d) for d in deputies)
    units: dict[tuple[str, str], str] = {}
    for code, names in UNITS.items():
        for name in names:
            unit = await candidates.add_unit(session, actor=people[f"{code}-gov"],
                                             jurisdiction_code=code, name=name)
            units[code, name] = unit.id
    for username, name, role, code in STAFF:
        if role == Role.unit_staff:  # 张交通（县交通运输局）: the unit in the name's brackets
            unit_name = name[name.index("（") + 1:name.rindex("）")]
            people.by_username[username] = await _account(
                session, admin, username, name, role, code, units[code, unit_name])
    return people
