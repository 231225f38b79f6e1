"""What an uploaded file really is, from its first bytes (libmagic), not from its name or the
client's word. Only types a prosecutor can open and that evidence is usually made of are taken."""

from __future__ import annotations

import magic

from core.errors import UnsupportedMediaType

SNIFF_BYTES = 8192
ALLOWED_MEDIA_TYPES = frozenset({
    "image/jpeg", "image/png", "image/gif", "image/webp", "image/tiff", "image/heic", "image/heif",
    "application/pdf",
    "video/mp4", "video/quicktime",
    "audio/mpeg", "audio/mp4", "audio/x-m4a", "audio/x-wav", "audio/wav", "audio/amr",
    "text/plain", "text/csv",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/msword", "application/vnd.ms-excel",
    "application/vnd.ms-office",
    "application/vnd.google-earth.kml+xml", "application/geo+json",
})


def sniff_media_type(head: bytes, *, field: str = "file") -> str:
    """The media type of a file starting with `head`; UnsupportedMediaType if not an evidence type."""
    if not head:
        raise UnsupportedMediaType("文件为空 / the file is empty", field=field)
    media_type = magic.from_buffer(head, mime=True)
    if media_type not in ALLOWED_MEDIA_TYPES:
        raise UnsupportedMediaType(
            f"不支持的文件类型 {media_type} / unsupported file type {media_type}: send photos, "
            "PDF, video, audio or office documents", field=field, mediaType=media_type)
    return media_type
