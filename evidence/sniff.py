"""What an uploaded file really is, from its first bytes (libmagic), not from its name or the
client's word. Only types a prosecutor can open and that evidence is usually made of are taken."""

from __future__ import annotations

import magic

from core.errors import UnsupportedMediaType
from evidence.kinds import refine_text_type

SNIFF_BYTES = 8192


def sniff_media_type(head: bytes, *, field: str = "file") -> str:
    """The media type of a file starting with `head`, as far as its first bytes tell (a ZIP's
    entries make it precise later: evidence.kinds). Which types each kind takes is
    evidence.kinds.ALLOWED."""
    if not head:
        raise UnsupportedMediaType("文件为空 / the file is empty", field=field)
    return refine_text_type(magic.from_buffer(head, mime=True), head)
