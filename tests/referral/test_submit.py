"""Submitting a referral with evidence, end to end through the API, the store and the database."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from coordTransform import wgs84_to_gcj02
from minio.error import S3Error
from pyproj import Geod
from sqlalchemy import func, select, text

from evidence.models import Evidence
from referral.models import Referral
from tests.conftest import error_codes, graphql, graphql_upload

SUBMIT = """
mutation($input: SubmitReferralInput!, $evidence: [EvidenceInput!]) {
  submitReferral(input: $input, evidence: $evidence) {
    id status title areaMu areaSquareMeters geometry
    agency { name } jurisdiction { code }
    evidence { id filename mediaType sizeBytes sha256 downloadPath }
    history { action fromStatus toStatus actorName }
  }
}"""
PIT = {"type": "Polygon", "coordinates": [[[113.20, 34.50], [113.21, 34.50], [113.21, 34.51],
                                            [113.20, 34.51], [113.20, 34.50]]]}
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
       b"\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def referral_input(**overrides) -> dict:
    value = {"domain": "ECOLOGY_RESOURCES", "title": "无证采矿", "facts": "专项调查中发现无证开采。",
             "geometry": PIT, "foundOn": "2026-10-01", "specialInvestigation": "非法采矿专项整治"}
    value.update(overrides)
    return value


async def submit_with_files(client, token, files: list[tuple[str, bytes, str]], **overrides):
    variables = {"input": referral_input(**overrides), "evidence": [{"file": None} for _ in files]}
    mapping = {f"variables.evidence.{index}.file": item for index, item in enumerate(files)}
    response = await graphql_upload(client, SUBMIT, variables, mapping, token)
    assert response.status_code == 200, response.text
    return response.json()


async def count_rows(resources, model) -> int:
    async with resources.session_factory() as session:
        return await session.scalar(select(func.count()).select_from(model))


def store_keys(resources, prefix: str = "referrals/") -> list[str]:
    client = resources.store.client
    return [item.object_name for item in
            client.list_objects(resources.store.bucket, prefix=prefix, recursive=True, include_version=True)]


async def test_submission_streams_evidence_into_the_store_with_its_hash(client, world, resources):
    content = PNG + b"\x00" * (3 * 1024 * 1024)  # several multipart reads' worth
    body = await submit_with_files(client, world.tokens["liaison-a"], [("现场照片.png", content, "image/png")])
    assert "errors" not in body, body
    referral = body["data"]["submitReferral"]
    assert referral["status"] == "SUBMITTED"
    assert referral["agency"]["name"] == "机关A"
    assert referral["jurisdiction"]["code"] == "410101"
    assert referral["history"] == [{"action": "submit", "fromStatus": None, "toStatus": "SUBMITTED",
                                    "actorName": "liaison-a"}]
    assert 1_000_000 < referral["areaSquareMeters"] < 1_300_000  # ~0.01° square at 34.5°N
    assert referral["areaMu"] == pytest.approx(referral["areaSquareMeters"] * 15 / 10000)
    [evidence] = referral["evidence"]
    assert evidence["filename"] == "现场照片.png"
    assert evidence["mediaType"] == "image/png"
    assert evidence["sizeBytes"] == len(content)
    assert evidence["sha256"] == hashlib.sha256(content).hexdigest()

    # Read the object straight from the store: the bytes are the ones sent.
    async with resources.session_factory() as session:
        row = await session.scalar(select(Evidence).where(Evidence.id == evidence["id"]))
    stored = resources.store.client.get_object(resources.store.bucket, row.object_key,
                                               version_id=row.version_id)
    try:
        assert hashlib.sha256(stored.read()).hexdigest() == evidence["sha256"]
    finally:
        stored.close()
        stored.release_conn()
    # Committed evidence is under legal hold: the store itself refuses to delete it.
    assert resources.store.client.is_object_legal_hold_enabled(resources.store.bucket, row.object_key,
                                                               version_id=row.version_id)
    with pytest.raises(S3Error) as refused:
        resources.store.client.remove_object(resources.store.bucket, row.object_key, version_id=row.version_id)
    assert refused.value.code == "AccessDenied"

    # And through the authorised download route, which logs the download.
    download = await client.get(evidence["downloadPath"],
                                headers={"Authorization": f"Bearer {world.tokens['prosecutor-1']}"})
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == evidence["sha256"]
    assert download.headers["content-type"] == "image/png"
    async with resources.session_factory() as session:
        actions = (await session.execute(text(
            "SELECT action, actor_name FROM custody_event WHERE evidence_id = :id ORDER BY occurred_at"),
            {"id": evidence["id"]})).all()
    assert [tuple(row) for row in actions] == [("UPLOADED", "liaison-a"), ("DOWNLOADED", "prosecutor-1")]


async def test_download_is_scoped_like_the_referral(client, world):
    body = await submit_with_files(client, world.tokens["liaison-a"], [("a.png", PNG, "image/png")])
    path = body["data"]["submitReferral"]["evidence"][0]["downloadPath"]
    statuses = {}
    for user in ("liaison-a", "liaison-b", "liaison-c", "prosecutor-1", "prosecutor-2", "prosecutor-city",
                 "assessor-1", "admin"):
        response = await client.get(path, headers={"Authorization": f"Bearer {world.tokens[user]}"})
        statuses[user] = response.status_code
    assert statuses == {"liaison-a": 200, "liaison-b": 404, "liaison-c": 404, "prosecutor-1": 200,
                        "prosecutor-2": 404, "prosecutor-city": 200, "assessor-1": 403, "admin": 403}
    assert (await client.get(path)).status_code == 401


async def test_submission_without_evidence(client, world):
    body = await graphql(client, SUBMIT, {"input": referral_input(
        geometry={"type": "Point", "coordinates": [113.2, 34.5]})}, world.tokens["liaison-a"])
    assert "errors" not in body, body
    assert body["data"]["submitReferral"]["areaMu"] == 0
    assert body["data"]["submitReferral"]["evidence"] == []


async def test_store_down_fails_the_submission_and_leaves_nothing(client, world, resources, stack):
    stack.s3.stop()
    try:
        body = await submit_with_files(client, world.tokens["liaison-a"], [("a.png", PNG, "image/png")])
    finally:
        stack.s3.start()
    assert error_codes(body) == ["STORAGE_UNAVAILABLE"]
    assert body["data"] is None
    assert await count_rows(resources, Referral) == 0
    assert await count_rows(resources, Evidence) == 0
    assert store_keys(resources) == []


async def test_rejected_file_type_changes_nothing(client, world, resources):
    body = await submit_with_files(client, world.tokens["liaison-a"], [
        ("photo.png", PNG, "image/png"),
        ("run.sh", b"#!/bin/sh\nrm -rf /\n", "image/png"),  # lies about its type
    ])
    assert error_codes(body) == ["UNSUPPORTED_MEDIA_TYPE"]
    assert body["errors"][0]["extensions"]["field"] == "evidence.1"
    assert await count_rows(resources, Referral) == 0
    # The first file, already stored, is left to the janitor (tests/evidence/test_durability.py).


async def test_oversized_file_is_refused_and_removed(client, world, resources, settings, monkeypatch):
    monkeypatch.setattr(settings.api, "max_upload_bytes", 64 * 1024)
    body = await submit_with_files(client, world.tokens["liaison-a"], [
        ("big.png", PNG + b"\x00" * (128 * 1024), "image/png")])
    assert error_codes(body) == ["PAYLOAD_TOO_LARGE"]
    assert await count_rows(resources, Evidence) == 0
    assert store_keys(resources) == []


async def test_request_over_the_body_limit_is_refused_before_reading(client, world, settings, monkeypatch):
    monkeypatch.setattr(settings.api, "max_request_bytes", 1024)
    response = await client.post("/graphql", content=b"x" * 4096,
                                 headers={"Content-Type": "multipart/form-data; boundary=x",
                                          "Authorization": f"Bearer {world.tokens['liaison-a']}"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_a_json_request_has_a_smaller_limit_than_an_upload(client, world, settings, monkeypatch):
    monkeypatch.setattr(settings.api, "max_json_bytes", 2048)
    small = await graphql(client, "{ me { username } }", token=world.tokens["liaison-a"])
    assert small["data"]["me"]["username"] == "liaison-a"
    big = await client.post("/graphql", json={"query": "{ me { username } }", "variables": {"pad": "x" * 4096}},
                            headers={"Authorization": f"Bearer {world.tokens['liaison-a']}"})
    assert big.status_code == 413 and big.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    upload = await submit_with_files(client, world.tokens["liaison-a"], [("a.png", PNG + bytes(4096), "image/png")])
    assert "errors" not in upload


async def test_multipart_without_bearer_token_is_refused(client, world):
    response = await graphql_upload(client, SUBMIT, {"input": referral_input(), "evidence": [{"file": None}]},
                                    {"variables.evidence.0.file": ("a.png", PNG, "image/png")}, token=None)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("geometry, reason", [
    ({"type": "Polygon", "coordinates": [[[113.2, 34.5], [113.3, 34.6], [113.3, 34.5], [113.2, 34.6],
                                          [113.2, 34.5]]]}, "Self-intersection"),
    ({"type": "Polygon", "coordinates": [[[113.2, 34.5], [113.3, 34.5], [113.3, 34.6]]]}, "closed"),
    ({"type": "Point", "coordinates": [34.5, 213.2]}, "out of range"),
    ({"type": "Circle", "coordinates": [113.2, 34.5]}, "must be one of"),
    ({"type": "Point"}, "malformed"),
    ("not json", "not valid GeoJSON"),
])
async def test_invalid_geometry_is_refused_with_its_reason(client, world, resources, geometry, reason):
    body = await graphql(client, SUBMIT, {"input": referral_input(geometry=geometry)}, world.tokens["liaison-a"])
    assert error_codes(body) == ["INVALID_GEOMETRY"]
    assert reason in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["field"] == "geometry"
    assert await count_rows(resources, Referral) == 0


async def test_gcj02_input_is_converted_to_wgs84(client, world):
    body = await graphql(client, SUBMIT, {"input": referral_input(
        geometry={"type": "Point", "coordinates": [113.2, 34.5]}, crs="GCJ02")}, world.tokens["liaison-a"])
    lon, lat = body["data"]["submitReferral"]["geometry"]["coordinates"]
    # The stored WGS84 point is several hundred metres from the GCJ-02 input, and maps back onto it.
    _, _, shift_m = Geod(ellps="WGS84").inv(lon, lat, 113.2, 34.5)
    assert 200 < shift_m < 1000
    assert wgs84_to_gcj02(lon, lat) == pytest.approx([113.2, 34.5], abs=1e-8)


@pytest.mark.parametrize("user", ["prosecutor-1", "assessor-1", "admin"])
async def test_only_agencies_submit(client, world, user):
    body = await graphql(client, SUBMIT, {"input": referral_input()}, world.tokens[user])
    assert error_codes(body) == ["FORBIDDEN"]


async def test_evidence_description_is_bounded(client, world, resources):
    variables = {"input": referral_input(), "evidence": [{"file": None, "description": "说" * 2001}]}
    response = await graphql_upload(client, SUBMIT, variables,
                                    {"variables.evidence.0.file": ("a.png", PNG, "image/png")},
                                    world.tokens["liaison-a"])
    body = response.json()
    assert error_codes(body) == ["VALIDATION"]
    assert body["errors"][0]["extensions"]["field"] == "evidence.0.description"
    assert store_keys(resources) == []


@pytest.mark.parametrize("found_on", ["0001-01-01", "2999-01-01"])
async def test_found_on_must_be_a_plausible_past_date(client, world, found_on):
    body = await graphql(client, SUBMIT, {"input": referral_input(foundOn=found_on)}, world.tokens["liaison-a"])
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "foundOn"


async def test_unknown_domain_and_missing_title(client, world):
    body = await graphql(client, SUBMIT, {"input": referral_input(domain="NO_SUCH")}, world.tokens["liaison-a"])
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "domain"
    body = await graphql(client, SUBMIT, {"input": referral_input(title="  ")}, world.tokens["liaison-a"])
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "title"


async def test_retry_with_idempotency_key_returns_the_first_result(client, world, resources):
    token = world.tokens["liaison-a"]
    first = await submit_with_files(client, token, [("a.png", PNG, "image/png")], idempotencyKey="k-1")
    again = await submit_with_files(client, token, [("a.png", PNG, "image/png")], idempotencyKey="k-1")
    assert again["data"]["submitReferral"]["id"] == first["data"]["submitReferral"]["id"]
    assert await count_rows(resources, Referral) == 1
    assert len(store_keys(resources)) == 1
    changed = await submit_with_files(client, token, [("a.png", PNG, "image/png")], idempotencyKey="k-1",
                                      title="另一件事")
    assert error_codes(changed) == ["CONFLICT"]
    # The same key is another agency's own business.
    other = await submit_with_files(client, world.tokens["liaison-b"], [("a.png", PNG, "image/png")],
                                    idempotencyKey="k-1")
    assert other["data"]["submitReferral"]["id"] != first["data"]["submitReferral"]["id"]


@pytest.mark.parametrize("same_submission", [True, False])
async def test_a_retry_racing_the_first_attempt_gets_its_result_or_conflict(client, world, resources,
                                                                             same_submission):
    """The first attempt commits while the retry is writing (after the retry looked for it): the
    retry waits on the key's unique index and then answers like any retry."""
    token = world.tokens["liaison-a"]
    template = await graphql(client, SUBMIT, {"input": referral_input(idempotencyKey="k-template")}, token)
    template_id = template["data"]["submitReferral"]["id"]
    columns = [column.name for column in Referral.__table__.c if column.name not in ("id", "idempotency_key")]
    async with resources.session_factory() as first_attempt:
        # The first attempt, written but not yet committed: what the retry's lookup cannot see.
        first_id = await first_attempt.scalar(text(
            f"INSERT INTO referral (id, idempotency_key, {', '.join(columns)}) "
            f"SELECT gen_random_uuid(), 'k-race', {', '.join(columns)} FROM referral WHERE id = :id "
            "RETURNING id"), {"id": template_id})
        retry = asyncio.create_task(graphql(client, SUBMIT, {"input": referral_input(
            idempotencyKey="k-race", **({} if same_submission else {"title": "另一件事"}))}, token))
        async with resources.session_factory() as observer:
            for _ in range(500):
                waiting = await observer.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE '%INSERT INTO referral %'"))
                await observer.rollback()  # the activity view is read once per transaction
                if waiting or retry.done():
                    break
                await asyncio.sleep(0.01)
        assert waiting == 1, "the retry should be waiting on the first attempt's key"
        await first_attempt.commit()
    body = await retry
    if same_submission:
        assert body["data"]["submitReferral"]["id"] == str(first_id)
    else:
        assert error_codes(body) == ["CONFLICT"]
    async with resources.session_factory() as session:
        keys = (await session.scalars(select(Referral.idempotency_key).order_by(Referral.idempotency_key))).all()
    assert keys == ["k-race", "k-template"]


async def test_a_file_larger_than_one_store_part_goes_up_in_parts_intact(client, world, resources):
    part_size = resources.store.part_size
    content = PNG + bytes(range(256)) * ((part_size + 5 * 1024 * 1024) // 256)
    body = await submit_with_files(client, world.tokens["liaison-a"], [("aerial.png", content, "image/png")])
    [evidence] = body["data"]["submitReferral"]["evidence"]
    assert evidence["sizeBytes"] == len(content) > part_size
    download = await client.get(evidence["downloadPath"],
                                headers={"Authorization": f"Bearer {world.tokens['liaison-a']}"})
    assert hashlib.sha256(download.content).hexdigest() == evidence["sha256"] == hashlib.sha256(content).hexdigest()


@pytest.mark.parametrize("not_a_file", ["c3VycHJpc2U=", {"name": "x.png"}, 42])
async def test_evidence_must_be_a_multipart_file(client, world, resources, not_a_file):
    body = await graphql(client, SUBMIT, {"input": referral_input(), "evidence": [{"file": not_a_file}]},
                         world.tokens["liaison-a"])
    assert error_codes(body) == ["VALIDATION"]
    assert body["errors"][0]["extensions"]["field"] == "evidence.0.file"
    assert await count_rows(resources, Referral) == 0
