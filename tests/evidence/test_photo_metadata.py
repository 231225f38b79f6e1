"""What a photo knows, read after upload by the worker's job (evidence.metadata.read_pending, run
here as the worker runs it): its EXIF position and capture time with their source, the geodesic
distance from its referral with a warning when far, a declared position kept apart, and a preview
without metadata served to exactly those who may open the evidence."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from datetime import datetime, timezone

import pytest
from PIL import Image
from pyproj import Geod

from evidence.metadata import read_pending
from tests.conftest import error_codes, graphql, graphql_upload
from tests.evidence import photos
from tests.evidence.test_bundle import verify_offline
from tests.referral.test_return_and_decline import submitted

HOME = (113.2, 34.5)  # where `submitted` puts liaison-a's referral
GEOD = Geod(ellps="WGS84")
FIELDS = """id filename kind sha256 downloadPath previewPath metadataStatus metadataProblem
  position positionSource positionAccuracyMeters declaredPosition declaredAccuracyMeters
  capturedAt capturedAtSource distanceFromReferralMeters farFromReferral"""
ATTACH = """mutation($referralId: ID!, $file: Upload!, $declared: DeclaredPositionInput) {
  attachEvidence(referralId: $referralId, file: $file, declaredPosition: $declared) { """ + FIELDS + " } }"
EVIDENCE_OF = "query($id: ID!) { referral(id: $id) { evidence { " + FIELDS + " } } }"


async def attach(client, world, referral_id: str, filename: str, content: bytes, declared: dict | None = None,
                 user: str = "liaison-a") -> dict:
    response = await graphql_upload(client, ATTACH, {"referralId": referral_id, "file": None, "declared": declared},
                                    {"variables.file": (filename, content, "application/octet-stream")},
                                    world.tokens[user])
    assert response.status_code == 200, response.text
    return response.json()


async def read_metadata(resources, settings):
    return await read_pending(resources.session_factory, store=resources.store, settings=settings.evidence)


async def evidence_of(client, world, referral_id: str, user: str = "prosecutor-1") -> list[dict]:
    body = await graphql(client, EVIDENCE_OF, {"id": referral_id}, world.tokens[user])
    assert "errors" not in body, body
    return body["data"]["referral"]["evidence"]


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


async def test_a_geotagged_photo_gets_its_exif_position_time_and_distance(client, world, resources, settings):
    referral_id = await submitted(client, world)
    where = (113.2012, 34.5008)
    content = photos.photo(*where, taken="2026:11:20 09:15:30", offset="+08:00", accuracy=4.5)
    body = await attach(client, world, referral_id, "现场.jpg", content)
    assert "errors" not in body, body
    attached = body["data"]["attachEvidence"]
    # Read after commit, by the worker: until then the file says it is pending and knows nothing.
    assert (attached["metadataStatus"], attached["positionSource"], attached["position"],
            attached["previewPath"]) == ("PENDING", "NONE", None, None)

    report = await read_metadata(resources, settings)
    assert report.done == [report.done[0]] and not report.failed
    [item] = await evidence_of(client, world, referral_id)
    assert item["metadataStatus"] == "DONE" and item["metadataProblem"] is None
    assert item["positionSource"] == "EXIF" and item["position"]["type"] == "Point"
    assert item["position"]["coordinates"] == pytest.approx(list(where), abs=1e-6)
    assert item["positionAccuracyMeters"] == 4.5
    assert item["declaredPosition"] is None
    assert datetime.fromisoformat(item["capturedAt"]) == datetime(2026, 11, 20, 1, 15, 30, tzinfo=timezone.utc)
    assert item["capturedAtSource"] == "EXIF"
    assert item["distanceFromReferralMeters"] == pytest.approx(metres(where, HOME), abs=0.5)
    assert item["farFromReferral"] is False
    # The original bytes are untouched: the download is the upload, EXIF and all.
    download = await client.get(item["downloadPath"], headers={"Authorization": f"Bearer {world.tokens['liaison-a']}"})
    assert download.content == content and item["sha256"] == hashlib.sha256(content).hexdigest()
    # A second run finds nothing left to read.
    again = await read_metadata(resources, settings)
    assert (again.done, again.failed) == ([], [])


async def test_a_photo_taken_40_km_away_is_flagged(client, world, resources, settings):
    referral_id = await submitted(client, world)
    far = (113.2, 34.86)  # ~40 km north of the referral
    await attach(client, world, referral_id, "far.jpg", photos.photo(*far, taken="2026:11:20 09:15:30"))
    await read_metadata(resources, settings)
    [item] = await evidence_of(client, world, referral_id)
    assert item["distanceFromReferralMeters"] == pytest.approx(metres(far, HOME), abs=0.5)
    assert 39_000 < item["distanceFromReferralMeters"] < 41_000
    assert item["farFromReferral"] is True
    # Without an offset or a GPS clock, the time is read as Beijing time and says so.
    assert item["capturedAtSource"] == "EXIF_LOCAL"
    assert datetime.fromisoformat(item["capturedAt"]) == datetime(2026, 11, 20, 1, 15, 30, tzinfo=timezone.utc)


async def test_the_far_threshold_is_a_setting(client, world, resources, settings, monkeypatch):
    monkeypatch.setattr(settings.evidence, "far_from_referral_meters", 50)
    referral_id = await submitted(client, world)
    await attach(client, world, referral_id, "near.jpg", photos.photo(113.2012, 34.5008))
    await read_metadata(resources, settings)
    [item] = await evidence_of(client, world, referral_id)
    assert item["distanceFromReferralMeters"] > 50 and item["farFromReferral"] is True


async def test_a_photo_without_gps_says_so(client, world, resources, settings):
    referral_id = await submitted(client, world)
    await attach(client, world, referral_id, "stripped.jpg", photos.photo())
    await read_metadata(resources, settings)
    [item] = await evidence_of(client, world, referral_id)
    assert (item["metadataStatus"], item["positionSource"], item["position"], item["positionAccuracyMeters"],
            item["distanceFromReferralMeters"], item["farFromReferral"]) == ("DONE", "NONE", None, None, None, None)
    assert (item["capturedAt"], item["capturedAtSource"]) == (None, "NONE")
    assert item["previewPath"] == f"/evidence/{item['id']}/preview"  # a gallery still shows it


async def test_a_declared_position_is_kept_apart_from_the_exif_one(client, world, resources, settings):
    referral_id = await submitted(client, world)
    declared = {"point": {"type": "Point", "coordinates": [113.21, 34.51]}, "accuracyMeters": 30}
    exif_where = (113.2012, 34.5008)
    await attach(client, world, referral_id, "both.jpg", photos.photo(*exif_where), declared=declared)
    stripped = await attach(client, world, referral_id, "declared.jpg", photos.photo(), declared=declared)
    # Known at once: a declared position needs no reading.
    assert stripped["data"]["attachEvidence"]["positionSource"] == "DECLARED"
    await read_metadata(resources, settings)
    shown = {item["filename"]: item for item in await evidence_of(client, world, referral_id)}

    item = shown["both.jpg"]
    assert item["positionSource"] == "EXIF"
    assert item["position"]["coordinates"] == pytest.approx(list(exif_where), abs=1e-6)
    assert item["positionAccuracyMeters"] is None  # the camera wrote none
    assert item["declaredPosition"] == {"type": "Point", "coordinates": [113.21, 34.51]}
    assert item["declaredAccuracyMeters"] == 30

    item = shown["declared.jpg"]
    assert (item["positionSource"], item["positionAccuracyMeters"]) == ("DECLARED", 30)
    assert item["position"] == item["declaredPosition"] == {"type": "Point", "coordinates": [113.21, 34.51]}
    assert item["distanceFromReferralMeters"] == pytest.approx(metres((113.21, 34.51), HOME), abs=0.5)


async def test_a_declared_position_is_checked(client, world, resources):
    referral_id = await submitted(client, world)
    cases = [({"point": {"type": "Point", "coordinates": [113.2, 34.5]}, "accuracyMeters": -1}, "VALIDATION",
              "declaredPosition.accuracyMeters"),
             ({"point": {"type": "LineString", "coordinates": [[113.2, 34.5], [113.3, 34.5]]}}, "INVALID_GEOMETRY",
              "declaredPosition.point"),
             ({"point": {"type": "Point", "coordinates": [213.2, 34.5]}}, "INVALID_GEOMETRY", "declaredPosition.point")]
    for declared, code, field in cases:
        body = await attach(client, world, referral_id, "x.jpg", photos.photo(), declared=declared)
        assert error_codes(body) == [code], body
        assert body["errors"][0]["extensions"]["field"] == field
    assert (await evidence_of(client, world, referral_id)) == []


async def test_a_declared_position_in_gcj02_is_stored_in_wgs84(client, world, resources, settings):
    referral_id = await submitted(client, world)
    declared = {"point": {"type": "Point", "coordinates": [113.21, 34.51]}, "crs": "GCJ02"}
    body = await attach(client, world, referral_id, "gcj.jpg", photos.photo(), declared=declared)
    lon, lat = body["data"]["attachEvidence"]["declaredPosition"]["coordinates"]
    # GCJ-02 is offset by some hundreds of metres from WGS84 here.
    assert 100 < metres((lon, lat), (113.21, 34.51)) < 1000


async def test_submit_referral_takes_a_declared_position_per_file(client, world, resources, settings):
    query = """mutation($input: SubmitReferralInput!, $evidence: [EvidenceInput!]) {
      submitReferral(input: $input, evidence: $evidence) { id evidence { positionSource declaredAccuracyMeters } } }"""
    variables = {"input": {"domain": "STATE_PROPERTY", "title": "t", "facts": "f",
                           "geometry": {"type": "Point", "coordinates": list(HOME)}},
                 "evidence": [{"file": None, "declaredPosition": {"point": {"type": "Point",
                                                                            "coordinates": [113.2, 34.501]},
                                                                  "accuracyMeters": 12.5}}]}
    response = await graphql_upload(client, query, variables,
                                    {"variables.evidence.0.file": ("v.jpg", photos.photo(), "image/jpeg")},
                                    world.tokens["liaison-a"])
    body = response.json()
    assert "errors" not in body, body
    assert body["data"]["submitReferral"]["evidence"] == [{"positionSource": "DECLARED",
                                                           "declaredAccuracyMeters": 12.5}]


async def test_the_preview_is_small_and_has_no_metadata(client, world, resources, settings):
    referral_id = await submitted(client, world)
    content = photos.photo(113.2012, 34.5008, size=(3000, 2000), taken="2026:11:20 09:15:30", offset="+08:00")
    await attach(client, world, referral_id, "big.jpg", content)
    await read_metadata(resources, settings)
    [item] = await evidence_of(client, world, referral_id)
    response = await client.get(item["previewPath"], headers={"Authorization": f"Bearer {world.tokens['liaison-a']}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    preview = Image.open(io.BytesIO(response.content))
    assert preview.size == (1024, 683)
    assert dict(preview.getexif()) == {}
    assert not {"exif", "xmp", "icc_profile", "comment"} & set(preview.info)
    assert b"Exif" not in response.content and b"FieldCam" not in response.content
    # The original keeps everything.
    assert b"FieldCam" in content


async def test_a_webp_preview_when_configured(client, world, resources, settings, monkeypatch):
    monkeypatch.setattr(settings.evidence, "preview_format", "WEBP")
    referral_id = await submitted(client, world)
    await attach(client, world, referral_id, "p.jpg", photos.photo(113.2012, 34.5008))
    await read_metadata(resources, settings)
    [item] = await evidence_of(client, world, referral_id)
    response = await client.get(item["previewPath"], headers={"Authorization": f"Bearer {world.tokens['liaison-a']}"})
    assert response.headers["content-type"] == "image/webp"
    preview = Image.open(io.BytesIO(response.content))
    assert preview.format == "WEBP" and max(preview.size) == 1024 and dict(preview.getexif()) == {}


async def test_the_preview_is_scoped_like_the_contents(client, world, resources, settings):
    referral_id = await submitted(client, world)
    await attach(client, world, referral_id, "p.jpg", photos.photo(113.2012, 34.5008))
    await read_metadata(resources, settings)
    [item] = await evidence_of(client, world, referral_id)
    expected = {"liaison-a": 200, "prosecutor-1": 200, "prosecutor-city": 200,
                "liaison-b": 404, "liaison-c": 404, "prosecutor-2": 404,  # another agency, another district
                "assessor-1": 403, "admin": 403}  # in scope, but never evidence contents
    for user, status in expected.items():
        response = await client.get(item["previewPath"], headers={"Authorization": f"Bearer {world.tokens[user]}"})
        assert response.status_code == status, (user, response.text)
        if status != 200:
            error = response.json()["errors"][0]
            assert error["extensions"]["code"] == {404: "NOT_FOUND", 403: "FORBIDDEN"}[status]
            assert item["id"] not in error["message"]
    response = await client.get(item["previewPath"])
    assert response.status_code == 401
    # An evidence id that does not exist has no preview.
    missing = await client.get(f"/evidence/{uuid.uuid4()}/preview",
                               headers={"Authorization": f"Bearer {world.tokens['liaison-a']}"})
    assert missing.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_heic_photo_is_read_like_a_jpeg(client, world, resources, settings):
    referral_id = await submitted(client, world)
    where = (113.205, 34.503)
    content = photos.photo(*where, size=(1600, 1200), image_format="HEIF", taken="2026:11:21 10:00:00",
                           offset="+08:00")
    body = await attach(client, world, referral_id, "IMG_0001.HEIC", content)
    assert "errors" not in body, body
    await read_metadata(resources, settings)
    [item] = await evidence_of(client, world, referral_id)
    assert item["positionSource"] == "EXIF"
    assert item["position"]["coordinates"] == pytest.approx(list(where), abs=1e-6)
    assert datetime.fromisoformat(item["capturedAt"]) == datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc)
    response = await client.get(item["previewPath"], headers={"Authorization": f"Bearer {world.tokens['liaison-a']}"})
    preview = Image.open(io.BytesIO(response.content))
    assert preview.format == "JPEG" and preview.size == (1024, 768) and dict(preview.getexif()) == {}


async def test_a_photo_that_cannot_be_decoded_fails_with_the_reason(client, world, resources, settings,
                                                                   monkeypatch):
    monkeypatch.setattr(settings.evidence, "max_preview_pixels", 1_000_000)
    referral_id = await submitted(client, world)
    await attach(client, world, referral_id, "huge.jpg", photos.photo(113.2012, 34.5008, size=(1600, 1000)))
    report = await read_metadata(resources, settings)
    assert len(report.failed) == 1
    [item] = await evidence_of(client, world, referral_id)
    assert item["metadataStatus"] == "FAILED" and "pixels" in item["metadataProblem"]
    assert item["previewPath"] is None and item["positionSource"] == "NONE"


async def test_files_that_are_not_photos_have_nothing_to_read(client, world, resources, settings):
    from tests.evidence import samples

    referral_id = await submitted(client, world)
    body = await attach(client, world, referral_id, "report.pdf", samples.PDF)
    assert body["data"]["attachEvidence"]["metadataStatus"] == "NONE"
    report = await read_metadata(resources, settings)
    assert (report.done, report.failed) == ([], [])
    [item] = await evidence_of(client, world, referral_id)
    assert item["previewPath"] is None
    response = await client.get(f"/evidence/{item['id']}/preview",
                                headers={"Authorization": f"Bearer {world.tokens['liaison-a']}"})
    assert response.status_code == 404 and response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_the_evidence_tile_draws_a_photo_where_it_was_taken(client, world, resources, settings):
    from tests.geo.test_tiles import features, tile_of

    referral_id = await submitted(client, world)
    where = (113.35, 34.62)  # well away from the referral, in another z14 tile
    body = await attach(client, world, referral_id, "geo.jpg", photos.photo(*where))
    photo_id = body["data"]["attachEvidence"]["id"]
    body = await attach(client, world, referral_id, "plain.jpg", photos.photo())
    plain_id = body["data"]["attachEvidence"]["id"]
    # Before its metadata is read, a photo is drawn at its referral, as files without a position are.
    at_referral = {f["properties"]["id"] for f in await features(client, world, "evidence", tile_of(*HOME, 14),
                                                                 "liaison-a")}
    assert at_referral == {photo_id, plain_id}
    await read_metadata(resources, settings)
    at_referral = {f["properties"]["id"] for f in await features(client, world, "evidence", tile_of(*HOME, 14),
                                                                 "liaison-a")}
    at_photo = {f["properties"]["id"] for f in await features(client, world, "evidence", tile_of(*where, 14),
                                                              "liaison-a")}
    assert (at_referral, at_photo) == ({plain_id}, {photo_id})
    # Scoped as ever: another agency's liaison sees it nowhere.
    assert await features(client, world, "evidence", tile_of(*where, 14), "liaison-c") == []


async def test_the_bundle_manifest_carries_capture_metadata_and_still_verifies(client, world, resources, settings,
                                                                              tmp_path):
    from evidence import bundle as bundles

    referral_id = await submitted(client, world)
    where = (113.2012, 34.5008)
    await attach(client, world, referral_id, "site.jpg", photos.photo(*where, taken="2026:11:20 09:15:30",
                                                                      offset="+08:00"),
                 declared={"point": {"type": "Point", "coordinates": [113.21, 34.51]}, "accuracyMeters": 30})
    await read_metadata(resources, settings)
    response = await client.get(f"/referrals/{referral_id}/evidence-bundle.zip",
                                headers={"Authorization": f"Bearer {world.tokens['prosecutor-1']}"})
    assert response.status_code == 200, response.text
    path = tmp_path / "bundle.zip"
    path.write_bytes(response.content)
    with zipfile.ZipFile(path) as archive:
        [item] = json.loads(archive.read("manifest.json"))["files"]
    capture = item["capture"]
    assert capture["positionSource"] == "EXIF" and capture["position"] == pytest.approx(list(where), abs=1e-6)
    assert capture["declaredPosition"] == [113.21, 34.51] and capture["declaredAccuracyMeters"] == 30
    assert datetime.fromisoformat(capture["capturedAt"]) == datetime(2026, 11, 20, 1, 15, 30, tzinfo=timezone.utc)
    assert capture["capturedAtSource"] == "EXIF" and capture["metadataStatus"] == "DONE"
    checked = verify_offline(path, bundles.public_key_text(bundles.signing_key(settings.bundle.signing_key)))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "(EXIF)" in checked.stdout


async def test_the_command_reads_what_the_worker_has_not(client, world, resources, settings):
    from tests.evidence.custody_helpers import run_manage

    referral_id = await submitted(client, world)
    await attach(client, world, referral_id, "a.jpg", photos.photo(113.2012, 34.5008))
    assert await run_manage("evidence-metadata") == 0
    [item] = await evidence_of(client, world, referral_id)
    assert (item["metadataStatus"], item["positionSource"]) == ("DONE", "EXIF")
