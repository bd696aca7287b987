"""Sealed envelopes (密封选票): a cast ballot as the database keeps it while the round is open.

A cast writes two rows in one transaction: the participation row (who voted, in the clear: the
roll call) and an envelope, the ballot's content and receipt hash encrypted with AES-256-GCM
under the round's own key. The database can see that the two were written together (the same
transaction id, the same WAL record group), but the envelope says nothing without the key.

The round key (选票箱密钥) is 32 random bytes, made when the round is first cast into and stored
only wrapped — encrypted with AES-256-GCM under a key derived (HKDF-SHA256) from the server's
ballot key, MINSHENG_BALLOT_KEY, which is configuration, never in the database. At close the
server unwraps it, opens every envelope, writes the contents and receipts in one transaction in
an order that follows the contents, never the casting (app/ballotbox/opening.py `open_box`),
deletes the envelopes and the wrapped key, and asks the database to forget them (app/db.py
`forget_box`).

Every envelope of a round has the same length (the content is padded to the longest a ballot of
that round can be), and each is bound to its round (the round id is the associated data), so an
envelope copied into another round does not open.

Uses the `cryptography` package for every primitive.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.config import Settings
from app.errors import Conflict
from app.resources import data_dir

NONCE = 12
_WRAP_INFO = b"minsheng ballot box: round key wrapping, v1"
_MARK_ROOM = 48  # '"<32-char candidate id>":"abstain",' is 45 characters
_FIXED_ROOM = 192  # the receipt hash (64), a voter id in a named round (32), the JSON around


def _box_refusal(message: str) -> Conflict:
    """The configured ballot key does not open a round's box (a different or lost key)."""
    return Conflict(
        message, code="ballot_key_mismatch",
        zh="服务器配置的选票密钥（MINSHENG_BALLOT_KEY）打不开本轮票箱：请恢复投票开始时使用的密钥后再结束投票。")


def ballot_key_material(ballot_key: str | None, home: Path) -> bytes:
    """The server's ballot key: MINSHENG_BALLOT_KEY, or outside production (where it is
    required) a random key kept in the file `var/ballot-key` (made on first use, readable by its
    owner only)."""
    if ballot_key:
        return ballot_key.encode()
    path = home / "ballot-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another worker made it meanwhile
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
    for _ in range(50):  # another worker may be writing it this instant
        text = path.read_text().strip()
        if text:
            return text.encode()
        time.sleep(0.02)
    raise RuntimeError(f"{path} is empty: delete it or set MINSHENG_BALLOT_KEY")


@dataclass(frozen=True)
class Wrapper:
    """The key that wraps round keys, derived from the server's ballot key; `key_id` names it
    (stored beside each wrapped key, so a mismatch is told apart from damage)."""

    aead: AESGCM
    key_id: str

    @classmethod
    def of(cls, ballot_key: str | None, home: Path) -> Wrapper:
        material = ballot_key_material(ballot_key, home)
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_WRAP_INFO).derive(material)
        return cls(AESGCM(key), hashlib.sha256(b"key-id:" + key).hexdigest()[:16])

    def wrap(self, round_id: str, round_key: bytes) -> bytes:
        nonce = os.urandom(NONCE)
        return nonce + self.aead.encrypt(nonce, round_key, b"round-key:" + round_id.encode())

    def unwrap(self, round_id: str, wrapped: bytes, key_id: str) -> bytes:
        if key_id != self.key_id:
            raise _box_refusal(f"Round {round_id}'s box was sealed under ballot key {key_id}; "
                               f"the server has {self.key_id}. Restore the ballot key the round "
                               f"was opened with (MINSHENG_BALLOT_KEY).")
        try:
            return self.aead.decrypt(wrapped[:NONCE], bytes(wrapped[NONCE:]),
                                     b"round-key:" + round_id.encode())
        except InvalidTag:
            raise _box_refusal(f"Round {round_id}'s wrapped key does not open: it was damaged "
                               f"or changed.") from None


@lru_cache(maxsize=8)
def _wrapper(ballot_key: str | None, home: Path) -> Wrapper:
    return Wrapper.of(ballot_key, home)


def wrapper_for(settings: Settings | None = None, session=None) -> Wrapper:
    """The Wrapper of these settings, or of the settings a session was opened with
    (`session.info["settings"]`: app/db.py request_session, the command line), else of the
    environment's."""
    if settings is None and session is not None:
        settings = session.info.get("settings")
    if settings is None:
        from app.config import get_settings

        settings = get_settings()
    return _wrapper(settings.ballot_key, data_dir())


def new_round_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def padded_size(candidates: int) -> int:
    """The length every payload of a round with this many candidates is padded to."""
    return candidates * _MARK_ROOM + _FIXED_ROOM


def seal(round_key: bytes, round_id: str, candidates: int, content: str, digest: str,
         voter_id: str | None) -> bytes:
    """One ballot's envelope: nonce ‖ AES-GCM(content, receipt hash, voter in a named round)."""
    payload = json.dumps({"m": content, "r": digest, "v": voter_id},
                         separators=(",", ":")).encode()
    size = padded_size(candidates)
    if len(payload) > size:
        raise ValueError("a ballot longer than its round allows")
    nonce = os.urandom(NONCE)
    return nonce + AESGCM(round_key).encrypt(nonce, payload.ljust(size), round_id.encode())


@dataclass(frozen=True)
class Opened:
    """An opened envelope: the canonical content, the receipt hash, the voter (named rounds)."""

    content: str
    digest: str
    voter_id: str | None


def open_envelope(round_key: bytes, round_id: str, sealed: bytes) -> Opened:
    try:
        payload = AESGCM(round_key).decrypt(sealed[:NONCE], bytes(sealed[NONCE:]),
                                            round_id.encode())
    except InvalidTag:
        raise Conflict(f"An envelope of round {round_id} does not open: it was damaged or "
                       f"does not belong to this round.", code="ballot_envelope_damaged",
                       zh="本轮票箱中有一张密封选票无法打开（已损坏或不属于本轮），请联系系统管理员。") from None
    data = json.loads(payload)
    return Opened(data["m"], data["r"], data["v"])
