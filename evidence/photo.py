"""What a photo knows: its EXIF GPS position and capture time, and a preview without metadata.

Read with Pillow's own EXIF reader (`Image.getexif()` and its GPS and Exif sub-IFDs): Pillow is
already the platform's image library (the decompression-bomb check), pillow-heif makes HEIC/HEIF
photos open through the same API, so JPEG, PNG and HEIC are read by one maintained code path and
no second EXIF parser (exifread, piexif) is needed. The original bytes are only ever read.

EXIF positions are WGS84 by the standard (GPSMapDatum); a phone's GPS chip writes WGS84, and the
platform takes them as such. A position of exactly (0, 0) is what a stripped or faked tag looks
like and counts as none. A capture time is taken, in this order, from DateTimeOriginal with its
OffsetTimeOriginal (EXIF 2.31), from the GPS clock (UTC), or from DateTimeOriginal alone, read as
Beijing time (the platform's calendar) — its source says which, because only the first two are
unambiguous.

The preview is decoded at reduced scale where the format allows (JPEG's draft mode), scaled to
at most `max_side` pixels on its longer side, turned upright from the EXIF orientation and saved
as a new JPEG or WebP with no metadata at all (no EXIF, XMP, ICC profile or comment): galleries
show it, and it gives away no position. It is derived and can always be made again."""

from __future__ import annotations

import enum
import io
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pillow_heif
from PIL import ExifTags, Image, ImageOps

from core.clock import PLATFORM_TIMEZONE

pillow_heif.register_heif_opener()

GPS_IFD = ExifTags.IFD.GPSInfo
EXIF_IFD = ExifTags.IFD.Exif
TAG_DATETIME_ORIGINAL = ExifTags.Base.DateTimeOriginal
TAG_OFFSET_TIME_ORIGINAL = ExifTags.Base.OffsetTimeOriginal
TAG_DATETIME = ExifTags.Base.DateTime
G = ExifTags.GPS


class CapturedAtSource(str, enum.Enum):
    EXIF = "EXIF"  # DateTimeOriginal with its UTC offset
    EXIF_GPS = "EXIF_GPS"  # the GPS clock's date and time (UTC)
    EXIF_LOCAL = "EXIF_LOCAL"  # DateTimeOriginal without an offset, read as Beijing time
    NONE = "NONE"


class PreviewFormat(str, enum.Enum):
    JPEG = "JPEG"
    WEBP = "WEBP"


PREVIEW_MEDIA_TYPES = {PreviewFormat.JPEG: "image/jpeg", PreviewFormat.WEBP: "image/webp"}


@dataclass(frozen=True)
class PhotoFacts:
    longitude: float | None = None
    latitude: float | None = None
    accuracy_meters: float | None = None  # GPSHPositioningError, when the camera wrote one
    captured_at: datetime | None = None
    captured_at_source: CapturedAtSource = CapturedAtSource.NONE
    preview: bytes | None = None
    preview_size: tuple[int, int] | None = None

    @property
    def has_position(self) -> bool:
        return self.longitude is not None and self.latitude is not None


class PhotoUnreadable(Exception):
    """The bytes cannot be decoded as the image they were sniffed as, or pass a limit."""


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def _degrees(parts, reference) -> float | None:
    """Degrees, minutes and seconds as EXIF rationals, signed by the N/S or E/W reference."""
    if not isinstance(parts, tuple | list) or len(parts) != 3:
        return None
    degrees, minutes, seconds = (_number(part) for part in parts)
    if degrees is None or minutes is None or seconds is None:
        return None
    value = degrees + minutes / 60 + seconds / 3600
    if isinstance(reference, bytes):
        reference = reference.decode("ascii", "replace")
    reference = (reference or "").strip().upper()
    if reference in ("S", "W"):
        value = -value
    elif reference not in ("N", "E"):
        return None
    return value


def gps_position(gps: dict) -> tuple[float, float, float | None] | None:
    """(longitude, latitude, accuracy in metres or None) from a GPS IFD, or None when it holds no
    usable position."""
    latitude = _degrees(gps.get(G.GPSLatitude), gps.get(G.GPSLatitudeRef))
    longitude = _degrees(gps.get(G.GPSLongitude), gps.get(G.GPSLongitudeRef))
    if latitude is None or longitude is None:
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180) or (latitude == 0 and longitude == 0):
        return None
    accuracy = _number(gps.get(G.GPSHPositioningError))
    return longitude, latitude, accuracy if accuracy is not None and accuracy >= 0 else None


def _exif_datetime(text) -> datetime | None:
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    if not isinstance(text, str):
        return None
    try:
        return datetime.strptime(text.strip().rstrip("\x00")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


def _offset(text) -> timezone | None:
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    if not isinstance(text, str):
        return None
    text = text.strip().rstrip("\x00")
    if len(text) != 6 or text[0] not in "+-" or text[3] != ":" or not (text[1:3] + text[4:]).isdigit():
        return None
    minutes = int(text[1:3]) * 60 + int(text[4:])
    if minutes > 14 * 60:
        return None
    return timezone(timedelta(minutes=minutes if text[0] == "+" else -minutes))


def _gps_datetime(gps: dict) -> datetime | None:
    day = gps.get(G.GPSDateStamp)
    clock = gps.get(G.GPSTimeStamp)
    if isinstance(day, bytes):
        day = day.decode("ascii", "replace")
    if not isinstance(day, str) or not isinstance(clock, tuple | list) or len(clock) != 3:
        return None
    hours, minutes, seconds = (_number(part) for part in clock)
    if hours is None or minutes is None or seconds is None:
        return None
    try:
        date_part = datetime.strptime(day.strip().rstrip("\x00"), "%Y:%m:%d")
        return (date_part.replace(tzinfo=timezone.utc)
                + timedelta(hours=hours, minutes=minutes, seconds=math.floor(seconds)))
    except (ValueError, OverflowError):
        return None


def capture_time(exif: Image.Exif, gps: dict) -> tuple[datetime | None, CapturedAtSource]:
    details = exif.get_ifd(EXIF_IFD)
    local = _exif_datetime(details.get(TAG_DATETIME_ORIGINAL)) or _exif_datetime(exif.get(TAG_DATETIME))
    offset = _offset(details.get(TAG_OFFSET_TIME_ORIGINAL))
    if local is not None and offset is not None:
        return local.replace(tzinfo=offset), CapturedAtSource.EXIF
    if (from_gps := _gps_datetime(gps)) is not None:
        return from_gps, CapturedAtSource.EXIF_GPS
    if local is not None:
        return local.replace(tzinfo=PLATFORM_TIMEZONE), CapturedAtSource.EXIF_LOCAL
    return None, CapturedAtSource.NONE


def read_photo(content: bytes, *, max_pixels: int, max_side: int,
               preview_format: PreviewFormat = PreviewFormat.JPEG) -> PhotoFacts:
    """The photo's position and capture time, and its preview (blocking: run it off the event
    loop). `max_pixels` bounds what is decoded, whatever Pillow's global default is."""
    try:
        with Image.open(io.BytesIO(content), formats=["JPEG", "PNG", "HEIF"]) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise PhotoUnreadable(f"the image has {width}×{height} pixels, more than {max_pixels}")
            exif = image.getexif()
            gps = exif.get_ifd(GPS_IFD)
            position = gps_position(gps)
            captured_at, captured_source = capture_time(exif, gps)
            preview, preview_size = _preview(image, max_side, preview_format)
    except PhotoUnreadable:
        raise
    except Image.DecompressionBombError as error:
        raise PhotoUnreadable(str(error)) from error
    except (OSError, SyntaxError, ValueError, Image.UnidentifiedImageError) as error:
        raise PhotoUnreadable(f"the image cannot be decoded: {error}") from error
    longitude, latitude, accuracy = position if position else (None, None, None)
    return PhotoFacts(longitude=longitude, latitude=latitude, accuracy_meters=accuracy, captured_at=captured_at,
                      captured_at_source=captured_source, preview=preview, preview_size=preview_size)


def _preview(image: Image.Image, max_side: int, preview_format: PreviewFormat) -> tuple[bytes, tuple[int, int]]:
    image.draft("RGB", (max_side, max_side))  # JPEG decodes at 1/2, 1/4 or 1/8 scale: less memory and time
    upright = ImageOps.exif_transpose(image)
    upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    if upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    out = io.BytesIO()
    # A fresh image carries nothing of the original's info dict; saving it with no exif, icc_profile
    # or xmp argument writes no metadata segment at all.
    clean = Image.new(upright.mode, upright.size)
    clean.paste(upright)
    clean.save(out, format=preview_format.value, quality=82)
    return out.getvalue(), clean.size
