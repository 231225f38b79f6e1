"""The baseline: the same work as our endpoints, each as one hand-written asyncpg statement
behind a minimal Starlette app (`uvicorn --factory bench.raw_app:create_app`).

- `POST /list?count=1|0`: the referral page of the compared scope (newest first, 50, with the
  agency name and the evidence), JSON built by PostgreSQL, with or without the total count.
- `POST /submit`: a point referral and its history row in one statement, cloned from a template
  referral of the agency so that columns the bench does not know about get valid values.

Environment: BENCH_DSN, BENCH_SCOPE (comma-separated jurisdiction ids), BENCH_TEMPLATE_REFERRAL,
BENCH_PAGE_SIZE, BENCH_POOL_SIZE.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.sql import clone_statement, table_columns

# The page exactly as the GraphQL queries of the bench ask for it.
PAGE_SQL = """
SELECT coalesce(json_agg(json_build_object(
         'id', r.id, 'title', r.title, 'status', r.status, 'submittedAt', r.submitted_at,
         'agency', json_build_object('name', a.name),
         'evidence', (SELECT coalesce(json_agg(json_build_object(
                        'id', e.id, 'filename', e.filename, 'mediaType', e.media_type,
                        'sizeBytes', e.size_bytes, 'sha256', e.sha256) ORDER BY e.id), '[]'::json)
                      FROM evidence e WHERE e.referral_id = r.id)
       ) ORDER BY r.submitted_at DESC, r.id DESC), '[]'::json)::text
FROM (SELECT * FROM referral WHERE jurisdiction_id = ANY($1::uuid[])
      ORDER BY submitted_at DESC, id DESC LIMIT $2) r
JOIN agency a ON a.id = r.agency_id
"""
COUNT_SQL = "SELECT count(*) FROM referral WHERE jurisdiction_id = ANY($1::uuid[])"


async def _insert_statement(connection: asyncpg.Connection) -> str:
    referral_columns = await table_columns(connection, "referral")
    history_columns = await table_columns(connection, "referral_status_change")
    insert_referral = clone_statement(
        "referral", referral_columns,
        {"id": "gen_random_uuid()", "title": "$1::text", "facts": "$2::text",
         "geometry": "ST_SetSRID(ST_GeomFromGeoJSON($3::text), 4326)", "idempotency_key": "$4::text",
         "submitted_at": "now()"},
        source="referral t WHERE t.id = $5::uuid")
    insert_history = clone_statement(
        "referral_status_change", history_columns,
        {"id": "gen_random_uuid()", "referral_id": "r.id", "changed_at": "now()"},
        source="referral_status_change t, r WHERE t.referral_id = $5::uuid")
    return (f"WITH r AS ({insert_referral} RETURNING id), h AS ({insert_history}) "
            "SELECT id FROM r")


def create_app() -> Starlette:
    dsn = os.environ["BENCH_DSN"]
    scope = [uuid.UUID(value) for value in os.environ["BENCH_SCOPE"].split(",")]
    template = os.environ["BENCH_TEMPLATE_REFERRAL"]
    page_size = int(os.environ.get("BENCH_PAGE_SIZE", "50"))
    state: dict = {}

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        state["pool"] = await asyncpg.create_pool(dsn, min_size=2,
                                                  max_size=int(os.environ.get("BENCH_POOL_SIZE", "10")))
        try:
            async with state["pool"].acquire() as connection:
                state["insert"] = await _insert_statement(connection)
            yield
        finally:
            await state["pool"].close()

    async def list_page(request: Request) -> Response:
        async with state["pool"].acquire() as connection:
            nodes = await connection.fetchval(PAGE_SQL, scope, page_size)
            total = await connection.fetchval(COUNT_SQL, scope) if request.query_params.get("count") == "1" else None
        count_part = "" if total is None else f'"totalCount":{total},'
        return Response(f'{{"data":{{"list":{{{count_part}"nodes":{nodes}}}}}}}', media_type="application/json")

    async def submit(request: Request) -> Response:
        body = json.loads(await request.body())
        async with state["pool"].acquire() as connection:
            new_id = await connection.fetchval(state["insert"], body["title"], body["facts"],
                                               json.dumps(body["geometry"]), body["idempotencyKey"], template)
        return Response(json.dumps({"data": {"id": str(new_id)}}), media_type="application/json")

    return Starlette(routes=[Route("/list", list_page, methods=["POST"]), Route("/submit", submit, methods=["POST"])],
                     lifespan=lifespan)
