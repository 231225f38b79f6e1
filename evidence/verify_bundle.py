"""Check an evidence bundle offline, with nothing but the bundle and the platform's public key:

    python -m evidence.verify_bundle bundle.zip --public-key KEY

KEY is the base64 of the raw 32-byte Ed25519 public key (`python -m app.manage bundle-public-key`),
or a file holding it. Checks that the manifest is signed by that key, that every file is in the
archive with the SHA-256 and size the manifest gives (and nothing else is), and that each file's
custody entries are sound and chained from its upload, whose entry attests that same hash. Prints
what it found; exit 0 if all holds, 1 otherwise. Needs only this package's chain.py and cryptography.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
import zipfile
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from evidence.chain import Entry, check_evidence_chain

MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.sig"
README = "README.txt"
CHUNK = 1024 * 1024


class BundleInvalid(Exception):
    """The bundle is not what its manifest and signature say; the message says where."""


def load_public_key(text: str) -> Ed25519PublicKey:
    candidate = Path(text)
    if len(text) < 200 and candidate.is_file():
        text = candidate.read_text().strip()
    try:
        raw = base64.b64decode(text, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as error:
        raise BundleInvalid("the public key is not base64 of 32 bytes") from error


def verify(path: Path, public_key: Ed25519PublicKey) -> dict:
    """The manifest of a sound bundle; raises BundleInvalid naming the first problem."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise BundleInvalid(f"not a readable ZIP archive: {error}") from error
    with archive:
        names = archive.namelist()
        if MANIFEST not in names or SIGNATURE not in names:
            raise BundleInvalid("the manifest or its signature is missing")
        manifest_bytes = archive.read(MANIFEST)
        try:
            public_key.verify(archive.read(SIGNATURE), manifest_bytes)
        except InvalidSignature as error:
            raise BundleInvalid("the manifest's signature does not verify with this key "
                                "(the manifest was changed, or the key is not the platform's)") from error
        manifest = json.loads(manifest_bytes)
        listed = {item["path"] for item in manifest["files"]}
        unexpected = sorted(set(names) - listed - {MANIFEST, SIGNATURE, README})
        if unexpected:
            raise BundleInvalid(f"files not in the manifest: {', '.join(unexpected)}")
        for item in manifest["files"]:
            _check_file(archive, item)
    return manifest


def _check_file(archive: zipfile.ZipFile, item: dict) -> None:
    path = item["path"]
    try:
        digest, size = hashlib.sha256(), 0
        with archive.open(path) as content:
            while chunk := content.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except KeyError as error:
        raise BundleInvalid(f"{path}: listed in the manifest but not in the archive") from error
    except zipfile.BadZipFile as error:  # the archive's own CRC catches a damaged entry first
        raise BundleInvalid(f"{path}: damaged in the archive ({error})") from error
    if digest.hexdigest() != item["sha256"] or size != item["sizeBytes"]:
        raise BundleInvalid(f"{path}: SHA-256 {digest.hexdigest()} ({size} bytes) differs from the manifest's "
                            f"{item['sha256']} ({item['sizeBytes']} bytes)")
    entries = [Entry.from_manifest(entry) for entry in item["custody"]]
    broken = check_evidence_chain(entries)
    if broken is not None:
        raise BundleInvalid(f"{path}: custody chain broken at {broken}")
    first = entries[0] if entries else None
    attested = json.loads(first.detail) if first and first.detail else {}
    if first is None or first.action != "UPLOADED" or attested.get("sha256") != item["sha256"]:
        raise BundleInvalid(f"{path}: its custody history does not begin with an upload of these bytes")
    if any(entry.evidence_id != item["evidenceId"] for entry in entries):
        raise BundleInvalid(f"{path}: custody entries of another evidence item are listed under it")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evidence.verify_bundle", description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--public-key", required=True, help="base64 Ed25519 public key, or a file holding it")
    args = parser.parse_args(argv)
    try:
        manifest = verify(args.bundle, load_public_key(args.public_key))
    except BundleInvalid as problem:
        print(f"INVALID: {problem}")
        return 1
    subject = manifest["subject"]
    print(f"VALID: {len(manifest['files'])} files of {subject['kind']} {subject['number'] or subject['id']}, "
          f"exported {manifest['exportedAt']} by {manifest['exportedBy']['name']}")
    for item in manifest["files"]:
        print(f"  {item['sha256']}  {item['sizeBytes']:>12}  {item['path']}  ({len(item['custody'])} custody entries)")
        capture = item.get("capture") or {}  # bundles made before capture metadata have none
        if capture.get("position") or capture.get("capturedAt"):
            print(f"      at {capture.get('position')} ({capture.get('positionSource')}), "
                  f"taken {capture.get('capturedAt')} ({capture.get('capturedAtSource')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
