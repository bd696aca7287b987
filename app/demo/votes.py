"""How the demo's deputies mark their ballots (选票): marks that give each candidate the 赞成 count
the script asks for, with never more 赞成 on one ballot than seats."""

from __future__ import annotations

import random


def design_ballots(voters: int, seats: int, yes: list[int], rng: random.Random,
                   share_no: float = 0.6) -> list[list[str]]:
    """One list of marks per voter (one mark per candidate, in `yes` order) such that candidate
    i gets exactly `yes[i]` 赞成 and no ballot has more than `seats`.

    Each candidate's 赞成 go to the voters who have given fewest so far (ties broken at random),
    which spreads them as evenly as they can be; the other marks are 反对 or 弃权.
    """
    if any(y > voters for y in yes) or sum(yes) > voters * seats:
        raise ValueError(f"{sum(yes)} yes marks do not fit {voters} ballots of {seats} seats")
    given = [0] * voters
    marks = [[""] * len(yes) for _ in range(voters)]
    for index in sorted(range(len(yes)), key=lambda i: -yes[i]):
        order = sorted(range(voters), key=lambda v: (given[v], rng.random()))
        for v in order[:yes[index]]:
            marks[v][index] = "yes"
            given[v] += 1
    if max(given, default=0) > seats:
        raise ValueError("the yes marks could not be spread within the seats")
    for ballot in marks:
        for index, mark in enumerate(ballot):
            if not mark:
                ballot[index] = "no" if rng.random() < share_no else "abstain"
    return marks
