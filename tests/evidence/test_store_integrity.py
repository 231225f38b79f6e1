"""Evidence bytes changed or removed behind the platform's back, found by verifyEvidence, by the
operator's `verify-custody --objects` and by the janitor's rolling re-hash (a bounded slice per run)."""

from __future__ import annotations

import hashlib
import io
import logging
from datetime import timedelta

from evidence.service import sweep
from tests.evidence.custody_helpers import overwrite_in_place, run_manage, upload, verify
from tests.referral.test_submit import PNG


async def _row(resources, evidence_id: str):
    from sqlalchemy import select

    from evidence.models import Evidence

    async with resources.session_factory() as session:
        return await session.scalar(select(Evidence).where(Evidence.id == evidence_id))


async def test_bytes_changed_in_place_by_a_store_superuser_are_found(client, world, resources, stack, caplog):
    [evidence] = (await upload(client, world))["evidence"]
    row = await _row(resources, evidence["id"])
    forged = PNG + b"\x01" * 2048
    overwrite_in_place(stack, resources.store.bucket, row.object_key, row.version_id, forged)
    # Same key, same version id, held: only the bytes differ.
    stored = resources.store.client.get_object(resources.store.bucket, row.object_key, version_id=row.version_id)
    assert stored.read() == forged

    result = (await verify(client, world, evidence["id"]))["data"]["verifyEvidence"]
    assert result["status"] == "ALTERED" and result["intact"] is False and result["chainIntact"] is True
    assert result["storedSha256"] == hashlib.sha256(forged).hexdigest() != result["recordedSha256"]
    assert await run_manage("verify-custody") == 0  # the log itself is whole
    with caplog.at_level(logging.ERROR, logger="app.manage"):
        assert await run_manage("verify-custody", "--objects") == 1
    assert f"evidence {evidence['id']}: the stored object {row.object_key}" in caplog.text and "altered" in caplog.text

    async with resources.session_factory() as session:
        report = await sweep(session, store=resources.store, grace=timedelta(hours=1))
    assert report.integrity.altered == [row.object_key]


async def test_a_newer_version_over_the_key_is_reported_and_the_evidence_version_still_serves(
        client, world, resources):
    [evidence] = (await upload(client, world))["evidence"]
    row = await _row(resources, evidence["id"])
    resources.store.client.put_object(resources.store.bucket, row.object_key, io.BytesIO(b"replacement"), 11)

    result = (await verify(client, world, evidence["id"]))["data"]["verifyEvidence"]
    assert result["status"] == "SUPERSEDED" and result["storedSha256"] == evidence["sha256"]
    download = await client.get(evidence["downloadPath"], headers={"Authorization": f"Bearer {world.tokens['liaison-a']}"})
    assert hashlib.sha256(download.content).hexdigest() == evidence["sha256"]


async def test_the_janitor_rehashes_a_bounded_slice_per_run_and_reports_missing_objects(client, world, resources,
                                                                                        caplog):
    referral = await upload(client, world, files=[(f"{n}.png", PNG + bytes([n]) * 512, "image/png") for n in range(3)])
    first, second, third = [await _row(resources, item["id"]) for item in referral["evidence"]]
    store = resources.store
    store.client.disable_object_legal_hold(store.bucket, second.object_key, second.version_id)
    store.client.remove_object(store.bucket, second.object_key, version_id=second.version_id)

    async with resources.session_factory() as session:
        one = await sweep(session, store=store, grace=timedelta(hours=1), integrity_batch=2)
    async with resources.session_factory() as session:
        two = await sweep(session, store=store, grace=timedelta(hours=1), integrity_batch=2)
    # Two rows a run, never-checked ones first: all three within two runs, then the oldest check again.
    assert len(one.integrity.checked) == 2 and len(two.integrity.checked) == 2
    keys = {first.object_key, second.object_key, third.object_key}
    assert set(one.integrity.checked) | set(two.integrity.checked) == keys
    assert (one.integrity.missing + two.integrity.missing).count(second.object_key) >= 1
    result = (await verify(client, world, str(second.id)))["data"]["verifyEvidence"]
    assert result["status"] == "MISSING" and result["storedSha256"] is None

    with caplog.at_level(logging.ERROR, logger="app.manage"):
        assert await run_manage("sweep", "--integrity-batch", "3") == 1
    assert f"missing from the store: {second.object_key}" in caplog.text


async def test_a_byte_budget_ends_a_run_early(client, world, resources):
    referral = await upload(client, world, files=[(f"{n}.png", PNG + bytes([n]) * 4096, "image/png") for n in range(3)])
    assert len(referral["evidence"]) == 3
    async with resources.session_factory() as session:
        report = await sweep(session, store=resources.store, grace=timedelta(hours=1), integrity_batch=10,
                             integrity_max_bytes=5000)
    assert len(report.integrity.checked) == 1  # the first always, then no more than the budget
