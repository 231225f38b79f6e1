"""Evidence kinds: each kind takes its file types, sniffed from the bytes; a file of another type is
UNSUPPORTED_MEDIA_TYPE naming the kind and the type found; decompression bombs are refused with a
reason; a file sent without a kind gets one from its type."""

from __future__ import annotations

import hashlib

import pytest

from evidence.models import Evidence
from tests.conftest import error_codes, graphql
from tests.evidence import samples
from tests.evidence.test_attach import attach, submitted
from tests.referral.test_submit import PNG, count_rows, store_keys, submit_with_files

ACCEPTED = [
    ("PHOTO", "site.jpg", samples.jpeg, "image/jpeg"),
    ("PHOTO", "site.png", samples.png, "image/png"),
    ("PHOTO", "site.heic", samples.heic, "image/heic"),
    ("VIDEO", "drone.mp4", samples.mp4, "video/mp4"),
    ("DOCUMENT", "report.pdf", lambda: samples.PDF, "application/pdf"),
    ("DOCUMENT", "report.docx", samples.docx,
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("SPREADSHEET", "samples.xlsx", samples.xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("GEODATA", "pit.geojson", lambda: samples.GEOJSON, "application/geo+json"),
    ("GEODATA", "pit.kml", lambda: samples.KML, "application/vnd.google-earth.kml+xml"),
    ("GEODATA", "pit.kmz", samples.kmz, "application/vnd.google-earth.kmz"),
    ("GEODATA", "boundary.zip", samples.shapefile_zip, "application/x-shapefile+zip"),
]


@pytest.mark.parametrize(("kind", "filename", "content", "media_type"), ACCEPTED,
                         ids=[item[1] for item in ACCEPTED])
async def test_each_kind_takes_its_types(client, world, resources, kind, filename, content, media_type):
    referral_id = await submitted(client, world)
    body = await attach(client, world.tokens["liaison-a"], referral_id, (filename, content()), kind=kind)
    assert "errors" not in body, body
    evidence = body["data"]["attachEvidence"]
    assert (evidence["kind"], evidence["mediaType"]) == (kind, media_type)
    assert evidence["sha256"] == hashlib.sha256(content()).hexdigest()


REFUSED = [
    ("PHOTO", "report.pdf", lambda: samples.PDF, "application/pdf"),
    ("VIDEO", "site.jpg", samples.jpeg, "image/jpeg"),
    ("DOCUMENT", "pit.kmz", samples.kmz, "application/vnd.google-earth.kmz"),
    ("SPREADSHEET", "report.docx", samples.docx,
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("GEODATA", "notes.zip", lambda: samples.zipped({"notes.txt": b"hello"}), "application/zip"),
    ("PHOTO", "run.sh", lambda: b"#!/bin/sh\nrm -rf /\n", "text/x-shellscript"),
]


@pytest.mark.parametrize(("kind", "filename", "content", "media_type"), REFUSED,
                         ids=[f"{item[0]}-{item[1]}" for item in REFUSED])
async def test_a_file_not_of_its_kind_is_refused_naming_both(client, world, resources, kind, filename, content,
                                                             media_type):
    referral_id = await submitted(client, world)
    body = await attach(client, world.tokens["liaison-a"], referral_id, (filename, content()), kind=kind)
    assert error_codes(body) == ["UNSUPPORTED_MEDIA_TYPE"]
    extensions = body["errors"][0]["extensions"]
    assert (extensions["kind"], extensions["mediaType"], extensions["field"]) == (kind, media_type, "file")
    assert kind in body["errors"][0]["message"] and media_type in body["errors"][0]["message"]
    assert await count_rows(resources, Evidence) == 0


BOMBS = [
    ("PHOTO", "huge.png", lambda: samples.png_claiming(100_000, 100_000), "IMAGE_TOO_MANY_PIXELS"),
    ("GEODATA", "bomb.kmz", samples.zip_bomb, "ARCHIVE_RATIO"),
    ("GEODATA", "nested.kmz", samples.nested_zip, "ARCHIVE_NESTED"),
]


@pytest.mark.parametrize(("kind", "filename", "content", "reason"), BOMBS, ids=[item[3] for item in BOMBS])
async def test_decompression_bombs_are_refused_with_their_reason(client, world, resources, kind, filename, content,
                                                                 reason):
    referral_id = await submitted(client, world)
    body = await attach(client, world.tokens["liaison-a"], referral_id, (filename, content()), kind=kind)
    assert error_codes(body) == ["UNSUPPORTED_MEDIA_TYPE"]
    assert body["errors"][0]["extensions"]["reason"] == reason
    assert await count_rows(resources, Evidence) == 0
    # The stored bytes are left to the janitor (a pending upload, marked abandoned).


async def test_an_archive_with_too_many_entries_is_refused(client, world, settings, monkeypatch):
    monkeypatch.setattr(settings.api, "max_archive_entries", 5)
    referral_id = await submitted(client, world)
    many = samples.zipped({f"part-{index}.kml": samples.KML for index in range(6)})
    body = await attach(client, world.tokens["liaison-a"], referral_id, ("many.kmz", many), kind="GEODATA")
    assert error_codes(body) == ["UNSUPPORTED_MEDIA_TYPE"]
    assert body["errors"][0]["extensions"]["reason"] == "ARCHIVE_TOO_MANY_ENTRIES"
    few = samples.zipped({f"part-{index}.kml": samples.KML for index in range(5)})
    body = await attach(client, world.tokens["liaison-a"], referral_id, ("few.kmz", few), kind="GEODATA")
    assert body["data"]["attachEvidence"]["kind"] == "GEODATA"


async def test_a_pixel_count_just_under_the_limit_is_taken(client, world, settings, monkeypatch):
    monkeypatch.setattr(settings.api, "max_image_pixels", 256)
    referral_id = await submitted(client, world)
    body = await attach(client, world.tokens["liaison-a"], referral_id, ("ok.png", samples.png(16, 16)), kind="PHOTO")
    assert body["data"]["attachEvidence"]["kind"] == "PHOTO"
    body = await attach(client, world.tokens["liaison-a"], referral_id, ("big.png", samples.png(16, 17)), kind="PHOTO")
    assert body["errors"][0]["extensions"]["reason"] == "IMAGE_TOO_MANY_PIXELS"


async def test_every_upload_path_takes_its_bomb_limits_from_the_settings(client, world, settings, monkeypatch):
    from tests.conftest import graphql_upload
    from tests.recommendations.steps import reply, served_recommendation
    from tests.referral.test_submit import SUBMIT, referral_input

    monkeypatch.setattr(settings.api, "max_image_pixels", 256)
    response = await graphql_upload(client, SUBMIT, {"input": referral_input(), "evidence": [{"file": None}]},
                                    {"variables.evidence.0.file": ("big.png", samples.png(16, 17), "image/png")},
                                    world.tokens["liaison-a"])
    assert response.json()["errors"][0]["extensions"]["reason"] == "IMAGE_TOO_MANY_PIXELS"
    _, recommendation_id = await served_recommendation(client, world)
    body = await reply(client, world, recommendation_id, files=[("big.png", samples.png(16, 17), "image/png")])
    assert body["errors"][0]["extensions"]["reason"] == "IMAGE_TOO_MANY_PIXELS"
    body = await reply(client, world, recommendation_id, files=[("ok.png", samples.png(16, 16), "image/png")])
    assert "errors" not in body, body


SUBMITTED_KINDS = """query($id: ID!) { referral(id: $id) { evidence { filename kind mediaType } } }"""


async def test_submission_takes_declared_kinds_and_defaults_the_rest_from_the_type(client, world, resources):
    from tests.conftest import graphql_upload
    from tests.referral.test_submit import SUBMIT, referral_input

    variables = {"input": referral_input(), "evidence": [{"file": None, "kind": "GEODATA"}, {"file": None},
                                                         {"file": None}]}
    response = await graphql_upload(client, SUBMIT, variables, {
        "variables.evidence.0.file": ("boundary.zip", samples.shapefile_zip(), "application/zip"),
        "variables.evidence.1.file": ("site.png", PNG, "image/png"),
        "variables.evidence.2.file": ("report.pdf", samples.PDF, "application/pdf")}, world.tokens["liaison-a"])
    body = response.json()
    assert "errors" not in body, body
    referral_id = body["data"]["submitReferral"]["id"]
    shown = await graphql(client, SUBMITTED_KINDS, {"id": referral_id}, world.tokens["liaison-a"])
    assert sorted((item["filename"], item["kind"]) for item in shown["data"]["referral"]["evidence"]) == [
        ("boundary.zip", "GEODATA"), ("report.pdf", "DOCUMENT"), ("site.png", "PHOTO")]


async def test_submission_with_a_file_not_of_its_declared_kind_changes_nothing(client, world, resources):
    from tests.conftest import graphql_upload
    from tests.referral.test_submit import SUBMIT, referral_input

    variables = {"input": referral_input(), "evidence": [{"file": None, "kind": "VIDEO"}]}
    response = await graphql_upload(client, SUBMIT, variables, {
        "variables.evidence.0.file": ("site.png", PNG, "video/mp4")}, world.tokens["liaison-a"])
    body = response.json()
    assert error_codes(body) == ["UNSUPPORTED_MEDIA_TYPE"]
    assert body["errors"][0]["extensions"]["field"] == "evidence.0"
    assert await count_rows(resources, Evidence) == 0
    assert store_keys(resources) == []  # refused on its first bytes, before the store


async def test_a_bomb_in_a_submission_is_refused(client, world, resources):
    body = await submit_with_files(client, world.tokens["liaison-a"], [
        ("huge.png", samples.png_claiming(100_000, 100_000), "image/png")])
    assert error_codes(body) == ["UNSUPPORTED_MEDIA_TYPE"]
    assert body["errors"][0]["extensions"]["reason"] == "IMAGE_TOO_MANY_PIXELS"
    assert await count_rows(resources, Evidence) == 0
