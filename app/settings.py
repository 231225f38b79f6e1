"""Settings, one class per concern, all read from the environment under the `PIL_` prefix.

The development defaults below are demo values: `Settings.check_production()` refuses to run a
production process with any of them, so a forgotten variable cannot ship a known secret.
"""

from __future__ import annotations

import base64
import binascii
from enum import Enum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_TOKEN_SECRET = "dev-only-token-secret-change-me-0123456789"
DEMO_S3_ACCESS_KEY = "pil-dev-access"
DEMO_S3_SECRET_KEY = "pil-dev-secret-change-me"
DEMO_DB_PASSWORD = "pil-dev-db-password"
DEMO_PROTECT_DATA_KEY = base64.b64encode(b"pil-dev-only-data-key-change-me!").decode()
DEMO_PROTECT_INDEX_KEY = base64.b64encode(b"pil-dev-only-index-key-change-me").decode()
PROTECTION_KEY_BYTES = 32
DEMO_BUNDLE_SIGNING_KEY = base64.b64encode(b"pil-dev-only-bundle-signing-key!").decode()
BUNDLE_KEY_BYTES = 32


class Environment(str, Enum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class DatabaseSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PIL_DB_")

    url: str = f"postgresql+asyncpg://postgres:{DEMO_DB_PASSWORD}@127.0.0.1:55432/pil"
    pool_size: int = 10
    echo: bool = False
    # Every wait on the database is bounded, so a frozen or restarting PostgreSQL turns into a
    # quick DATABASE_UNAVAILABLE instead of requests piling up behind it.
    connect_timeout_seconds: float = 5  # opening a connection
    pool_timeout_seconds: float = 5  # waiting for a free connection from the pool
    command_timeout_seconds: float = 15  # the client's wait for one statement's answer
    statement_timeout_ms: int = 10_000  # the server's own limit on one statement
    # The server ends a transaction the app forgot about, so it cannot hold locks forever.
    idle_in_transaction_timeout_ms: int = 60_000


class StorageSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PIL_S3_")

    endpoint: str = "127.0.0.1:58333"  # host:port, as the minio SDK wants it
    secure: bool = False
    access_key: str = DEMO_S3_ACCESS_KEY
    secret_key: str = DEMO_S3_SECRET_KEY
    region: str = "us-east-1"
    bucket: str = "pil-evidence"
    # Parallel blocking SDK calls; the SDK is synchronous, so these run in a thread pool.
    max_workers: int = 8
    # An upload holds at most parts_in_flight + 1 parts in memory: one filling from the request
    # while the others go up. One part at a time leaves the store idle between parts (measured:
    # ~0.6x the SDK's own put_object); the defaults are the SDK's for files up to ~48 GiB.
    # S3 wants at least 5 MiB for every part but the last.
    part_size: int = Field(default=5 * 1024 * 1024, ge=5 * 1024 * 1024, le=64 * 1024 * 1024)
    parts_in_flight: int = Field(default=3, ge=1, le=8)
    # A store that stops answering fails the request within these, not minutes. urllib3 sends a
    # request body under the connect timeout (Python's sendall timeout covers the whole part), so
    # it must also fit one part at the slowest acceptable link speed.
    connect_timeout_seconds: float = Field(default=3.0, gt=0)
    read_timeout_seconds: float = Field(default=30.0, gt=0)
    # Where clients reach the store for presigned uploads (host:port): presigned URLs carry this
    # host, which their signature covers. Empty: the same endpoint the server uses.
    public_endpoint: str = ""
    public_secure: bool | None = None  # None: as `secure`
    # A presigned part URL is good for this long; a client asks again for the parts it still needs.
    presigned_url_seconds: int = Field(default=15 * 60, ge=60, le=7 * 24 * 3600)
    # COMPLIANCE retention every new evidence version gets from the bucket's default (0: none; the
    # legal hold still applies). Nobody, root included, can delete a version before it ends.
    retention_days: int = Field(default=0, ge=0, le=36500)
    # Downloads larger than this are a redirect to a presigned URL valid for presign_ttl_seconds,
    # so big files do not pass through the app; smaller ones stream through it.
    presign_download_over_bytes: int = Field(default=128 * 1024 * 1024, ge=0)
    presign_ttl_seconds: int = Field(default=300, ge=10, le=3600)


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PIL_AUTH_")

    token_secret: str = DEMO_TOKEN_SECRET
    token_ttl_seconds: int = 8 * 3600
    token_issuer: str = "pil-referral"
    # Wrong passwords from one client address for one username within the window, after which that
    # address may not try that username again until the oldest failure ages out; others still can.
    max_failed_logins: int = 5
    # Wrong passwords from one client address over all usernames (password spraying).
    max_failed_logins_per_source: int = 20
    failed_login_window_seconds: int = 15 * 60
    # Threads hashing and verifying passwords (argon2 takes tens of milliseconds of CPU each), so
    # the event loop keeps serving other requests; small, so a login flood cannot take every core.
    # One: a burst of logins keeps one core busy at most, never the core serving everyone else.
    password_hash_threads: int = 1


def _base64_key(value: str, length: int) -> str:
    """`value` if it is base64 of a key of `length` bytes; the reason otherwise."""
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("must be base64") from error
    if len(key) != length:
        raise ValueError(f"must be base64 of {length} bytes")
    return value


class ProtectionSettings(BaseSettings):
    """Keys for personal data at rest (parties' identity numbers), each base64 of 32 random bytes,
    e.g. `python -c "import os, base64; print(base64.b64encode(os.urandom(32)).decode())"`.
    `data_key` encrypts (AES-256-GCM); `index_key` makes the blind index exact searches use.
    Changing either makes the stored numbers unreadable or unfindable: they are kept like the
    database's backups, not rotated casually."""

    model_config = SettingsConfigDict(env_prefix="PIL_PROTECT_")

    data_key: str = DEMO_PROTECT_DATA_KEY
    index_key: str = DEMO_PROTECT_INDEX_KEY

    @field_validator("data_key", "index_key")
    @classmethod
    def _is_a_key(cls, value: str) -> str:
        return _base64_key(value, PROTECTION_KEY_BYTES)


class BundleSettings(BaseSettings):
    """The key evidence bundles are signed with: base64 of a 32-byte Ed25519 private key (seed),
    e.g. `python -c "import os, base64; print(base64.b64encode(os.urandom(32)).decode())"`.
    `python -m app.manage bundle-public-key` prints the public key that verifies them."""

    model_config = SettingsConfigDict(env_prefix="PIL_BUNDLE_")

    signing_key: str = DEMO_BUNDLE_SIGNING_KEY

    @field_validator("signing_key")
    @classmethod
    def _is_a_key(cls, value: str) -> str:
        return _base64_key(value, BUNDLE_KEY_BYTES)


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PIL_API_")

    max_upload_bytes: int = 200 * 1024 * 1024  # one evidence file
    # Large files sent straight to the store (requestEvidenceUpload): the declared size may be up
    # to this; parts are `presigned_part_bytes` unless S3's 10 000-part limit needs them larger.
    max_presigned_upload_bytes: int = 50 * 1024 ** 3
    presigned_part_bytes: int = Field(default=16 * 1024 * 1024, ge=5 * 1024 * 1024)
    # An upload not confirmed within this is abandoned: the janitor aborts it and removes its bytes.
    presigned_upload_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    # Decompression bombs (evidence.kinds): refused before the file counts as evidence.
    max_image_pixels: int = 250_000_000  # a 20 000 × 12 500 drone orthophoto; a bomb is far beyond
    max_archive_entries: int = 10_000
    max_archive_ratio: int = 100  # per entry larger than 1 MiB; Office XML compresses ~10×
    max_archive_uncompressed_bytes: int = 8 * 1024 ** 3
    max_request_bytes: int = 1024 * 1024 * 1024  # a whole request, all files together
    max_json_bytes: int = 16 * 1024 * 1024  # a request without files (read into memory whole)
    max_query_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 2000
    max_page_size: int = 100
    default_page_size: int = 20
    # Answer the queries a planner takes with one SQL statement (app.planned); off, strawberry
    # answers every query (the same answers, slower).
    planned_queries: bool = True


class PortalSettings(BaseSettings):
    """The web portal's built bundle (portal/, `npm run build`) and what it is told at start."""

    model_config = SettingsConfigDict(env_prefix="PIL_PORTAL_")

    dist_dir: Path = Path(__file__).resolve().parent.parent / "portal" / "dist"
    # A raster XYZ tile URL template drawn under the platform's layers; none by default (no outside requests).
    basemap_url: str | None = None


class EvidenceSettings(BaseSettings):
    """What the platform reads from a photo after it is stored (evidence.metadata)."""

    model_config = SettingsConfigDict(env_prefix="PIL_EVIDENCE_")

    # A photo (or a declared position) farther than this from its referral's geometry is flagged.
    far_from_referral_meters: float = Field(default=5000, gt=0)
    preview_max_side: int = Field(default=1024, ge=64, le=4096)
    preview_format: str = Field(default="JPEG", pattern="^(JPEG|WEBP)$")
    # A photo is read back whole to extract its metadata and make its preview: a larger one gets
    # neither (FAILED, with the reason), so a worker's memory stays bounded.
    max_photo_bytes: int = Field(default=64 * 1024 * 1024, ge=1024 * 1024)
    # Decoding a preview holds the image's pixels; this bounds it below the upload limit
    # (ApiSettings.max_image_pixels), which only reads headers.
    max_preview_pixels: int = Field(default=100_000_000, ge=1_000_000)
    metadata_batch: int = Field(default=20, ge=1, le=1000)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PIL_")

    env: Environment = Environment.DEVELOPMENT
    log_level: str = "INFO"
    db: DatabaseSettings = Field(default_factory=DatabaseSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    protection: ProtectionSettings = Field(default_factory=ProtectionSettings)
    bundle: BundleSettings = Field(default_factory=BundleSettings)
    portal: PortalSettings = Field(default_factory=PortalSettings)
    evidence: EvidenceSettings = Field(default_factory=EvidenceSettings)

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    def check_production(self, *, serving: bool = True) -> None:
        """Refuse to start a production process with a demo secret or a short signing key.
        `serving=False` is for the operator commands that touch only the database and the store
        (the janitor): they are given, and so checked for, no token or data keys."""
        if not self.is_production:
            return
        problems = []
        if serving and (self.auth.token_secret == DEMO_TOKEN_SECRET or len(self.auth.token_secret) < 32):
            problems.append("PIL_AUTH_TOKEN_SECRET is the demo value or shorter than 32 characters")
        if self.storage.access_key == DEMO_S3_ACCESS_KEY:
            problems.append("PIL_S3_ACCESS_KEY is the demo value")
        if self.storage.secret_key == DEMO_S3_SECRET_KEY:
            problems.append("PIL_S3_SECRET_KEY is the demo value")
        if DEMO_DB_PASSWORD in self.db.url:
            problems.append("PIL_DB_URL carries the demo database password")
        if serving:
            if self.protection.data_key == DEMO_PROTECT_DATA_KEY:
                problems.append("PIL_PROTECT_DATA_KEY is the demo value")
            if self.protection.index_key == DEMO_PROTECT_INDEX_KEY:
                problems.append("PIL_PROTECT_INDEX_KEY is the demo value")
            if self.protection.data_key == self.protection.index_key:
                problems.append("PIL_PROTECT_DATA_KEY and PIL_PROTECT_INDEX_KEY are the same key")
            if self.bundle.signing_key == DEMO_BUNDLE_SIGNING_KEY:
                problems.append("PIL_BUNDLE_SIGNING_KEY is the demo value")
        if problems:
            raise RuntimeError("refusing to start in production: " + "; ".join(problems))


@lru_cache
def get_settings() -> Settings:
    return Settings()
