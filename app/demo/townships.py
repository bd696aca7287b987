"""The townships' years in the demo, each decided by the township's own congress and roster:
佛星镇's finished year (one round, four projects) and current year, 金顺镇's current year."""

from __future__ import annotations

from app.demo.specs import CandidateSpec, FinishedYear, ProposalSpec, SolicitingYear

P = ProposalSpec
C = CandidateSpec
HOTLINE = "12345热线来电群众"

FOXING_FINISHED = FinishedYear(
    jurisdiction="foxing", seats=4, gov="foxing-gov", congress="foxing-congress",
    proposals=(
        P("sewer", "场镇雨污管网改造",
          "佛星镇场镇污水直排河沟，下雨天街面积水，建议改造场镇雨污管网。", "环境保护", "foxing",
          "佛星镇场镇", "180", "visit", "佛星镇场镇居民走访", 3, 7, "accept"),
        P("village-roads", "村组道路硬化",
          "几个村组还是泥巴路，下雨天农产品运不出去，建议硬化村组道路。", "交通出行", "foxing",
          "佛星镇各村", "240", "deputy", "foxing-d005", 5, 6, "accept"),
        P("street-lights", "场镇和村道路灯",
          "场镇和主要村道晚上一片漆黑，老人晚上出门不方便，建议安装路灯。", "公共安全", "foxing",
          "佛星镇场镇及主要村道", "65", "online", "13800000003", 6, 5, "accept"),
        P("culture-rooms", "村级文化活动室提升",
          "村里的文化活动室年久失修，没有桌椅和书籍，建议提升改造。", "文体服务", "foxing",
          "佛星镇 5 个村", "40", "deputy", "foxing-d021", 9, 3, "accept"),
        P("left-behind", "留守儿童关爱服务",
          "镇上留守儿童多，放学后没人看管，建议办留守儿童之家，配志愿者辅导作业。",
          "困难群体救助", "foxing", "佛星镇中心小学", "30", "letter", "佛星镇中心小学来信", 10, 4,
          "accept"),
        P("clinic-night", "镇卫生院夜间急诊",
          "来电反映：晚上急病要送县城，建议镇卫生院开设夜间急诊。", "卫生健康", "foxing",
          "佛星镇卫生院", "90", "hotline", HOTLINE, 12, 2, "reject",
          "属于县级卫生健康部门事权，已纳入县级项目统筹安排"),
        P("market-traffic", "赶集日场镇交通拥堵",
          "赶集日场镇车辆乱停，堵得走不动，建议规划临时停车点。", "交通出行", "foxing",
          "佛星镇场镇", "25", "online", "13800000003", 14, 2, "accept"),
    ),
    candidates=(
        C("sewer", "场镇雨污管网改造", "改造佛星镇场镇雨污管网，解决污水直排和街面积水。",
          "佛星镇规划建设和生态环境办公室", (("县级补助", "120"), ("镇级财政", "60")),
          ("改造雨污管网 2.6 公里",), (0, 10, 31), ("sewer",), 41),
        C("village-roads", "村组道路硬化", "硬化佛星镇 4 个村的村组道路 6 公里。",
          "佛星镇农业农村办公室", (("县级补助", "160"), ("镇级财政", "80")),
          ("硬化村组道路 6 公里",), (0, 11, 30), ("village-roads",), 38),
        C("street-lights", "场镇及村道路灯安装", "在场镇和主要村道安装太阳能路灯。",
          "佛星镇规划建设和生态环境办公室", (("镇级财政", "65"),),
          ("安装太阳能路灯 260 盏",), (0, 6, 30), ("street-lights",), 33),
        C("culture-rooms", "村级文化活动室提升", "提升改造 5 个村的文化活动室，配齐桌椅和图书。",
          "佛星镇社会事务办公室", (("镇级财政", "40"),),
          ("提升村级文化活动室 5 个",), (0, 9, 30), ("culture-rooms",), 27, works=False),
        C("left-behind", "留守儿童关爱服务", "在镇中心小学办留守儿童之家，组织志愿者课后辅导。",
          "佛星镇社会事务办公室", (("镇级财政", "30"),),
          ("建成留守儿童之家 1 个", "课后辅导 200 名儿童"), (0, 12, 31), ("left-behind",), 19,
          works=False),
    ),
    comments=(),
    ballot_day=(1, 19), session_opens=0, absent=4, check_ins=10,
    scrutineers=("foxing-d012", "foxing-d030"), late_plans=(),
)

FOXING_CURRENT = SolicitingYear(
    jurisdiction="foxing", seats=4, gov="foxing-gov", opened_after=4,
    proposals=(
        P("bridge", "村道危桥改造",
          "石板沟村的便民桥桥面开裂，汛期过桥很危险，建议改造危桥。", "交通出行", "foxing",
          "佛星镇石板沟", "85", "deputy", "foxing-d017", 2, 4, "accept"),
        P("elder-station", "村级养老服务站",
          "村里老人多，白天没人照看，建议建设村级养老服务站，提供日间照料。", "社会保障",
          "foxing", "佛星镇各村", "60", "visit", "佛星镇入户走访问卷", 5, 5),
        P("irrigation", "灌溉渠道清淤维修",
          "灌溉渠道多年没清淤，栽秧时水放不下来，建议清淤维修。", "城乡建设", "foxing",
          "佛星镇各村", "70", "online", "13800000003", 9, 3),
        P("broadband", "偏远村组网络信号差",
          "山里几个村组手机信号差，孩子上网课、老人视频都不行，建议建设通信基站。", "城乡建设",
          "foxing", "佛星镇偏远村组", "40", "hotline", HOTLINE, 15, 2),
    ),
)

JINSHUN_CURRENT = SolicitingYear(
    jurisdiction="jinshun", seats=5, gov="jinshun-gov", opened_after=2,
    proposals=(
        P("market-parking", "场镇农贸市场周边停车",
          "农贸市场改造好了，可赶集日周边还是乱停车，建议划定停车位。", "交通出行", "jinshun",
          "金顺镇场镇", "30", "online", "13800000001", 1, 6, "accept"),
        P("village-road", "村道加宽",
          "通往高峰村的村道只有 3 米宽，客车进不来，建议加宽到 4.5 米。", "交通出行", "jinshun",
          "金顺镇高峰村", "160", "deputy", "jinshun-d003", 3, 5, "accept"),
        P("school-crossing", "小学门口交通安全设施",
          "金顺镇小学门口就是公路，车速快，建议设置减速带、斑马线和警示灯。", "公共安全",
          "jinshun", "金顺镇小学", "20", "online", "13800000011", 4, 8),
        P("toilets", "场镇公厕改造",
          "来电反映：场镇公厕又脏又旧，赶集日排长队，建议改造并增加蹲位。", "城乡建设", "jinshun",
          "金顺镇场镇", "35", "hotline", HOTLINE, 6, 3),
        P("elder-care", "村级养老服务站",
          "子女外出打工，老人在家没人照应，建议在村里办养老服务站。", "社会保障", "jinshun",
          "金顺镇各村", "55", "visit", "金顺镇入户走访问卷", 8, 5),
        P("canals", "灌溉渠道维修",
          "几条灌溉渠道垮塌漏水，建议维修，保证栽秧用水。", "城乡建设", "jinshun", "金顺镇各村",
          "60", "deputy", "jinshun-d011", 11, 3),
        P("water-pipes", "场镇自来水管网老化",
          "来电反映：场镇自来水管经常爆裂，停水修管一停就是一天，建议更换老化管网。",
          "城乡建设", "jinshun", "金顺镇场镇", "90", "hotline", HOTLINE, 14, 4),
        P("fitness", "村级健身场地",
          "村里没有健身场地，建议在村委会旁建小型健身广场。", "文体服务", "jinshun", "金顺镇各村",
          "40", "online", "13800000011", 19, 2),
    ),
)
