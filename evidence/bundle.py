"""Evidence bundles for court: one ZIP with the original files, a manifest (each file's SHA-256,
size, capture metadata, custody entries with their chain hashes) and an Ed25519 signature over the manifest.

The export is authorised and written to the custody log (EXPORTED, one entry per file) before the
first byte leaves; the manifest then includes those entries. The ZIP is streamed: files go from the
store into the archive chunk by chunk (stored, not compressed: photos and videos are compressed
already, and a verifier can read the originals' bytes as they are), so memory stays at one chunk
whatever the bundle's size. `python -m evidence.verify_bundle` checks a bundle with nothing else."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from geoalchemy2.shape import to_shape
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.principal import Principal
from core.db import utcnow
from evidence import custody
from evidence.models import CustodyAction, Evidence
from evidence.service import require_content_role, visible_evidence_query
from evidence.storage import EvidenceStore

FORMAT = "pil-evidence-bundle/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.sig"  # the raw 64-byte Ed25519 signature of manifest.json's bytes
README = "README.txt"
ZIP64_OVER = 2**31 - 1
README_TEXT = """Evidence bundle / 证据包

manifest.json     every file: SHA-256, size, media type, upload time, its custody log entries
                  with their hashes (each entry: SHA-256 of its content and of the previous entry,
                  in the whole log and for this file alone), and its capture metadata: position
                  [longitude, latitude] (WGS84) and capture time, each with its source (EXIF, or
                  DECLARED by the uploader)
manifest.json.sig Ed25519 signature over manifest.json, by the platform's bundle signing key
files/            the original files, byte for byte as they were uploaded

Check it:  python -m evidence.verify_bundle THIS.zip --public-key KEY
(KEY: the platform's public key, base64; `python -m app.manage bundle-public-key` prints it)
"""


def signing_key(seed_base64: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(seed_base64))


def public_key_text(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def key_fingerprint(public_key_base64: str) -> str:
    return hashlib.sha256(base64.b64decode(public_key_base64)).hexdigest()


@dataclass(frozen=True)
class Subject:
    """What the bundle is the evidence of."""

    kind: str  # "referral" or "case"
    id: uuid.UUID
    number: str | None


@dataclass(frozen=True)
class _File:
    path: str
    object_key: str
    version_id: str | None
    size: int


@dataclass(frozen=True)
class Bundle:
    filename: str
    manifest: bytes
    signature: bytes
    files: list[_File]


_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def _archive_name(evidence: Evidence) -> str:
    name = _UNSAFE.sub("_", evidence.filename).lstrip(".") or "file"
    return f"files/{evidence.id}/{name}"


async def prepare_bundle(session: AsyncSession, *, principal: Principal, key: Ed25519PrivateKey,
                         subject: Subject, evidence_filter: ColumnElement[bool]) -> Bundle:
    """The subject's evidence as far as the principal may see it (the caller has already found
    the subject within the principal's scope), the export written to each file's custody log,
    and the signed manifest. Assessors and administrators get FORBIDDEN, as for any content."""
    require_content_role(principal)
    evidence = (await session.scalars(visible_evidence_query(principal).where(evidence_filter)
                                      .order_by(Evidence.uploaded_at, Evidence.id))).all()
    export_id = uuid.uuid4()
    for item in evidence:
        custody.record(session, evidence_id=item.id, action=CustodyAction.EXPORTED, principal=principal,
                       detail={"bundle": f"{subject.kind}:{subject.id}", "exportId": str(export_id)})
    await session.flush()
    histories = await custody.entries_of(session, [item.id for item in evidence])
    files = [_File(_archive_name(item), item.object_key, item.version_id, item.size_bytes) for item in evidence]
    manifest = {
        "format": FORMAT,
        "exportId": str(export_id),
        "subject": {"kind": subject.kind, "id": str(subject.id), "number": subject.number},
        "exportedAt": utcnow().isoformat(),
        "exportedBy": {"userId": principal.user_id and str(principal.user_id), "name": principal.username},
        "signingKeySha256": key_fingerprint(public_key_text(key)),
        "files": [{
            "path": file.path, "evidenceId": str(item.id), "filename": item.filename,
            "mediaType": item.media_type, "sizeBytes": item.size_bytes, "sha256": item.sha256,
            "description": item.description, "uploadedAt": item.uploaded_at.isoformat(),
            "custody": [entry.as_manifest() for entry in histories[item.id]],
            "capture": _capture(item),
        } for item, file in zip(evidence, files, strict=True)],
    }
    manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    return Bundle(filename=f"evidence-{subject.kind}-{subject.number or subject.id}-{stamp}.zip",
                  manifest=manifest_bytes, signature=key.sign(manifest_bytes), files=files)


def _capture(item: Evidence) -> dict:
    """What the file says about where and when it was made (evidence.metadata), and what the
    uploader declared, each with its source: a court weighs an EXIF position and a declared one
    differently."""

    def point(value) -> list[float] | None:
        return None if value is None else list(to_shape(value).coords[0])

    return {
        "metadataStatus": item.metadata_status.value,
        "position": point(item.position), "positionSource": item.position_source.value,
        "positionAccuracyMeters": item.position_accuracy_m,
        "declaredPosition": point(item.declared_position), "declaredAccuracyMeters": item.declared_accuracy_m,
        "capturedAt": item.captured_at and item.captured_at.isoformat(),
        "capturedAtSource": item.captured_at_source.value,
        "distanceFromReferralMeters": item.distance_from_referral_m, "farFromReferral": item.far_from_referral,
    }


class _Sink(io.RawIOBase):
    """Where zipfile writes; drained after every write. Not seekable, so zipfile writes each
    entry's sizes and CRC in a data descriptor after its bytes instead of going back for them."""

    def __init__(self) -> None:
        self._pending = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._pending += data
        return len(data)

    def take(self) -> bytes:
        data = bytes(self._pending)
        self._pending.clear()
        return data


def stream_bundle(bundle: Bundle, store: EvidenceStore) -> Iterator[bytes]:
    """The ZIP's bytes, blocking (run it on a worker thread): the manifest and its signature
    first, then each original as it is read from the store."""
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        archive.writestr(README, README_TEXT)
        archive.writestr(MANIFEST, bundle.manifest)
        archive.writestr(SIGNATURE, bundle.signature)
        yield sink.take()
        for file in bundle.files:
            with archive.open(file.path, mode="w", force_zip64=file.size > ZIP64_OVER) as entry:
                for chunk in store.iter_version(file.object_key, file.version_id):
                    entry.write(chunk)
                    yield sink.take()
            yield sink.take()
    yield sink.take()
