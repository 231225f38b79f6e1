"""What kind of evidence a file is, which file types each kind takes, and the checks that refuse
decompression bombs — all decided from the bytes, never from the file's name or the client's word.

The type comes from libmagic (evidence.sniff) and is then made precise where libmagic stops
short: a ZIP archive is told apart by its entries (KMZ, a zipped Shapefile, an Office file), a
JSON or XML text by what it starts with (GeoJSON, KML). The structural checks read only headers:
an image's dimensions with Pillow (pillow-heif for HEIC) without decoding a pixel, an archive's
central directory with the standard library's zipfile without inflating an entry. They run on a
random-access view of the stored object (ranged reads), so a file is never held whole.

A bomb is refused as UNSUPPORTED_MEDIA_TYPE with a `reason` extension (IMAGE_TOO_MANY_PIXELS,
ARCHIVE_TOO_MANY_ENTRIES, ARCHIVE_RATIO, ARCHIVE_TOO_LARGE, ARCHIVE_NESTED, UNREADABLE): the
bytes are of a type the platform does not take as evidence, which is what that code tells a client,
and the reason says which limit it passed."""

from __future__ import annotations

import enum
import re
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

import pillow_heif
from PIL import Image, UnidentifiedImageError

from core.errors import UnsupportedMediaType

pillow_heif.register_heif_opener()


class EvidenceKind(str, enum.Enum):
    PHOTO = "PHOTO"
    VIDEO = "VIDEO"
    AUDIO = "AUDIO"  # recorded interviews and site sound; the platform took audio before kinds existed
    DOCUMENT = "DOCUMENT"
    SPREADSHEET = "SPREADSHEET"
    GEODATA = "GEODATA"


JPEG, PNG, HEIC, HEIF = "image/jpeg", "image/png", "image/heic", "image/heif"
MP4, MOV = "video/mp4", "video/quicktime"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
DOC, XLS, OLE = "application/msword", "application/vnd.ms-excel", "application/vnd.ms-office"
CSV = "text/csv"
GEOJSON, KML, KMZ = "application/geo+json", "application/vnd.google-earth.kml+xml", "application/vnd.google-earth.kmz"
# No registered type exists for a zipped Shapefile; this is the platform's name for one.
ZIPPED_SHAPEFILE = "application/x-shapefile+zip"
ZIP = "application/zip"

ALLOWED: dict[EvidenceKind, frozenset[str]] = {
    EvidenceKind.PHOTO: frozenset({JPEG, PNG, HEIC, HEIF}),
    EvidenceKind.VIDEO: frozenset({MP4, MOV}),
    EvidenceKind.AUDIO: frozenset({"audio/mpeg", "audio/mp4", "audio/x-m4a", "audio/x-wav", "audio/wav",
                                   "audio/amr"}),
    # libmagic names a legacy Word or Excel file application/vnd.ms-office when its first bytes
    # do not say which (an OLE container); both kinds that take those files take it.
    EvidenceKind.DOCUMENT: frozenset({PDF, DOCX, XLSX, PPTX, DOC, XLS, OLE}),
    EvidenceKind.SPREADSHEET: frozenset({XLSX, XLS, OLE, CSV}),
    EvidenceKind.GEODATA: frozenset({GEOJSON, KML, KMZ, ZIPPED_SHAPEFILE}),
}
# The kind a file gets when the client names none: the first kind whose list has its type.
DEFAULT_KIND_ORDER = (EvidenceKind.PHOTO, EvidenceKind.VIDEO, EvidenceKind.AUDIO, EvidenceKind.DOCUMENT,
                      EvidenceKind.SPREADSHEET, EvidenceKind.GEODATA)
# Types that are made precise from their structure after the bytes are stored.
ARCHIVE_TYPES = frozenset({ZIP, DOCX, XLSX, PPTX})
IMAGE_TYPES = frozenset({JPEG, PNG, HEIC, HEIF})
NESTED_ARCHIVE_SUFFIXES = (".zip", ".kmz", ".gz", ".tgz", ".tar", ".7z", ".rar", ".bz2", ".xz")
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf")
# libheif reads a whole HEIF file to parse it (pillow-heif hands it all the bytes): a HEIC photo is
# a few MiB, so a larger one is refused rather than read into memory.
MAX_HEIF_BYTES = 64 * 1024 * 1024

_GEOJSON_START = re.compile(rb'^\s*\{.{0,4096}?"type"\s*:\s*"(FeatureCollection|Feature|Point|MultiPoint|LineString|'
                            rb'MultiLineString|Polygon|MultiPolygon|GeometryCollection)"', re.DOTALL)


@dataclass(frozen=True)
class BombLimits:
    max_pixels: int
    max_archive_entries: int
    max_archive_ratio: int
    max_archive_uncompressed_bytes: int


def refine_text_type(media_type: str, head: bytes) -> str:
    """GeoJSON and KML are JSON and XML to libmagic; their first bytes say which they are."""
    if media_type in ("application/json", "text/plain") and _GEOJSON_START.match(head):
        return GEOJSON
    if media_type in ("text/xml", "application/xml", "text/plain") and b"<kml" in head[:4096]:
        return KML
    return media_type


def could_be(media_type: str, kind: EvidenceKind | None) -> bool:
    """Whether a file whose first bytes sniff as `media_type` may still turn out to be of `kind`
    once its structure is read (a ZIP may be a KMZ or an Office file)."""
    if media_type in ARCHIVE_TYPES:
        return kind in (None, EvidenceKind.DOCUMENT, EvidenceKind.SPREADSHEET, EvidenceKind.GEODATA)
    return accepted_kind(media_type, kind) is not None


def accepted_kind(media_type: str, kind: EvidenceKind | None) -> EvidenceKind | None:
    if kind is not None:
        return kind if media_type in ALLOWED[kind] else None
    return next((candidate for candidate in DEFAULT_KIND_ORDER if media_type in ALLOWED[candidate]), None)


def refuse_type(media_type: str, kind: EvidenceKind | None, field: str) -> UnsupportedMediaType:
    if kind is None:
        return UnsupportedMediaType(
            f"不支持的文件类型 {media_type} / unsupported file type {media_type}: send photos, video, audio, "
            "PDF or office documents, spreadsheets or geodata", field=field, mediaType=media_type)
    allowed = ", ".join(sorted(ALLOWED[kind]))
    return UnsupportedMediaType(
        f"{kind.value} 类证据不接受 {media_type} 文件 / a {kind.value} file cannot be {media_type} "
        f"(accepted: {allowed})", field=field, mediaType=media_type, kind=kind.value)


def check_kind(media_type: str, kind: EvidenceKind | None, field: str) -> EvidenceKind:
    """The kind the file counts as: the declared one if its list has the type, else refused; with
    no declared kind, the first kind that takes the type."""
    accepted = accepted_kind(media_type, kind)
    if accepted is None:
        raise refuse_type(media_type, kind, field)
    return accepted


def _bomb(reason: str, message: str, field: str, media_type: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(message, field=field, reason=reason, mediaType=media_type)


def inspect_structure(media_type: str, file: BinaryIO, limits: BombLimits, field: str) -> str:
    """Read an image's or an archive's headers from a seekable file (blocking: run it in the
    store's thread pool); refuse a bomb; return the precise type."""
    if media_type in IMAGE_TYPES:
        _check_image(media_type, file, limits, field)
        return media_type
    if media_type in ARCHIVE_TYPES:
        return _check_archive(media_type, file, limits, field)
    return media_type


def _check_image(media_type: str, file: BinaryIO, limits: BombLimits, field: str) -> None:
    if media_type in (HEIC, HEIF) and file.seek(0, 2) > MAX_HEIF_BYTES:
        raise _bomb("IMAGE_FILE_TOO_LARGE", f"HEIF 图像文件过大 / a HEIF photo larger than {MAX_HEIF_BYTES} bytes is "
                    "not taken", field, media_type)
    file.seek(0)
    try:
        # Opening reads the header only; no pixel is decoded (load() is never called).
        with Image.open(file, formats=["JPEG", "PNG", "HEIF"]) as image:
            width, height = image.size
    except Image.DecompressionBombError:  # Pillow's own guard, above twice its default limit
        width = height = limits.max_pixels + 1
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise _bomb("UNREADABLE", f"图像文件头无法读取 / the image header cannot be read ({media_type}): {error}",
                    field, media_type) from error
    if width * height > limits.max_pixels:
        raise _bomb("IMAGE_TOO_MANY_PIXELS",
                    f"图像像素过多 {width}×{height} / the image has too many pixels ({width}×{height}, at most "
                    f"{limits.max_pixels})", field, media_type)


def _check_archive(media_type: str, file: BinaryIO, limits: BombLimits, field: str) -> str:
    try:
        with zipfile.ZipFile(file) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise _bomb("UNREADABLE", f"压缩文件目录无法读取 / the archive's directory cannot be read: {error}",
                    field, media_type) from error
    if len(entries) > limits.max_archive_entries:
        raise _bomb("ARCHIVE_TOO_MANY_ENTRIES", f"压缩文件条目过多 ({len(entries)}) / the archive has too many "
                    f"entries ({len(entries)}, at most {limits.max_archive_entries})", field, media_type)
    # The sizes are those the central directory declares; zipfile never inflates an entry past
    # its declared size, so whoever opens an entry later is bounded by what is checked here.
    total = sum(entry.file_size for entry in entries)
    if total > limits.max_archive_uncompressed_bytes:
        raise _bomb("ARCHIVE_TOO_LARGE", f"压缩文件解压后过大 / the archive inflates to {total} bytes (at most "
                    f"{limits.max_archive_uncompressed_bytes})", field, media_type)
    for entry in entries:
        if entry.file_size > 1024 * 1024 and entry.file_size > limits.max_archive_ratio * max(entry.compress_size, 1):
            raise _bomb("ARCHIVE_RATIO", f"压缩比异常 / {entry.filename!r} inflates more than "
                        f"{limits.max_archive_ratio} times", field, media_type)
        if entry.filename.lower().endswith(NESTED_ARCHIVE_SUFFIXES):
            raise _bomb("ARCHIVE_NESTED", f"压缩文件中含有压缩文件 / the archive holds another archive "
                        f"({entry.filename!r})", field, media_type)
    names = [entry.filename.lower() for entry in entries if not entry.is_dir()]
    if media_type != ZIP:  # libmagic recognised the Office file by its first entries
        return media_type
    if "[content_types].xml" in names:
        for prefix, office_type in (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX)):
            if any(name.startswith(prefix) for name in names):
                return office_type
    if any(name.endswith(".kml") for name in names):
        return KMZ
    if all(any(name.endswith(suffix) for name in names) for suffix in SHAPEFILE_PARTS):
        return ZIPPED_SHAPEFILE
    return ZIP
