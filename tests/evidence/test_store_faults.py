"""A frozen object store: uploads fail within their bounds, and nobody else waits for them."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select

from evidence.models import PendingUpload
from referral.models import Referral
from tests.conftest import error_codes, graphql
from tests.faults import app_behind_proxies
from tests.referral.test_submit import PNG, count_rows, submit_with_files


def quick(settings):
    return settings.model_copy(update={
        "db": settings.db.model_copy(update={"pool_size": 3, "pool_timeout_seconds": 1}),
        "storage": settings.storage.model_copy(update={"connect_timeout_seconds": 1, "read_timeout_seconds": 2}),
    })


async def test_a_frozen_store_fails_uploads_quickly_and_stalls_no_one_else(settings, world, resources):
    token = world.tokens["liaison-a"]
    async with app_behind_proxies(quick(settings)) as (client, _, store_proxy):
        store_proxy.frozen = True
        started = time.monotonic()
        # More uploads than the pool has connections: they must not be holding them.
        uploads = [asyncio.create_task(submit_with_files(client, token, [(f"{n}.png", PNG + bytes([n]), "image/png")]))
                   for n in range(12)]
        await asyncio.sleep(0.5)  # all of them are waiting on the store now
        read_started = time.monotonic()
        listing = await graphql(client, "{ referrals { totalCount } }", token=world.tokens["prosecutor-1"])
        assert "errors" not in listing, listing
        assert time.monotonic() - read_started < 1.5
        results = await asyncio.wait_for(asyncio.gather(*uploads), timeout=60)
        assert all(error_codes(body) == ["STORAGE_UNAVAILABLE"] for body in results), results
        assert time.monotonic() - started < 20  # bounded: not 3 retries of 60 s each
    assert await count_rows(resources, Referral) == 0
    async with resources.session_factory() as session:
        abandoned = (await session.scalars(select(PendingUpload.abandoned_at))).all()
    assert len(abandoned) == 12 and all(abandoned)
