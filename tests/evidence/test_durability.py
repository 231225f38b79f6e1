"""Evidence is never lost: a commit whose answer is lost, a store that fails at the hold, retries
with other bytes, the janitor that removes only what the database proves is no evidence."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from evidence.models import Evidence, PendingUpload
from evidence.service import hold_evidence, sweep
from referral.models import Referral
from tests.conftest import error_codes
from tests.faults import app_behind_proxies
from tests.referral.test_submit import PNG, count_rows, store_keys, submit_with_files


async def run_janitor(resources, grace: timedelta = timedelta(hours=1)):
    async with resources.session_factory() as session:
        return await sweep(session, store=resources.store, grace=grace)


async def pending_uploads(resources) -> list[tuple[str, bool]]:
    async with resources.session_factory() as session:
        rows = (await session.execute(select(PendingUpload.object_key, PendingUpload.abandoned_at))).all()
    return [(key, abandoned_at is not None) for key, abandoned_at in rows]


async def test_a_commit_whose_answer_is_lost_keeps_the_evidence(settings, client, world, resources):
    content = PNG + b"site photo"
    async with app_behind_proxies(settings) as (proxied_client, proxy, _):
        proxy.cut_commit_after(b"INSERT INTO referral ")
        body = await submit_with_files(proxied_client, world.tokens["liaison-a"], [("pit.png", content, "image/png")],
                                       idempotencyKey="in-doubt")
        assert proxy.cuts == 1
    # The app cannot know whether it happened, and says so.
    assert error_codes(body) == ["DATABASE_UNAVAILABLE"]
    # It did happen: the rows are committed, the upload is settled, the object is there and held.
    assert await count_rows(resources, Referral) == 1
    assert await count_rows(resources, Evidence) == 1
    assert await pending_uploads(resources) == []
    report = await run_janitor(resources, grace=timedelta(0))
    assert report.removed == []
    [key] = store_keys(resources)
    store, bucket = resources.store.client, resources.store.bucket
    [version] = list(store.list_objects(bucket, prefix=key, include_version=True))
    assert store.is_object_legal_hold_enabled(bucket, key, version_id=version.version_id)

    # The client retries with the same key and gets the referral, with its file intact.
    again = await submit_with_files(client, world.tokens["liaison-a"], [("pit.png", content, "image/png")],
                                    idempotencyKey="in-doubt")
    [evidence] = again["data"]["submitReferral"]["evidence"]
    download = await client.get(evidence["downloadPath"],
                                headers={"Authorization": f"Bearer {world.tokens['liaison-a']}"})
    assert hashlib.sha256(download.content).hexdigest() == hashlib.sha256(content).hexdigest()
    assert await count_rows(resources, Referral) == 1


async def test_a_request_that_fails_after_uploading_leaves_its_objects_to_the_janitor(client, world, resources):
    body = await submit_with_files(client, world.tokens["liaison-a"], [
        ("photo.png", PNG, "image/png"),
        ("run.sh", b"#!/bin/sh\nrm -rf /\n", "image/png"),  # refused after the photo was stored
    ])
    assert error_codes(body) == ["UNSUPPORTED_MEDIA_TYPE"]
    assert await count_rows(resources, Referral) == 0
    # The photo's object is accounted for: a pending upload the request gave up on (as is the
    # script's reserved key, which never got any bytes).
    pending = await pending_uploads(resources)
    assert len(pending) == 2 and all(abandoned for _, abandoned in pending)
    [photo] = store_keys(resources)
    assert photo in {key for key, _ in pending}
    # Held from its first byte (the hold travels with the upload), so only the janitor, which
    # lifts holds on what the database proves is no evidence, can remove it.
    store, bucket = resources.store.client, resources.store.bucket
    [version] = list(store.list_objects(bucket, prefix=photo, include_version=True))
    assert store.is_object_legal_hold_enabled(bucket, photo, version_id=version.version_id)
    report = await run_janitor(resources)  # abandoned: no grace period needed
    assert sorted(report.removed) == sorted(key for key, _ in pending)
    assert store_keys(resources) == [] and await pending_uploads(resources) == []


async def test_the_janitor_leaves_uploads_in_progress_and_evidence_alone(client, world, resources):
    body = await submit_with_files(client, world.tokens["liaison-a"], [("a.png", PNG, "image/png")])
    assert "errors" not in body
    in_progress = "referrals/00000000-0000-0000-0000-000000000001/00000000-0000-0000-0000-000000000002"
    async with resources.session_factory() as session:
        session.add(PendingUpload(object_key=in_progress))
        await session.commit()
    resources.store.client.put_object(resources.store.bucket, in_progress, io.BytesIO(PNG), len(PNG))
    report = await run_janitor(resources, grace=timedelta(hours=1))
    assert report.removed == []
    assert len(store_keys(resources)) == 2
    # Once its request is surely over (older than the grace period), it goes; evidence stays.
    report = await run_janitor(resources, grace=timedelta(0))
    assert report.removed == [in_progress]
    assert len(store_keys(resources)) == 1


async def test_every_committed_evidence_row_records_its_hold(client, world, resources):
    body = await submit_with_files(client, world.tokens["liaison-a"], [("a.png", PNG, "image/png")])
    assert "errors" not in body
    async with resources.session_factory() as session:
        held_at = await session.scalar(select(Evidence.held_at))
    assert held_at is not None


async def test_hold_evidence_reports_a_missing_object_and_goes_on(client, world, resources):
    for name in ("a.png", "b.png", "c.png"):
        body = await submit_with_files(client, world.tokens["liaison-a"], [(name, PNG + name.encode(), "image/png")])
        assert "errors" not in body
    store, bucket = resources.store.client, resources.store.bucket
    async with resources.session_factory() as session:
        rows = (await session.execute(select(Evidence.object_key, Evidence.version_id)
                                      .order_by(Evidence.uploaded_at))).all()
        await session.execute(text("UPDATE evidence SET held_at = NULL"))
        await session.commit()
    # The first object vanishes (an operator's mistake); the others lost their holds.
    for key, version_id in rows:
        store.disable_object_legal_hold(bucket, key, version_id=version_id)
    store.remove_object(bucket, rows[0][0], version_id=rows[0][1])
    async with resources.session_factory() as session:
        held, missing = await hold_evidence(session, store=resources.store, only_unheld=True)
    assert missing == [rows[0][0]]
    assert held == [key for key, _ in rows[1:]]
    for key, version_id in rows[1:]:
        assert store.is_object_legal_hold_enabled(bucket, key, version_id=version_id)
    async with resources.session_factory() as session:
        unheld = await session.scalar(select(func.count()).select_from(Evidence).where(Evidence.held_at.is_(None)))
    assert unheld == 1


async def test_the_janitor_aborts_interrupted_multipart_uploads(world, resources):
    store, bucket = resources.store.client, resources.store.bucket
    key = "referrals/00000000-0000-0000-0000-000000000003/00000000-0000-0000-0000-000000000004"
    upload_id = store._create_multipart_upload(bucket, key, {"Content-Type": "image/png"})
    store._upload_part(bucket, key, PNG + bytes(5 * 1024 * 1024), None, upload_id, 1)
    assert (await run_janitor(resources, grace=timedelta(hours=1))).aborted == []
    assert [upload.key for upload in await resources.store.incomplete_uploads("referrals/")] == [key]
    assert (await run_janitor(resources, grace=timedelta(0))).aborted == [key]
    assert await resources.store.incomplete_uploads("referrals/") == []


async def test_a_retry_with_other_bytes_under_the_same_name_and_size_is_a_conflict(client, world, resources):
    token = world.tokens["liaison-a"]
    first = await submit_with_files(client, token, [("a.png", PNG + b"1", "image/png")], idempotencyKey="k")
    assert "errors" not in first
    other = await submit_with_files(client, token, [("a.png", PNG + b"2", "image/png")], idempotencyKey="k")
    assert error_codes(other) == ["CONFLICT"]
    same = await submit_with_files(client, token, [("a.png", PNG + b"1", "image/png")], idempotencyKey="k")
    assert same["data"]["submitReferral"]["id"] == first["data"]["submitReferral"]["id"]
    assert len(store_keys(resources)) == 1 and await pending_uploads(resources) == []


@pytest.mark.parametrize("count", [4])
async def test_concurrent_retries_keep_one_referral_and_the_janitor_the_rest(client, world, resources, count):
    import asyncio

    token = world.tokens["liaison-a"]
    results = await asyncio.gather(*[
        submit_with_files(client, token, [("a.png", PNG, "image/png")], idempotencyKey="race")
        for _ in range(count)])
    ids = {result["data"]["submitReferral"]["id"] for result in results if result.get("data")}
    assert len(ids) == 1, results
    assert await count_rows(resources, Referral) == 1
    assert await count_rows(resources, Evidence) == 1
    await run_janitor(resources)
    assert len(store_keys(resources)) == 1
    assert await pending_uploads(resources) == []
