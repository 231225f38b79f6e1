"""The evidence object store (S3: SeaweedFS locally, MinIO in production) behind async methods.

The minio SDK blocks, so every call runs in a bounded thread pool. Any failure to reach the store
becomes StorageUnavailable; the caller decides what that undoes."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import io
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import BinaryIO, TypeVar
from urllib.parse import quote

import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE
from minio.datatypes import Part
from minio.error import MinioException, S3Error
from minio.helpers import genheaders
from minio.objectlockconfig import DAYS, ObjectLockConfig
from urllib3.exceptions import HTTPError

from app.settings import StorageSettings
from core.errors import NotFound, StorageUnavailable

logger = logging.getLogger(__name__)
T = TypeVar("T")
# Only reads are retried: a PUT, an uploaded part or a completion that timed out may have landed.
RETRIED_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class StoredVersion:
    key: str
    version_id: str | None
    last_modified: datetime | None


@dataclass(frozen=True)
class IncompleteUpload:
    key: str
    upload_id: str
    initiated_at: datetime | None


@dataclass(frozen=True)
class ObjectDigest:
    sha256: str
    size: int


@dataclass(frozen=True)
class PutResult:
    key: str
    version_id: str | None


@dataclass(frozen=True)
class UploadedPart:
    number: int
    etag: str
    size: int


class RangedObject(io.RawIOBase):
    """A seekable, read-only view of one stored version that fetches only the byte ranges read
    (blocking; used in the store's thread pool). Header parsers (Pillow, zipfile) read a few
    kilobytes of a file that may be gigabytes long."""

    def __init__(self, client: Minio, bucket: str, key: str, version_id: str | None, size: int):
        self._client, self._bucket, self._key, self._version_id = client, bucket, key, version_id
        self._size = size
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer) -> int:
        length = min(len(buffer), self._size - self._position)
        if length <= 0:
            return 0
        response = self._client.get_object(self._bucket, self._key, offset=self._position, length=length,
                                           version_id=self._version_id)
        try:
            data = response.read()
        finally:
            response.close()
            response.release_conn()
        buffer[:len(data)] = data
        self._position += len(data)
        return len(data)


class EvidenceStore:
    def __init__(self, settings: StorageSettings):
        self.bucket = settings.bucket
        self.presigned_url_ttl = timedelta(seconds=settings.presigned_url_seconds)
        self.part_size = settings.part_size
        self.parts_in_flight = settings.parts_in_flight
        # A store that is down or frozen fails the request within the timeouts, not minutes: one
        # quick retry for reads, none for writes. A connection that was never made is safe to
        # retry whatever the method (urllib3 counts those apart).
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=settings.connect_timeout_seconds,
                                    read=settings.read_timeout_seconds),
            retries=urllib3.Retry(total=1, connect=1, read=1, status=1, other=0, backoff_factor=0.2,
                                  allowed_methods=RETRIED_METHODS, status_forcelist=(500, 502, 503, 504)),
            maxsize=settings.max_workers,
        )
        self.client = Minio(settings.endpoint, access_key=settings.access_key,
                            secret_key=settings.secret_key, secure=settings.secure,
                            region=settings.region, http_client=http)
        self.retention_days = settings.retention_days
        # Presigned URLs are signed for the host the client will reach (the signature covers it);
        # signing is local, with the region given, so this client never connects anywhere.
        self.public_client = Minio(settings.public_endpoint or settings.endpoint, access_key=settings.access_key,
                                   secret_key=settings.secret_key,
                                   secure=settings.secure if settings.public_secure is None else settings.public_secure,
                                   region=settings.region)
        self._executor = ThreadPoolExecutor(max_workers=settings.max_workers,
                                            thread_name_prefix="evidence-store")

    async def _run(self, call: Callable[..., T], *args, **kwargs) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, functools.partial(call, *args, **kwargs))
        except (HTTPError, MinioException, OSError) as error:
            if isinstance(error, S3Error) and error.code in ("NoSuchKey", "NoSuchVersion"):
                raise
            logger.warning("object store call %s failed: %r", getattr(call, "__name__", call), error)
            raise StorageUnavailable() from error

    async def ensure_bucket(self) -> None:
        """Create the evidence bucket with object lock (which also turns on versioning), and give
        it the default COMPLIANCE retention of `retention_days` (0: none) if it has another: every
        new version is then kept that long whatever becomes of its legal hold, and no credential
        can shorten that. Written only when it differs, so a deployment whose set-up wrote it
        (deploy/minio/setup.sh) needs no right to change it here."""
        if not await self._run(self.client.bucket_exists, self.bucket):
            await self._run(self.client.make_bucket, self.bucket, object_lock=True)
        if self.retention_days:
            wanted = ObjectLockConfig(COMPLIANCE, self.retention_days, DAYS)
            current = await self._run(self.client.get_object_lock_config, self.bucket)
            if current != wanted:
                await self._run(self.client.set_object_lock_config, self.bucket, wanted)

    async def is_reachable(self) -> bool:
        try:
            return await self._run(self.client.bucket_exists, self.bucket)
        except StorageUnavailable:
            return False

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], *, content_type: str,
                         metadata: dict[str, str] | None = None, legal_hold: bool = False) -> PutResult:
        """Upload bytes as they arrive. A file smaller than a part is one PutObject; a larger one
        an S3 multipart upload in which the next part is read from `chunks` while up to
        `parts_in_flight` earlier ones go up, so at most `parts_in_flight + 1` parts are in memory.
        Any failure, including one raised by `chunks` (a size limit, a broken request), aborts the
        multipart upload and propagates. `legal_hold` holds the version from its first byte (the
        object-lock header on the PUT or on CreateMultipartUpload)."""
        headers = genheaders(metadata, None, None, None, legal_hold)
        headers["Content-Type"] = content_type
        chunks = aiter(chunks)
        carry = bytearray()
        spare: list[bytearray] = []
        data = await self._read_part(chunks, carry, spare)
        if len(data) < self.part_size:
            # The SDK adds its own headers to the dict it is given: each call gets a copy.
            written = await self._run(self.client._put_object, self.bucket, key, data, dict(headers))
            return PutResult(key=key, version_id=written.version_id)

        upload_id = await self._run(self.client._create_multipart_upload, self.bucket, key, dict(headers))
        parts: list[Part] = []
        sending: deque[tuple[int, memoryview, asyncio.Future[str]]] = deque()

        async def oldest_sent() -> None:
            number, sent, upload = sending.popleft()
            parts.append(Part(number, await upload))
            spare.append(sent.obj)  # its buffer takes a later part: no allocator churn per part

        try:
            number = 0
            while data:
                if len(sending) == self.parts_in_flight:
                    await oldest_sent()
                number += 1
                sending.append((number, data, asyncio.ensure_future(self._run(
                    self.client._upload_part, self.bucket, key, data, None, upload_id, number))))
                data = await self._read_part(chunks, carry, spare)
            while sending:
                await oldest_sent()
            completed = await self._run(self.client._complete_multipart_upload, self.bucket, key,
                                        upload_id, parts)
        except BaseException:
            for _, _, upload in sending:  # no part may land after the abort
                with contextlib.suppress(Exception):
                    await upload
            await self._abort_upload(key, upload_id)
            raise
        return PutResult(key=key, version_id=completed.version_id)

    async def _read_part(self, chunks: AsyncIterator[bytes], carry: bytearray,
                         spare: list[bytearray]) -> memoryview:
        """The next part's bytes: exactly `part_size` of them unless the source ends first.
        `carry` holds what the last chunk had beyond the previous part. The part is read into a
        spare part-sized buffer if there is one; else into a new one that grows as bytes come, so
        a small file costs only its size."""
        if not spare:
            part = bytearray(carry[:self.part_size])
            del carry[:self.part_size]
            while len(part) < self.part_size and (chunk := await anext(chunks, None)) is not None:
                room = self.part_size - len(part)
                part += chunk[:room]
                carry += chunk[room:]
            return memoryview(part)
        buffer = memoryview(spare.pop())
        filled = min(len(carry), self.part_size)
        buffer[:filled] = carry[:filled]
        del carry[:filled]
        while filled < self.part_size and (chunk := await anext(chunks, None)) is not None:
            taken = min(len(chunk), self.part_size - filled)
            buffer[filled:filled + taken] = memoryview(chunk)[:taken]
            filled += taken
            carry += chunk[taken:]
        return buffer[:filled]

    async def _abort_upload(self, key: str, upload_id: str) -> None:
        try:
            await self._run(self.client._abort_multipart_upload, self.bucket, key, upload_id)
        except StorageUnavailable:
            # Its parts stay in the store until the sweep aborts incomplete uploads.
            logger.warning("could not abort multipart upload %s of %s", upload_id, key)

    # Uploads a client sends straight to the store (evidence.presigned) -------------------------

    async def start_upload(self, key: str, *, content_type: str, metadata: dict[str, str],
                           legal_hold: bool) -> str:
        headers = genheaders(metadata, None, None, None, legal_hold)
        headers["Content-Type"] = content_type
        return await self._run(self.client._create_multipart_upload, self.bucket, key, headers)

    def presign_part(self, key: str, upload_id: str, number: int) -> str:
        return self.public_client.get_presigned_url(
            "PUT", self.bucket, key, expires=self.presigned_url_ttl,
            extra_query_params={"uploadId": upload_id, "partNumber": str(number)})

    async def uploaded_parts(self, key: str, upload_id: str) -> list[UploadedPart] | None:
        """The parts the store has; None when the multipart upload is no more (completed or aborted)."""

        def collect() -> list[UploadedPart] | None:
            found, marker = [], 0
            while True:
                try:
                    page = self.client._list_parts(self.bucket, key, upload_id, max_parts=1000,
                                                   part_number_marker=marker)
                except S3Error as error:
                    if error.code == "NoSuchUpload":
                        return None
                    raise
                found += [UploadedPart(part.part_number, part.etag, part.size) for part in page.parts]
                if not page.is_truncated:
                    return found
                marker = page.next_part_number_marker

        return await self._run(collect)

    async def complete_upload(self, key: str, upload_id: str, parts: list[UploadedPart]) -> PutResult:
        completed = await self._run(self.client._complete_multipart_upload, self.bucket, key, upload_id,
                                    [Part(part.number, part.etag) for part in parts])
        return PutResult(key=key, version_id=completed.version_id)

    async def read_back(self, key: str, version_id: str | None, head_size: int = 0) -> tuple[int, str, bytes]:
        """Stream a stored version back: its size, its SHA-256 and its first `head_size` bytes."""

        def read() -> tuple[int, str, bytes]:
            sha256, size, head = hashlib.sha256(), 0, bytearray()
            for chunk in self.iter_version(key, version_id):
                sha256.update(chunk)
                size += len(chunk)
                if len(head) < head_size:
                    head += chunk[:head_size - len(head)]
            return size, sha256.hexdigest(), bytes(head)

        return await self._run(read)

    async def read_bounded(self, key: str, version_id: str | None, max_bytes: int) -> bytes | None:
        """A version's bytes if it has at most `max_bytes` of them, else None (read no further)."""

        def read() -> bytes | None:
            content = bytearray()
            for chunk in self.iter_version(key, version_id):
                content += chunk
                if len(content) > max_bytes:
                    return None
            return bytes(content)

        return await self._run(read)

    async def put_derived(self, key: str, content: bytes, *, content_type: str) -> PutResult:
        """A small object derived from evidence (a preview): no legal hold, it can be made again."""
        written = await self._run(self.client.put_object, self.bucket, key, io.BytesIO(content), len(content),
                                  content_type=content_type)
        return PutResult(key=key, version_id=written.version_id)

    async def read_structure(self, key: str, version_id: str | None, size: int,
                             read: Callable[[BinaryIO], T]) -> T:
        """Run `read` on a random-access view of a stored version (ranged GETs, 64 KiB at least)."""
        return await self._run(lambda: read(io.BufferedReader(
            RangedObject(self.client, self.bucket, key, version_id, size), buffer_size=64 * 1024)))

    async def delete_version(self, key: str, version_id: str | None) -> None:
        """Remove exactly the version we wrote; in a versioned bucket a plain delete would only
        hide it behind a delete marker."""
        await self._run(self.client.remove_object, self.bucket, key, version_id=version_id)

    async def hold(self, key: str, version_id: str | None) -> None:
        """Put a legal hold on a version: from now on the store refuses to delete it."""
        await self._run(self.client.enable_object_legal_hold, self.bucket, key, version_id=version_id)

    async def open_chunks(self, key: str, version_id: str | None,
                          chunk_size: int = 256 * 1024) -> Iterator[bytes]:
        """A blocking iterator over the object's bytes (for a thread-pooled streaming response)."""
        try:
            response = await self._run(self.client.get_object, self.bucket, key, version_id=version_id)
        except S3Error as error:  # a row whose object is gone: an operator must look, the user gets 404
            logger.error("evidence object %s (version %s) is missing from the store: %s", key, version_id,
                         error.code)
            raise NotFound("证据文件缺失 / the evidence file is missing from the store") from error

        def chunks() -> Iterator[bytes]:
            try:
                yield from response.stream(chunk_size)
            finally:
                response.close()
                response.release_conn()

        return chunks()

    async def collect(self, chunks: Iterator[bytes]) -> bytes:
        """Read an iterator from open_chunks to its end, in the store's pool (small objects only)."""
        return await self._run(b"".join, chunks)

    async def list_versions(self, prefix: str) -> list[StoredVersion]:
        def collect() -> list[StoredVersion]:
            return [StoredVersion(key=item.object_name, version_id=item.version_id,
                                  last_modified=item.last_modified)
                    for item in self.client.list_objects(self.bucket, prefix=prefix, recursive=True,
                                                         include_version=True)]

        return await self._run(collect)

    # Integrity and custody -------------------------------------------------------------------

    async def digest(self, key: str, version_id: str | None) -> ObjectDigest | None:
        """SHA-256 and size of a stored version, read back in full; None if it is not there."""
        try:
            size, sha256, _ = await self.read_back(key, version_id)
        except S3Error:
            return None
        return ObjectDigest(sha256, size)

    def iter_version(self, key: str, version_id: str | None, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        """A version's bytes, blocking (for code already on a worker thread: digests, bundles).
        Raises S3Error NoSuchKey/NoSuchVersion if it is gone."""
        response = self.client.get_object(self.bucket, key, version_id=version_id)
        try:
            yield from response.stream(chunk_size)
        finally:
            response.close()
            response.release_conn()

    async def latest_version_id(self, key: str) -> str | None:
        """The version a plain GET of the key returns (None: no version, or a delete marker)."""
        try:
            stat = await self._run(self.client.stat_object, self.bucket, key)
        except S3Error:
            return None
        return stat.version_id

    def presigned_download(self, key: str, version_id: str | None, *, filename: str, media_type: str,
                           expires: timedelta) -> str:
        """A URL that GETs exactly this version for `expires`, with the download's headers."""
        return self.public_client.presigned_get_object(
            self.bucket, key, expires=expires, version_id=version_id,
            response_headers={"response-content-disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
                              "response-content-type": media_type})

    # What only the janitor does (its own, stronger credentials in production) ---------------

    async def versions_of(self, key: str) -> list[StoredVersion]:
        def collect() -> list[StoredVersion]:
            return [StoredVersion(key=item.object_name, version_id=item.version_id,
                                  last_modified=item.last_modified)
                    for item in self.client.list_objects(self.bucket, prefix=key, include_version=True)
                    if item.object_name == key]

        return await self._run(collect)

    async def retained(self, key: str, version_id: str | None) -> bool:
        """Whether a retention (from the bucket's default) still forbids deleting this version."""

        def until():
            try:
                retention = self.client.get_object_retention(self.bucket, key, version_id=version_id)
            except S3Error as error:
                if error.code in ("NoSuchObjectLockConfiguration", "ObjectLockConfigurationNotFoundError"):
                    return None
                raise
            return retention.retain_until_date if retention and retention.mode else None

        retain_until = await self._run(until)
        return retain_until is not None and retain_until > datetime.now(timezone.utc)

    async def release_hold(self, key: str, version_id: str | None) -> None:
        await self._run(self.client.disable_object_legal_hold, self.bucket, key, version_id=version_id)

    async def incomplete_uploads(self, prefix: str) -> list[IncompleteUpload]:
        """Multipart uploads started and never completed or aborted: their parts take space
        but belong to no object version."""

        def collect() -> list[IncompleteUpload]:
            found, key_marker, upload_marker = [], None, None
            while True:
                page = self.client._list_multipart_uploads(self.bucket, prefix=prefix, key_marker=key_marker,
                                                           upload_id_marker=upload_marker, max_uploads=1000)
                found += [IncompleteUpload(key=upload.object_name, upload_id=upload.upload_id,
                                           initiated_at=upload.initiated_time) for upload in page.uploads]
                if not page.is_truncated:
                    return found
                key_marker, upload_marker = page.next_key_marker, page.next_upload_id_marker

        return await self._run(collect)

    async def abort_upload(self, key: str, upload_id: str) -> None:
        await self._run(self.client._abort_multipart_upload, self.bucket, key, upload_id)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
