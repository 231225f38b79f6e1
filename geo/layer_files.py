"""Reading reference layers from the files surveyors hand over: zipped Shapefile (with its .prj) and
KML/KMZ, through GDAL (pyogrio, whose wheels bundle it with the Shapefile and LIBKML drivers), so
no format is parsed by hand. GeoJSON keeps its own reader (geo.reference.read_features).

Each feature then goes through the same checks as every geometry (geo.geometry.parse_geometry).
A layer's coordinate system is honoured: a Shapefile's .prj, projected ones (CGCS2000
Gauss-Krüger zones) included, is transformed to WGS84 with pyproj; KML is WGS84 by its
specification. All of a file is read before anything is stored: one bad feature refuses it."""

from __future__ import annotations

import functools
import io
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pyogrio
import pyogrio.errors
import pyogrio.raw
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import MultiPolygon, mapping

from core.errors import UnsupportedMediaType, ValidationFailed
from core.text import clean_text
from geo.geometry import AREAL_TYPES, CoordinateSystem, parse_geometry

# The geographic systems stored as they are (CGCS2000 equals WGS84 at this precision).
_AS_WGS84 = (CRS.from_epsg(4326), CRS.from_epsg(4490))
_READ_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FeatureError,
                pyogrio.errors.FieldError, pyogrio.errors.GeometryError, pyogrio.errors.CRSError)


def sniff_format(content: bytes) -> str:
    """"shapefile", "kmz", "kml" or "geojson" from the bytes themselves (a file's name can lie),
    or UNSUPPORTED_MEDIA_TYPE."""
    if content.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(content)).namelist()
        except zipfile.BadZipFile as error:
            raise ValidationFailed("ZIP 文件已损坏 / the ZIP file is damaged", field="file") from error
        if any(name.lower().endswith(".shp") for name in names):
            return "shapefile"
        if any(name.lower().endswith(".kml") for name in names):
            return "kmz"
        raise UnsupportedMediaType("ZIP 中没有 .shp 或 .kml 文件 / the ZIP holds no .shp (Shapefile) or .kml file",
                                   field="file")
    head = content[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        return "geojson"
    if head.startswith(b"<") and b"<kml" in content[:4096]:
        return "kml"
    raise UnsupportedMediaType("图层文件应为 GeoJSON、ZIP 压缩的 Shapefile、KML 或 KMZ / a layer file is GeoJSON, a zipped "
                               "Shapefile, KML or KMZ", field="file")


def _gdal_path(directory: Path, content: bytes, kind: str) -> str:
    """Where GDAL finds the data: the one .shp inside the ZIP, or the KML/KMZ file itself."""
    path = directory / ("layer.zip" if kind == "shapefile" else f"layer.{kind}")
    path.write_bytes(content)
    if kind != "shapefile":
        return str(path)
    shapefiles = [name for name in zipfile.ZipFile(path).namelist() if name.lower().endswith(".shp")]
    if len(shapefiles) != 1:
        raise ValidationFailed(f"ZIP 中应只有一个 .shp，实有 {len(shapefiles)} 个 / the ZIP must hold one Shapefile, "
                               f"it holds {len(shapefiles)}: {', '.join(shapefiles)}", field="file")
    return f"/vsizip/{path}/{shapefiles[0]}"


def _file_crs(declared: str | None, given: CoordinateSystem | None, kind: str
              ) -> tuple[Transformer | None, CoordinateSystem]:
    """How to bring the file's coordinates to WGS84: a pyproj transformer for a projected or other
    datum's .prj, and the CoordinateSystem parse_geometry converts from (GCJ-02/BD-09 have no .prj)."""
    if kind in ("kml", "kmz"):
        if given not in (None, CoordinateSystem.WGS84, CoordinateSystem.CGCS2000):
            raise ValidationFailed(f"KML 按规范为 WGS84，不能按 {given.value} 读取 / KML is WGS84 by its specification, "
                                   f"it cannot be read as {given.value}", field="crs")
        return None, CoordinateSystem.WGS84
    if declared is None:
        if given is None:
            raise ValidationFailed("Shapefile 缺少 .prj，请指定坐标系 / the Shapefile has no .prj: give its crs",
                                   field="crs")
        return None, given
    try:
        crs = CRS.from_user_input(declared)
    except CRSError as error:
        raise ValidationFailed(f".prj 中的坐标系无法识别 / the .prj names no known coordinate system: {error}",
                               field="crs") from error
    geographic_wgs84 = any(crs.equals(known, ignore_axis_order=True) for known in _AS_WGS84)
    if given is not None and not (geographic_wgs84 and given in (CoordinateSystem.WGS84, CoordinateSystem.CGCS2000)):
        raise ValidationFailed(f"文件声明的坐标系 {crs.name} 与指定的 {given.value} 不符 / the file says {crs.name}, the "
                               f"import says {given.value}", field="crs")
    if geographic_wgs84:
        return None, CoordinateSystem.WGS84
    return Transformer.from_crs(crs, CRS.from_epsg(4326), always_xy=True), CoordinateSystem.WGS84


def read_gdal_features(content: bytes, kind: str, *, crs: CoordinateSystem | None, name_property: str,
                       default_name: str) -> list[tuple[str, MultiPolygon]]:
    """(name, MultiPolygon in WGS84) for every feature of every layer in a Shapefile ZIP or KML/KMZ
    (a KML folder is a layer of its own). Blocking: run it in a thread."""
    with tempfile.TemporaryDirectory(prefix="pil-layer-") as directory:
        path = _gdal_path(Path(directory), content, kind)
        try:
            readings = [pyogrio.raw.read(path, layer=str(layer)) for layer, _ in pyogrio.list_layers(path)]
        except _READ_ERRORS as error:
            raise ValidationFailed(f"无法读取图层文件 / the layer file cannot be read: {error}", field="file") from error
    parsed: list[tuple[str, MultiPolygon]] = []
    for meta, _fids, geometries, fields in readings:
        transformer, system = _file_crs(meta["crs"], crs, kind)
        names = {str(field).lower(): values for field, values in zip(meta["fields"], fields, strict=True)}
        name_values = names.get(name_property.lower())
        for row, encoded in enumerate(geometries):
            where = f"features[{len(parsed)}]"
            if encoded is None:
                raise ValidationFailed(f"{where} 没有几何图形 / {where} has no geometry", field=f"{where}.geometry")
            geometry = shapely.from_wkb(encoded)
            if transformer is not None:
                geometry = shapely.transform(geometry, functools.partial(_transformed, transformer))
            geometry = parse_geometry(mapping(geometry), system, field=f"{where}.geometry", allowed=AREAL_TYPES)
            if geometry.geom_type == "Polygon":
                geometry = MultiPolygon([geometry])
            name = name_values[row] if name_values is not None else None
            name = clean_text(str(name) if name is not None else None, f"{where}.properties.{name_property}", 200,
                              required=False)
            parsed.append((name or f"{default_name} #{len(parsed) + 1}", geometry))
    if not parsed:
        raise ValidationFailed("图层没有要素 / the layer has no features", field="features")
    return parsed


def _transformed(transformer: Transformer, xy: np.ndarray) -> np.ndarray:
    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    return np.column_stack((x, y))
