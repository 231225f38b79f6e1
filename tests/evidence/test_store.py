"""The evidence bucket as the platform creates it."""

from __future__ import annotations


async def test_bucket_is_versioned_with_object_lock(resources):
    client, bucket = resources.store.client, resources.store.bucket
    assert client.get_bucket_versioning(bucket).status == "Enabled"
    client.get_object_lock_config(bucket)  # raises S3Error (ObjectLockConfigurationNotFound) without it
    await resources.store.ensure_bucket()  # idempotent


async def test_a_row_whose_object_is_gone_downloads_as_not_found(client, world, resources):
    from tests.conftest import graphql_upload
    from tests.referral.test_submit import PNG, SUBMIT, referral_input

    response = await graphql_upload(client, SUBMIT, {"input": referral_input(), "evidence": [{"file": None}]},
                                    {"variables.evidence.0.file": ("a.png", PNG, "image/png")},
                                    world.tokens["liaison-a"])
    path = response.json()["data"]["submitReferral"]["evidence"][0]["downloadPath"]
    store, bucket = resources.store.client, resources.store.bucket
    [item] = list(store.list_objects(bucket, recursive=True, include_version=True))
    store.disable_object_legal_hold(bucket, item.object_name, item.version_id)
    store.remove_object(bucket, item.object_name, version_id=item.version_id)
    download = await client.get(path, headers={"Authorization": f"Bearer {world.tokens['prosecutor-1']}"})
    assert download.status_code == 404
    assert download.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
