"""The error vocabulary of the API (CONTRACT.md). Services raise these; the GraphQL layer reports
`code` (and `field`) in `extensions`. Anything else that escapes is a bug: it is logged with the
request id and reaches the client only as a masked `INTERNAL` error."""

from __future__ import annotations


class AppError(Exception):
    code = "INTERNAL"
    default_message = "请求失败 / The request failed"
    # What a REST route answers with (GraphQL answers 200 with the error in the body).
    http_status = 500
    # Seconds a client should wait before retrying, for the errors worth a retry.
    retry_after: int | None = None

    def __init__(self, message: str | None = None, *, field: str | None = None, **extensions: object):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.field = field
        self.extensions = extensions

    def as_extensions(self) -> dict[str, object]:
        extensions: dict[str, object] = {"code": self.code, **self.extensions}
        if self.field is not None:
            extensions["field"] = self.field
        return extensions


class Unauthenticated(AppError):
    code = "UNAUTHENTICATED"
    default_message = "需要登录 / Authentication required"
    http_status = 401


class Forbidden(AppError):
    code = "FORBIDDEN"
    default_message = "无权执行此操作 / You are not allowed to do this"
    http_status = 403


class NotFound(AppError):
    code = "NOT_FOUND"
    default_message = "对象不存在 / Not found"
    http_status = 404


class ValidationFailed(AppError):
    code = "VALIDATION"
    default_message = "输入无效 / Invalid input"
    http_status = 400


class InvalidGeometry(AppError):
    code = "INVALID_GEOMETRY"
    default_message = "几何图形无效 / Invalid geometry"
    http_status = 400


class InvalidTransition(AppError):
    code = "INVALID_TRANSITION"
    default_message = "当前状态下不能执行此操作 / Not allowed in the current state"
    http_status = 409


class Conflict(AppError):
    code = "CONFLICT"
    default_message = "与现有数据冲突 / Conflicts with existing data"
    http_status = 409


class PayloadTooLarge(AppError):
    code = "PAYLOAD_TOO_LARGE"
    default_message = "文件过大 / The upload is too large"
    http_status = 413


class UnsupportedMediaType(AppError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    default_message = "不支持的文件类型 / Unsupported file type"
    http_status = 415


class DeadlinePassed(AppError):
    code = "DEADLINE_PASSED"
    default_message = "期限已过 / The deadline has passed"
    http_status = 409


class StorageUnavailable(AppError):
    code = "STORAGE_UNAVAILABLE"
    default_message = "证据存储暂不可用，请稍后重试 / Evidence storage is unavailable, try again later"
    http_status = 503
    retry_after = 5


class RateLimited(AppError):
    code = "RATE_LIMITED"
    default_message = "请求过于频繁 / Too many requests"
    http_status = 429


class DatabaseUnavailable(AppError):
    """PostgreSQL cannot be reached, or did not answer in time, or the connection broke before its
    answer came back: the request's outcome is unknown to us, so the client retries (with the same
    idempotency key, for a submission)."""

    code = "DATABASE_UNAVAILABLE"
    default_message = "数据库暂不可用，请稍后重试 / The database is unavailable, try again later"
    http_status = 503
    retry_after = 5


class BodyOverLimit(Exception):
    """Raised out of `receive` into the app once a body has grown past its limit, so that nothing
    reads further; app.main.RequestGuard answers it. (Not a ValueError: parsers catch those.)"""

    def __init__(self, error: PayloadTooLarge):
        super().__init__(error.message)
        self.error = error
