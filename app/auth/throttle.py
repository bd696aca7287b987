"""Login throttling that slows a guesser without locking out the owner or a hall behind one address.

Counters live in a store every worker shares (Redis in production, `limits`):

- per account *and* address (the pair): the first `login_free_failures` failures cost nothing;
  after that each failure makes the next try from that address for that account wait 2, 4, 8 …
  seconds, at most `login_max_delay_seconds`. The right password clears the pair's count.
- per address: a ceiling of `login_address_max_failures` failures in the window, far above a
  congress hall of deputies behind one NAT mistyping; past it, the address must wait — except
  for accounts that have logged in from there before.
- per account, across addresses: past `login_account_slow_after` failures in the window the
  account is under attack from many addresses and takes one try every
  `login_account_slow_seconds` — slowed, not locked — except from addresses it has logged in
  from before.

Logging in by SMS code (app/auth/sms_login.py) does not pass through here: it is the way out.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerSecond
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from limits.storage import storage_from_string

from app.config import Settings
from app.errors import TooManyRequests

# How long an address where an account logged in stays "known" to that account.
KNOWN_ADDRESS_SECONDS = 30 * 86400


def make_storage(settings: Settings) -> Storage:
    """The counter store shared by every worker (memory:// only for one process)."""
    uri = settings.rate_limit_url or "memory://"
    return storage_from_string(uri if uri.startswith("async+") else f"async+{uri}")


def _wait_text(seconds: int) -> tuple[str, str]:
    if seconds < 60:
        return f"{seconds} seconds", f"{seconds} 秒"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes", f"{minutes} 分钟"


def throttled(seconds: float) -> TooManyRequests:
    """429 saying when to try again, and the way out."""
    seconds = max(1, round(seconds))  # the stores give expiry times to about a second
    en, zh = _wait_text(seconds)
    return TooManyRequests(
        f"Too many failed log-ins; try again in {en}, or log in with a code sent by SMS "
        "(POST /api/v1/auth/sms-code) if the account has a phone number.",
        code="login_throttled", headers={"Retry-After": str(seconds)},
        zh=f"登录失败次数较多，请 {zh}后再试；已登记手机号的账号可以用短信验证码登录并重设密码，"
           "其他账号忘记密码请联系管理员。")


class LoginThrottle:
    """Counts failed logins per (account, address), per address and per account."""

    def __init__(self, settings: Settings, storage: Storage | None = None):
        self.storage: Storage = storage or make_storage(settings)
        self.moving = MovingWindowRateLimiter(self.storage)
        self.fixed = FixedWindowRateLimiter(self.storage)
        self.window = settings.login_window_seconds
        self.free = settings.login_free_failures
        self.max_delay = settings.login_max_delay_seconds
        self.per_address = RateLimitItemPerSecond(settings.login_address_max_failures,
                                                  self.window)
        self.per_account = RateLimitItemPerSecond(settings.login_account_slow_after,
                                                  self.window)
        self.account_pace = RateLimitItemPerSecond(1, settings.login_account_slow_seconds)

    @staticmethod
    def _pair(username: str, address: str) -> str:
        return f"minsheng-login/pair/{username.lower()}/{address}"

    def _delay_key(self, username: str, address: str, failures: int) -> str:
        # One key per failure count: each is set once, with its own lifetime.
        return f"{self._pair(username, address)}/delay/{failures}"

    @staticmethod
    def _known(username: str, address: str) -> str:
        return f"minsheng-login/known/{username.lower()}/{address}"

    def delay_after(self, failures: int) -> int:
        """Seconds the pair waits after its `failures`-th failure (0 while tries are free)."""
        if failures <= self.free:
            return 0
        return min(2 ** min(failures - self.free, 30), self.max_delay)

    async def check(self, username: str, address: str) -> None:
        """Raise 429 (with Retry-After) if this try must wait; the right password waits too.

        Under an attack on the account from many addresses this uses up the account's paced try.
        """
        now = time.time()
        failures = await self.storage.get(self._pair(username, address))
        if failures > self.free:
            lock = self._delay_key(username, address, failures)
            if await self.storage.get(lock) > 0:
                raise throttled(await self.storage.get_expiry(lock) - now)
        if await self.storage.get(self._known(username, address)) > 0:
            return
        if not await self.moving.test(self.per_address, "login-address", address):
            stats = await self.moving.get_window_stats(self.per_address, "login-address", address)
            raise throttled(stats.reset_time - now)
        account = username.lower()
        if not await self.moving.test(self.per_account, "login-account", account):
            if not await self.fixed.hit(self.account_pace, "login-pace", account):
                stats = await self.fixed.get_window_stats(self.account_pace, "login-pace", account)
                raise throttled(stats.reset_time - now)

    async def failed(self, username: str, address: str) -> None:
        """Count one failed attempt against the pair, the address and the account."""
        failures = await self.storage.incr(self._pair(username, address), self.window)
        if delay := self.delay_after(failures):
            await self.storage.incr(self._delay_key(username, address, failures), delay)
        await self.moving.hit(self.per_address, "login-address", address)
        await self.moving.hit(self.per_account, "login-account", username.lower())

    async def succeeded(self, username: str, address: str) -> None:
        """The right password (or SMS code): the pair starts afresh and the address is known."""
        pair = self._pair(username, address)
        failures = await self.storage.get(pair)
        for count in range(self.free + 1, failures + 1):
            await self.storage.clear(self._delay_key(username, address, count))
        await self.storage.clear(pair)
        await self.storage.incr(self._known(username, address), KNOWN_ADDRESS_SECONDS)

    async def end_delay(self, username: str, address: str) -> None:
        """End the pair's current delay as if its time had passed (tests)."""
        failures = await self.storage.get(self._pair(username, address))
        await self.storage.clear(self._delay_key(username, address, failures))

    async def reset(self) -> None:
        await self.storage.reset()
