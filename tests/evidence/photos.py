"""Photos with EXIF built in the test with Pillow's own Exif API (no binary fixtures)."""

from __future__ import annotations

import io

from PIL import ExifTags, Image


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round((value - degrees - minutes / 60) * 3600, 4)
    return float(degrees), float(minutes), seconds


def exif(longitude: float | None = None, latitude: float | None = None, *, taken: str | None = None,
         offset: str | None = None, accuracy: float | None = None) -> Image.Exif:
    tags = Image.Exif()
    tags[ExifTags.Base.Make] = "FieldCam"
    if longitude is not None and latitude is not None:
        gps = tags.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSLatitudeRef] = "N" if latitude >= 0 else "S"
        gps[ExifTags.GPS.GPSLatitude] = _dms(latitude)
        gps[ExifTags.GPS.GPSLongitudeRef] = "E" if longitude >= 0 else "W"
        gps[ExifTags.GPS.GPSLongitude] = _dms(longitude)
        if accuracy is not None:
            gps[ExifTags.GPS.GPSHPositioningError] = accuracy
    if taken is not None:
        details = tags.get_ifd(ExifTags.IFD.Exif)
        details[ExifTags.Base.DateTimeOriginal] = taken
        if offset is not None:
            details[ExifTags.Base.OffsetTimeOriginal] = offset
    return tags


def photo(longitude: float | None = None, latitude: float | None = None, *, size: tuple[int, int] = (2400, 1600),
          image_format: str = "JPEG", **tags) -> bytes:
    """A photo of `size` whose EXIF has the GPS position and time given (none when left out)."""
    image = Image.new("RGB", size, (150, 120, 80))
    image.paste((40, 90, 40), (0, 0, size[0] // 2, size[1] // 2))  # something to compress
    buffer = io.BytesIO()
    metadata = exif(longitude, latitude, **tags)
    if image_format == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
        image.save(buffer, "HEIF", exif=metadata.tobytes())
    else:
        image.save(buffer, image_format, exif=metadata)
    return buffer.getvalue()
