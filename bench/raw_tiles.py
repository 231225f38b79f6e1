"""The tile baseline: our endpoint's very SQL statement (geo.tiles.tile_statement, compiled once at
start for the compared scope, as the endpoint compiles it) run over an asyncpg pool behind a minimal Starlette app, with no
token check, scoping lookup, ORM or cache (`uvicorn --factory bench.raw_tiles:create_app`).

`GET /tiles/{z}/{x}/{y}.mvt`. Environment: BENCH_DSN, BENCH_SCOPE (comma-separated jurisdiction ids
a prosecutor of the first city sees), BENCH_POOL_SIZE.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from agencies.models import Role
from agencies.principal import Principal
from geo import tiles


def compiled_statement(principal: Principal, z: int) -> tiles.CompiledStatement:
    """One per zoom class (aggregated or not): the tile is bound at each request."""
    envelope = tiles.Envelope(tiles.TileAddress(z, 0, 0))
    return tiles.CompiledStatement.of(tiles.tile_statement(tiles.tile_layer("referrals"), principal, envelope,
                                                           cap=tiles.FEATURE_CAP))


def create_app() -> Starlette:
    scope = frozenset(uuid.UUID(value) for value in os.environ["BENCH_SCOPE"].split(","))
    principal = Principal(role=Role.PROSECUTOR, username="bench-raw", visible_jurisdiction_ids=scope)
    statements = {aggregated: compiled_statement(principal, tiles.AGGREGATE_MAX_ZOOM if aggregated else 12)
                  for aggregated in (True, False)}
    pool: dict[str, asyncpg.Pool] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app) -> AsyncIterator[None]:
        pool["db"] = await asyncpg.create_pool(os.environ["BENCH_DSN"], min_size=2,
                                               max_size=int(os.environ.get("BENCH_POOL_SIZE", "10")))
        try:
            yield
        finally:
            await pool["db"].close()

    async def tile(request: Request) -> Response:
        address = tiles.tile_address(request.path_params["z"], request.path_params["x"],
                                     request.path_params["y"].removesuffix(".mvt"))
        statement = statements[address.z <= tiles.AGGREGATE_MAX_ZOOM]
        values = {**statement.fixed, **tiles.tile_values(address)}
        row = await pool["db"].fetchrow(statement.sql, *(values[name] for name in statement.names))
        return Response(bytes(row["content"] or b""), media_type=tiles.MEDIA_TYPE)

    return Starlette(routes=[Route("/tiles/{z}/{x}/{y}", tile)], lifespan=lifespan)
