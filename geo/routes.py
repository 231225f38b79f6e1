"""The tile routes: `/tiles/{layer}/{z}/{x}/{y}.mvt` and `/tiles/{layer}.json` (TileJSON), behind
the same bearer token and the same scoping as GraphQL, failing as JSON with the codes of CONTRACT.md."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from agencies.principal import Principal
from app.http import answer_as_principal
from core.errors import NotFound
from geo.tiles import MEDIA_TYPE, TileCache, render_tile, tilejson

router = APIRouter()
# A tile may change with any submission, so a client revalidates each time (a 304 costs no
# bytes); `private` keeps shared caches from handing one caller's tile to another.
CACHE_CONTROL = "private, no-cache"
# Per process; each worker keeps its own, all of them checked against the database's versions.
TILE_CACHE = TileCache(max_bytes=64 * 1024 * 1024)


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {candidate.strip().removeprefix("W/") for candidate in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


@router.get("/tiles/{layer}/{z}/{x}/{y_and_format}", include_in_schema=False)
async def vector_tile(layer: str, z: str, x: str, y_and_format: str, request: Request) -> Response:
    y, dot, extension = y_and_format.rpartition(".")

    async def work(session, principal: Principal) -> Response:
        if not dot or extension != "mvt":
            raise NotFound("瓦片格式应为 .mvt / tiles are served as .mvt", field="format")
        tile = await render_tile(session, principal=principal, layer_name=layer, z=z, x=x, y=y,
                                 cache=TILE_CACHE)
        etag = tile.etag
        headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": "Authorization"}
        if tile.capped:
            headers["X-Tile-Capped"] = "true"
        if _matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        return Response(tile.content, media_type=MEDIA_TYPE, headers=headers)

    return await answer_as_principal(request, work)


@router.get("/tiles/{document}", include_in_schema=False)
async def tilejson_document(document: str, request: Request) -> Response:
    layer, dot, extension = document.rpartition(".")

    async def work(session, principal: Principal) -> Response:
        if not dot or extension != "json":
            raise NotFound("TileJSON 地址为 /tiles/{图层}.json / TileJSON is at /tiles/{layer}.json",
                           field="format")
        body = await tilejson(session, principal=principal, layer_name=layer, base_url=str(request.base_url))
        return JSONResponse(body, headers={"Cache-Control": "private, max-age=300", "Vary": "Authorization"})

    return await answer_as_principal(request, work)
