"""The cast of a ballot (投票) served beside FastAPI's routing: the session hall's one hot path.

In a hall every deputy casts within a few minutes (3,000 at a national congress). FastAPI's
per-request machinery — trying the routes in turn, solving dependencies, validating the answer
against its model — cost more than the cast itself, so this middleware answers
`POST /api/v1/ballots/{id}/votes` itself when the request is well formed: a bearer token that
verifies and a body that is a valid VoteIn. It then calls the very function the route calls
(casting.cast_in_own_transaction) and answers as the route would (201 `{"receipt"}`, or the
refusal's `{"detail", "code"}` from app/errors). Anything else — no or a bad token, a body that
does not validate — goes on to the FastAPI route with the body replayed, so those answers are the
route's own. The route stays in the OpenAPI document; tests/ballots/test_cast_fastpath.py checks
that both give the same answers.
"""

from __future__ import annotations

import re

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from app.auth.deps import bearer_claims
from app.ballotbox import casting
from app.ballotbox.forms import DEPUTIES_BALLOT
from app.ballots.schemas import VoteIn
from app.errors import DomainError, as_busy
from app.monitoring.requests import set_route
from app.pages.errors import domain_error_response

CAST_PATH = re.compile(r"^/api/v1/ballots/([0-9A-Za-z_-]{1,64})/votes$")
CAST_ROUTE = "/api/v1/ballots/{ballot_id}/votes"  # its route's template, for the metrics


def _json(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind == "application/json"


class CastFastPath:
    """ASGI middleware: POST /api/v1/ballots/{id}/votes without the router (see the module)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        match = CAST_PATH.match(scope["path"])
        if match is None:
            return await self.app(scope, receive, send)
        set_route(scope, CAST_ROUTE)
        chunks, disconnected = [], False
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                disconnected = True
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)

        async def replay():
            nonlocal body
            if disconnected:
                return {"type": "http.disconnect"}
            if body is None:
                return await receive()
            message, body = {"type": "http.request", "body": body, "more_body": False}, None
            return message

        request = Request(scope)
        try:
            if disconnected or not _json(request.headers.get("content-type", "")):
                raise ValueError("not a JSON request that reached its end")
            user_id, version = bearer_claims(request)
            vote = VoteIn.model_validate_json(body)
        except (DomainError, ValidationError, ValueError):
            return await self.app(scope, replay, send)  # the route answers, as it always does
        try:
            code = await casting.cast_in_own_transaction(
                scope["app"].state, match.group(1), user_id, dict(vote.marks),
                token_version=version, form=DEPUTIES_BALLOT.name)
        except DomainError as exc:
            response = domain_error_response(request, exc)
        except Exception as exc:
            busy = as_busy(exc)
            if busy is None:
                raise
            response = domain_error_response(request, busy)
        else:
            response = JSONResponse({"receipt": code}, status_code=201)
        await response(scope, receive, send)
