"""Password hashing with passlib: argon2 for new hashes; bcrypt still verifies and is upgraded."""

from __future__ import annotations

import asyncio
import secrets

from passlib.context import CryptContext

from app.errors import Invalid

# argon2id at OWASP's recommended minimum (19 MiB, t=2, p=1): ~20 ms a hash on this hardware,
# so importing a 450-deputy roster stays quick.
pwd_context = CryptContext(
    schemes=["argon2", "bcrypt"],
    deprecated="auto",
    argon2__type="ID",
    argon2__memory_cost=19456,
    argon2__time_cost=2,
    argon2__parallelism=1,
)

MIN_LENGTH = 8
MAX_LENGTH = 128
# Letters and digits that cannot be confused when read aloud or copied from paper.
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"


def hash_password(password: str) -> str:
    """Hash with the preferred scheme (argon2)."""
    return pwd_context.hash(password)


async def hash_password_async(password: str) -> str:
    """Hash off the event loop (argon2 is deliberately slow)."""
    return await asyncio.to_thread(pwd_context.hash, password)


def verify_password(password: str, hashed: str) -> tuple[bool, str | None]:
    """Check a password; the second value is a new hash when the stored one is outdated."""
    try:
        return pwd_context.verify_and_update(password, hashed)
    except (ValueError, TypeError):
        return False, None


async def verify_password_async(password: str, hashed: str) -> tuple[bool, str | None]:
    """`verify_password` off the event loop."""
    return await asyncio.to_thread(verify_password, password, hashed)


def check_policy(password: str) -> None:
    """Refuse passwords that are too short, too long or all one kind of character."""
    if len(password) < MIN_LENGTH:
        raise Invalid(f"The password must have at least {MIN_LENGTH} characters.",
                      code="password_too_short", zh=f"密码至少 {MIN_LENGTH} 位。")
    if len(password) > MAX_LENGTH:
        raise Invalid(f"The password may have at most {MAX_LENGTH} characters.",
                      code="password_too_long", zh=f"密码最多 {MAX_LENGTH} 位。")
    if password.isdigit() or len(set(password)) < 4:
        raise Invalid("The password is too simple: mix letters and digits.",
                      code="password_too_simple", zh="密码太简单，请混合使用字母和数字。")


def generate_password(length: int = 10) -> str:
    """A random initial password that is easy to read off a printed list."""
    while True:
        pw = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if any(c.isdigit() for c in pw) and any(c.isalpha() for c in pw):
            return pw


# A hash to verify against when the username is unknown, so timing does not reveal it.
DUMMY_HASH = hash_password("not-a-real-password-0")
