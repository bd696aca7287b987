"""Small create_x() helpers for tests; they call the services, as the app does."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.passwords import hash_password
from app.auth.roles import Role
from app.models import Jurisdiction, User

PASSWORD = "test-pass-123"
_HASH = hash_password(PASSWORD)  # one argon2 hash for every test account: keeps tests fast

JURISDICTIONS = [
    ("lezhi", "乐至县", "county", None),
    ("jinshun", "金顺镇", "township", "lezhi"),
    ("nanta", "南塔街道", "street", "lezhi"),
    ("anyue", "安岳县", "county", None),
]


def run(client: TestClient, fn, *args, **kwargs):
    """Run `await fn(session, *args, **kwargs)` in the app's loop, committed."""

    async def call():
        async with AsyncSession(client.app.state.write_engine, expire_on_commit=False) as s:
            result = await fn(s, *args, **kwargs)
            await s.commit()
            return result

    return client.portal.call(call)


def create_jurisdiction(client: TestClient, code: str, name: str, level: str,
                        parent: str | None = None, settings: dict | None = None) -> None:
    async def add(session):
        session.add(Jurisdiction(code=code, name=name, level=level, parent_code=parent,
                                 settings=settings or {}))

    run(client, add)


def create_user(client: TestClient, username: str, role: str, jurisdiction: str = "lezhi", *,
                must_change_password: bool = False, password_hash: str | None = None) -> User:
    async def add(session):
        user = User(username=username, display_name=f"测试{username}", role=role,
                    jurisdiction_code=jurisdiction, password_hash=password_hash or _HASH,
                    must_change_password=must_change_password)
        session.add(user)
        await session.flush()
        return user

    return run(client, add)


def token_headers(client: TestClient, username: str, password: str = PASSWORD) -> dict:
    r = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def page_login(client: TestClient, username: str, password: str = PASSWORD):
    """Log in through the form, as a browser does (fetching the CSRF cookie first)."""
    client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrftoken": client.cookies.get("csrftoken", ""),
                                       "next": "/"}, follow_redirects=False)


def csrf(client: TestClient) -> str:
    if "csrftoken" not in client.cookies:
        client.get("/")
    return client.cookies.get("csrftoken")


@dataclass
class World:
    """Who exists in a test: users by role, and their API headers."""

    client: TestClient
    users: dict[str, User] = field(default_factory=dict)
    _headers: dict[str, dict] = field(default_factory=dict)

    def headers(self, who: str) -> dict:
        if who == "anonymous":
            return {}
        if who not in self._headers:
            self._headers[who] = token_headers(self.client, self.users[who].username)
        return self._headers[who]


ROLE_ACCOUNTS = {
    "admin": (Role.admin, "lezhi"),
    "resident": (Role.resident, "lezhi"),
    "deputy": (Role.deputy, "lezhi"),
    "gov_staff": (Role.gov_staff, "lezhi"),
    "unit_staff": (Role.unit_staff, "lezhi"),
    "congress_staff": (Role.congress_staff, "lezhi"),
    "other_gov_staff": (Role.gov_staff, "anyue"),
    "other_congress_staff": (Role.congress_staff, "anyue"),
    "township_congress_staff": (Role.congress_staff, "jinshun"),
}


def build_world(client: TestClient, settings: dict | None = None) -> World:
    for code, name, level, parent in JURISDICTIONS:
        create_jurisdiction(client, code, name, level, parent,
                            settings=settings if code == "lezhi" else None)
    world = World(client)
    for key, (role, j) in ROLE_ACCOUNTS.items():
        world.users[key] = create_user(client, key.replace("_", "-"), role, j)
    return world


def set_jurisdiction_settings(client: TestClient, code: str, **values) -> None:
    async def update(session):
        j = await session.get(Jurisdiction, code)
        j.settings = {**(j.settings or {}), **values}
        session.add(j)

    run(client, update)


def seed_reviewed_candidates(client: TestClient, cycle_id: str, count: int) -> list[str]:
    """Put `count` reviewed candidates straight into a cycle (for tests of later phases)."""
    from datetime import date
    from decimal import Decimal

    from sqlalchemy import select

    from app.models import Candidate, Cycle, ResponsibleUnit

    async def add(session):
        cycle = await session.get(Cycle, cycle_id)
        unit = await session.scalar(select(ResponsibleUnit).where(
            ResponsibleUnit.jurisdiction_code == cycle.jurisdiction_code).limit(1))
        if unit is None:
            unit = ResponsibleUnit(jurisdiction_code=cycle.jurisdiction_code, name="县交通运输局")
            session.add(unit)
            await session.flush()
        creator = await session.scalar(select(User.id).limit(1))
        ids = []
        for i in range(count):
            c = Candidate(cycle_id=cycle_id, title=f"候选项目{i + 1}", summary="测试用候选项目摘要内容",
                          responsible_unit_id=unit.id, budget_wan=Decimal("100"),
                          deadline=date(cycle.year, 12, 31), state="reviewed",
                          created_by=creator)
            session.add(c)
            ids.append(c.id)
        await session.flush()
        return ids

    return run(client, add)


def count_selects(client: TestClient, url: str) -> int:
    """How many SELECT statements answering GET `url` takes (200 expected)."""
    engine = client.app.state.engine.sync_engine
    seen: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        r = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    assert r.status_code == 200, r.text
    return len([s for s in seen if s.lstrip().upper().startswith("SELECT")])
