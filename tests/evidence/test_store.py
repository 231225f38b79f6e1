"""The evidence bucket as the platform creates it."""

from __future__ import annotations


async def test_bucket_is_versioned_with_object_lock(resources):
    client, bucket = resources.store.client, resources.store.bucket
    assert client.get_bucket_versioning(bucket).status == "Enabled"
    client.get_object_lock_config(bucket)  # raises S3Error (ObjectLockConfigurationNotFound) without it
    await resources.store.ensure_bucket()  # idempotent
