"""Geodata evidence read as a geometry: a surveyed boundary sent as GeoJSON, KML/KMZ or a zipped
Shapefile becomes one GeoJSON geometry in WGS84, checked by geo's validation like any geometry a
client types in, so it can be given as the referral's geometry.

Maintained readers do the parsing: pyshp for Shapefiles (pure Python, no GDAL), pyproj for the
coordinate system a Shapefile's .prj names (surveys in China are usually in a CGCS2000 Gauss-Krüger
zone), defusedxml for KML (an XML entity bomb is refused, not expanded). Features are combined into
one Multi* geometry of their type; mixed types are refused with the reason."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from typing import Any, BinaryIO

import numpy as np
import shapefile
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely import transform
from shapely.geometry import mapping, shape
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.principal import Principal
from core.errors import InvalidGeometry, ValidationFailed
from evidence import kinds
from evidence.kinds import EvidenceKind
from evidence.service import open_evidence_content
from evidence.storage import EvidenceStore
from geo.geometry import CoordinateSystem, parse_geometry

# Read into memory to parse; a boundary is kilobytes, a national layer is not referral geometry.
MAX_GEODATA_BYTES = 64 * 1024 * 1024
FIELD = "evidence"
_MULTI = {"Point": "MultiPoint", "LineString": "MultiLineString", "Polygon": "MultiPolygon"}
_WGS84_LIKE = {4326, 4490}  # WGS 84 and CGCS2000 geographic: equal at this precision (CONTRACT.md)


def _invalid(message: str) -> InvalidGeometry:
    return InvalidGeometry(message, field=FIELD)


async def evidence_geometry(session: AsyncSession, *, principal: Principal, store: EvidenceStore,
                            evidence_id: str) -> dict:
    """The geometry of a geodata evidence file, as a GeoJSON geometry in WGS84. Reading it is
    reading the evidence: scoped, for the roles that may open contents, and logged as a download."""
    download = await open_evidence_content(session, principal=principal, store=store, evidence_id=evidence_id)
    evidence = download.evidence
    if evidence.kind is not EvidenceKind.GEODATA:
        raise ValidationFailed(f"该证据不是地理数据 / this evidence is {evidence.kind.value}, not GEODATA",
                               field=FIELD)
    if evidence.size_bytes > MAX_GEODATA_BYTES:
        raise ValidationFailed(f"地理数据文件过大 / geodata over {MAX_GEODATA_BYTES} bytes is not read as a geometry",
                               field=FIELD)
    content = await store.collect(download.chunks)
    geometry = parse_geodata(evidence.media_type, content)
    return mapping(parse_geometry(geometry, CoordinateSystem.WGS84, field=FIELD))


def parse_geodata(media_type: str, content: bytes) -> dict:
    """One GeoJSON geometry mapping (WGS84, not yet validated) from a geodata file's bytes."""
    if media_type == kinds.GEOJSON:
        return _combine(_geojson_geometries(content))
    if media_type == kinds.KML:
        return _combine(_kml_geometries(content))
    if media_type == kinds.KMZ:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = [name for name in archive.namelist() if name.lower().endswith(".kml")]
            name = "doc.kml" if "doc.kml" in names else names[0]
            return _combine(_kml_geometries(archive.read(name)))
    if media_type == kinds.ZIPPED_SHAPEFILE:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return _combine(_shapefile_geometries(archive))
    raise _invalid(f"{media_type} 不含几何 / {media_type} holds no geometry")


def _geojson_geometries(content: bytes) -> list[dict]:
    try:
        document = json.loads(content)
    except (ValueError, RecursionError) as error:
        raise _invalid(f"GeoJSON 文件无效 / the GeoJSON file is not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise _invalid("GeoJSON 应为对象 / the GeoJSON file must hold an object")
    if document.get("type") == "FeatureCollection":
        features = document.get("features")
        if not isinstance(features, list):
            raise _invalid("FeatureCollection 缺少 features / the FeatureCollection has no features list")
        return [feature.get("geometry") for feature in features if isinstance(feature, dict)
                and feature.get("geometry") is not None]
    if document.get("type") == "Feature":
        return [document.get("geometry")]
    return [document]


def _kml_coordinates(text: str | None) -> list[tuple[float, float]]:
    points = []
    for triple in (text or "").split():
        values = triple.split(",")
        try:
            points.append((float(values[0]), float(values[1])))
        except (IndexError, ValueError) as error:
            raise _invalid(f"KML 坐标无效 / a KML coordinate is not lon,lat: {triple!r}") from error
    return points


def _kml_geometries(content: bytes) -> list[dict]:
    try:
        root = ElementTree.fromstring(content, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException) as error:
        raise _invalid(f"KML 文件无效 / the KML file cannot be read: {error}") from error
    ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    found: list[dict] = []
    for polygon in root.iter(f"{ns}Polygon"):
        rings = [_kml_coordinates(element.text) for boundary in ("outerBoundaryIs", "innerBoundaryIs")
                 for element in polygon.iterfind(f"{ns}{boundary}/{ns}LinearRing/{ns}coordinates")]
        found.append({"type": "Polygon", "coordinates": rings})
    for line in root.iter(f"{ns}LineString"):
        found.append({"type": "LineString", "coordinates": _kml_coordinates(line.findtext(f"{ns}coordinates"))})
    for point in root.iter(f"{ns}Point"):
        [position, *_] = _kml_coordinates(point.findtext(f"{ns}coordinates")) or [None]
        if position is not None:
            found.append({"type": "Point", "coordinates": position})
    return found


def _member(archive: zipfile.ZipFile, stem: str, suffix: str) -> BinaryIO | None:
    for name in archive.namelist():
        if name.lower() == f"{stem}{suffix}":
            return io.BytesIO(archive.read(name))
    return None


def _shapefile_geometries(archive: zipfile.ZipFile) -> list[dict]:
    shp = [name for name in archive.namelist() if name.lower().endswith(".shp")]
    if len(shp) != 1:
        raise _invalid(f"压缩包应含一个 .shp 文件 / the archive must hold exactly one .shp file (it has {len(shp)})")
    stem = shp[0].lower().removesuffix(".shp")
    try:
        with shapefile.Reader(shp=_member(archive, stem, ".shp"), shx=_member(archive, stem, ".shx"),
                              dbf=_member(archive, stem, ".dbf")) as reader:
            geometries = [record.shape.__geo_interface__ for record in reader.iterShapeRecords()
                          if record.shape.shapeType != shapefile.NULL]
    except (shapefile.ShapefileException, ValueError, struct.error) as error:
        raise _invalid(f"Shapefile 无法读取 / the Shapefile cannot be read: {error}") from error
    prj = _member(archive, stem, ".prj")
    if prj is None:
        raise _invalid("Shapefile 缺少 .prj / the Shapefile has no .prj: its coordinate system is unknown")
    try:
        crs = CRS.from_wkt(prj.read().decode("utf-8", "replace"))
    except CRSError as error:
        raise _invalid(f".prj 无法识别 / the .prj names no known coordinate system: {error}") from error
    if crs.to_epsg() in _WGS84_LIKE:
        return geometries
    to_wgs84 = Transformer.from_crs(crs, CRS.from_epsg(4326), always_xy=True)
    return [mapping(transform(shape(geometry), lambda xy: _transformed(to_wgs84, xy))) for geometry in geometries]


def _transformed(transformer: Transformer, xy: np.ndarray) -> np.ndarray:
    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def _combine(geometries: list[Any]) -> dict:
    """One geometry: the only one, or the Multi* of all, which must then be of one type."""
    if not geometries:
        raise _invalid("文件中没有几何 / the file holds no geometry")
    if len(geometries) == 1:
        return geometries[0]
    parts: list[Any] = []
    types = set()
    for geometry in geometries:
        if not isinstance(geometry, dict) or not isinstance(geometry.get("type"), str):
            raise _invalid("几何对象无效 / a geometry in the file is malformed")
        kind = geometry["type"].removeprefix("Multi")
        types.add(kind)
        coordinates = geometry.get("coordinates")
        parts += coordinates if geometry["type"].startswith("Multi") else [coordinates]
    if len(types) != 1 or next(iter(types)) not in _MULTI:
        raise _invalid(f"文件中几何类型不一 / the file mixes geometry types ({', '.join(sorted(types))})")
    return {"type": _MULTI[types.pop()], "coordinates": parts}
