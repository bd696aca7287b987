"""The open rounds' keys as one worker remembers them (开启的票箱), so a cast does not read and
unwrap its round's key every time: (round id, ballot key id) → what the casting path keeps
with the key (the round's form, seats and items: app/ballotbox/casting.py `_Box`). Only
rounds that are open are remembered; the close forgets its round here (app/ballotbox/opening.py),
and a cast refused because its round is no longer open forgets it on the other workers.
"""

from __future__ import annotations

from typing import Any

MAX_ROUNDS = 256
_OPEN: dict[tuple[str, str], Any] = {}


def recall(round_id: str, key_id: str) -> Any | None:
    return _OPEN.get((round_id, key_id))


def remember(round_id: str, key_id: str, value: Any) -> None:
    if len(_OPEN) >= MAX_ROUNDS:
        _OPEN.clear()
    _OPEN[(round_id, key_id)] = value


def forget(round_id: str) -> None:
    """This worker's copy of a round's key goes (the round left `open`)."""
    for key in [k for k in _OPEN if k[0] == round_id]:
        _OPEN.pop(key, None)
