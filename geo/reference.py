"""Importing reference layers from GeoJSON, zipped Shapefile or KML/KMZ (geo.layer_files), through
the same parsing, checks and coordinate conversion as every other geometry (geo.geometry), by the
operator command and the admin mutation alike. An import replaces the layer's features and
recomputes every referral's overlaps with it (geo.overlaps)."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from pathlib import Path

from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.models import AgencyKind, Role
from agencies.principal import Principal
from core.db import utcnow
from core.errors import ValidationFailed
from core.permissions import require
from core.text import clean_text
from geo.geometry import AREAL_TYPES, CoordinateSystem, parse_geometry
from geo.layer_files import read_gdal_features, sniff_format
from geo.models import ReferenceFeature, ReferenceLayer, ReferenceLayerKind
from geo.overlaps import compute_layer_overlaps

DEMO_LAYER_DIRECTORY = Path(__file__).resolve().parent / "demo_layers"
LAYER_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,59}")
# The names a layer's coordinate system goes by: ours, and the EPSG codes of the geographic
# systems they are (GCJ-02 and BD-09 have none).
CRS_NAMES = {
    "WGS84": CoordinateSystem.WGS84, "EPSG:4326": CoordinateSystem.WGS84, "CRS84": CoordinateSystem.WGS84,
    "CGCS2000": CoordinateSystem.CGCS2000, "EPSG:4490": CoordinateSystem.CGCS2000,
    "GCJ02": CoordinateSystem.GCJ02, "BD09": CoordinateSystem.BD09,
}


def coordinate_system(name: str, *, field: str = "crs") -> CoordinateSystem:
    """`WGS84`, `EPSG:4490`, `urn:ogc:def:crs:EPSG::4490`, … as a CoordinateSystem, or VALIDATION."""
    key = name.strip().upper().replace("-", "")
    urn = re.fullmatch(r"URN:OGC:DEF:CRS:(EPSG|OGC):[0-9.]*:(\w+)", key)
    if urn:
        key = "CRS84" if urn.group(2) == "CRS84" else f"EPSG:{urn.group(2)}"
    if key not in CRS_NAMES:
        raise ValidationFailed(
            f"不支持的坐标系 {name!r} / unsupported coordinate system {name!r}: use one of "
            f"{', '.join(CRS_NAMES)} (projected systems such as CGCS2000 Gauss-Krüger zones are not "
            "read yet)", field=field)
    return CRS_NAMES[key]


@dataclass(frozen=True)
class LayerImport:
    code: str
    name: str
    kind: ReferenceLayerKind
    responsible_agency_kind: AgencyKind | None = None
    # None: what the file itself says (a legacy GeoJSON `crs` member), else WGS84 as RFC 7946 has it.
    crs: CoordinateSystem | None = None
    name_property: str = "name"


def _declared_crs(document: dict) -> CoordinateSystem | None:
    declared = document.get("crs")
    if declared is None:
        return None
    name = declared.get("properties", {}).get("name") if isinstance(declared, dict) else None
    if not isinstance(name, str):
        raise ValidationFailed("GeoJSON 的 crs 成员无法识别 / the GeoJSON 'crs' member is not a named CRS",
                               field="crs")
    return coordinate_system(name)


def read_features(document: object, data: LayerImport) -> list[tuple[str, MultiPolygon]]:
    """(name, MultiPolygon in WGS84) for each feature of a GeoJSON FeatureCollection (or a single
    Feature or bare geometry), all checked before anything is stored."""
    if isinstance(document, (str, bytes)):
        try:
            document = json.loads(document)
        except ValueError as error:
            raise ValidationFailed(f"不是有效的 JSON / not valid JSON: {error}", field="file") from error
    if not isinstance(document, dict):
        raise ValidationFailed("应为 GeoJSON 对象 / expected a GeoJSON object", field="file")
    declared = _declared_crs(document)
    if data.crs is not None and declared is not None and declared is not data.crs:
        raise ValidationFailed(f"文件声明的坐标系 {declared.value} 与指定的 {data.crs.value} 不符 / the file "
                               f"says {declared.value}, the import says {data.crs.value}", field="crs")
    crs = data.crs or declared or CoordinateSystem.WGS84
    if document.get("type") == "FeatureCollection":
        features = document.get("features")
        if not isinstance(features, list):
            raise ValidationFailed("FeatureCollection 缺少 features 数组 / a FeatureCollection needs a "
                                   "'features' array", field="features")
    elif document.get("type") == "Feature":
        features = [document]
    else:
        features = [{"type": "Feature", "geometry": document, "properties": {}}]
    if not features:
        raise ValidationFailed("图层没有要素 / the layer has no features", field="features")
    parsed = []
    for index, feature in enumerate(features):
        where = f"features[{index}]"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise ValidationFailed(f"{where} 不是 Feature / {where} is not a Feature", field=where)
        geometry = parse_geometry(feature.get("geometry"), crs, field=f"{where}.geometry", allowed=AREAL_TYPES)
        if geometry.geom_type == "Polygon":
            geometry = MultiPolygon([geometry])
        properties = feature.get("properties") or {}
        name = properties.get(data.name_property) if isinstance(properties, dict) else None
        name = clean_text(str(name) if name is not None else None, f"{where}.properties.{data.name_property}",
                          200, required=False)
        parsed.append((name or f"{data.name} #{index + 1}", geometry))
    return parsed


@dataclass(frozen=True)
class ImportedLayer:
    layer: ReferenceLayer
    feature_count: int
    overlapping_referral_count: int


async def read_layer(document: object, data: LayerImport) -> list[tuple[str, MultiPolygon]]:
    """The features of a layer file in any of the formats taken (GeoJSON also as parsed JSON)."""
    if isinstance(document, str):
        document = document.encode("utf-8")
    if not isinstance(document, bytes):
        return read_features(document, data)
    kind = sniff_format(document)
    if kind == "geojson":
        return read_features(document, data)
    return await asyncio.to_thread(read_gdal_features, document, kind, crs=data.crs,
                                   name_property=data.name_property, default_name=data.name)


def check_may_import(principal: Principal) -> None:
    require(principal, Role.ADMIN, users_only=True)


async def list_layers(session: AsyncSession, *, principal: Principal) -> list[ReferenceLayer]:
    """Every layer: published designations, readable by every signed-in principal."""
    return list(await session.scalars(select(ReferenceLayer).order_by(ReferenceLayer.code)))


async def import_layer(session: AsyncSession, *, principal: Principal, data: LayerImport,
                       document: object) -> ImportedLayer:
    """Create the layer, or replace an existing layer's features and description by its code (a
    new edition of the same map), and recompute the referrals' overlaps with it. All of it or
    nothing: one bad feature refuses the file."""
    check_may_import(principal)
    if not LAYER_CODE.fullmatch(data.code or ""):
        raise ValidationFailed("图层代码只能含字母、数字和 _ . -（最多60个）/ a layer code is letters, digits "
                               "and _ . - (at most 60)", field="code")
    name = clean_text(data.name, "name", 200, required=True)
    features = await read_layer(document, data)
    layer = await session.scalar(select(ReferenceLayer).where(ReferenceLayer.code == data.code).with_for_update())
    if layer is None:
        layer = ReferenceLayer(code=data.code)
        session.add(layer)
    layer.name, layer.kind, layer.responsible_agency_kind = name, data.kind, data.responsible_agency_kind
    layer.updated_at = utcnow()
    await session.flush()
    await session.execute(delete(ReferenceFeature).where(ReferenceFeature.layer_id == layer.id))
    session.add_all(ReferenceFeature(layer_id=layer.id, name=feature_name, geometry=from_shape(geometry, srid=4326))
                    for feature_name, geometry in features)
    await session.flush()
    overlapping = await compute_layer_overlaps(session, layer_id=layer.id)
    return ImportedLayer(layer=layer, feature_count=len(features), overlapping_referral_count=overlapping)


# Illustrative layers for the demo city's districts (app.demo): drawn by hand, not surveyed.
DEMO_LAYERS = (
    LayerImport("demo-410400-red-line", "平顶山市生态保护红线（示意）", ReferenceLayerKind.ECOLOGICAL_RED_LINE,
                AgencyKind.NATURAL_RESOURCES),
    LayerImport("demo-410400-farmland", "平顶山市永久基本农田（示意）", ReferenceLayerKind.PERMANENT_FARMLAND,
                AgencyKind.AGRICULTURE_RURAL),
    LayerImport("demo-410400-water-source", "平顶山市饮用水水源保护区（示意）",
                ReferenceLayerKind.DRINKING_WATER_SOURCE, AgencyKind.WATER_RESOURCES),
    LayerImport("demo-410400-nature-reserve", "平顶山市自然保护区（示意）", ReferenceLayerKind.NATURE_RESERVE,
                AgencyKind.FORESTRY),
    LayerImport("demo-410400-mining-rights", "平顶山市矿业权（示意）", ReferenceLayerKind.MINING_RIGHTS,
                AgencyKind.NATURAL_RESOURCES),
)


def demo_layer_file(layer: LayerImport) -> Path:
    return DEMO_LAYER_DIRECTORY / f"{layer.code}.geojson"


async def load_demo_layers(session: AsyncSession, *, principal: Principal) -> int:
    """Import (or re-import) the demo layers; the number of features loaded."""
    loaded = 0
    for layer in DEMO_LAYERS:
        imported = await import_layer(session, principal=principal, data=layer,
                                      document=demo_layer_file(layer).read_bytes())
        loaded += imported.feature_count
    return loaded
