"""Small real files of each evidence type, and decompression bombs, built in memory."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib

from PIL import Image


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (120, 96, 70)).save(buffer, "JPEG")
    return buffer.getvalue()


def png(width: int = 16, height: int = 16) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (60, 90, 110)).save(buffer, "PNG")
    return buffer.getvalue()


def heic() -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (70, 140, 60)).save(buffer, "HEIF")
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header declares `width`×`height` pixels (a bomb: tiny file, huge image)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    ihdr = struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    data = zlib.compress(b"\x00" * 1024)
    idat = struct.pack(">I", len(data)) + b"IDAT" + data + struct.pack(">I", zlib.crc32(b"IDAT" + data))
    return b"\x89PNG\r\n\x1a\n" + ihdr + idat + b"\x00\x00\x00\x00IEND\xaeB`\x82"


def mp4(size: int = 4096) -> bytes:
    ftyp = b"ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
    box = struct.pack(">I", len(ftyp) + 4) + ftyp
    return box + bytes(range(256)) * (max(size - len(box), 0) // 256 + 1)


PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def zipped(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in entries.items():
            # A fixed time: the same entries make the same bytes (tests compare their hashes).
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), content, compression)
    return buffer.getvalue()


def docx() -> bytes:
    return zipped({"[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                                          b'package/2006/content-types"/>',
                   "_rels/.rels": b"<Relationships/>", "word/document.xml": b"<w:document/>"})


def xlsx() -> bytes:
    return zipped({"[Content_Types].xml": b'<?xml version="1.0"?><Types/>', "_rels/.rels": b"<Relationships/>",
                   "xl/workbook.xml": b"<workbook/>"})


KML = (b'<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><Point>'
       b"<coordinates>113.2,34.5</coordinates></Point></Placemark></kml>\n")
GEOJSON = json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": {
    "type": "Polygon", "coordinates": [[[113.2, 34.5], [113.21, 34.5], [113.21, 34.51], [113.2, 34.5]]]}}]}).encode()


def kmz() -> bytes:
    return zipped({"doc.kml": KML})


def shapefile_zip() -> bytes:
    return zipped({"boundary.shp": b"\x00\x00\x27\x0a" + bytes(96), "boundary.shx": b"\x00\x00\x27\x0a" + bytes(96),
                   "boundary.dbf": b"\x03" + bytes(64), "boundary.prj": b'GEOGCS["GCS_WGS_1984"]'})


def zip_bomb() -> bytes:
    """A KMZ whose KML inflates 1000-fold (20 MiB of zeros in ~20 KiB)."""
    return zipped({"doc.kml": KML + bytes(20 * 1024 * 1024)})


def nested_zip() -> bytes:
    return zipped({"doc.kml": KML, "more.zip": zipped({"inner.kml": KML})})


def surveyed_shapefile_zip(lon_lat_ring: list[tuple[float, float]], epsg: int = 4547) -> bytes:
    """A zipped Shapefile of one polygon in a projected CGCS2000 zone (EPSG:4547, 3° Gauss-Krüger,
    central meridian 114°E), as surveyors deliver boundaries, with its .prj."""
    import shapefile
    from pyproj import CRS, Transformer

    to_projected = Transformer.from_crs(4326, epsg, always_xy=True)
    ring = [to_projected.transform(lon, lat) for lon, lat in lon_lat_ring]
    shp, shx, dbf = io.BytesIO(), io.BytesIO(), io.BytesIO()
    with shapefile.Writer(shp=shp, shx=shx, dbf=dbf, shapeType=shapefile.POLYGON) as writer:
        writer.field("NAME", "C", 40)
        writer.poly([ring])
        writer.record("采矿边界")
    return zipped({"boundary.shp": shp.getvalue(), "boundary.shx": shx.getvalue(), "boundary.dbf": dbf.getvalue(),
                   "boundary.prj": CRS.from_epsg(epsg).to_wkt("WKT1_ESRI").encode()})
