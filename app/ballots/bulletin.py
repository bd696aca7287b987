"""Recount a published 票决 bulletin (公告的计票清单): what `minsheng tally` and any auditor's
script do. The box reads the bulletin (app/ballotbox/bulletin.py); the 票决 tally counts it.
Plain Python and json only, so it starts fast."""

from __future__ import annotations

from typing import Any

from app.ballotbox.bulletin import BulletinError, read, whole_number
from app.ballotbox.forms import DEPUTIES_BALLOT
from app.ballots.tally import Ballot, RoundFacts, tally


def parse(data: Any) -> tuple[RoundFacts, list[tuple[str, str]], list[Ballot], dict | None]:
    """The round's facts, candidates, ballots and (if present) its own results."""
    bulletin = read(data)
    if bulletin.form is not DEPUTIES_BALLOT:
        raise BulletinError(f"this is a bulletin of {bulletin.form.round_noun[0]} "
                            f"({bulletin.form.round_noun[1]}), not of a deputies' ballot; "
                            "this version recounts deputies' ballots only")
    head = bulletin.head
    facts = RoundFacts(ballot_id=str(head.get("id", "")), round=head["round"],
                       seats=whole_number(head, "seats", "ballot", 1),
                       total_deputies=head["total_deputies"], present=head["present"],
                       issued=head["issued"], threshold_base=bulletin.threshold_base)
    ballots = [Ballot(marks=b.marks, paper=b.paper, invalid=b.invalid) for b in bulletin.ballots]
    return facts, bulletin.items, ballots, bulletin.results


def recompute(data: Any) -> tuple[dict, dict | None]:
    """(recomputed results, the bulletin's own results or None)."""
    facts, candidates, ballots, published = parse(data)
    return tally(facts, candidates, ballots).as_dict(), published
