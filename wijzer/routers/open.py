"""Open data: the region's offerings as HSDS 3.1 JSON, for anyone, without signing in.

Answers are the same for everyone, so they may be cached: `Cache-Control: public`
with an `ETag` (a hash of the body); a request with that tag in `If-None-Match`
gets 304 Not Modified.  The use case is `services.open_feed`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from services import open_feed
from wijzer.deps import DbSession

router = APIRouter(prefix="/open/hsds", include_in_schema=False)
MAX_AGE_S = 300
PageNumber = Annotated[int, Query(ge=1, le=100_000)]
PerPage = Annotated[int, Query(ge=1, le=open_feed.MAX_PER_PAGE)]
Region = Annotated[str | None, Query(alias="regio", max_length=8)]


@dataclass(frozen=True)
class ListQuery:
    """The query of every list of the feed: the page asked for and a region filter."""

    page: PageNumber = 1
    per_page: PerPage = open_feed.PER_PAGE
    region: Region = None

    def answer(self, request: Request, items: list[Any]) -> Response:
        return cached_json(request, open_feed.page(items, self.page, self.per_page))


Listing = Annotated[ListQuery, Depends()]


def cached_json(request: Request, body: Any) -> Response:
    """JSON that any cache may keep for a few minutes, with a strong ETag."""
    data = json.dumps(body, ensure_ascii=False, sort_keys=True).encode()
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    headers = {
        "Cache-Control": f"public, max-age={MAX_AGE_S}",
        "ETag": etag,
        "Access-Control-Allow-Origin": "*",
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type="application/json", headers=headers)


@router.get("")
def root(request: Request) -> Response:
    return cached_json(
        request,
        {
            "version": open_feed.HSDS_VERSION,
            "profile": "https://docs.openreferral.org/en/latest/hsds/",
            "openapi_url": "https://raw.githubusercontent.com/openreferral/specification/"
            "3.1/schema/openapi.json",
        },
    )


@router.get("/services")
def services(request: Request, db: DbSession, q: Listing) -> Response:
    return q.answer(
        request, [open_feed.summary(s) for s in open_feed.catalogue(db, q.region).services]
    )


@router.get("/services/{service_id}")
def service(request: Request, db: DbSession, service_id: str) -> Response:
    found = next((s for s in open_feed.catalogue(db).services if s["id"] == service_id), None)
    if found is None:
        raise HTTPException(status_code=404, detail="Deze hulp staat niet in de catalogus.")
    return cached_json(request, found)


@router.get("/organizations")
def organizations(request: Request, db: DbSession, q: Listing) -> Response:
    return q.answer(request, open_feed.catalogue(db, q.region).organizations)


@router.get("/organizations/{organization_id}")
def organization(request: Request, db: DbSession, organization_id: str) -> Response:
    cat = open_feed.catalogue(db)
    found = next((o for o in cat.organizations if o["id"] == organization_id), None)
    if found is None:
        raise HTTPException(status_code=404, detail="Deze aanbieder staat niet in de catalogus.")
    body = found | {
        "services": [
            open_feed.summary(s) for s in cat.services if s["organization_id"] == found["id"]
        ]
    }
    return cached_json(request, body)


@router.get("/service_at_locations")
def service_at_locations(request: Request, db: DbSession, q: Listing) -> Response:
    services = open_feed.catalogue(db, q.region).services
    return q.answer(request, [sal for s in services for sal in s["service_at_locations"]])
