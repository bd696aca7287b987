"""Password hashing with passlib: argon2 for new hashes; bcrypt still verifies and is upgraded.

The password rule follows NIST SP 800-63B: 8–128 characters and no composition rules, but no
password that is common, personal (the username, the phone number, the site's name) or
repetitive, sequential or a keyboard walk. zxcvbn estimates how guessable a password is, with
the most common passwords of Chinese sites (data/common-passwords-zh.txt, see data/README.md)
and the person's own details as extra dictionaries.
"""

from __future__ import annotations

import asyncio
import secrets
from functools import cache
from importlib import resources

from passlib.context import CryptContext
from zxcvbn import zxcvbn

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
# zxcvbn's score 2 or more: at least ~10^6 guesses, with log-in throttling a long way off.
MIN_SCORE = 2
# The site's names: a password holding one is among the first an attacker tries here.
SITE_WORDS = ("minsheng", "民生")
# zxcvbn's time grows with the length; what it has not matched by here is random enough.
_ESTIMATE_CHARS = 64
_SIMPLE_PATTERNS = frozenset({"repeat", "sequence", "spatial"})
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


@cache
def common_passwords() -> tuple[str, ...]:
    """The bundled list of common passwords, most common first, lower-cased."""
    text = resources.files("app.auth").joinpath("data/common-passwords-zh.txt").read_text()
    return tuple(line for line in text.split() if line)


@cache
def _common_set() -> frozenset[str]:
    return frozenset(common_passwords())


def _personal_words(username: str, phone: str | None) -> list[str]:
    words = [w.lower() for w in (username, phone) if w and len(w) >= 3]
    return [*words, *SITE_WORDS]


def check_policy(password: str, *, username: str = "", phone: str | None = None,
                 display_name: str = "") -> None:
    """Refuse a password that is too short or long, personal, common or simple (422)."""
    if len(password) < MIN_LENGTH:
        raise Invalid(f"The password must have at least {MIN_LENGTH} characters.",
                      code="password_too_short", zh=f"密码至少 {MIN_LENGTH} 位。")
    if len(password) > MAX_LENGTH:
        raise Invalid(f"The password may have at most {MAX_LENGTH} characters.",
                      code="password_too_long", zh=f"密码最多 {MAX_LENGTH} 位。")
    lowered = password.lower()
    if any(word in lowered for word in _personal_words(username, phone)):
        raise Invalid("The password must not contain your username, your phone number or the "
                      "site's name.", code="password_personal",
                      zh="密码不能包含用户名、手机号或网站名称（minsheng、民生）。")
    if lowered in _common_set():
        raise _common()
    inputs = [w for w in (username, phone, display_name) if w] + list(common_passwords())
    result = zxcvbn(password[:_ESTIMATE_CHARS], user_inputs=inputs)
    if result["score"] >= MIN_SCORE:
        return
    if any(match["pattern"] in _SIMPLE_PATTERNS for match in result["sequence"]):
        raise Invalid("The password is too easy to guess: no repeated, sequential or adjacent "
                      "keys (11111111, 12345678, 1qaz2wsx).", code="password_too_simple",
                      zh="密码太容易猜到：不要用重复、连续或键盘上相邻的字符（如 11111111、"
                         "12345678、1qaz2wsx），可以用几个词组成一句话。")
    raise _common()


def _common() -> Invalid:
    return Invalid("The password is one of the most common ones and easily guessed; choose "
                   "another, e.g. a few words that make a phrase.", code="password_common",
                   zh="这是常见密码，很容易被猜中，请换一个；可以用几个词组成一句话。")


def generate_password(length: int = 10) -> str:
    """A random initial password that is easy to read off a printed list."""
    while True:
        pw = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if any(c.isdigit() for c in pw) and any(c.isalpha() for c in pw):
            try:
                check_policy(pw)
            except Invalid:
                continue
            return pw


# A hash to verify against when the username is unknown, so timing does not reveal it.
DUMMY_HASH = hash_password("not-a-real-password-0")
