"""The box's refusals (投票的拒绝): the errors more than one module raises, for rounds of
either form (票决, 测评), so their words name no stage.

A leaf module: it imports no other module of app/ballotbox, so rounds, casting, paper and
devices all import it at the top of the file.
"""

from __future__ import annotations

from app.errors import Conflict, Forbidden, NotFound


def unknown_ballot() -> NotFound:
    return NotFound("There is no such ballot round.", code="unknown_ballot",
                    zh="找不到该投票轮次。")


def not_a_deputy() -> Forbidden:
    return Forbidden("Only deputies check in and vote.", code="not_a_deputy",
                     zh="只有人大代表可以签到和投票。")


def deputy_elsewhere() -> Forbidden:
    return Forbidden("You are a deputy of another jurisdiction.", code="outside_jurisdiction",
                     zh="您不是本级人大代表，不能参加本轮投票。")


def already_voted() -> Conflict:
    return Conflict("You have already voted in this round; a ballot cannot be changed.",
                    code="already_voted", zh="您已在本轮投票，选票投出后不能更改。")


def round_not_open() -> Conflict:
    return Conflict("This round is not open for voting.", code="round_not_open",
                    zh="本轮不在投票时间内。")


def not_checked_in() -> Forbidden:
    return Forbidden("Check in before voting.", code="not_checked_in", zh="请先签到，再投票。")
