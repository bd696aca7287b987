"""JSON shapes of the account API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.auth.roles import Role
from app.schemas import Input

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{2,63}$"


class UserIn(Input):
    username: str = Field(min_length=3, max_length=64, pattern=USERNAME_PATTERN)
    password: str = Field(min_length=1, max_length=128)
    display_name: str = Field(min_length=1, max_length=100)
    role: Role
    # Required for every role but admin: an administrator belongs to no jurisdiction.
    jurisdiction_code: str | None = Field(default=None, min_length=1, max_length=32)
    # Required for unit_staff (their responsible unit, of the same jurisdiction); no other role.
    unit_id: str | None = Field(default=None, min_length=1, max_length=32)


class UserCreated(BaseModel):
    id: str
    username: str
    role: str


class UserOut(BaseModel):
    id: str
    username: str
    display_name: str
    role: str
    jurisdiction_code: str | None  # None: an administrator, who acts in every jurisdiction
    unit_id: str | None = None  # unit_staff: their responsible unit
    is_active: bool
    must_change_password: bool


class Credential(BaseModel):
    username: str
    initial_password: str


class DeputyImportResult(BaseModel):
    created: int
    credentials: list[Credential]


class PasswordChange(Input):
    current_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=1, max_length=128)


class GrantIn(Input):
    jurisdiction_code: str = Field(min_length=1, max_length=32)


class GrantOut(BaseModel):
    user_id: str
    jurisdiction_code: str


class TokenIn(Input):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=128)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: str
    expires_in: int


class LoginSessionOut(BaseModel):
    """One browser logged in to the pages (登录会话); tokens of the API are not listed."""

    created_at: datetime
    last_seen_at: datetime  # written at most every five minutes
    expires_at: datetime
    device: str  # the browser and system, from its User-Agent
    address: str
