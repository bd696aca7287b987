"""A database too busy to take a request answers 503 `busy` (app/errors.py), never a 500.

End to end: an app whose pool holds one connection and waits 0.3 s for it, and whose SQLite
busy timeout is 0.3 s, meets a pool taken by another request and, on SQLite, a write lock held
by another process. Each request is refused with `{"detail", "code": "busy"}` and Retry-After
(a page with 系统正忙), nothing of it is stored, and the same request succeeds once the database
is free. The classification itself is checked for every kind of error it names.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from psycopg import errors as pg_errors
from psycopg_pool import PoolTimeout
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolExhausted

from app.errors import as_busy
from tests.ballots.conftest import API, walk_round
from tests.helpers import page_login

BUSY = {"detail": "The database is busy and nothing was saved; send the same request again "
                  "in a moment.", "code": "busy"}


@contextmanager
def pool_taken(app_client: TestClient):
    """The app's only pooled connection checked out by someone else until the block ends."""
    engine = app_client.app.state.engine
    connection = app_client.portal.call(engine.connect)
    try:
        yield
    finally:
        app_client.portal.call(connection.close)


@contextmanager
def write_locked(database_url: str):
    """Another process's write transaction on the SQLite file until the block ends."""
    other = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def _cycle_count(client, world) -> int:
    return client.get(f"{API}/cycles", headers=world.headers("gov_staff")).json()["total"]


def _new_cycle(client, world):
    return client.post(f"{API}/cycles", headers=world.headers("gov_staff"), json={
        "jurisdiction_code": "lezhi", "year": 2031, "title": "2031年民生实事", "seats": 3})


def test_a_request_that_gets_no_connection_in_time_is_told_to_retry(client, world, impatient):
    before = _cycle_count(client, world)
    headers = world.headers("gov_staff")
    with pool_taken(impatient):
        r = _new_cycle(impatient, world)
        assert r.status_code == 503 and r.json() == BUSY, r.text
        assert r.headers["retry-after"] == "2"
        r = impatient.get(f"{API}/cycles", headers=headers)
        assert r.status_code == 503 and r.json()["code"] == "busy"
        page = impatient.get("/archive")
        assert page.status_code == 503 and "系统正忙" in page.text
    assert _cycle_count(client, world) == before  # nothing of the refused request was stored
    r = _new_cycle(impatient, world)  # the same request, sent again
    assert r.status_code == 201, r.text
    assert _cycle_count(client, world) == before + 1


def test_a_write_that_waits_past_the_sqlite_busy_timeout_is_told_to_retry(
        client, world, impatient, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's file-wide write lock (PostgreSQL locks rows)")
    before = _cycle_count(client, world)
    page_login(impatient, world.users["gov_staff"].username)
    with write_locked(database_url):
        r = _new_cycle(impatient, world)
        assert r.status_code == 503 and r.json() == BUSY, r.text
        form = impatient.post("/cycles/new", data={
            "jurisdiction_code": "lezhi", "year": "2032", "title": "2032年民生实事",
            "seats": "3", "csrftoken": impatient.cookies.get("csrftoken", "")})
        assert form.status_code == 503 and "系统正忙" in form.text
        assert impatient.get(f"{API}/cycles", headers=world.headers("gov_staff")).status_code \
            == 200  # reading goes on meanwhile (WAL)
    assert _cycle_count(client, world) == before
    assert _new_cycle(impatient, world).status_code == 201


def test_a_cast_that_waits_past_the_sqlite_busy_timeout_is_told_to_retry(
        client, world, impatient, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's file-wide write lock (PostgreSQL locks rows)")
    ballot_id = walk_round(client, world, "open")
    first = client.get(f"{API}/ballots/{ballot_id}",
                       headers=world.headers("deputy")).json()["candidates"][0]["id"]
    cast = {"marks": {first: "yes"}}
    with write_locked(database_url):  # the fast path's writer thread meets the lock
        r = impatient.post(f"{API}/ballots/{ballot_id}/votes", json=cast,
                           headers=world.headers("deputy"))
        assert r.status_code == 503 and r.json() == BUSY, r.text
    r = impatient.post(f"{API}/ballots/{ballot_id}/votes", json=cast,
                       headers=world.headers("deputy"))
    assert r.status_code == 201, r.text  # the refused cast left nothing behind: not "voted"


@pytest.mark.parametrize("error, busy", [
    (OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked")),
     True),
    (sqlite3.OperationalError("database is locked"), True),
    (sqlite3.OperationalError("database table is locked: ballot_content"), True),
    (PoolExhausted("QueuePool limit of size 1 overflow 0 reached"), True),
    (PoolTimeout("couldn't get a connection after 15.00 sec"), True),
    (OperationalError("UPDATE", {}, pg_errors.LockNotAvailable("lock timeout")), True),
    (OperationalError("UPDATE", {}, pg_errors.DeadlockDetected("deadlock detected")), True),
    (pg_errors.QueryCanceled("canceling statement due to statement timeout"), True),
    (pg_errors.SerializationFailure("could not serialize access"), True),
    (sqlite3.OperationalError("no such table: cycle"), False),  # a bug, not a busy database
    (OperationalError("SELECT", {}, pg_errors.UndefinedTable("relation does not exist")),
     False),
    (IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed")), False),
    (ValueError("database is locked"), False),
])
def test_what_counts_as_busy(error, busy):
    refusal = as_busy(error)
    if busy:
        assert refusal is not None and refusal.status == 503 and refusal.code == "busy"
        assert refusal.headers == {"Retry-After": "2"}
    else:
        assert refusal is None
