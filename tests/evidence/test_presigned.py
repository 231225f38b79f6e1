"""Large files sent straight to the store: requestEvidenceUpload gives presigned part URLs, a real
HTTP client PUTs the parts to SeaweedFS, resumes after a dropped connection by asking which parts
arrived, and confirmEvidenceUpload checks size and SHA-256 by reading the object back."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import httpx
from sqlalchemy import select, update

from evidence.models import CustodyEvent, Evidence, EvidenceUpload, PendingUpload
from evidence.service import sweep
from tests.conftest import error_codes, graphql
from tests.evidence import samples
from tests.referral.test_return_and_decline import WITHDRAW, submitted
from tests.referral.test_submit import count_rows, store_keys

MiB = 1024 * 1024
UPLOAD_FIELDS = """id referralId filename kind sizeBytes sha256 partSizeBytes partCount status rejection expiresAt
  uploadedParts { number sizeBytes } partUrls { number url }"""
REQUEST = f"""mutation($input: RequestEvidenceUploadInput!) {{ requestEvidenceUpload(input: $input) {{
  {UPLOAD_FIELDS} }} }}"""
PROGRESS = f"query($id: ID!) {{ evidenceUpload(id: $id) {{ {UPLOAD_FIELDS} }} }}"
CONFIRM = """mutation($id: ID!) { confirmEvidenceUpload(id: $id) {
  id filename kind mediaType sizeBytes sha256 description downloadPath } }"""


def video(size: int) -> bytes:
    return samples.mp4(size)[:size]


async def request_upload(client, world, referral_id: str, content: bytes, user: str = "liaison-a",
                         **overrides) -> dict:
    upload_input = {"owner": referral_id, "filename": "drone.mp4", "sizeBytes": len(content),
                    "sha256": hashlib.sha256(content).hexdigest(), "kind": "VIDEO", "description": "无人机航拍"}
    upload_input.update(overrides)
    return await graphql(client, REQUEST, {"input": upload_input}, world.tokens[user])


def part_of(content: bytes, upload: dict, number: int) -> bytes:
    size = int(upload["partSizeBytes"])
    return content[(number - 1) * size:number * size]


async def put_part(url: str, data: bytes) -> httpx.Response:
    # A real HTTP client against the real store, as a field office's would be.
    async with httpx.AsyncClient(timeout=30) as store_client:
        return await store_client.put(url, content=data)


async def test_a_large_file_goes_to_the_store_in_parts_and_becomes_evidence(client, world, resources, settings,
                                                                            monkeypatch):
    monkeypatch.setattr(settings.api, "presigned_part_bytes", 5 * MiB)
    referral_id = await submitted(client, world)
    content = video(12 * MiB + 12345)
    body = await request_upload(client, world, referral_id, content)
    assert "errors" not in body, body
    upload = body["data"]["requestEvidenceUpload"]
    assert (upload["partSizeBytes"], upload["partCount"], upload["status"]) == (5 * MiB, 3, "OPEN")
    assert upload["uploadedParts"] == []
    assert [part["number"] for part in upload["partUrls"]] == [1, 2, 3]
    # The URLs point at the store's public endpoint (in the test stack, SeaweedFS itself).
    assert all(part["url"].startswith(f"http://{settings.storage.endpoint}/") for part in upload["partUrls"])
    # The key is pending until confirmed, with the upload's own expiry.
    assert await count_rows(resources, PendingUpload) == 1

    for part in upload["partUrls"]:
        response = await put_part(part["url"], part_of(content, upload, part["number"]))
        assert response.status_code == 200, response.text
    progress = (await graphql(client, PROGRESS, {"id": upload["id"]}, world.tokens["liaison-a"]))["data"]
    assert [part["number"] for part in progress["evidenceUpload"]["uploadedParts"]] == [1, 2, 3]
    assert progress["evidenceUpload"]["partUrls"] == []

    body = await graphql(client, CONFIRM, {"id": upload["id"]}, world.tokens["liaison-a"])
    assert "errors" not in body, body
    evidence = body["data"]["confirmEvidenceUpload"]
    assert evidence["id"] == upload["id"]
    assert (evidence["kind"], evidence["mediaType"], evidence["sizeBytes"]) == ("VIDEO", "video/mp4", len(content))
    assert evidence["sha256"] == hashlib.sha256(content).hexdigest()
    download = await client.get(evidence["downloadPath"],
                                headers={"Authorization": f"Bearer {world.tokens['prosecutor-1']}"})
    assert hashlib.sha256(download.content).hexdigest() == evidence["sha256"]
    assert await count_rows(resources, PendingUpload) == 0
    # Held like every evidence version: the store refuses to delete it.
    async with resources.session_factory() as session:
        row = await session.scalar(select(Evidence))
    assert resources.store.client.is_object_legal_hold_enabled(resources.store.bucket, row.object_key,
                                                               row.version_id)
    # Confirming again answers with the same evidence and writes nothing new.
    again = await graphql(client, CONFIRM, {"id": upload["id"]}, world.tokens["liaison-a"])
    assert again["data"]["confirmEvidenceUpload"]["id"] == evidence["id"]
    assert await count_rows(resources, Evidence) == 1
    assert await count_rows(resources, CustodyEvent) == 2  # uploaded, downloaded


async def test_after_a_dropped_connection_the_client_resumes_with_the_missing_parts(client, world, settings,
                                                                                    monkeypatch):
    monkeypatch.setattr(settings.api, "presigned_part_bytes", 5 * MiB)
    referral_id = await submitted(client, world)
    content = video(11 * MiB)
    upload = (await request_upload(client, world, referral_id, content))["data"]["requestEvidenceUpload"]
    urls = {part["number"]: part["url"] for part in upload["partUrls"]}
    assert (await put_part(urls[1], part_of(content, upload, 1))).status_code == 200

    second = part_of(content, upload, 2)

    async def breaks_midway():
        yield second[:len(second) // 2]
        raise ConnectionResetError("the field office's link went down")

    async with httpx.AsyncClient(timeout=30) as store_client:
        try:
            await store_client.put(urls[2], content=breaks_midway(), headers={"Content-Length": str(len(second))})
        except (httpx.HTTPError, ConnectionResetError):
            pass
        else:
            raise AssertionError("the broken upload should have failed")

    progress = (await graphql(client, PROGRESS, {"id": upload["id"]}, world.tokens["liaison-a"]))["data"]
    assert [part["number"] for part in progress["evidenceUpload"]["uploadedParts"]] == [1]
    resume = progress["evidenceUpload"]["partUrls"]
    assert [part["number"] for part in resume] == [2, 3]
    early = await graphql(client, CONFIRM, {"id": upload["id"]}, world.tokens["liaison-a"])
    assert error_codes(early) == ["VALIDATION"]
    assert early["errors"][0]["extensions"]["missingParts"] == [2, 3]

    for part in resume:
        assert (await put_part(part["url"], part_of(content, upload, part["number"]))).status_code == 200
    body = await graphql(client, CONFIRM, {"id": upload["id"]}, world.tokens["liaison-a"])
    assert body["data"]["confirmEvidenceUpload"]["sha256"] == hashlib.sha256(content).hexdigest()


async def test_bytes_other_than_declared_are_not_evidence_and_the_janitor_removes_them(client, world, resources):
    referral_id = await submitted(client, world)
    content = video(64 * 1024)
    upload = (await request_upload(client, world, referral_id, content,
                                   sha256=hashlib.sha256(b"other bytes").hexdigest()))["data"]["requestEvidenceUpload"]
    [part] = upload["partUrls"]
    assert (await put_part(part["url"], content)).status_code == 200
    body = await graphql(client, CONFIRM, {"id": upload["id"]}, world.tokens["liaison-a"])
    assert error_codes(body) == ["VALIDATION"]
    assert (body["errors"][0]["extensions"]["reason"], body["errors"][0]["extensions"]["field"]) == (
        "SHA256_MISMATCH", "sha256")
    assert await count_rows(resources, Evidence) == 0
    state = (await graphql(client, PROGRESS, {"id": upload["id"]}, world.tokens["liaison-a"]))["data"]
    assert state["evidenceUpload"]["status"] == "REJECTED"
    again = await graphql(client, CONFIRM, {"id": upload["id"]}, world.tokens["liaison-a"])
    assert again["errors"][0]["extensions"]["reason"] == "UPLOAD_REJECTED"
    # The app left the completed object where it was; the janitor removes it.
    assert len(store_keys(resources)) == 1
    async with resources.session_factory() as session:
        report = await sweep(session, store=resources.store, grace=timedelta(hours=1))
    assert len(report.removed) == 1
    assert store_keys(resources) == []
    assert await count_rows(resources, PendingUpload) == 0


async def test_a_file_not_of_its_kind_is_rejected_on_confirmation(client, world, resources):
    referral_id = await submitted(client, world)
    content = samples.PDF
    upload = (await request_upload(client, world, referral_id, content, kind="PHOTO",
                                   filename="site.jpg"))["data"]["requestEvidenceUpload"]
    assert (await put_part(upload["partUrls"][0]["url"], content)).status_code == 200
    body = await graphql(client, CONFIRM, {"id": upload["id"]}, world.tokens["liaison-a"])
    assert error_codes(body) == ["UNSUPPORTED_MEDIA_TYPE"]
    assert body["errors"][0]["extensions"]["mediaType"] == "application/pdf"
    assert await count_rows(resources, Evidence) == 0


async def test_declarations_are_checked_before_anything_opens(client, world, resources, settings, monkeypatch):
    monkeypatch.setattr(settings.api, "max_presigned_upload_bytes", 100 * MiB)
    referral_id = await submitted(client, world)
    too_large = await request_upload(client, world, referral_id, b"x", sizeBytes=100 * MiB + 1)
    assert error_codes(too_large) == ["PAYLOAD_TOO_LARGE"]
    assert too_large["errors"][0]["extensions"]["field"] == "sizeBytes"
    bad_hash = await request_upload(client, world, referral_id, b"x", sha256="not-a-hash")
    assert (error_codes(bad_hash), bad_hash["errors"][0]["extensions"]["field"]) == (["VALIDATION"], "sha256")
    empty = await request_upload(client, world, referral_id, b"x", sizeBytes=0)
    assert empty["errors"][0]["extensions"]["field"] == "sizeBytes"
    assert await count_rows(resources, PendingUpload) == 0
    assert await count_rows(resources, EvidenceUpload) == 0


async def test_another_agency_never_reaches_the_upload(client, world, resources):
    referral_id = await submitted(client, world)
    refused = await request_upload(client, world, referral_id, b"x" * 10, user="liaison-b")
    assert error_codes(refused) == ["NOT_FOUND"]
    upload = (await request_upload(client, world, referral_id, video(4096)))["data"]["requestEvidenceUpload"]
    for user in ("liaison-b", "prosecutor-2"):
        seen = await graphql(client, PROGRESS, {"id": upload["id"]}, world.tokens[user])
        assert error_codes(seen) == ["NOT_FOUND"], user
        confirmed = await graphql(client, CONFIRM, {"id": upload["id"]}, world.tokens[user])
        assert error_codes(confirmed) == ["NOT_FOUND"], user
    assessor = await graphql(client, PROGRESS, {"id": upload["id"]}, world.tokens["assessor-1"])
    assert error_codes(assessor) == ["FORBIDDEN"]
    assert await count_rows(resources, EvidenceUpload) == 1


async def test_a_referral_closed_meanwhile_takes_no_upload(client, world, resources):
    referral_id = await submitted(client, world)
    content = video(4096)
    upload = (await request_upload(client, world, referral_id, content))["data"]["requestEvidenceUpload"]
    assert (await put_part(upload["partUrls"][0]["url"], content)).status_code == 200
    await graphql(client, WITHDRAW, {"id": referral_id, "reason": "撤回"}, world.tokens["liaison-a"])
    body = await graphql(client, CONFIRM, {"id": upload["id"]}, world.tokens["liaison-a"])
    assert body["errors"][0]["extensions"]["reason"] == "REFERRAL_CLOSED"
    again = await request_upload(client, world, referral_id, content)
    assert again["errors"][0]["extensions"]["reason"] == "REFERRAL_CLOSED"
    assert await count_rows(resources, Evidence) == 0


async def test_an_abandoned_upload_is_swept_after_its_time_and_not_before(client, world, resources):
    referral_id = await submitted(client, world)
    content = video(6 * MiB)
    upload = (await request_upload(client, world, referral_id, content))["data"]["requestEvidenceUpload"]
    assert (await put_part(upload["partUrls"][0]["url"], content[:5 * MiB])).status_code == 200
    store = resources.store

    key = f"referrals/{referral_id}/{upload['id']}"

    async def incomplete() -> list[str]:
        return [item.key for item in await store.incomplete_uploads(key)]

    # The janitor's grace for streamed requests does not apply: the client has until expiresAt.
    async with resources.session_factory() as session:
        report = await sweep(session, store=store, grace=timedelta(0))
    assert key not in report.aborted and key not in report.removed
    assert await incomplete() == [key]

    async with resources.session_factory() as session:
        await session.execute(update(PendingUpload).values(expires_at=PendingUpload.created_at))
        await session.execute(update(EvidenceUpload).values(expires_at=EvidenceUpload.created_at))
        await session.commit()
    late = await graphql(client, CONFIRM, {"id": upload["id"]}, world.tokens["liaison-a"])
    assert late["errors"][0]["extensions"]["reason"] == "UPLOAD_EXPIRED"
    async with resources.session_factory() as session:
        report = await sweep(session, store=store, grace=timedelta(hours=1))
    assert key in report.aborted and report.removed == [key]
    assert await incomplete() == []
    assert store_keys(resources) == []
    assert await count_rows(resources, PendingUpload) == 0


async def test_a_confirmation_whose_commit_was_lost_can_be_repeated(client, world, resources):
    referral_id = await submitted(client, world)
    content = video(4096)
    upload = (await request_upload(client, world, referral_id, content))["data"]["requestEvidenceUpload"]
    assert (await put_part(upload["partUrls"][0]["url"], content)).status_code == 200
    async with resources.session_factory() as session:
        row = await session.get(EvidenceUpload, uuid.UUID(upload["id"]))
    # As if a first confirmation completed the upload in the store and then lost its database.
    parts = await resources.store.uploaded_parts(row.object_key, row.store_upload_id)
    await resources.store.complete_upload(row.object_key, row.store_upload_id, parts)
    progress = await graphql(client, PROGRESS, {"id": upload["id"]}, world.tokens["liaison-a"])
    assert progress["data"]["evidenceUpload"]["uploadedParts"] == []
    body = await graphql(client, CONFIRM, {"id": upload["id"]}, world.tokens["liaison-a"])
    assert body["data"]["confirmEvidenceUpload"]["sha256"] == hashlib.sha256(content).hexdigest()
    assert await count_rows(resources, PendingUpload) == 0
