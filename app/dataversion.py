"""The data's version (数据版本): a number that every write which went through moves on, shared by
all the workers that serve one database, so that a kept rendering of a page (app/caching.py) is
served only while nothing it shows can have changed.

Where it lives (MINSHENG_DATA_VERSION_URL):

- unset: in Redis when MINSHENG_RATE_LIMIT_URL is a redis:// address (production requires a shared
  rate-limit store, so several machines sharing one PostgreSQL share this too), otherwise in the
  file `var/data-version` (8 bytes, memory-mapped), shared by the workers of one machine;
- `redis://host:port/db`: that Redis (one INCR per write; one MGET per turn of the event loop,
  shared by the requests that ask within it);
- `file:///path/to/file`: that file.

Beside it is a second number, the sessions' version (会话版本), which the writes that change no
page but somebody's login or account move on (logging in and out, one's own password and
sessions: app/caching.py PRIVATE_WRITES). Who a logged-in visitor is (app/auth/page_identity.py)
is remembered only while neither number has moved.

A write moves the version on after its commit and before its answer goes out (app/caching.py), so
the writer, and anyone whose request starts after that answer, on any worker, gets the change. A
reader reads the version before it reads the data, so a rendering is never kept under a version
newer than what it shows. The `minsheng` commands that write move it on too (app/cli.py). Changes
made outside the app (SQL by hand) are not seen: kept renderings also expire after
MINSHENG_PAGE_CACHE_SECONDS.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import logging
import mmap
import os
import struct
from pathlib import Path
from typing import Protocol

from app.config import Settings, data_dir

log = logging.getLogger("minsheng")
_WORD = struct.Struct("<Q")


class DataVersion(Protocol):
    async def current(self) -> int: ...

    async def both(self) -> tuple[int, int]:
        """(the data's version, the sessions' version), read together."""

    async def bump(self) -> None: ...

    async def bump_sessions(self) -> None: ...

    def bump_now(self) -> None:
        """Move the version on from synchronous code (the command line)."""

    async def close(self) -> None: ...


class FileVersion:
    """The versions as two 8-byte words of a memory-mapped file (the data's, the sessions'):
    reading them is a memory read; moving one on takes the file's lock for the increment, so two
    workers never lose one."""

    SIZE = 2 * _WORD.size

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(self._fd).st_size < self.SIZE:
            os.ftruncate(self._fd, self.SIZE)  # an 8-byte file of an older release keeps its word
        self._map = mmap.mmap(self._fd, self.SIZE)

    def read(self, offset: int = 0) -> int:
        return _WORD.unpack_from(self._map, offset)[0]

    async def current(self) -> int:
        return self.read()

    async def both(self) -> tuple[int, int]:
        return self.read(), self.read(_WORD.size)

    def bump_now(self, offset: int = 0) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            _WORD.pack_into(self._map, offset, (self.read(offset) + 1) % (1 << 64))
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    async def bump(self) -> None:
        self.bump_now()

    async def bump_sessions(self) -> None:
        self.bump_now(_WORD.size)

    def close_now(self) -> None:
        self._map.close()
        os.close(self._fd)

    async def close(self) -> None:
        self.close_now()


class _SharedRead:
    """One read shared by every request that asks while it has not been sent yet.

    A request may use a version read that was *sent after it began*: any write answered before
    it began is counted in it. So the requests that ask within one turn of the event loop wait
    for one read, sent at the end of that turn, instead of one round trip each — under load many
    requests arrive in a turn. A read already sent is never joined."""

    def __init__(self, read) -> None:
        self._read = read
        self._next: asyncio.Future | None = None

    async def __call__(self):
        if self._next is None:
            loop = asyncio.get_running_loop()
            self._next = loop.create_future()
            loop.call_soon(self._send)
        return await asyncio.shield(self._next)

    def _send(self) -> None:
        future, self._next = self._next, None
        task = asyncio.ensure_future(self._read())

        def settle(done: asyncio.Task) -> None:
            if future.cancelled():
                return
            if done.cancelled():
                future.cancel()
            elif done.exception() is not None:
                future.set_exception(done.exception())
            else:
                future.set_result(done.result())

        task.add_done_callback(settle)


class RedisVersion:
    """The version as one Redis key, named after the database so that installations sharing a
    Redis do not share it; the sessions' version beside it. Both are read together, in one MGET
    shared by the requests of one turn of the event loop (_SharedRead)."""

    def __init__(self, url: str, database_url: str) -> None:
        import coredis

        self.url = url
        self.key = "minsheng:data-version:" + hashlib.sha256(
            database_url.encode()).hexdigest()[:16]
        self.sessions_key = self.key + ":sessions"
        self._client = coredis.Redis.from_url(url)
        self._shared = _SharedRead(self._read_both)

    async def _read_both(self) -> tuple[int, int]:
        data, sessions = await self._client.mget([self.key, self.sessions_key])
        return int(data or 0), int(sessions or 0)

    async def current(self) -> int:
        return (await self._shared())[0]

    async def both(self) -> tuple[int, int]:
        return await self._shared()

    async def bump(self) -> None:
        await self._client.incr(self.key)

    async def bump_sessions(self) -> None:
        await self._client.incr(self.sessions_key)

    def bump_now(self) -> None:
        async def once() -> None:
            import coredis

            client = coredis.Redis.from_url(self.url)
            await client.incr(self.key)

        asyncio.run(once())

    async def close(self) -> None:
        pass  # coredis closes its pool's connections when it is collected


def version_url(settings: Settings) -> str:
    """Where the data's version lives for these settings (see the module's docstring)."""
    if settings.data_version_url:
        return settings.data_version_url
    if settings.rate_limit_url and settings.rate_limit_url.startswith(("redis://", "rediss://")):
        return settings.rate_limit_url
    return (data_dir() / "data-version").as_uri()


def open_version(settings: Settings) -> FileVersion | RedisVersion:
    url = version_url(settings)
    if url.startswith(("redis://", "rediss://")):
        return RedisVersion(url, settings.database_url)
    if url.startswith("file://"):
        return FileVersion(Path(url.removeprefix("file://")))
    raise ValueError(f"MINSHENG_DATA_VERSION_URL must be redis://… or file:///…, not {url!r}")


def bump_for_command(settings: Settings) -> None:
    """After a `minsheng` command wrote to the database: the pages the workers keep are old."""
    try:
        version = open_version(settings)
        version.bump_now()
        if isinstance(version, FileVersion):
            version.close_now()
    except Exception as exc:  # noqa: BLE001 - the command's work is done; the pages expire anyway
        log.warning("the data version was not moved on (%s: %s); kept pages expire within "
                    "MINSHENG_PAGE_CACHE_SECONDS", exc.__class__.__name__, exc)
