"""The public proposal list and the similar lookup (建议) served beside FastAPI's routing.

`GET /api/v1/cycles/{id}/proposals` and `.../proposals/similar` are the API's busiest reads (a
list of 100,000 filtered, searched, paged; a title being typed). Once the read itself took two
statements, FastAPI's per-request machinery — trying the routes in turn, solving dependencies,
validating each query parameter — cost more than the read. This middleware answers them itself
when every parameter is plainly valid (a known sort and state, page numbers in range, strings
within their lengths), through the very functions the routes call (listing.page and
listing.similar), serialised by the routes' own response models: the same bytes. Anything else —
HEAD, a parameter FastAPI would refuse or convert, an unexpected failure — goes on to the route,
so those answers are the route's own. The routes stay in the OpenAPI document;
tests/proposals/test_list_fastpath.py checks that both give the same answers. (Casting does the
same: app/ballots/fastpath.py.)
"""

from __future__ import annotations

import logging
import re

from pydantic import TypeAdapter
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from app.db import request_session
from app.errors import DomainError
from app.monitoring.requests import set_route
from app.pages.errors import domain_error_response
from app.pagination import Page
from app.proposals import listing
from app.proposals.schemas import ProposalSummary, SimilarOut, summary
from app.workflows.proposal import ProposalState

log = logging.getLogger(__name__)

LIST_PATH = re.compile(r"^/api/v1/cycles/([^/]+)/proposals(/similar)?$")
LIST_ROUTE = "/api/v1/cycles/{cycle_id}/proposals"  # the routes' templates, for the metrics
SIMILAR_ROUTE = "/api/v1/cycles/{cycle_id}/proposals/similar"
_PAGE = TypeAdapter(Page[ProposalSummary])
_SIMILAR = TypeAdapter(list[SimilarOut])
_NUMBER = re.compile(r"[1-9][0-9]{0,5}")
_STATES = frozenset(s.value for s in ProposalState)
# The routes' bounds (app/proposals/api.py, app/pagination.py).
_LENGTHS = {"q": 100, "category": 32, "location_code": 32}


def _number(text: str, most: int) -> int | None:
    return int(text) if _NUMBER.fullmatch(text) and int(text) <= most else None


def list_ask(params: QueryParams) -> tuple[listing.ListFilter, int, int] | None:
    """The list's filter, page and page size if every parameter is plainly valid, else None
    (the route decides: it refuses or converts what this does not take)."""
    if any(len(params.get(name) or "") > most for name, most in _LENGTHS.items()):
        return None
    state, sort = params.get("state"), params.get("sort", "newest")
    page, per_page = _number(params.get("page", "1"), 100_000), _number(
        params.get("per_page", "20"), 100)
    if (state is not None and state not in _STATES) or sort not in listing.SORTS \
            or page is None or per_page is None:
        return None
    return listing.ListFilter(q=params.get("q", ""), category=params.get("category"),
                              state=state, location_code=params.get("location_code"),
                              sort=sort), page, per_page


class ListFastPath:
    """ASGI middleware: GET of the public list and the similar lookup without the router."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET":
            return await self.app(scope, receive, send)
        match = LIST_PATH.match(scope["path"])
        if match is None:
            return await self.app(scope, receive, send)
        cycle_id, similar = match.group(1), match.group(2)
        params = QueryParams(scope["query_string"])
        if similar:
            text = params.get("text", "")
            if len(text) > 200:
                return await self.app(scope, receive, send)
        else:
            ask = list_ask(params)
            if ask is None:
                return await self.app(scope, receive, send)
        set_route(scope, SIMILAR_ROUTE if similar else LIST_ROUTE)
        try:
            async with request_session(scope["app"].state, writing=False) as session:
                if similar:
                    rows = await listing.similar(session, cycle_id, text)
                    body = _SIMILAR.dump_json([
                        SimilarOut(id=p.id, title=p.title, state=p.state,
                                   endorsements=p.endorsement_count) for p in rows])
                else:
                    f, page, per_page = ask
                    rows, total = await listing.page(session, cycle_id, f, page=page,
                                                     per_page=per_page)
                    body = _PAGE.dump_json(Page(items=[summary(p) for p in rows], total=total,
                                                page=page, per_page=per_page))
            response = Response(body, media_type="application/json")
        except DomainError as exc:
            response = domain_error_response(Request(scope), exc)
        except Exception as exc:  # noqa: BLE001 - the route answers a read that failed here
            log.warning("the list's fast path left %s to the route: %r", scope["path"], exc)
            return await self.app(scope, receive, send)
        await response(scope, receive, send)
