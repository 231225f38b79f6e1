"""Uploads stream from the request into the store: bounded memory, no temporary file, parts sent
while the body still arrives, and a store that stops answering fails the upload within seconds."""

from __future__ import annotations

import hashlib
import json
import signal
import time
import tracemalloc

import pytest
import starlette.formparsers
from minio.error import S3Error

from core.errors import PayloadTooLarge
from evidence.storage import EvidenceStore
from tests.conftest import error_codes
from tests.referral.test_submit import PNG, SUBMIT, count_rows, referral_input, store_keys

MiB = 1024 * 1024
BOUNDARY = b"pil-stream-boundary"


def incomplete_uploads(store) -> set[str]:
    return {upload.upload_id for upload in store.client._list_multipart_uploads(store.bucket).uploads}


def upload_request(content: bytes) -> tuple[bytes, bytes]:
    """The parts before and after the file's bytes, so the file itself is never copied."""
    operations = json.dumps({"query": SUBMIT, "variables": {"input": referral_input(), "evidence": [{"file": None}]}})
    head = b"".join([
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="operations"\r\n\r\n' + operations.encode(),
        b"\r\n--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="map"\r\n\r\n',
        json.dumps({"0": ["variables.evidence.0.file"]}).encode(),
        b"\r\n--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="0"; filename="aerial.png"\r\n'
        b"Content-Type: image/png\r\n\r\n",
    ])
    return head, b"\r\n--" + BOUNDARY + b"--\r\n"


async def test_a_large_upload_streams_through_in_parts_without_buffering(client, world, resources, monkeypatch):
    store = resources.store
    monkeypatch.setattr(store, "part_size", 5 * MiB)
    content = PNG + bytes(range(256)) * (64 * MiB // 256)
    head, tail = upload_request(content)
    seen_while_sending: list[int] = []
    earlier = incomplete_uploads(store)  # what other tests may have left

    async def network_chunks():
        # Like a socket: 64 KiB at a time. Three quarters in, the store must already be taking parts.
        yield head
        for offset in range(0, len(content), 64 * 1024):
            if offset == 48 * MiB:
                seen_while_sending.append(len(incomplete_uploads(store) - earlier))
            yield content[offset:offset + 64 * 1024]
        yield tail

    def no_temporary_files(*args, **kwargs):
        raise AssertionError("an upload was spooled to a temporary file")

    monkeypatch.setattr(starlette.formparsers, "SpooledTemporaryFile", no_temporary_files)
    tracemalloc.start()
    try:
        response = await client.post("/graphql", content=network_chunks(), headers={
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY.decode()}",
            "Content-Length": str(len(head) + len(content) + len(tail)),
            "Authorization": f"Bearer {world.tokens['liaison-a']}"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    answer = response.json()
    assert "errors" not in answer, answer
    assert seen_while_sending == [1]
    # The parts going up and the one filling, not the file.
    assert peak < (store.parts_in_flight + 2) * store.part_size < len(content) / 2, f"peak {peak / MiB:.1f} MiB"

    [evidence] = answer["data"]["submitReferral"]["evidence"]
    assert evidence["sizeBytes"] == len(content)
    assert evidence["sha256"] == hashlib.sha256(content).hexdigest()
    download = await client.get(evidence["downloadPath"],
                                headers={"Authorization": f"Bearer {world.tokens['liaison-a']}"})
    assert hashlib.sha256(download.content).hexdigest() == evidence["sha256"]
    assert incomplete_uploads(store) == earlier


async def test_a_frozen_store_fails_the_upload_within_the_timeouts(client, world, resources, settings, stack,
                                                                    monkeypatch):
    quick = EvidenceStore(settings.storage.model_copy(update={"connect_timeout_seconds": 1,
                                                              "read_timeout_seconds": 2}))
    monkeypatch.setattr(resources, "store", quick)
    from tests.referral.test_submit import submit_with_files

    weed = stack.s3._process
    weed.send_signal(signal.SIGSTOP)
    try:
        started = time.monotonic()
        answer = await submit_with_files(client, world.tokens["liaison-a"], [("a.png", PNG, "image/png")])
        elapsed = time.monotonic() - started
    finally:
        weed.send_signal(signal.SIGCONT)
        quick.close()
    assert error_codes(answer) == ["STORAGE_UNAVAILABLE"]
    # One read timeout, no retry of the PUT (before: 60 s per try, three tries).
    assert elapsed < 8, elapsed
    from referral.models import Referral

    assert await count_rows(resources, Referral) == 0


async def test_put_stream_holds_the_version_from_its_first_byte(world, resources, monkeypatch):
    store = resources.store
    monkeypatch.setattr(store, "part_size", 5 * MiB)

    async def chunks(content: bytes):
        for offset in range(0, len(content), MiB):
            yield content[offset:offset + MiB]

    for key, size in (("held/small", 1000), ("held/parts", 11 * MiB)):
        content = bytes(range(256)) * (size // 256)
        put = await store.put_stream(key, chunks(content), content_type="application/octet-stream",
                                     metadata={"filename": "x"}, legal_hold=True)
        assert store.client.is_object_legal_hold_enabled(store.bucket, key, put.version_id)
        stored = store.client.get_object(store.bucket, key, version_id=put.version_id)
        try:
            assert stored.read() == content
            assert stored.headers["x-amz-meta-filename"] == "x"
        finally:
            stored.close()
            stored.release_conn()
    unheld = await store.put_stream("held/not", chunks(b"abc"), content_type="text/plain")
    with pytest.raises(S3Error) as no_hold:
        store.client.is_object_legal_hold_enabled(store.bucket, "held/not", unheld.version_id)
    assert no_hold.value.code == "NoSuchObjectLegalHold"


@pytest.mark.parametrize("size", [0, 5 * 1024 * 1024, 10 * 1024 * 1024])
async def test_put_stream_at_part_boundaries(world, resources, monkeypatch, size):
    store = resources.store
    monkeypatch.setattr(store, "part_size", 5 * MiB)
    content = bytes(range(256)) * (size // 256)

    async def chunks():
        for offset in range(0, len(content), 3 * MiB):  # chunks that straddle the parts
            yield content[offset:offset + 3 * MiB]

    put = await store.put_stream("edge", chunks(), content_type="application/octet-stream")
    stored = store.client.get_object(store.bucket, "edge", version_id=put.version_id)
    try:
        assert stored.read() == content
    finally:
        stored.close()
        stored.release_conn()


async def test_a_failing_source_aborts_the_multipart_upload(world, resources, monkeypatch):
    store = resources.store
    monkeypatch.setattr(store, "part_size", 5 * MiB)

    async def chunks():
        for _ in range(7):
            yield bytes(MiB)
        raise PayloadTooLarge()

    earlier = incomplete_uploads(store)
    with pytest.raises(PayloadTooLarge):
        await store.put_stream("aborted", chunks(), content_type="application/octet-stream")
    assert incomplete_uploads(store) == earlier
    assert store_keys(resources, prefix="aborted") == []

