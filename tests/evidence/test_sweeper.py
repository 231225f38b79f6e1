"""`sweep-orphans` removes objects no evidence row or pending upload accounts for, and nothing
else; `hold-evidence` re-applies lifted holds."""

from __future__ import annotations

import io
from datetime import timedelta

from evidence.service import sweep_orphans
from tests.conftest import graphql_upload
from tests.referral.test_submit import PNG, SUBMIT, referral_input, store_keys


async def test_sweeper_removes_only_orphans(client, world, resources):
    response = await graphql_upload(client, SUBMIT, {"input": referral_input(), "evidence": [{"file": None}]},
                                    {"variables.evidence.0.file": ("a.png", PNG, "image/png")},
                                    world.tokens["liaison-a"])
    assert "errors" not in response.json()
    [owned] = store_keys(resources)
    orphan = "referrals/00000000-0000-0000-0000-000000000000/11111111-1111-1111-1111-111111111111"
    resources.store.client.put_object(resources.store.bucket, orphan, io.BytesIO(PNG), len(PNG))

    async with resources.session_factory() as session:
        assert await sweep_orphans(session, store=resources.store, older_than=timedelta(hours=1)) == []
        assert await sweep_orphans(session, store=resources.store, older_than=timedelta(0)) == [orphan]
    assert store_keys(resources) == [owned]


async def test_missing_legal_holds_can_be_reapplied(client, world, resources):
    from evidence.service import hold_evidence

    response = await graphql_upload(client, SUBMIT, {"input": referral_input(), "evidence": [{"file": None}]},
                                    {"variables.evidence.0.file": ("a.png", PNG, "image/png")},
                                    world.tokens["liaison-a"])
    assert "errors" not in response.json()
    client_s3, bucket = resources.store.client, resources.store.bucket
    [version] = [item for item in client_s3.list_objects(bucket, recursive=True, include_version=True)]
    client_s3.disable_object_legal_hold(bucket, version.object_name, version.version_id)  # as if the store failed
    async with resources.session_factory() as session:
        held, missing = await hold_evidence(session, store=resources.store)
    assert len(held) == 1 and missing == []
    assert client_s3.is_object_legal_hold_enabled(bucket, version.object_name, version.version_id)
