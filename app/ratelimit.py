"""Rate limits on what people may do often: SMS codes, submissions, comments.

Counters live in the store named by MINSHENG_RATE_LIMIT_URL (Redis in production), shared by all
workers; the `limits` library keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter

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
PROPOSALS_PER_PERSON = Rule("proposal", (RateLimitItemPerHour(5), RateLimitItemPerHour(20, 24)),
                            "You have submitted many proposals recently; try again later.",
                            "您近期提交的建议较多，请稍后再提交；每小时最多 5 条，每天最多 20 条。")
COMMENTS_PER_PERSON = Rule("comment", (RateLimitItemPerMinute(3), RateLimitItemPerHour(30)),
                           "You are commenting too fast; wait a little.",
                           "评论太频繁，请稍等片刻。")


class RateLimits:
    """Consume one unit of a rule for a key, or refuse with 429."""

    def __init__(self, storage: Storage):
        self.limiter = MovingWindowRateLimiter(storage)

    async def consume(self, rule: Rule, key: str) -> None:
        for item in rule.items:
            if not await self.limiter.test(item, rule.name, key):
                raise TooManyRequests(rule.message, code="rate_limited", zh=rule.zh,
                                      headers={"Retry-After": str(item.get_expiry())})
        for item in rule.items:
            await self.limiter.hit(item, rule.name, key)
