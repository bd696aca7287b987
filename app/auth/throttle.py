"""Login throttling per account and per address, in a store every worker shares."""

from __future__ import annotations

from limits import RateLimitItemPerSecond
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from app.config import Settings
from app.errors import TooManyRequests


def make_storage(settings: Settings) -> Storage:
    """The counter store shared by every worker (memory:// only for one process)."""
    uri = settings.rate_limit_url or "memory://"
    return storage_from_string(uri if uri.startswith("async+") else f"async+{uri}")


class LoginThrottle:
    """Counts failed logins; refuses further tries once a limit is reached inside the window."""

    def __init__(self, settings: Settings, storage: Storage | None = None):
        self.storage: Storage = storage or make_storage(settings)
        self.limiter = MovingWindowRateLimiter(self.storage)
        window = settings.login_window_seconds
        self.per_account = RateLimitItemPerSecond(settings.login_max_failures_per_account, window)
        self.per_address = RateLimitItemPerSecond(settings.login_max_failures_per_address, window)
        self.window = window

    def _keys(self, username: str, address: str):
        return ((self.per_account, "login-account", username.lower()),
                (self.per_address, "login-address", address))

    async def check(self, username: str, address: str) -> None:
        """Raise 429 if this account or this address has failed too often lately."""
        for item, scope, key in self._keys(username, address):
            if not await self.limiter.test(item, scope, key):
                minutes = max(1, self.window // 60)
                raise TooManyRequests(
                    f"Too many failed log-ins; wait {minutes} minutes and try again, "
                    "or ask your administrator to reset the password.",
                    code="login_throttled", headers={"Retry-After": str(self.window)},
                    zh=f"登录失败次数过多，请 {minutes} 分钟后再试，或请管理员重置密码。")

    async def failed(self, username: str, address: str) -> None:
        """Count one failed attempt against the account and the address."""
        for item, scope, key in self._keys(username, address):
            await self.limiter.hit(item, scope, key)

    async def succeeded(self, username: str) -> None:
        """A good password clears the account's count (the address keeps its own)."""
        await self.limiter.clear(self.per_account, "login-account", username.lower())

    async def reset(self) -> None:
        await self.storage.reset()
