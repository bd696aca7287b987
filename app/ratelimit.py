"""Rate limits on what people may do often: SMS codes, submissions, comments.

Counters live in the store named by MINSHENG_RATE_LIMIT_URL (Redis in production), shared by all
workers; the `limits` library keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter

from app.auth.roles import Role
from app.errors import TooManyRequests


@dataclass(frozen=True)
class Rule:
    """A named limit and what to tell the person who reaches it."""

    name: str
    items: tuple[RateLimitItem, ...]
    message: str
    zh: str


SMS_PER_PHONE = Rule("sms-phone", (RateLimitItemPerMinute(1), RateLimitItemPerHour(5)),
                     "A code was sent to this number recently; wait a minute.",
                     "验证码刚刚发过，请稍等一分钟再试；每个号码每小时最多 5 次。")
SMS_PER_ADDRESS = Rule("sms-address", (RateLimitItemPerHour(20),),
                       "Too many codes requested from this network; try again later.",
                       "当前网络请求验证码太频繁，请稍后再试。")
CODE_CHECKS_PER_PHONE = Rule("code-check", (RateLimitItemPerHour(10),),
                             "Too many wrong codes for this number; request a new code later.",
                             "验证码错误次数过多，请稍后重新获取。")
# Codes tried from one address across many numbers (a street office registering its residents
# stays far below).
CODE_CHECKS_PER_ADDRESS = Rule("code-check-address", (RateLimitItemPerHour(100),),
                               "Too many codes tried from this network; try again later.",
                               "当前网络验证码尝试次数过多，请稍后再试。")
PROPOSALS_PER_PERSON = Rule("proposal", (RateLimitItemPerHour(5), RateLimitItemPerHour(20, 24)),
                            "You have submitted many proposals recently; try again later.",
                            "您近期提交的建议较多，请稍后再提交；每小时最多 5 条，每天最多 20 条。")
# Staff recording proposals received by another channel (12345, visits, letters, deputies)
# type them one after another: far above a busy hotline day for one account, yet a runaway
# script stops within minutes.
STAFF_PROPOSALS_PER_ACCOUNT = Rule(
    "proposal-staff", (RateLimitItemPerHour(300), RateLimitItemPerHour(2000, 24)),
    "This account has recorded very many proposals in a short time; try again later.",
    "本账号短时间内代录的建议过多，请稍后再试；每小时最多 300 条，每天最多 2000 条。")
# A hotline export import (each at most app/proposals/hotline_file.py MAX_ROWS rows).
HOTLINE_IMPORTS_PER_ACCOUNT = Rule(
    "hotline-import", (RateLimitItemPerHour(20),),
    "This account has imported many files in the last hour; try again later.",
    "本账号一小时内导入的文件过多，请稍后再试；每小时最多 20 次。")
COMMENTS_PER_PERSON = Rule("comment", (RateLimitItemPerMinute(3), RateLimitItemPerHour(30)),
                           "You are commenting too fast; wait a little.",
                           "评论太频繁，请稍等片刻。")


def proposals_rule(role: str) -> Rule:
    """The limit on filing proposals for an account of `role` (staff record others')."""
    return STAFF_PROPOSALS_PER_ACCOUNT if role == Role.gov_staff else PROPOSALS_PER_PERSON


class RateLimits:
    """Check and use up a rule's units for a key, refusing with 429 when they are gone.

    A request that may be refused for another reason checks first and hits only once what it
    does was stored, so a refused attempt uses up nothing (two requests at the same moment may
    both pass the check: a limit, not an exact count).
    """

    def __init__(self, storage: Storage):
        self.limiter = MovingWindowRateLimiter(storage)

    async def check(self, rule: Rule, key: str) -> None:
        """429 if `key` has no unit of `rule` left; uses nothing up."""
        for item in rule.items:
            if not await self.limiter.test(item, rule.name, key):
                raise TooManyRequests(rule.message, code="rate_limited", zh=rule.zh,
                                      headers={"Retry-After": str(item.get_expiry())})

    async def hit(self, rule: Rule, key: str) -> None:
        """Use up one unit of `rule` for `key` (after what it limits was done)."""
        for item in rule.items:
            await self.limiter.hit(item, rule.name, key)

    async def consume(self, rule: Rule, key: str) -> None:
        """Check, then use up one unit: for attempts that count whether they succeed or not."""
        await self.check(rule, key)
        await self.hit(rule, key)
