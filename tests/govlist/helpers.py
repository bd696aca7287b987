"""Helpers for lists decided by the government: a city (合肥市) and a county-level district that
decides by the government (瑶海区), their staff, and a cycle walked through the API to its
comment period (征求意见). Plain functions; every step goes through the API as staff would."""

from __future__ import annotations

from datetime import timedelta

from app.auth.roles import Role
from app.auth.tokens import issue_token
from app.models import Cycle, utcnow
from tests.helpers import World, create_jurisdiction, create_user, run

API = "/api/v1"

# (world key, role, jurisdiction)
GOV_ACCOUNTS = [
    ("hefei_gov", Role.gov_staff, "hefei"),
    ("hefei_congress", Role.congress_staff, "hefei"),
    ("yaohai_gov", Role.gov_staff, "yaohai"),
    ("yaohai_congress", Role.congress_staff, "yaohai"),
    ("yaohai_resident", Role.resident, "yaohai"),
    ("yaohai_deputy", Role.deputy, "yaohai"),
]
STAFF_OF = {"hefei": "hefei_gov", "yaohai": "yaohai_gov"}
NAMES = {"hefei": "合肥市", "yaohai": "瑶海区"}


def ok(r, status: int = 200) -> dict:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return r.json()


def add_government_places(client, world: World, **yaohai_settings) -> World:
    """合肥市 (a city: lists decided by the government by default) and 瑶海区 inside it (a
    county-level district whose setting says `decided_by: government`), with their staff.

    Both solicit for 0 days (tests move on at once) and comment for at least 30.
    """
    create_jurisdiction(client, "hefei", "合肥市", "city", settings={"soliciting_min_days": 0})
    create_jurisdiction(client, "yaohai", "瑶海区", "county", "hefei", settings={
        "decided_by": "government", "soliciting_min_days": 0, **yaohai_settings})
    settings = client.app.state.settings
    for key, role, code in GOV_ACCOUNTS:
        user = create_user(client, key.replace("_", "-"), role, code)
        world.users[key] = user
        world._headers[key] = {
            "Authorization": f"Bearer {issue_token(settings, user.id, user.token_version)}"}
    return world


def new_cycle(client, world: World, code: str = "hefei", year: int = 2026, seats: int = 10,
              by: str | None = None) -> dict:
    """A cycle of `code` in draft (the answer of POST /cycles)."""
    return ok(client.post(f"{API}/cycles", headers=world.headers(by or STAFF_OF[code]), json={
        "jurisdiction_code": code, "year": year, "title": f"{NAMES[code]}{year}年民生实事项目",
        "seats": seats}), 201)


def move(client, world: World, cycle_id: str, to: str, by: str, **body):
    return client.post(f"{API}/cycles/{cycle_id}/transitions", json={"to": to, **body},
                       headers=world.headers(by))


ITEMS = [("新建社区养老服务站", "在三个社区各建一个养老服务站，提供助餐、日间照料。", "区民政局", "300"),
         ("背街小巷路面改造", "改造老城区背街小巷 12 条，解决路面破损、积水问题。", "区住房和城乡建设局", "850"),
         ("中小学校园照明改造", "为全区 20 所中小学更换教室护眼灯具。", "区教育体育局", "120"),
         ("老旧小区加装电梯", "为 30 栋老旧住宅加装电梯。", "区住房和城乡建设局", "1500")]


def reset_rate_limits(client) -> None:
    """Forget the per-person limits (5 proposals an hour, 3 comments a minute): helpers that
    build several cycles for one test would otherwise meet them."""
    client.portal.call(client.app.state.rate_limits.limiter.storage.reset)


def screening_cycle(client, world: World, code: str = "hefei", *, items: int = 3,
                    approve: int | None = None, year: int = 2026) -> tuple[str, list[str],
                                                                            list[str]]:
    """A cycle of `code` in 初定 with `items` candidates, each built from one hotline proposal
    (accepted), the first `approve` (default all) approved by the government meeting:
    (cycle id, candidate ids, proposal ids)."""
    gov = STAFF_OF[code]
    reset_rate_limits(client)
    cycle_id = new_cycle(client, world, code, year=year)["id"]
    for to in ("soliciting",):
        ok(move(client, world, cycle_id, to, gov))
    proposals = []
    for title, summary, _, _ in ITEMS[:items]:
        pid = ok(client.post(f"{API}/cycles/{cycle_id}/proposals", headers=world.headers(gov),
                             json={"title": title, "description": summary, "category": "社会保障",
                                   "location_code": code, "channel": "hotline",
                                   "proposer_name": "张三"}), 201)["id"]
        ok(client.post(f"{API}/proposals/{pid}/review", json={"decision": "accept"},
                       headers=world.headers(gov)))
        proposals.append(pid)
    ok(move(client, world, cycle_id, "screening", gov))
    units = {u for _, _, u, _ in ITEMS[:items]}
    for unit in sorted(units):  # the list may hold them from an earlier year already
        r = client.post(f"{API}/jurisdictions/{code}/units", json={"name": unit},
                        headers=world.headers(gov))
        assert r.status_code in (201, 409), r.text
    candidates = []
    for (title, summary, unit, budget), pid in zip(ITEMS[:items], proposals, strict=True):
        cid = ok(client.post(f"{API}/cycles/{cycle_id}/candidates", headers=world.headers(gov),
                             json={"title": title, "summary": summary, "responsible_unit": unit,
                                   "budget_wan": budget, "deadline": f"{year}-12-31",
                                   "proposal_ids": [pid]}), 201)["id"]
        candidates.append(cid)
    for cid in candidates[:items if approve is None else approve]:
        ok(client.post(f"{API}/candidates/{cid}/transitions",
                       json={"to": "gov_approved", "reason": "区政府常务会议审议通过"},
                       headers=world.headers(gov)))
    return cycle_id, candidates, proposals


def commenting_cycle(client, world: World, code: str = "hefei", *, items: int = 3,
                     year: int = 2026) -> tuple[str, list[str]]:
    """A cycle of `code` in its comment period (征求意见): (cycle id, draft item ids)."""
    cycle_id, candidates, _ = screening_cycle(client, world, code, items=items, year=year)
    ok(move(client, world, cycle_id, "commenting", STAFF_OF[code], reason="发布征求意见稿"))
    return cycle_id, candidates


def period_began(client, cycle_id: str, days_ago: float) -> None:
    """Back-date the start of the current phase (the comment period) by `days_ago` days."""

    async def change(session):
        cycle = await session.get(Cycle, cycle_id)
        cycle.phase_since = utcnow() - timedelta(days=days_ago)
        session.add(cycle)

    run(client, change)


def comment(client, world: World, cycle_id: str, who: str, body: str,
            candidate_id: str | None = None, status: int = 201):
    r = client.post(f"{API}/cycles/{cycle_id}/draft-list/comments", headers=world.headers(who),
                    json={"body": body, **({"candidate_id": candidate_id} if candidate_id
                                           else {})})
    return ok(r, status)


def answer(client, world: World, comment_id: str, who: str, kind: str = "answered",
           text: str = "感谢您的意见，已纳入项目实施方案统筹考虑。"):
    return client.post(f"{API}/comments/{comment_id}/answer", json={"kind": kind, "text": text},
                       headers=world.headers(who))


def adoption(on: str, left_out: list | None = None, meeting: str = "区长办公会",
             number: str = "瑶政〔2026〕3号") -> dict:
    return {"meeting": meeting, "date": on, "document_number": number,
            "left_out": left_out or []}


def announced_cycle(client, world: World, code: str = "yaohai", *, items: int = 3,
                    left_out: int | None = None, comments: int = 2,
                    year: int = 2026) -> tuple[str, list[str]]:
    """A cycle of `code` announced by the government: `comments` comments, each answered, the
    item at index `left_out` (if any) left out by the meeting (区长办公会, 瑶政〔2026〕3号)."""
    from app.timeutil import china_today

    cycle_id, ids = commenting_cycle(client, world, code, items=items, year=year)
    gov = STAFF_OF[code]
    reset_rate_limits(client)
    for i in range(comments):
        c = comment(client, world, cycle_id, "yaohai_resident" if i % 2 == 0 else "deputy",
                    f"第{i + 1}条意见：建议加快实施。", ids[i % len(ids)] if i % 3 else None)
        ok(answer(client, world, c["id"], gov))
    period_began(client, cycle_id, days_ago=31)
    dropped = ([] if left_out is None else
               [{"candidate_id": ids[left_out], "reason": "资金需分年安排，调整到下一年度。"}])
    ok(move(client, world, cycle_id, "announced", gov, reason="研究确定",
            adoption=adoption(china_today().isoformat(), left_out=dropped)))
    return cycle_id, ids
