"""The error vocabulary of the API (CONTRACT.md). Services raise these; the GraphQL layer reports
`code` (and `field`) in `extensions`. Anything else that escapes is a bug: it is logged with the
request id and reaches the client only as a masked `INTERNAL` error."""

from __future__ import annotations


class AppError(Exception):
    code = "INTERNAL"
    default_message = "请求失败 / The request failed"

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


class Forbidden(AppError):
    code = "FORBIDDEN"
    default_message = "无权执行此操作 / You are not allowed to do this"


class NotFound(AppError):
    code = "NOT_FOUND"
    default_message = "对象不存在 / Not found"


class ValidationFailed(AppError):
    code = "VALIDATION"
    default_message = "输入无效 / Invalid input"


class InvalidGeometry(AppError):
    code = "INVALID_GEOMETRY"
    default_message = "几何图形无效 / Invalid geometry"


class InvalidTransition(AppError):
    code = "INVALID_TRANSITION"
    default_message = "当前状态下不能执行此操作 / Not allowed in the current state"


class Conflict(AppError):
    code = "CONFLICT"
    default_message = "与现有数据冲突 / Conflicts with existing data"


class PayloadTooLarge(AppError):
    code = "PAYLOAD_TOO_LARGE"
    default_message = "文件过大 / The upload is too large"


class UnsupportedMediaType(AppError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    default_message = "不支持的文件类型 / Unsupported file type"


class DeadlinePassed(AppError):
    code = "DEADLINE_PASSED"
    default_message = "期限已过 / The deadline has passed"


class StorageUnavailable(AppError):
    code = "STORAGE_UNAVAILABLE"
    default_message = "证据存储暂不可用，请稍后重试 / Evidence storage is unavailable, try again later"


class RateLimited(AppError):
    code = "RATE_LIMITED"
    default_message = "请求过于频繁 / Too many requests"


class DatabaseUnavailable(StorageUnavailable):
    default_message = "数据库暂不可用，请稍后重试 / The database is unavailable, try again later"
