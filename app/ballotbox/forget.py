"""Having the database forget a closed round's envelopes and key (清除): run after the close has
committed (app/db.py after_commit), outside any transaction.

- PostgreSQL: VACUUM FULL of ballot_envelope and ballot_box_key writes both tables afresh and
  drops their old files, dead row versions and the free space of their pages included. Both hold
  only the open rounds' ballots, so the rewrite is short; it waits at most LOCK_TIMEOUT for
  casts into another open round (while it waits, casts queue behind it), else a plain VACUUM
  removes the dead row versions.
- SQLite: every connection deletes with `secure_delete` on (app/db.py), so the deleted rows and
  freed pages are zeros in the database file; a TRUNCATE checkpoint then copies the write-ahead
  log into the file and empties it, the old page images with it.

What this cannot reach is said in docs/ballot-secrecy.md: WAL archives and backups taken while
the round was open, and the disk's own copies of blocks a file once used.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("minsheng")

LOCK_TIMEOUT = "200ms"  # VACUUM FULL queued for its lock holds up the casts behind it
CHECKPOINT_WAIT_MS = 200
TABLES = ("ballot_envelope", "ballot_box_key")


async def forget_sealed(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.exec_driver_sql(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            for table in TABLES:
                try:
                    await connection.exec_driver_sql(f"VACUUM FULL {table}")
                except Exception as exc:  # noqa: BLE001 - busy: the dead versions go at least
                    log.warning("VACUUM FULL %s: %s; a plain VACUUM instead", table, exc)
                    await connection.exec_driver_sql(f"VACUUM {table}")
            await connection.exec_driver_sql("RESET lock_timeout")
        else:
            # On the driver's connection: outside the BEGIN every statement of ours gets. A
            # TRUNCATE checkpoint holds the write lock while it waits for readers: it waits
            # CHECKPOINT_WAIT_MS at most, so the hall's casts into other rounds never stall.
            driver = (await connection.get_raw_connection()).driver_connection
            (busy_timeout_ms,) = await (await driver.execute("PRAGMA busy_timeout")).fetchone()
            await driver.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
            try:
                busy, _frames, _done = await (await driver.execute(
                    "PRAGMA wal_checkpoint(TRUNCATE)")).fetchone()
            finally:
                await driver.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
            if busy:
                log.warning("the write-ahead log was not emptied after a close (readers busy); "
                            "a later close's checkpoint empties it")
