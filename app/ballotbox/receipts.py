"""Receipts (回执): the code a deputy is shown once when their ballot is taken, and its hash —
the only form in which it is kept (sealed with the ballot until the close, then published
sorted), so a deputy can find that their ballot was counted, and nobody can see what it said.
"""

from __future__ import annotations

import hashlib
import secrets

# A receipt code: 80 random bits in Crockford-style base32 (no I, L, O, U), in groups of four.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_receipt() -> str:
    n = secrets.randbits(80)
    chars = "".join(_ALPHABET[(n >> (5 * i)) & 31] for i in range(16))
    return "-".join(chars[i:i + 4] for i in range(0, 16, 4))


def receipt_digest(code: str) -> str:
    """SHA-256 hex of the code as shown (upper case, with its dashes)."""
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()
