"""The database administrator's look at a secret round (issue 16): nothing in storage links a
deputy to their ballot, during the round or after it.

A DBA (or anyone with the database files or a dump) reads what the API never shows: PostgreSQL's
system columns (xmin, ctid), every row version left on the heap pages (pageinspect), a pg_dump
taken mid-round; SQLite's database file, its write-ahead log and free pages, read as bytes.

Every deputy casts a different ballot, so a ballot's canonical content names its deputy, and
every receipt's digest is known to the test. A *link* for deputy D is a storage artefact that
pairs D's user id with D's content (or D's receipt digest) beyond chance:
  - a *cell* (a page, a WAL frame, a WAL commit, a transaction id) holding D's id and D's
    content (or digest) while holding fewer than all the ballots cast: it narrows D's ballot
    down (cell_links);
  - two physical orders (rows by ctid, rows in a dump, cells on a page) that agree beyond
    chance, Kendall's |tau| >= 0.7, between who voted and what was voted (order_links).
A content that is linked to its receipt digest by order or by transaction is counted too: the
deputy knows their receipt code, so whoever is shown it (a coercer) learns the ballot.
Mid-round no content may be readable in plaintext at all (the contents exist from the close).

Finally the published tally equals a recount of the bulletin, whose ballots are exactly the ones
cast and whose receipts are exactly the ones handed out.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from app.backup.postgres import ClientMissing, Connection, client, server_major
from app.ballotbox.forms import canonical
from app.ballotbox.receipts import receipt_digest
from app.ballots.bulletin import recompute
from tests.ballots.conftest import (
    API,
    add_deputies,
    balloting_cycle,
    check_in,
    create_round,
    move,
    name_scrutineers,
    sign,
    tally,
    vote,
)
from tests.conftest import unavailable

DEPUTIES = 18  # the roster; every one of them casts
LATE = 2  # of whom the last two cast after the mid-round look
CANDIDATES, SEATS = 4, 2
TAU_LINK = 0.7  # |Kendall tau| at which two orders of 18 agree beyond chance (p < 1e-4)
MIN_PAIRS = 28  # pairs two orders must both compare before their agreement can count (8 rows)


# ----------------------------------------------------------------------------- what the test knows

@dataclass(frozen=True)
class Deputy:
    """A deputy who has cast: their user id, their ballot's canonical content, their receipt's
    digest (each also as the bytes storage holds)."""

    user_id: str
    content: str
    digest: str

    @property
    def patterns(self) -> tuple[bytes, bytes, bytes]:
        return self.user_id.encode(), self.content.encode(), self.digest.encode()


@dataclass(frozen=True)
class Found:
    """Whose id, whose content and whose receipt digest a piece of storage holds (user ids)."""

    ids: frozenset[str] = frozenset()
    contents: frozenset[str] = frozenset()
    digests: frozenset[str] = frozenset()

    def __or__(self, other: Found) -> Found:
        return Found(self.ids | other.ids, self.contents | other.contents,
                     self.digests | other.digests)

    def __sub__(self, other: Found) -> Found:
        return Found(self.ids - other.ids, self.contents - other.contents,
                     self.digests - other.digests)


def found_in(blob: bytes, deputies: list[Deputy]) -> Found:
    """The deputies whose id, content or receipt digest occur in `blob` (plain bytes)."""
    ids, contents, digests = set(), set(), set()
    for d in deputies:
        uid, content, digest = d.patterns
        if uid in blob:
            ids.add(d.user_id)
        if content in blob:
            contents.add(d.user_id)
        if digest in blob:
            digests.add(d.user_id)
    return Found(frozenset(ids), frozenset(contents), frozenset(digests))


def owners(texts: list[bytes], deputies: list[Deputy], kind: str) -> list[str]:
    """The physical order of `texts` (rows, cells) as the deputies whose id / content / digest
    each holds (kind: 'ids', 'contents', 'digests'); texts naming none or several are left out,
    a deputy is placed where first seen."""
    out: list[str] = []
    for blob in texts:
        who = getattr(found_in(blob, deputies), kind)
        if len(who) == 1 and next(iter(who)) not in out:
            out.append(next(iter(who)))
    return out


# ----------------------------------------------------------------------------- the two link rules

PAIRS = ("who+what", "who+receipt", "what+receipt")


def cell_links(found: Found, cast: int) -> dict[str, set[str]]:
    """Deputies one storage cell links, per pair: D's id with D's content (who+what), D's id with
    D's receipt digest (who+receipt), D's content with D's digest (what+receipt, the coercer's
    link), wherever the cell holds fewer than all `cast` ballots (or receipts), so that it
    narrows D's ballot down."""
    narrow_what = 0 < len(found.contents) < cast
    narrow_receipt = 0 < len(found.digests) < cast
    return {"who+what": set(found.ids & found.contents) if narrow_what else set(),
            "who+receipt": set(found.ids & found.digests) if narrow_receipt else set(),
            "what+receipt": (set(found.contents & found.digests)
                             if narrow_what and narrow_receipt else set())}


def cells_links(cells, cast: int) -> dict[str, set[str]]:
    """cell_links over many cells, per pair."""
    out: dict[str, set[str]] = {pair: set() for pair in PAIRS}
    for found in cells:
        for pair, links in cell_links(found, cast).items():
            out[pair] |= links
    return out


def order_agreement(groups_a: list[list[str]], groups_b: list[list[str]]) -> tuple[float, int]:
    """Kendall's tau between two physical orders of deputies, each a list of groups (pages; one
    group for a whole table's order), over the pairs both orders can compare (the two deputies in
    one group on each side); and the number of those pairs."""
    def positions(groups):
        pos: dict[str, tuple[int, int]] = {}
        for g, group in enumerate(groups):
            for i, uid in enumerate(group):
                pos.setdefault(uid, (g, i))
        return pos

    pos_a, pos_b = positions(groups_a), positions(groups_b)
    common = sorted(set(pos_a) & set(pos_b))
    concordant = discordant = 0
    for x, y in itertools.combinations(common, 2):
        (gax, iax), (gay, iay) = pos_a[x], pos_a[y]
        (gbx, ibx), (gby, iby) = pos_b[x], pos_b[y]
        if gax != gay or gbx != gby:
            continue
        s = (iax - iay) * (ibx - iby)
        concordant += s > 0
        discordant += s < 0
    pairs = concordant + discordant
    return ((concordant - discordant) / pairs if pairs else 0.0), pairs


def order_links(groups_a: list[list[str]], groups_b: list[list[str]]) -> set[str]:
    """Every deputy in both orders when they agree (or run opposite) beyond chance: |tau| >= 0.7
    over at least MIN_PAIRS comparable pairs; the i-th who pairs with the i-th what."""
    tau, pairs = order_agreement(groups_a, groups_b)
    if pairs >= MIN_PAIRS and abs(tau) >= TAU_LINK:
        return {u for g in groups_a for u in g} & {u for g in groups_b for u in g}
    return set()


def orders_links(who, what, receipts) -> dict[str, set[str]]:
    """order_links for the three pairs of physical orders (each a list of groups of deputies)."""
    return {"who+what": order_links(who, what), "who+receipt": order_links(who, receipts),
            "what+receipt": order_links(what, receipts)}


def far_permutation(n: int) -> list[int]:
    """A fixed order of n ballots unrelated to the order of casting (tau near 0, nobody at the
    same or mirrored place), so storage honestly sorted by content cannot pair by coincidence."""
    rng = random.Random(16)
    while True:
        p = list(range(n))
        rng.shuffle(p)
        tau, _ = order_agreement([[str(i) for i in range(n)]], [[str(i) for i in p]])
        if abs(tau) < 0.1 and all(p[i] not in (i, n - 1 - i) for i in range(n)):
            return p


# ----------------------------------------------------------------------------- SQLite, as bytes

def sqlite_pages(data: bytes) -> list[bytes]:
    """A database file split into its pages (the page size from the header), free pages too."""
    if len(data) < 100:
        return []
    size = int.from_bytes(data[16:18], "big")
    size = 65536 if size == 1 else size
    return [data[i:i + size] for i in range(0, len(data), size)]


@dataclass(frozen=True)
class Frame:
    """One WAL frame: its generation (salt-1, incremented at each restart of the log), its place
    in the file, the page it holds, whether it ends a commit, and the page's bytes."""

    generation: int
    index: int
    page_no: int
    commit: bool
    data: bytes


def wal_frames(data: bytes) -> tuple[list[Frame], int | None]:
    """Every frame of a WAL file, stale ones of earlier generations included, in the order they
    were written; and the current generation (the header's salt-1)."""
    if len(data) < 32:
        return [], None
    page_size = int.from_bytes(data[8:12], "big")
    current = int.from_bytes(data[16:20], "big")
    frames = []
    step = 24 + page_size
    for i, off in enumerate(range(32, len(data) - step + 1, step)):
        head = data[off:off + 24]
        page_no = int.from_bytes(head[0:4], "big")
        if page_no:
            frames.append(Frame(int.from_bytes(head[8:12], "big"), i, page_no,
                                int.from_bytes(head[4:8], "big") != 0,
                                data[off + 24:off + step]))
    return sorted(frames, key=lambda f: (f.generation, f.index)), current


def wal_commits(frames: list[Frame]) -> list[list[Frame]]:
    """The frames grouped by the commit they belong to (a group ends at a commit frame)."""
    groups: list[list[Frame]] = []
    group: list[Frame] = []
    for f in frames:
        if group and group[-1].generation != f.generation:
            groups.append(group)
            group = []
        group.append(f)
        if f.commit:
            groups.append(group)
            group = []
    if group:
        groups.append(group)
    return groups


def wal_commit_links(frames: list[Frame], deputies: list[Deputy], cast: int
                     ) -> dict[str, set[str]]:
    """Links by commit: what each commit added (per page, what its new version holds that the
    page's previous version in the log did not) is one cell: a cast that commits D's
    participation row and D's content (or receipt) together links them."""
    last: dict[int, Found] = {}
    added_by_commit = []
    for group in wal_commits(frames):
        added = Found()
        for f in group:
            now = found_in(f.data, deputies)
            added = added | (now - last.get(f.page_no, Found()))
            last[f.page_no] = now
        added_by_commit.append(added)
    return cells_links(added_by_commit, cast)


def sqlite_cells(page: bytes, first: bool) -> list[tuple[int, bytes]]:
    """The cells of a b-tree leaf page as (offset, bytes up to the next cell): where SQLite put
    each row on the page; [] for other pages."""
    head = 100 if first else 0
    kind = page[head] if len(page) > head else 0
    if kind not in (0x0A, 0x0D):
        return []
    n = int.from_bytes(page[head + 3:head + 5], "big")
    offsets = sorted({int.from_bytes(page[head + 8 + 2 * i:head + 10 + 2 * i], "big")
                      for i in range(n)} - {0})
    if not offsets:
        return []
    ends = [*offsets[1:], len(page)]
    return [(o, page[o:e]) for o, e in zip(offsets, ends, strict=True) if o < len(page)]


def sqlite_image(pages: list[bytes], frames: list[Frame], current: int | None) -> list[bytes]:
    """The database as a reader sees it now: the file's pages overlaid with the last committed
    frames of the current WAL generation."""
    image = dict(enumerate(pages, start=1))
    pending: dict[int, bytes] = {}
    for f in frames:
        if f.generation != current:
            continue
        pending[f.page_no] = f.data
        if f.commit:
            image.update(pending)
            pending = {}
    return [image[k] for k in sorted(image)]


def _read_elsewhere(path: Path) -> bytes:
    """A file's bytes, read by another process: closing a file of the database in this one
    would drop this process's POSIX locks on it, which the app's own SQLite connections hold
    (another process would then take itself for the last user and remove the WAL)."""
    return subprocess.run(["cat", str(path)], capture_output=True, check=True).stdout


def sqlite_dba(client, ballot_id: str, deputies: list[Deputy], *, open_round: bool
               ) -> dict[str, dict[str, set[str]]]:
    """The DBA's look at SQLite storage: the database file (free pages included) and the WAL,
    read as bytes. Returns, per detector and pair, the deputies it links."""
    path = Path(make_url(client.app.state.settings.database_url).database)
    data = _read_elsewhere(path)
    wal_path = path.with_name(path.name + "-wal")
    wal = _read_elsewhere(wal_path) if wal_path.exists() else b""
    pages = sqlite_pages(data)
    frames, current = wal_frames(wal)
    cast = len(deputies)
    found: dict[str, dict[str, set[str]]] = {}

    # one page (of the file, free ones included, or a WAL frame) holding who and what
    found["sqlite: one page or WAL frame"] = cells_links(
        (found_in(p, deputies) for p in [*pages, *(f.data for f in frames)]), cast)
    # one commit of the WAL adding who and what
    found["sqlite: one WAL commit"] = wal_commit_links(frames, deputies, cast)
    # cast order (the participation rows' rowid, as any SQL reader sees it) against where the
    # content and receipt cells sit on their pages (SQLite fills a page from its end)
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        cast_order = [[uid for (uid,) in db.execute(
            "SELECT user_id FROM ballot_participation WHERE round_id = ? ORDER BY rowid",
            (ballot_id,))]]
    contents, digests = [], []
    for i, page in enumerate(sqlite_image(pages, frames, current)):
        cells = [c for _, c in sorted(sqlite_cells(page, i == 0), reverse=True)]
        contents.append(owners(cells, deputies, "contents"))
        digests.append(owners(cells, deputies, "digests"))
    found["sqlite: rowid vs cell offsets"] = orders_links(cast_order, contents, digests)
    if open_round:  # no ballot readable at all before the close
        found["sqlite: plaintext mid-round"] = {
            "what": set(found_in(data + wal, deputies).contents)}
    return found


# ----------------------------------------------------------------------------- PostgreSQL, as DBA

_TUPLE_START = re.compile(rb"C[0-9a-f]{32}")  # a tuple's first column: a 32-hex id (varlena)


def pg_versions(conn, table: str) -> list[tuple[int, bytes, bool]]:
    """Every row version a superuser can read on the table's heap pages, as (t_xmin, bytes,
    in free space?): each line pointer with storage, live or dead (pageinspect heap_page_items),
    and every tuple header still standing in a page's free space (a pruned version whose bytes
    were not yet overwritten: 24-byte header, t_hoff 24, then a 32-hex id)."""
    blocks = conn.execute(
        "SELECT pg_relation_size(%s::regclass) / current_setting('block_size')::int",
        (table,)).fetchone()[0]
    versions = []
    for blk in range(blocks):
        raw = conn.execute("SELECT get_raw_page(%s, %s)", (table, blk)).fetchone()[0]
        items = conn.execute(
            "SELECT lp_off, t_xmin::text::bigint, t_data FROM heap_page_items(%s::bytea) "
            "WHERE t_data IS NOT NULL", (raw,)).fetchall()
        versions += [(xmin, bytes(data), False) for _, xmin, data in items]
        taken = {off for off, _, _ in items}
        starts = sorted({m.start() - 24 for m in _TUPLE_START.finditer(raw)
                         if m.start() >= 48 and (m.start() - 24) % 8 == 0
                         and raw[m.start() - 2] == 24} | taken)
        for h, end in zip(starts, [*starts[1:], len(raw)], strict=True):
            if h not in taken:
                versions.append((int.from_bytes(raw[h:h + 4], "little"), raw[h + 24:end], True))
    return versions


def pg_dump_text(url: str, conn) -> str:
    """A plain-text pg_dump of the whole database, as a DBA would take one."""
    try:
        pg_dump, _ = client("pg_dump", server_major(conn))
    except ClientMissing as exc:
        unavailable(str(exc))
    target = Connection.from_url(url)
    r = subprocess.run([pg_dump, "--format=plain", "--no-owner", f"--dbname={target.conninfo}"],
                       capture_output=True, env=target.env(), timeout=120)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r.stdout.decode()


def dump_rows(dump: str, table: str) -> list[bytes]:
    """A table's rows in a text dump, in the order the dump wrote them (the heap's order)."""
    m = re.search(rf"^COPY public\.{table} \(.*?\) FROM stdin;\n(.*?)^\\\.$", dump, re.M | re.S)
    return [line.encode() for line in m.group(1).splitlines()] if m else []


def postgres_dba(client, ballot_id: str, deputies: list[Deputy], *, open_round: bool
                 ) -> dict[str, dict[str, set[str]]]:
    """The DBA's look at PostgreSQL as superuser: xmin joins, ctid order, every row version on
    every page of the ballot_* tables, a plain pg_dump. Returns, per detector and pair, the
    deputies it links."""
    url = client.app.state.settings.database_url
    cast = len(deputies)
    by_content = {d.content: d.user_id for d in deputies}
    by_digest = {d.digest: d.user_id for d in deputies}
    found: dict[str, dict[str, set[str]]] = {}
    with Connection.from_url(url).connect(autocommit=True) as conn:
        # (a) live rows: one transaction id on who and on what (or the receipt) ...
        cells: dict[int, Found] = {}
        for sql, kind, key in (
                ("SELECT xmin::text::bigint, user_id FROM ballot_participation "
                 "WHERE round_id = %s", "ids", None),
                ("SELECT xmin::text::bigint, marks FROM ballot_content "
                 "WHERE round_id = %s AND filled", "contents", by_content),
                ("SELECT xmin::text::bigint, digest FROM ballot_receipt WHERE round_id = %s",
                 "digests", by_digest)):
            for xmin, value in conn.execute(sql, (ballot_id,)):
                uid = value if key is None else key.get(value)
                if uid is not None:
                    cells[xmin] = cells.get(xmin, Found()) | Found(**{kind: frozenset({uid})})
        found["pg: xmin join of live rows"] = cells_links(cells.values(), cast)
        # ... and their physical order
        who = [[u for (u,) in conn.execute("SELECT user_id FROM ballot_participation "
                                           "WHERE round_id = %s ORDER BY ctid", (ballot_id,))]]
        what = [[by_content[m] for (m,) in conn.execute(
            "SELECT marks FROM ballot_content WHERE round_id = %s AND filled ORDER BY ctid",
            (ballot_id,)) if m in by_content]]
        receipts = [[by_digest[g] for (g,) in conn.execute(
            "SELECT digest FROM ballot_receipt WHERE round_id = %s ORDER BY ctid",
            (ballot_id,)) if g in by_digest]]
        found["pg: ctid order of live rows"] = orders_links(who, what, receipts)

        # (b) every row version on the pages of every ballot_* table, grouped by t_xmin: the
        # line pointers (live and dead); then who (on line pointers) against what and which
        # receipt only the remnants in free space still hold (what a plain VACUUM leaves)
        conn.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        tables = [t for (t,) in conn.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE 'ballot\\_%' "
            "AND relnamespace = 'public'::regnamespace ORDER BY relname")]
        pointed: dict[int, Found] = {}
        remnants: dict[int, Found] = {}
        every = Found()
        for table in tables:
            for xmin, data, in_free_space in pg_versions(conn, table):
                f = found_in(data, deputies)
                into = remnants if in_free_space else pointed
                into[xmin] = into.get(xmin, Found()) | f
                every = every | f
        found["pg: pageinspect line pointers by t_xmin"] = cells_links(pointed.values(), cast)
        found["pg: pageinspect free-space remnants by t_xmin"] = cells_links(
            (Found(pointed.get(x, Found()).ids, f.contents, f.digests)
             for x, f in remnants.items()), cast)
        if open_round:
            found["pg: plaintext on heap pages mid-round"] = {"what": set(every.contents)}

        # (c) a plain pg_dump: plaintext mid-round, and the order of its rows
        dump = pg_dump_text(url, conn)
    found["pg_dump: row order"] = orders_links(
        [owners(dump_rows(dump, "ballot_participation"), deputies, "ids")],
        [owners(dump_rows(dump, "ballot_content"), deputies, "contents")],
        [owners(dump_rows(dump, "ballot_receipt"), deputies, "digests")])
    if open_round:
        found["pg_dump: plaintext mid-round"] = {
            "what": set(found_in(dump.encode(), deputies).contents)}
    return found


# ----------------------------------------------------------------------------- the test

def test_a_database_administrator_finds_no_deputy_behind_a_ballot(client, world, database_url):
    dba = sqlite_dba if database_url.startswith("sqlite") else postgres_dba
    keys = ["deputy", *add_deputies(client, world, DEPUTIES - 1)]
    cycle_id, candidates = balloting_cycle(client, world, candidates=CANDIDATES)
    ballot_id = create_round(client, world, cycle_id, seats=SEATS,
                             candidate_ids=candidates)["id"]
    check_in(client, world, ballot_id, keys)
    name_scrutineers(client, world, ballot_id, keys[1:3])
    move(client, world, ballot_id, "open")

    # every deputy a different ballot, in an order unrelated to the order of casting
    combos = [c for c in itertools.product(("yes", "no", "abstain"), repeat=CANDIDATES)
              if c.count("yes") <= SEATS][::3][:DEPUTIES]
    ballots = sorted(canonical(dict(zip(candidates, c, strict=True))) for c in combos)
    ballots = [ballots[i] for i in far_permutation(DEPUTIES)]
    assert len(set(ballots)) == DEPUTIES

    cast: list[Deputy] = []
    for key, content in zip(keys, ballots, strict=True):
        if len(cast) == DEPUTIES - LATE:  # mid-round: most have cast, the round is open
            during = dba(client, ballot_id, cast, open_round=True)
        code = vote(client, world, ballot_id, key, json.loads(content))
        cast.append(Deputy(world.users[key].id, content, receipt_digest(code)))

    move(client, world, ballot_id, "closed")
    results = tally(client, world, ballot_id)
    for key in keys[1:3]:
        sign(client, world, ballot_id, key)
    move(client, world, ballot_id, "published")
    after = dba(client, ballot_id, cast, open_round=False)

    # the published tally is a recount of the bulletin, which holds exactly what was cast
    r = client.get(f"{API}/ballots/{ballot_id}/bulletin")
    assert r.status_code == 200, r.text
    bulletin = r.json()
    assert recompute(bulletin) == (results, results)
    assert sorted(canonical(b["marks"]) for b in bulletin["ballots"]) == sorted(ballots)
    assert bulletin["receipts"] == sorted(d.digest for d in cast)

    counts = {(phase, detector, pair): len(links)
              for phase, seen in (("mid-round", during), ("after publication", after))
              for detector, by_pair in seen.items() for pair, links in by_pair.items()}
    assert not any(counts.values()), (
        f"deputies linked (of {DEPUTIES - LATE} mid-round, {DEPUTIES} after), per detector:\n"
        + "\n".join(f"  {phase}: {detector}: {pair}: {n}"
                    for (phase, detector, pair), n in counts.items()))
