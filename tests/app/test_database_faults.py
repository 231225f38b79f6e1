"""A database that hangs or restarts: every request answers quickly, as JSON with a code, and
the app recovers on its own once the database is back."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from tests.conftest import error_codes
from tests.faults import app_behind_proxies

ME = {"query": "{ me { username } }"}


def quick(settings):
    """Short bounds, so a test waits a second where production waits its configured time."""
    return settings.model_copy(update={"db": settings.db.model_copy(update={
        "connect_timeout_seconds": 1, "pool_timeout_seconds": 1, "command_timeout_seconds": 1,
        "pool_size": 2})})


async def answers(client, token) -> tuple[list[str], float]:
    started = time.monotonic()
    response = await client.post("/graphql", json=ME, headers={"Authorization": f"Bearer {token}"})
    assert response.headers["content-type"].startswith("application/json")
    return error_codes(response.json()), time.monotonic() - started


@pytest.mark.parametrize("fault", ["frozen", "restarting"])
async def test_a_hung_or_restarting_database_is_database_unavailable_and_then_recovers(settings, world, fault):
    token = world.tokens["admin"]
    async with app_behind_proxies(quick(settings)) as (client, proxy, _):
        assert await answers(client, token) == ([], pytest.approx(0, abs=1))
        if fault == "frozen":
            proxy.frozen = True
        else:
            proxy.refusing = True
            proxy.drop_connections()
        # Twenty at once, on a pool of two: none hangs, all say why, as JSON.
        started = time.monotonic()
        results = await asyncio.gather(*[answers(client, token) for _ in range(20)])
        assert all(codes == ["DATABASE_UNAVAILABLE"] for codes, _ in results), results
        assert time.monotonic() - started < 8
        download = await client.get(f"/evidence/{uuid.uuid4()}/content",
                                    headers={"Authorization": f"Bearer {token}"})
        assert download.status_code == 503 and download.headers["retry-after"]
        assert download.json()["errors"][0]["extensions"]["code"] == "DATABASE_UNAVAILABLE"
        assert download.headers["x-request-id"]
        assert (await client.get("/readyz")).status_code == 503

        proxy.frozen = proxy.refusing = False
        # Connections broken meanwhile are thrown away as they fail; within a few tries it works.
        for _ in range(5):
            codes, _ = await answers(client, token)
            if not codes:
                break
        assert codes == []
