"""COMPLIANCE retention on top of the legal hold: the bucket's default retention (set by
ensure_bucket locally, by deploy/minio/setup.sh on MinIO) keeps every evidence version for the
configured period; SeaweedFS refuses to delete such a version, to shorten its retention, or to
loosen the bucket's default, even to its admin identity and after the legal hold is lifted."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from minio.commonconfig import COMPLIANCE, GOVERNANCE
from minio.error import S3Error
from minio.objectlockconfig import DAYS, ObjectLockConfig
from minio.retention import Retention
from sqlalchemy import select

from evidence.models import Evidence
from evidence.storage import EvidenceStore
from tests.evidence.custody_helpers import upload

RETENTION_BUCKET = "pil-retention-test"  # never emptied: its versions cannot be deleted for a day


@pytest.fixture
async def retaining_store(settings, resources, monkeypatch):
    store = EvidenceStore(settings.storage.model_copy(update={"bucket": RETENTION_BUCKET, "retention_days": 1}))
    await store.ensure_bucket()
    await store.ensure_bucket()  # idempotent: the default is written only when it differs
    monkeypatch.setattr(resources, "store", store)
    yield store
    store.close()


async def test_a_retained_evidence_version_cannot_be_deleted_even_without_its_hold(client, world, resources,
                                                                                   retaining_store):
    config = retaining_store.client.get_object_lock_config(RETENTION_BUCKET)
    assert config == ObjectLockConfig(COMPLIANCE, 1, DAYS)

    [evidence] = (await upload(client, world))["evidence"]
    async with resources.session_factory() as session:
        row = await session.scalar(select(Evidence).where(Evidence.id == evidence["id"]))
    client_ = retaining_store.client
    retention = client_.get_object_retention(RETENTION_BUCKET, row.object_key, version_id=row.version_id)
    assert retention.mode == COMPLIANCE
    assert retention.retain_until_date > datetime.now(timezone.utc) + timedelta(hours=23)
    assert client_.is_object_legal_hold_enabled(RETENTION_BUCKET, row.object_key, version_id=row.version_id)

    client_.disable_object_legal_hold(RETENTION_BUCKET, row.object_key, version_id=row.version_id)
    with pytest.raises(S3Error) as refused:
        client_.remove_object(RETENTION_BUCKET, row.object_key, version_id=row.version_id)
    assert refused.value.code == "AccessDenied"
    with pytest.raises(S3Error):  # COMPLIANCE cannot be shortened
        client_.set_object_retention(RETENTION_BUCKET, row.object_key,
                                     Retention(COMPLIANCE, datetime.now(timezone.utc) + timedelta(minutes=1)),
                                     version_id=row.version_id)
    with pytest.raises(S3Error):  # nor turned into GOVERNANCE, which a privileged caller could bypass
        client_.set_object_retention(RETENTION_BUCKET, row.object_key,
                                     Retention(GOVERNANCE, datetime.now(timezone.utc) + timedelta(days=2)),
                                     version_id=row.version_id)
    # Still there, byte for byte.
    stored = await retaining_store.digest(row.object_key, row.version_id)
    assert stored is not None and stored.sha256 == evidence["sha256"]


async def test_without_retention_the_legal_hold_alone_protects(client, world, resources):
    """The default (0 days) sets no retention: the tests' own bucket is emptied after each test."""
    store = resources.store
    assert store.retention_days == 0 and store.client.get_object_lock_config(store.bucket).mode is None
    [evidence] = (await upload(client, world))["evidence"]
    async with resources.session_factory() as session:
        row = await session.scalar(select(Evidence).where(Evidence.id == evidence["id"]))
    try:
        retention = store.client.get_object_retention(store.bucket, row.object_key, version_id=row.version_id)
    except S3Error as error:
        assert error.code in ("NoSuchObjectLockConfiguration", "ObjectLockConfigurationNotFoundError")
        retention = None
    assert retention is None or retention.mode is None
    assert store.client.is_object_legal_hold_enabled(store.bucket, row.object_key, version_id=row.version_id)


async def test_the_janitor_keeps_a_retained_object_of_an_abandoned_upload(resources, retaining_store, settings):
    import io

    from evidence.models import PendingUpload
    from evidence.service import sweep

    key = "referrals/abandoned/under-retention"
    retaining_store.client.put_object(RETENTION_BUCKET, key, io.BytesIO(b"half a file"), 11)
    async with resources.session_factory() as session:
        session.add(PendingUpload(object_key=key, abandoned_at=datetime.now(timezone.utc)))
        await session.commit()
        report = await sweep(session, store=retaining_store, grace=timedelta(hours=1))
    assert report.retained == [key] and report.removed == []
    assert [version.key for version in await retaining_store.versions_of(key)] == [key]
    async with resources.session_factory() as session:  # settled: the next run does not try again
        assert await session.get(PendingUpload, key) is None
