"""Evidence bundles for court: the originals, a manifest with hashes and custody chains, an Ed25519
signature; exported within scope and logged; checked offline by `python -m evidence.verify_bundle`."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import zipfile

import pytest

from evidence import bundle as bundles
from tests.cases.helpers import FILE_CASE
from tests.conftest import ROOT, graphql
from tests.evidence.custody_helpers import REGISTER, auth, log_of, run_manage, upload
from tests.referral.test_submit import PNG

FILES = [("现场照片.png", PNG + b"\x11" * 3000, "image/png"), ("../escape?.png", PNG + b"\x22" * 100, "image/png")]


@pytest.fixture
def public_key(settings) -> str:
    return bundles.public_key_text(bundles.signing_key(settings.bundle.signing_key))


def verify_offline(path, key: str) -> subprocess.CompletedProcess:
    """The verifier as anyone would run it: a separate process, the bundle and the key only."""
    return subprocess.run([sys.executable, "-m", "evidence.verify_bundle", str(path), "--public-key", key],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})


async def fetch_bundle(client, world, path: str, user: str, tmp_path):
    response = await client.get(path, headers=auth(world, user))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    target = tmp_path / "bundle.zip"
    target.write_bytes(response.content)
    return target


async def test_a_referral_bundle_verifies_offline_and_its_export_is_logged(client, world, resources, tmp_path,
                                                                          public_key):
    referral = await upload(client, world, files=FILES)
    path = await fetch_bundle(client, world, f"/referrals/{referral['id']}/evidence-bundle.zip", "prosecutor-1",
                              tmp_path)
    checked = verify_offline(path, public_key)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("VALID: 2 files of referral")

    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        for item, (_, content, _) in zip(manifest["files"], FILES, strict=True):
            assert archive.read(item["path"]) == content
            assert item["sha256"] == hashlib.sha256(content).hexdigest() and item["sizeBytes"] == len(content)
            assert [entry["action"] for entry in item["custody"]] == ["UPLOADED", "EXPORTED"]
            assert item["custody"][-1]["actorName"] == "prosecutor-1"
    assert [item["path"].rsplit("/", 1)[1] for item in manifest["files"]] == ["现场照片.png", "_escape_.png"]
    assert manifest["subject"] == {"kind": "referral", "id": referral["id"], "number": None}
    assert manifest["signingKeySha256"] == bundles.key_fingerprint(public_key)
    for evidence in referral["evidence"]:
        *_, exported = await log_of(resources, evidence["id"])
        assert exported.action.value == "EXPORTED" and exported.actor_name == "prosecutor-1"
        assert json.loads(exported.detail)["exportId"] == manifest["exportId"]
    assert await run_manage("verify-custody") == 0


async def test_a_flipped_byte_a_rewritten_file_a_changed_manifest_or_another_key_fail(client, world, tmp_path,
                                                                                     public_key):
    referral = await upload(client, world, files=FILES)
    path = await fetch_bundle(client, world, f"/referrals/{referral['id']}/evidence-bundle.zip", "liaison-a",
                              tmp_path)
    original = path.read_bytes()

    flipped = bytearray(original)
    at = original.index(b"\x11" * 3000) + 1500  # inside the first original (stored, not compressed)
    flipped[at] ^= 0x01
    (tmp_path / "flipped.zip").write_bytes(bytes(flipped))
    result = verify_offline(tmp_path / "flipped.zip", public_key)
    assert result.returncode == 1 and result.stdout.startswith("INVALID:") and "现场照片.png" in result.stdout

    def rewritten(change_file: bool, change_manifest: bool):
        target = tmp_path / f"rewritten-{change_file}-{change_manifest}.zip"
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w") as copy:
            for name in source.namelist():
                data = source.read(name)
                if change_file and name.endswith("现场照片.png"):
                    data = data[:-1] + b"\x12"
                if change_manifest and name == "manifest.json":
                    manifest = json.loads(data)
                    manifest["files"][0]["sha256"] = hashlib.sha256(b"other").hexdigest()
                    data = json.dumps(manifest).encode()
                copy.writestr(name, data)
        return target

    result = verify_offline(rewritten(True, False), public_key)
    assert result.returncode == 1 and "differs from the manifest" in result.stdout
    result = verify_offline(rewritten(False, True), public_key)
    assert result.returncode == 1 and "signature does not verify" in result.stdout
    other_key = bundles.public_key_text(bundles.signing_key(base64.b64encode(b"o" * 32).decode()))
    result = verify_offline(path, other_key)
    assert result.returncode == 1 and "signature does not verify" in result.stdout


@pytest.mark.parametrize("user, status, code", [("assessor-1", 403, "FORBIDDEN"), ("admin", 403, "FORBIDDEN"),
                                                ("prosecutor-2", 404, "NOT_FOUND"), ("liaison-b", 404, "NOT_FOUND")])
async def test_export_is_scoped_and_refused_to_assessors(client, world, resources, user, status, code):
    referral = await upload(client, world, files=FILES)
    for path in (f"/referrals/{referral['id']}/evidence-bundle.zip", "/referrals/not-an-id/evidence-bundle.zip"):
        response = await client.get(path, headers=auth(world, user))
        expected = (status, code) if "not-an-id" not in path else (404, "NOT_FOUND")
        assert (response.status_code, response.json()["errors"][0]["extensions"]["code"]) == expected
    for evidence in referral["evidence"]:
        assert [entry.action.value for entry in await log_of(resources, evidence["id"])] == ["UPLOADED"]
    assert (await client.get(f"/referrals/{referral['id']}/evidence-bundle.zip")).status_code == 401


async def test_a_case_bundle_holds_its_referrals_evidence(client, world, resources, tmp_path, public_key):
    referral = await upload(client, world, files=FILES)
    assert "errors" not in await graphql(client, REGISTER, {"id": referral["id"]}, world.tokens["prosecutor-1"])
    body = await graphql(client, FILE_CASE, {"referralId": referral["id"], "input": {"kind": "ADMINISTRATIVE"}},
                         world.tokens["prosecutor-1"])
    assert "errors" not in body, body
    case_id = body["data"]["fileCase"]["id"]
    path = await fetch_bundle(client, world, f"/cases/{case_id}/evidence-bundle.zip", "prosecutor-city", tmp_path)
    assert verify_offline(path, public_key).returncode == 0
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["subject"]["kind"] == "case" and manifest["subject"]["number"]
    assert sorted(item["evidenceId"] for item in manifest["files"]) == sorted(e["id"] for e in referral["evidence"])
    for user, status in (("assessor-1", 403), ("prosecutor-2", 404)):
        assert (await client.get(f"/cases/{case_id}/evidence-bundle.zip", headers=auth(world, user))).status_code \
            == status


async def test_the_bundle_streams_in_pieces_of_about_one_chunk(client, world, resources, settings):
    big = PNG + bytes(range(256)) * (6 * 1024 * 1024 // 256)
    referral = await upload(client, world, files=[("drone.png", big, "image/png")])
    [evidence] = referral["evidence"]
    stored = resources.store.digest  # the row's key and version, as the export reads them
    from sqlalchemy import select

    from evidence.models import Evidence

    async with resources.session_factory() as session:
        row = await session.scalar(select(Evidence).where(Evidence.id == evidence["id"]))
    assert (await stored(row.object_key, row.version_id)).size == len(big)
    prepared = bundles.Bundle(filename="x.zip", manifest=b"{}", signature=b"s" * 64,
                              files=[bundles._File("files/x/drone.png", row.object_key, row.version_id, len(big))])
    pieces = list(bundles.stream_bundle(prepared, resources.store))
    assert max(map(len, pieces)) <= 1024 * 1024 + 4096
    assert len(pieces) > 6


async def test_the_operator_can_print_the_public_key(capsys, public_key):
    assert await run_manage("bundle-public-key") == 0
    assert capsys.readouterr().out.strip() == public_key
