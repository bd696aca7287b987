"""The ballot package's refusals (票决的拒绝): the errors more than one ballot module raises.

A leaf module: it imports no other module of app/ballots, so service, casting, paper and
devices all import it at the top of the file.
"""

from __future__ import annotations

from app.errors import Conflict, Forbidden, NotFound


def unknown_ballot() -> NotFound:
    return NotFound("There is no such ballot round.", code="unknown_ballot",
                    zh="找不到该票决轮次。")


def not_a_deputy() -> Forbidden:
    return Forbidden("Only deputies check in and vote.", code="not_a_deputy",
                     zh="只有人大代表可以签到和投票。")


def deputy_elsewhere() -> Forbidden:
    return Forbidden("You are a deputy of another jurisdiction.", code="outside_jurisdiction",
                     zh="您不是本级人大代表，不能参加本次票决。")


def already_voted() -> Conflict:
    return Conflict("You have already voted in this round; a ballot cannot be changed.",
                    code="already_voted", zh="您已在本轮投票，选票投出后不能更改。")


def round_not_open() -> Conflict:
    return Conflict("This round is not open for voting.", code="round_not_open",
                    zh="本轮票决不在投票时间内。")


def not_checked_in() -> Forbidden:
    return Forbidden("Check in before voting.", code="not_checked_in", zh="请先签到，再投票。")
