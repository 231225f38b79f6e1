"""Geodata evidence read as a geometry (evidenceGeometry) that a referral can take as its own."""

from __future__ import annotations

import pytest

from evidence.models import CustodyEvent
from tests.conftest import error_codes, graphql
from tests.evidence import samples
from tests.evidence.test_attach import attach, submitted
from tests.referral.test_submit import count_rows, referral_input

GEOMETRY = "query($id: ID!) { evidenceGeometry(id: $id) }"
SUBMIT = """mutation($input: SubmitReferralInput!) { submitReferral(input: $input) { id geometry areaMu } }"""
RING = [(113.20, 34.50), (113.21, 34.50), (113.21, 34.51), (113.20, 34.51), (113.20, 34.50)]


async def geodata_evidence(client, world, filename: str, content: bytes) -> str:
    referral_id = await submitted(client, world)
    body = await attach(client, world.tokens["liaison-a"], referral_id, (filename, content), kind="GEODATA")
    assert "errors" not in body, body
    return body["data"]["attachEvidence"]["id"]


def close_to(ring, expected, tolerance=1e-6) -> bool:
    return all(abs(a - b) < tolerance for point, wanted in zip(ring, expected, strict=True)
               for a, b in zip(point, wanted, strict=True))


async def test_a_surveyed_shapefile_in_a_projected_zone_becomes_the_referrals_geometry(client, world, resources):
    evidence_id = await geodata_evidence(client, world, "boundary.zip", samples.surveyed_shapefile_zip(RING))
    body = await graphql(client, GEOMETRY, {"id": evidence_id}, world.tokens["liaison-a"])
    assert "errors" not in body, body
    geometry = body["data"]["evidenceGeometry"]
    assert geometry["type"] == "Polygon"
    # Back in WGS84 from Gauss-Krüger metres, to well under a millimetre.
    assert close_to(sorted(geometry["coordinates"][0][:-1]), sorted(RING[:-1]))
    custody = await count_rows(resources, CustodyEvent)
    assert custody == 2  # the upload, and this reading of the file's contents

    submitted_body = await graphql(client, SUBMIT, {"input": referral_input(geometry=geometry)},
                                   world.tokens["liaison-a"])
    assert "errors" not in submitted_body, submitted_body
    plain = await graphql(client, SUBMIT, {"input": referral_input(geometry={"type": "Polygon", "coordinates": [
        [list(point) for point in RING]]})}, world.tokens["liaison-a"])
    assert submitted_body["data"]["submitReferral"]["areaMu"] == pytest.approx(
        plain["data"]["submitReferral"]["areaMu"], rel=1e-6)


@pytest.mark.parametrize(("filename", "content", "kind"), [
    ("pit.geojson", samples.GEOJSON, "Polygon"),
    ("pit.kml", samples.KML, "Point"),
    ("pit.kmz", samples.kmz(), "Point"),
])
async def test_geojson_and_kml_files_are_read(client, world, filename, content, kind):
    evidence_id = await geodata_evidence(client, world, filename, content)
    body = await graphql(client, GEOMETRY, {"id": evidence_id}, world.tokens["prosecutor-1"])
    assert body["data"]["evidenceGeometry"]["type"] == kind


async def test_a_geometry_geo_would_refuse_is_refused_with_the_reason(client, world):
    bowtie = (b'{"type": "Polygon", "coordinates": [[[113.2, 34.5], [113.21, 34.51], [113.21, 34.5], '
              b'[113.2, 34.51], [113.2, 34.5]]]}')
    evidence_id = await geodata_evidence(client, world, "bowtie.geojson", bowtie)
    body = await graphql(client, GEOMETRY, {"id": evidence_id}, world.tokens["liaison-a"])
    assert error_codes(body) == ["INVALID_GEOMETRY"]
    no_prj = samples.zipped({name: data for name, data in _unzipped(samples.surveyed_shapefile_zip(RING)).items()
                             if not name.endswith(".prj")})
    evidence_id = await geodata_evidence(client, world, "no-prj.zip", no_prj)
    body = await graphql(client, GEOMETRY, {"id": evidence_id}, world.tokens["liaison-a"])
    assert error_codes(body) == ["INVALID_GEOMETRY"]
    assert ".prj" in body["errors"][0]["message"]


def _unzipped(content: bytes) -> dict[str, bytes]:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


async def test_only_geodata_and_only_for_those_who_may_open_it(client, world):
    evidence_id = await geodata_evidence(client, world, "pit.kml", samples.KML)
    for user, code in (("liaison-b", "NOT_FOUND"), ("prosecutor-2", "NOT_FOUND"), ("assessor-1", "FORBIDDEN")):
        body = await graphql(client, GEOMETRY, {"id": evidence_id}, world.tokens[user])
        assert error_codes(body) == [code], user
    referral_id = await submitted(client, world)
    photo = await attach(client, world.tokens["liaison-a"], referral_id, ("a.jpg", samples.jpeg()), kind="PHOTO")
    body = await graphql(client, GEOMETRY, {"id": photo["data"]["attachEvidence"]["id"]}, world.tokens["liaison-a"])
    assert error_codes(body) == ["VALIDATION"]
