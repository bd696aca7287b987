"""Accounts: creation, the deputy roster import, log-in, password change, grants."""

from __future__ import annotations

import asyncio
import csv
import io
import re

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth import login_sessions
from app.auth.deps import ensure_scope
from app.auth.passwords import (
    DUMMY_HASH,
    check_policy,
    generate_password,
    hash_password,
    hash_password_async,
    verify_password_async,
)
from app.auth.roles import Role
from app.errors import Conflict, Forbidden, Invalid, NotAuthenticated, NotFound
from app.jurisdictions import service as jurisdictions
from app.models import JurisdictionGrant, ResponsibleUnit, User
from app.textfile import decode_table_text
from app.users.schemas import USERNAME_PATTERN

MAX_IMPORT_ROWS = 5000
_USERNAME_RE = re.compile(USERNAME_PATTERN)


async def get(session: AsyncSession, user_id: str) -> User:
    """Load a user or 404."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("There is no such user.", code="unknown_user", zh="找不到该用户。")
    return user


async def by_username(session: AsyncSession, username: str) -> User | None:
    return await session.scalar(select(User).where(User.username == username))


async def _check_may_create(session: AsyncSession, actor: User, role: str,
                            jurisdiction_code: str | None) -> None:
    if jurisdiction_code is None:
        if actor.role != Role.admin:
            raise Forbidden("Only administrators create accounts; congress staff create the "
                            "deputies of their own jurisdiction.", code="permission_denied",
                            zh="只有系统管理员可以创建账号；人大工作人员可创建本级代表账号。")
        if role != Role.admin:
            raise Invalid(f"A {role} account belongs to a jurisdiction: give jurisdiction_code "
                          "(only an admin may have none).", code="jurisdiction_required",
                          zh="除系统管理员外，每个账号都须选择所属行政区域。")
        return
    jurisdiction = await jurisdictions.get(session, jurisdiction_code)
    if actor.role == Role.admin:
        pass
    elif actor.role == Role.congress_staff and role == Role.deputy:
        await ensure_scope(session, actor, jurisdiction_code)
    else:
        raise Forbidden("Only administrators create accounts; congress staff create the deputies "
                        "of their own jurisdiction.", code="permission_denied",
                        zh="只有系统管理员可以创建账号；人大工作人员可创建本级代表账号。")
    if role == Role.deputy and not jurisdiction.has_congress:
        raise Invalid(f"{jurisdiction.name} is a street (街道) with no congress, so it has no "
                      "deputies; put them in the county or a township.", code="no_congress",
                      zh=f"{jurisdiction.name}是街道，不设人大，没有本级代表。")


async def create(session: AsyncSession, *, actor: User, username: str, password: str,
                 display_name: str, role: str, jurisdiction_code: str | None,
                 must_change_password: bool = False, unit_id: str | None = None) -> User:
    """Create one account after checking who may create it and the password policy.

    `jurisdiction_code` is required for every role but admin; an admin may have none.
    `unit_id` is required for unit_staff — an active responsible unit of that jurisdiction —
    and refused for any other role.
    """
    await _check_may_create(session, actor, role, jurisdiction_code)
    await _check_unit(session, role, jurisdiction_code, unit_id)
    return await _store(session, actor=actor.username, username=username, password=password,
                        display_name=display_name, role=role,
                        jurisdiction_code=jurisdiction_code,
                        must_change_password=must_change_password, unit_id=unit_id)


async def _check_unit(session: AsyncSession, role: str, jurisdiction_code: str | None,
                      unit_id: str | None) -> None:
    if role != Role.unit_staff:
        if unit_id:
            raise Invalid("Only a unit_staff account belongs to a responsible unit; leave "
                          "unit_id out.", code="unit_not_allowed",
                          zh="只有责任单位账号需要选择责任单位。")
        return
    if not unit_id:
        raise Invalid("A unit_staff account belongs to one responsible unit: give unit_id.",
                      code="unit_required", zh="责任单位账号须选择所属责任单位。")
    unit = await session.get(ResponsibleUnit, unit_id)
    if unit is None or not unit.active or unit.jurisdiction_code != jurisdiction_code:
        raise Invalid(f"No active responsible unit {unit_id[:32]} in {jurisdiction_code}; "
                      "choose one of the account's jurisdiction.", code="unknown_unit",
                      zh="所选责任单位不属于该行政区域，或已停用。")


async def create_admin(session: AsyncSession, *, username: str, password: str,
                       display_name: str, actor: str = "cli") -> User:
    """Create an administrator, who belongs to no jurisdiction (`minsheng create-admin`).

    Needs no other account or jurisdiction: this is how an empty installation starts.
    """
    if not _USERNAME_RE.match(username):
        raise Invalid(f"The username '{username[:64]}' must be 3–64 letters, digits or . _ @ -, "
                      "starting with a letter or digit.", code="invalid_username")
    return await _store(session, actor=actor, username=username, password=password,
                        display_name=display_name, role=Role.admin, jurisdiction_code=None,
                        must_change_password=False)


async def _store(session: AsyncSession, *, actor: str, username: str, password: str,
                 display_name: str, role: str, jurisdiction_code: str | None,
                 must_change_password: bool, unit_id: str | None = None) -> User:
    display_name = display_name.strip()
    if not display_name:
        raise Invalid("Give the person's name (display_name).", code="display_name_required", zh="请填写姓名。")
    check_policy(password, username=username, display_name=display_name)
    if await by_username(session, username) is not None:
        raise Conflict(f"The username '{username}' is taken; choose another.",
                       code="username_taken", zh=f"用户名 {username} 已被使用，请换一个。")
    user = User(username=username, display_name=display_name, role=role,
                jurisdiction_code=jurisdiction_code, unit_id=unit_id,
                password_hash=await hash_password_async(password),
                must_change_password=must_change_password)
    session.add(user)
    await session.flush()
    await audit.record(session, actor=actor, action="user.create", entity_type="user",
                       entity_id=user.id, data={"username": username, "role": role,
                                                "jurisdiction_code": jurisdiction_code,
                                                **({"unit_id": unit_id} if unit_id else {})})
    return user


def _decode_csv(data: bytes) -> str:
    if (decoded := decode_table_text(data)) is not None:
        return decoded[0]
    raise Invalid("The file is not UTF-8 or GB18030 text; save it as CSV (UTF-8).",
                  code="csv_encoding",
                  zh="文件编码无法识别，请另存为 UTF-8 编码的 CSV 文件。")


def parse_roster(data: bytes) -> list[dict[str, str]]:
    """Read a roster CSV (`username,display_name[,password]`), checking every row first."""
    text = _decode_csv(data)
    if "\x00" in text:
        raise Invalid("The file contains NUL characters; save it again as plain CSV text.",
                      code="csv_malformed", zh="文件中含有非法字符，请另存为纯文本 CSV 文件。")
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise Invalid("The file is empty; the first line must be "
                      "'username,display_name[,password]'.", code="csv_empty",
                      zh="文件是空的。第一行应为 username,display_name[,password]。") from None
    except csv.Error as exc:
        raise Invalid(f"The file is not valid CSV: {exc}.", code="csv_malformed") from None
    if header not in (["username", "display_name"], ["username", "display_name", "password"]):
        raise Invalid("The first line must be exactly 'username,display_name' or "
                      "'username,display_name,password'.", code="csv_header",
                      zh="第一行必须是 username,display_name 或 username,display_name,password。")
    rows, problems, seen = [], [], set()
    try:
        for line_no, raw in enumerate(reader, start=2):
            if not any(cell.strip() for cell in raw):
                continue
            if len(raw) > len(header) or len(raw) < 2:
                problems.append(f"line {line_no}: expected {len(header)} columns")
                continue
            row = dict(zip(header, (c.strip() for c in raw), strict=False))
            username, name = row.get("username", ""), row.get("display_name", "")
            password = row.get("password") or ""
            if not _USERNAME_RE.match(username):
                problems.append(f"line {line_no}: username '{username[:40]}' must be 3–64 "
                                "letters, digits or . _ @ -")
            elif username.lower() in seen:
                problems.append(f"line {line_no}: username '{username}' appears twice")
            seen.add(username.lower())
            if not name or len(name) > 100:
                problems.append(f"line {line_no}: display_name must be 1–100 characters")
            if password:
                try:
                    check_policy(password, username=username, display_name=name)
                except Invalid as exc:
                    problems.append(f"line {line_no}: {exc.message}")
            rows.append({"username": username, "display_name": name, "password": password})
            if len(rows) > MAX_IMPORT_ROWS:
                raise Invalid(f"At most {MAX_IMPORT_ROWS} deputies per file.", code="csv_too_long",
                              zh=f"每个文件最多 {MAX_IMPORT_ROWS} 名代表。")
    except csv.Error as exc:
        raise Invalid(f"The file is not valid CSV: {exc}.", code="csv_malformed") from None
    if problems:
        raise Invalid("Nothing was imported. Fix these lines: " + "; ".join(problems[:20]) +
                      ("; …" if len(problems) > 20 else ""), code="csv_rows_invalid",
                      zh="未导入任何代表，请修改以下各行：" + "；".join(problems[:20]))
    if not rows:
        raise Invalid("The file has a header but no deputies.", code="csv_no_rows", zh="文件只有表头，没有代表。")
    return rows


async def _ensure_usernames_free(session: AsyncSession, names: list[str]) -> None:
    taken = set()
    for start in range(0, len(names), 500):
        taken.update(await session.scalars(
            select(User.username).where(User.username.in_(names[start:start + 500]))))
    if taken:
        raise Conflict("Nothing was imported: these usernames are taken already: " +
                       ", ".join(sorted(taken)[:20]), code="username_taken",
                       zh="未导入任何代表，以下用户名已被使用：" + "、".join(sorted(taken)[:20]))


async def import_deputies(session: AsyncSession, *, actor: User, jurisdiction_code: str,
                          data: bytes) -> list[tuple[str, str | None]]:
    """Create every deputy in the roster, or none; returns (username, generated password)."""
    await _check_may_create(session, actor, Role.deputy, jurisdiction_code)
    rows = parse_roster(data)
    await _ensure_usernames_free(session, [r["username"] for r in rows])
    passwords = [r["password"] or generate_password() for r in rows]
    hashes = await asyncio.to_thread(lambda: [hash_password(p) for p in passwords])
    await store_roster(session, actor=actor, jurisdiction_code=jurisdiction_code, people=[
        (row["username"], row["display_name"], hashed, not row["password"])
        for row, hashed in zip(rows, hashes, strict=True)])
    return [(row["username"], None if row["password"] else password)
            for row, password in zip(rows, passwords, strict=True)]


async def store_roster(session: AsyncSession, *, actor: User, jurisdiction_code: str,
                       people: list[tuple[str, str, str, bool]]) -> list[User]:
    """Store checked deputies — (username, display name, password hash, must change password)
    — of one jurisdiction, or none, with the roster's one audit entry (`deputy.import`).

    `import_deputies` calls it once the roster file is read and its passwords hashed; the demo
    (app/demo) calls it with its one shared password hashed once.
    """
    await _check_may_create(session, actor, Role.deputy, jurisdiction_code)
    names = [username for username, *_ in people]
    await _ensure_usernames_free(session, names)
    users = [User(username=username, display_name=name, role=Role.deputy,
                  jurisdiction_code=jurisdiction_code, password_hash=hashed,
                  must_change_password=must_change)
             for username, name, hashed, must_change in people]
    session.add_all(users)
    await session.flush()
    await audit.record(session, actor=actor.username, action="deputy.import",
                       entity_type="jurisdiction", entity_id=jurisdiction_code,
                       data={"created": len(users), "usernames": names})
    return users


async def authenticate(session: AsyncSession, username: str, password: str) -> User:
    """The user whose password this is, re-hashing an outdated hash; else 401."""
    user = await by_username(session, username)
    ok, new_hash = await verify_password_async(password, user.password_hash if user else DUMMY_HASH)
    if user is None or not ok or not user.is_active:
        raise NotAuthenticated("Wrong username or password.", code="bad_credentials",
                               zh="用户名或密码不正确。")
    if new_hash:
        user.password_hash = new_hash
        session.add(user)
    return user


async def change_password(session: AsyncSession, *, user: User, current: str | None, new: str,
                          keep: str | None = None) -> None:
    """Change one's own password; every earlier token and page session stops working (but
    `keep`, the row id of the browser's session that changed it). `current` None: the caller
    has proved the account's phone by an SMS code instead (a forgotten password)."""
    proved_by_sms = current is None
    if proved_by_sms:
        current = ""
    else:
        ok, _ = await verify_password_async(current, user.password_hash)
        if not ok:
            raise Invalid("The current password is wrong.", code="wrong_password",
                          zh="当前密码不正确。")
    if new == current:
        raise Invalid("The new password must differ from the current one.", code="password_same",
                      zh="新密码不能与当前密码相同。")
    check_policy(new, username=user.username, phone=user.phone, display_name=user.display_name)
    user.password_hash = await hash_password_async(new)
    user.must_change_password = False
    user.token_version += 1
    session.add(user)
    await session.flush()
    await login_sessions.end_all(session, user.id, login_sessions.PASSWORD_CHANGE, keep=keep)
    await audit.record(session, actor=user.username, action="user.password_change",
                       entity_type="user", entity_id=user.id,
                       data={"proved_by": "sms_code"} if proved_by_sms else None)


async def grant(session: AsyncSession, *, actor: User, user_id: str,
                jurisdiction_code: str) -> JurisdictionGrant:
    """Let a staff member act in another jurisdiction as well."""
    user = await get(session, user_id)
    await jurisdictions.get(session, jurisdiction_code)
    if user.role in (Role.resident, Role.deputy):
        raise Invalid("Grants are for staff; a deputy belongs to one congress.",
                      code="grant_not_for_role", zh="授权只适用于工作人员。")
    if user.role == Role.admin:
        raise Conflict("An administrator acts in every jurisdiction already.",
                       code="grant_exists", zh="系统管理员已可在所有区域办理。")
    exists = await session.scalar(select(JurisdictionGrant).where(
        JurisdictionGrant.user_id == user_id,
        JurisdictionGrant.jurisdiction_code == jurisdiction_code))
    if exists or user.jurisdiction_code == jurisdiction_code:
        raise Conflict("This user can act there already.", code="grant_exists", zh="该用户已可在此区域办理。")
    row = JurisdictionGrant(user_id=user_id, jurisdiction_code=jurisdiction_code,
                            granted_by=actor.username)
    session.add(row)
    await session.flush()
    await audit.record(session, actor=actor.username, action="user.grant", entity_type="user",
                       entity_id=user_id, data={"jurisdiction_code": jurisdiction_code})
    return row


async def list_users(session: AsyncSession, *, page: int, per_page: int,
                     jurisdiction_code: str | None = None, role: str | None = None
                     ) -> tuple[list[User], int]:
    """A page of accounts, filtered by jurisdiction and role."""
    query = select(User)
    if jurisdiction_code:
        query = query.where(User.jurisdiction_code == jurisdiction_code)
    if role:
        query = query.where(User.role == role)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(User.jurisdiction_code, User.role, User.username)
                                 .offset((page - 1) * per_page).limit(per_page))
    return list(rows), total
