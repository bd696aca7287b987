"""Audit anchors (审计锚点): the audit chain's head, signed at intervals with a key kept outside
the database, appended to a log file outside it and published.

The hash chain alone shows an entry edited in place or deleted from the middle; it cannot show
the newest entries deleted, or an entry edited with every later hash recomputed, since what
remains is again a valid chain. An anchor names the head at a moment — entry #N has hash H — and
is signed with an Ed25519 key the database never holds. Once an anchor exists outside the
database (the anchor file, an auditor's download), the chain must go on containing entry #N with
hash H: `minsheng audit verify` says "truncated" when it ends before #N and "rewritten" when #N's
hash differs. See docs/audit.md.

An anchor is the JSON object of SIGNED_FIELDS plus "signature": the Ed25519 signature (base64) of
the canonical JSON (app/audit/service.canonical_json) of the other fields.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import GENESIS_HASH, canonical_json, entry_hash
from app.models import AuditAnchor, AuditEntry, utcnow

# What the signature is about: the same key may sign other things one day.
KIND = "minsheng.audit.anchor"
SIGNED_FIELDS = ("kind", "seq", "hash", "count", "signed_at", "key_id")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class AnchorInputError(Exception):
    """A key or an anchor file that cannot be read (`minsheng audit verify` exits 2)."""


@dataclass(frozen=True)
class Anchor:
    """One signed head of the chain."""

    seq: int
    hash: str
    count: int
    signed_at: str  # UTC, whole seconds, as signed: 2026-12-07T06:20:00Z
    key_id: str
    signature: str  # base64

    def signed_fields(self) -> dict[str, Any]:
        return {"kind": KIND, "seq": self.seq, "hash": self.hash, "count": self.count,
                "signed_at": self.signed_at, "key_id": self.key_id}

    def message(self) -> bytes:
        """The bytes the signature is of."""
        return canonical_json(self.signed_fields()).encode("utf-8")

    def to_json(self) -> dict[str, Any]:
        return {**self.signed_fields(), "signature": self.signature}

    @classmethod
    def from_json(cls, value: Any) -> Anchor:
        """Read an anchor object (a line of the anchor file, an item of the API); ValueError."""
        if not isinstance(value, dict) or value.get("kind") != KIND:
            raise ValueError(f'not an audit anchor (no "kind": "{KIND}")')
        try:
            anchor = cls(seq=value["seq"], hash=value["hash"], count=value["count"],
                         signed_at=value["signed_at"], key_id=value["key_id"],
                         signature=value["signature"])
        except KeyError as exc:
            raise ValueError(f"the anchor has no {exc.args[0]!r}") from None
        if not (isinstance(anchor.seq, int) and isinstance(anchor.count, int)
                and all(isinstance(v, str) for v in (anchor.hash, anchor.signed_at,
                                                     anchor.key_id, anchor.signature))):
            raise ValueError("an anchor's seq and count are numbers, its other fields text")
        return anchor

    @classmethod
    def from_row(cls, row: AuditAnchor) -> Anchor:
        return cls(seq=row.seq, hash=row.hash, count=row.count,
                   signed_at=row.signed_at.astimezone(UTC).strftime(TIME_FORMAT),
                   key_id=row.key_id, signature=row.signature)

    def to_row(self) -> AuditAnchor:
        signed_at = datetime.strptime(self.signed_at, TIME_FORMAT).replace(tzinfo=UTC)
        return AuditAnchor(seq=self.seq, hash=self.hash, count=self.count, signed_at=signed_at,
                           key_id=self.key_id, signature=self.signature)

    def describe(self) -> str:
        return f"the anchor signed at {self.signed_at}"


# ----------------------------------------------------------------------------- keys

def public_key_text(key: Ed25519PublicKey) -> str:
    """The public key as published: its 32 raw bytes, base64."""
    return base64.b64encode(key.public_bytes(serialization.Encoding.Raw,
                                             serialization.PublicFormat.Raw)).decode("ascii")


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def key_id(key: Ed25519PublicKey) -> str:
    """A short name of a public key: the first 16 hex digits of the SHA-256 of its raw bytes."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_key_file(path: Path) -> Ed25519PrivateKey:
    """A new private key written to `path` (PEM, mode 0600); an existing file is never replaced."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return key


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise AnchorInputError(f"cannot read the audit key {path}: {exc.strerror or exc}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise AnchorInputError(f"{path} is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AnchorInputError(f"{path} is not an Ed25519 key (`minsheng audit keygen FILE` "
                               "makes one)")
    return key


def load_public_key(value: str) -> Ed25519PublicKey:
    """A public key given as the base64 text the API publishes, or a file holding it or its PEM
    (or the PEM private key, whose public half is taken)."""
    text = value.strip()
    path = Path(value)
    if not text.startswith("-----") and path.is_file():
        try:
            text = path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise AnchorInputError(f"cannot read the public key {value}: {exc}") from None
    try:
        if "PRIVATE KEY" in text:
            key = serialization.load_pem_private_key(text.encode(), password=None).public_key()
        elif text.startswith("-----"):
            key = serialization.load_pem_public_key(text.encode())
        else:
            return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise AnchorInputError(f"not an Ed25519 public key: {value[:60]} ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise AnchorInputError(f"not an Ed25519 public key: {value[:60]}")
    return key


def configured_public_key(settings) -> Ed25519PublicKey | None:
    """The installation's public key: MINSHENG_AUDIT_PUBLIC_KEY, or the key file's public half;
    None when neither is set. AnchorInputError when the one set cannot be read."""
    if settings.audit_public_key:
        return load_public_key(settings.audit_public_key)
    if settings.audit_key_file:
        return load_private_key(settings.audit_key_file).public_key()
    return None


def startup_warning(settings) -> str | None:
    """What to log at start in production when nothing can anchor the chain (the service runs
    anyway: refusing would stop a county's service over a missing cron job's key)."""
    if settings.env != "production":
        return None
    try:
        if configured_public_key(settings) is not None:
            return None
    except AnchorInputError as exc:
        return f"audit anchors: {exc}; GET /api/v1/audit/public-key answers 404"
    return ("audit anchors are off: MINSHENG_AUDIT_KEY_FILE is not set, so deleting the newest "
            "audit entries or re-hashing the chain would not show. Create a key with `minsheng "
            "audit keygen FILE` and run `minsheng audit anchor` from cron (docs/audit.md).")


def signature_ok(anchor: Anchor, keys: dict[str, Ed25519PublicKey]) -> bool:
    key = keys.get(anchor.key_id)
    if key is None:
        return False
    try:
        key.verify(base64.b64decode(anchor.signature, validate=True), anchor.message())
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def sign(key: Ed25519PrivateKey, *, seq: int, hash: str, count: int,
         at: datetime | None = None) -> Anchor:
    at = (at or utcnow()).astimezone(UTC)
    unsigned = Anchor(seq=seq, hash=hash, count=count, signed_at=at.strftime(TIME_FORMAT),
                      key_id=key_id(key.public_key()), signature="")
    signature = base64.b64encode(key.sign(unsigned.message())).decode("ascii")
    return replace(unsigned, signature=signature)


# ----------------------------------------------------------------------------- files

def parse_anchor_document(text: str, name: str) -> list[Anchor]:
    """Anchors from an anchor file (JSON lines) or from a JSON document downloaded from the API
    (a page of GET /audit/anchors, one anchor, or a list of anchors)."""
    stripped = text.strip()
    if not stripped:
        return []
    try:
        document = json.loads(stripped)
    except json.JSONDecodeError:
        document = None
    if document is not None:
        if isinstance(document, dict) and "items" in document:
            document = document["items"]
        items = document if isinstance(document, list) else [document]
        try:
            return [Anchor.from_json(item) for item in items]
        except ValueError as exc:
            raise AnchorInputError(f"{name}: {exc}") from None
    anchors = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            anchors.append(Anchor.from_json(json.loads(line)))
        except (json.JSONDecodeError, ValueError) as exc:
            raise AnchorInputError(f"{name} line {number}: {exc}") from None
    return anchors


def read_anchor_file(path: Path) -> list[Anchor]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AnchorInputError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}"
                               ) from None
    return parse_anchor_document(text, str(path))


class AnchorLog:
    """The anchor file, open for appending and locked against a second `minsheng audit anchor`
    running at the same time (a context manager)."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def __enter__(self) -> AnchorLog:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a+b")  # noqa: SIM115 (closed by __exit__)
        fcntl.flock(self._file, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc) -> None:
        self._file.close()  # and unlocked

    def last(self) -> Anchor | None:
        """The newest anchor: the last non-empty line, read from the end of the file."""
        f = self._file
        f.seek(0, os.SEEK_END)
        end, data = f.tell(), b""
        while end > 0:
            start = max(0, end - 4096)
            f.seek(start)
            data = f.read(end - start) + data
            end = start
            if b"\n" in data.rstrip(b"\n"):
                break
        line = data.rstrip(b"\n").rsplit(b"\n", 1)[-1].decode("utf-8", "replace")
        anchors = parse_anchor_document(line, f"{self.path} (last line)") if line.strip() else []
        return anchors[-1] if anchors else None

    def append(self, anchor: Anchor) -> None:
        self._file.write((canonical_json(anchor.to_json()) + "\n").encode("utf-8"))
        self._file.flush()
        os.fsync(self._file.fileno())


# ----------------------------------------------------------------------------- anchoring

@dataclass
class AnchorOutcome:
    """What `minsheng audit anchor` did."""

    anchor: Anchor | None = None  # the head's anchor (new or already there)
    created: bool = False
    refused: str = ""  # the chain does not extend the last anchor: nothing signed
    notes: list[str] = field(default_factory=list)


async def _latest_row(session: AsyncSession) -> Anchor | None:
    row = (await session.scalars(select(AuditAnchor).order_by(AuditAnchor.seq.desc())
                                 .limit(1))).first()
    return Anchor.from_row(row) if row else None


async def _extends(session: AsyncSession, anchor: Anchor | None,
                   start: tuple[int, str] = (0, GENESIS_HASH)) -> tuple[str, tuple[int, str]]:
    """Whether the chain still holds `anchor`'s entry and everything after it links and hashes
    right (without an anchor: everything after entry `start`, whose (seq, hash) is known good).
    Answers ('', (seq, hash) of the head reached) or (what is wrong, start)."""
    after, prev = start
    if anchor is not None:
        stored = await session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == anchor.seq))
        if stored is None:
            end = await session.scalar(select(func.max(AuditEntry.seq))) or 0
            return (f"truncated: {anchor.describe()} names entry #{anchor.seq} with hash "
                    f"{anchor.hash}, but the chain ends at #{end}"), start
        if stored != anchor.hash:
            return f"rewritten: entry #{anchor.seq}'s hash differs from {anchor.describe()}", start
        after, prev = anchor.seq, anchor.hash
    elif after:
        if await session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == after)) != prev:
            return f"entry #{after} changed while it was being anchored", start
    while True:
        rows = (await session.scalars(select(AuditEntry).where(AuditEntry.seq > after)
                                      .order_by(AuditEntry.seq).limit(1000))).all()
        if not rows:
            return "", (after, prev)
        for entry in rows:
            if entry.seq != after + 1 or entry.prev_hash != prev or entry_hash(entry) != entry.hash:
                return (f"entry #{after + 1} is missing, out of the chain or changed "
                        "(`minsheng audit verify` says more)"), start
            after, prev = entry.seq, entry.hash


async def _previous(session: AsyncSession, anchor_log: AnchorLog) -> tuple[Anchor | None,
                                                                            Anchor | None]:
    return anchor_log.last(), await _latest_row(session)


async def check_extension(session: AsyncSession, key: Ed25519PrivateKey, anchor_log: AnchorLog
                          ) -> tuple[str, tuple[int, str]]:
    """Whether the chain extends the newest anchor of the file and of the database (their
    signatures good, their entries there with their hashes, everything after them linked and
    hashed right; before any anchor, the whole chain): ('', (seq, hash) of the head reached) or
    (what is wrong, …). Run without the write lock: it may read the whole chain."""
    public = key.public_key()
    keys = {key_id(public): public}
    previous = sorted({a for a in await _previous(session, anchor_log) if a is not None},
                      key=lambda a: a.seq)
    for anchor in previous:
        if anchor.key_id in keys and not signature_ok(anchor, keys):
            return (f"anchor signature invalid: the anchor for entry #{anchor.seq} signed at "
                    f"{anchor.signed_at} does not verify"), (0, GENESIS_HASH)
    reached = (0, GENESIS_HASH)
    for anchor in previous or [None]:
        problem, reached = await _extends(session, anchor)
        if problem:
            return problem, reached
    return "", reached


async def anchor_head(session: AsyncSession, key: Ed25519PrivateKey, anchor_log: AnchorLog,
                      checked: tuple[int, str]) -> AnchorOutcome:
    """Sign the chain's head unless it is anchored already; append the anchor to the anchor log
    and store it in the database (committing). `checked` is the (seq, hash) up to which
    check_extension found the chain good, a moment ago; only what came after is read again."""
    outcome = AnchorOutcome()
    in_file, in_db = await _previous(session, anchor_log)
    problem, _ = await _extends(session, None, checked)
    if problem:
        outcome.refused = problem
        return outcome
    previous = [a for a in (in_file, in_db) if a is not None]
    latest = max(previous, key=lambda a: a.seq, default=None)
    if in_file and (in_db is None or in_db.seq < in_file.seq):
        # Written to the file by a run whose commit failed, or deleted from the database.
        session.add(in_file.to_row())
        outcome.notes.append(f"the database lacked the anchor file's newest anchor (entry "
                             f"#{in_file.seq}, signed at {in_file.signed_at}): stored it again")
    head = (await session.execute(select(AuditEntry.seq, AuditEntry.hash)
                                  .order_by(AuditEntry.seq.desc()).limit(1))).first()
    if head is None or (latest is not None and head.seq == latest.seq):
        outcome.anchor = latest
        await session.commit()
        return outcome
    count = await session.scalar(select(func.count()).select_from(AuditEntry))
    anchor = sign(key, seq=head.seq, hash=head.hash, count=count)
    session.add(anchor.to_row())
    await session.flush()
    anchor_log.append(anchor)
    await session.commit()
    outcome.anchor, outcome.created = anchor, True
    return outcome


# ----------------------------------------------------------------------------- checking

@dataclass
class AnchorReport:
    """What the anchors say about the chain: problems (exit 1) and warnings."""

    checked: int = 0
    latest: Anchor | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    first_seq: int | None = None  # the entry the first problem names


async def database_anchors(session: AsyncSession) -> list[Anchor]:
    rows = (await session.scalars(select(AuditAnchor).order_by(AuditAnchor.seq))).all()
    return [Anchor.from_row(r) for r in rows]


async def _stored_hashes(session: AsyncSession, seqs: Iterable[int]) -> dict[int, str]:
    seqs, found = sorted(set(seqs)), {}
    for i in range(0, len(seqs), 500):
        rows = await session.execute(select(AuditEntry.seq, AuditEntry.hash)
                                     .where(AuditEntry.seq.in_(seqs[i:i + 500])))
        found.update({r.seq: r.hash for r in rows})
    return found


def _many(n: int, first: str) -> str:
    return first if n == 1 else f"{first} (and {n - 1} more)"


async def check(session: AsyncSession, sources: dict[str, list[Anchor]],
                keys: dict[str, Ed25519PublicKey], *, database: str = "the database",
                anchor_file: str | None = None) -> AnchorReport:
    """Check every anchor of `sources` (name → anchors): its signature, and that the chain still
    holds the entry it names with the hash it names. `database` and `anchor_file` name the
    sources to compare with each other (anchors the file has and the database lacks)."""
    report = AnchorReport()
    where: dict[Anchor, list[str]] = {}
    for name, anchors in sources.items():
        for anchor in anchors:
            where.setdefault(anchor, []).append(name)
    valid = []
    for anchor in sorted(where, key=lambda a: (a.seq, a.signed_at)):
        if signature_ok(anchor, keys):
            valid.append(anchor)
            continue
        known = "does not verify" if anchor.key_id in keys else (
            f"is signed with key {anchor.key_id}, which is not the given public key")
        report.problems.append(
            f"anchor signature invalid: the anchor for entry #{anchor.seq} signed at "
            f"{anchor.signed_at} (in {' and '.join(where[anchor])}) {known}")
        report.first_seq = report.first_seq or anchor.seq
    report.checked = len(valid)
    report.latest = max(valid, key=lambda a: (a.seq, a.signed_at), default=None)
    stored = await _stored_hashes(session, (a.seq for a in valid))
    end = await session.scalar(select(func.max(AuditEntry.seq))) or 0

    rewritten, gone, beyond, matching = [], [], [], 0
    for anchor in valid:  # by seq
        if anchor.seq > end:
            beyond.append(anchor)
        elif anchor.seq not in stored:
            gone.append(anchor)
        elif stored[anchor.seq] != anchor.hash:
            rewritten.append((anchor, matching))
        else:
            matching = max(matching, anchor.seq)
    if rewritten:
        anchor, since = rewritten[0]
        span = (f"after entry #{since}, the last anchored entry that still matches" if since
                else "since the first entry")
        report.problems.append(_many(len(rewritten), (
            f"rewritten: entry #{anchor.seq}'s hash differs from {anchor.describe()} "
            f"(signed {anchor.hash}, now {stored[anchor.seq]}); the change is at or before "
            f"#{anchor.seq}, {span}")))
        report.first_seq = report.first_seq or anchor.seq
    if gone:
        anchor = gone[0]
        report.problems.append(_many(len(gone), (
            f"deleted: entry #{anchor.seq}, named by {anchor.describe()}, is missing")))
        report.first_seq = report.first_seq or anchor.seq
    if beyond:
        anchor = beyond[-1]
        report.problems.append(
            f"truncated: {anchor.describe()} names entry #{anchor.seq} with hash {anchor.hash}, "
            f"but the chain ends at #{end}"
            + (f" ({len(beyond)} anchors name entries past the end)" if len(beyond) > 1 else ""))
        report.first_seq = report.first_seq or end + 1

    if anchor_file is not None and anchor_file in sources:
        in_db = set(sources.get(database, []))
        in_file = set(sources[anchor_file])
        lacking = sorted((a for a in in_file - in_db if a in valid), key=lambda a: a.seq)
        if lacking:
            newest = lacking[-1]
            report.problems.append(
                f"anchors missing from the database that the anchor file has: {len(lacking)}, "
                f"the newest for entry #{newest.seq} signed at {newest.signed_at}")
            report.first_seq = report.first_seq or lacking[0].seq
        extra = sorted(in_db - in_file, key=lambda a: a.seq)
        if extra:
            report.warnings.append(
                f"the database has {len(extra)} anchor(s) the anchor file {anchor_file} lacks "
                f"(the newest for entry #{extra[-1].seq}, signed at {extra[-1].signed_at}): "
                "was the file replaced or moved?")
    return report
