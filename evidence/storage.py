"""The evidence object store (S3: SeaweedFS locally, MinIO in production) behind async methods.

The minio SDK blocks, so every call runs in a bounded thread pool. Any failure to reach the store
becomes StorageUnavailable; the caller decides what that undoes."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, TypeVar

import urllib3
from minio import Minio
from minio.error import MinioException, S3Error
from urllib3.exceptions import HTTPError

from app.errors import NotFound, StorageUnavailable
from app.settings import StorageSettings

logger = logging.getLogger(__name__)
T = TypeVar("T")
PART_SIZE = 16 * 1024 * 1024


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
class PutResult:
    key: str
    version_id: str | None


class EvidenceStore:
    def __init__(self, settings: StorageSettings):
        self.bucket = settings.bucket
        # Few, quick retries: a store that is down should fail the request in seconds, not minutes.
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=3, read=60),
            retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504)),
            maxsize=settings.max_workers,
        )
        self.client = Minio(settings.endpoint, access_key=settings.access_key,
                            secret_key=settings.secret_key, secure=settings.secure,
                            region=settings.region, http_client=http)
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
        """Create the evidence bucket with object lock (which also turns on versioning)."""
        if not await self._run(self.client.bucket_exists, self.bucket):
            await self._run(self.client.make_bucket, self.bucket, object_lock=True)

    async def is_reachable(self) -> bool:
        try:
            return await self._run(self.client.bucket_exists, self.bucket)
        except StorageUnavailable:
            return False

    async def put_stream(self, key: str, stream: BinaryIO, *, content_type: str,
                         metadata: dict[str, str] | None = None) -> PutResult:
        """Upload from a file-like object of unknown length, one part in memory at a time."""
        result = await self._run(self.client.put_object, self.bucket, key, stream, length=-1,
                                 part_size=PART_SIZE, content_type=content_type,
                                 metadata=metadata, num_parallel_uploads=1)
        return PutResult(key=key, version_id=result.version_id)

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

    async def list_versions(self, prefix: str) -> list[StoredVersion]:
        def collect() -> list[StoredVersion]:
            return [StoredVersion(key=item.object_name, version_id=item.version_id,
                                  last_modified=item.last_modified)
                    for item in self.client.list_objects(self.bucket, prefix=prefix, recursive=True,
                                                         include_version=True)]

        return await self._run(collect)

    # What only the janitor does (its own, stronger credentials in production) ---------------

    async def versions_of(self, key: str) -> list[StoredVersion]:
        def collect() -> list[StoredVersion]:
            return [StoredVersion(key=item.object_name, version_id=item.version_id,
                                  last_modified=item.last_modified)
                    for item in self.client.list_objects(self.bucket, prefix=key, include_version=True)
                    if item.object_name == key]

        return await self._run(collect)

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
