"""Open data (公开) routes: the cycle's open-data ZIP (API) and the site's Atom feed.

One router registered at the site root: the ZIP sits under /api/v1 like every API call, the
feed at /feed.atom where feed readers look for it (kept out of the OpenAPI document, as pages
are).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.cycles import service as cycles
from app.db import SessionDep
from app.errors import ERROR_RESPONSES
from app.opendata.export import open_data_zip, zip_filename
from app.opendata.feed import atom_feed

router = APIRouter()


@router.get("/api/v1/cycles/{cycle_id}/open-data.zip", tags=["publication"],
            response_class=Response, responses={**ERROR_RESPONSES,
                                                200: {"content": {"application/zip": {}}}})
async def open_data(cycle_id: str, session: SessionDep):
    """The cycle's open data (开放数据): proposals, candidates, results and bulletins as a ZIP
    of CSV (UTF-8 with a BOM) and JSON files with a README.txt; only what is public."""
    cycle = await cycles.get(session, cycle_id)
    body = await open_data_zip(session, cycle)
    return Response(body, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{zip_filename(cycle)}"',
        "Cache-Control": "public, max-age=300"})


@router.get("/feed.atom", include_in_schema=False)
async def feed(request: Request, session: SessionDep):
    """Atom feed of announcements (公告) and published ballot results, newest first."""
    body = await atom_feed(session, str(request.base_url))
    return Response(body, media_type="application/atom+xml; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300"})
