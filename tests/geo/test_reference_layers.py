"""Reference layers: imported by the operator command from GeoJSON in the layer's coordinate system,
and drawn in the protected_areas tiles for every signed-in role."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from coordTransform import wgs84_to_gcj02
from shapely.geometry import box, mapping

from agencies.models import Role
from agencies.principal import Principal
from app.manage import main as manage
from core.errors import Forbidden
from geo.models import ReferenceLayerKind
from geo.reference import DEMO_LAYERS, LayerImport, demo_layer_file, load_demo_layers, read_features
from tests.geo.test_tiles import ROLES, decoded, tile_of

FARMLAND = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"name": "一号地块"}, "geometry": mapping(box(113.30, 34.50, 113.32, 34.52))},
    {"type": "Feature", "properties": {"name": "二号地块"},
     "geometry": {"type": "MultiPolygon", "coordinates": [mapping(box(113.33, 34.50, 113.34, 34.51))["coordinates"]]}},
]}


def write(tmp_path, document: dict, name: str = "layer.geojson"):
    path = tmp_path / name
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


async def import_layer(*argv: str) -> int:
    # The command runs its own event loop, as it does from a shell.
    return await asyncio.to_thread(manage, ["import-layer", *argv])


async def protected_areas(client, world, tile, user: str = "admin") -> list[dict]:
    content = await decoded(client, "protected_areas", tile, world.tokens[user])
    return content.get("protected_areas", {}).get("features", [])


@pytest.mark.parametrize("user", ROLES)
async def test_an_imported_layer_is_on_every_signed_in_map(client, world, tmp_path, user):
    path = write(tmp_path, FARMLAND)
    assert await import_layer("--code", "410101-farmland", "--name", "一区永久基本农田", "--kind",
                              "PERMANENT_FARMLAND", "--responsible-agency-kind", "AGRICULTURE_RURAL", str(path)) == 0
    found = await protected_areas(client, world, tile_of(113.31, 34.51, 10), user)
    assert sorted(f["properties"]["name"] for f in found) == ["一号地块", "二号地块"]
    assert all(set(f["properties"]) == {"id", "name", "layer", "kind"} for f in found)
    assert {(f["properties"]["layer"], f["properties"]["kind"]) for f in found} == {
        ("410101-farmland", "PERMANENT_FARMLAND")}
    assert {f["geometry"]["type"] for f in found} == {"Polygon"}


async def test_tilejson_bounds_are_the_reference_features_extent(client, world, tmp_path):
    assert await import_layer("--code", "f", "--name", "农田", "--kind", "PERMANENT_FARMLAND",
                              str(write(tmp_path, FARMLAND))) == 0
    response = await client.get("/tiles/protected_areas.json", headers={"Authorization": f"Bearer {world.tokens['assessor-1']}"})
    assert response.json()["bounds"] == [113.3, 34.5, 113.34, 34.52]


async def test_a_reimport_replaces_the_layers_features(client, world, tmp_path):
    assert await import_layer("--code", "f", "--name", "农田", "--kind", "PERMANENT_FARMLAND",
                              str(write(tmp_path, FARMLAND))) == 0
    second = {"type": "FeatureCollection", "features": FARMLAND["features"][1:]}
    assert await import_layer("--code", "f", "--name", "农田（2027版）", "--kind", "PERMANENT_FARMLAND",
                              str(write(tmp_path, second))) == 0
    found = await protected_areas(client, world, tile_of(113.31, 34.51, 10))
    assert [f["properties"]["name"] for f in found] == ["二号地块"]


def small_square(lon: float, lat: float, half: float = 0.0003) -> list[list[float]]:
    return [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half],
            [lon - half, lat - half]]


async def test_the_layers_coordinate_system_is_honoured(client, world, tmp_path):
    """A parcel surveyed in WGS84 at (113.3, 34.5), given in the GCJ-02 coordinates of a consumer map
    (some 500 m away), is stored where it really is."""
    lon, lat = 113.3, 34.5
    shifted = wgs84_to_gcj02(lon, lat)
    parcel = {"type": "Polygon", "coordinates": [small_square(*shifted)]}
    path = write(tmp_path, {"type": "Feature", "properties": {"name": "矿区"}, "geometry": parcel})
    assert await import_layer("--code", "mining", "--name", "矿业权", "--kind", "MINING_RIGHTS",
                              "--crs", "GCJ02", str(path)) == 0
    assert tile_of(lon, lat, 16) != tile_of(*shifted, 16)
    assert [f["properties"]["name"] for f in await protected_areas(client, world, tile_of(lon, lat, 16))] == ["矿区"]
    assert await protected_areas(client, world, tile_of(*shifted, 16)) == []


async def test_a_crs_the_file_declares_is_read_and_a_contradiction_refused(client, world, tmp_path, caplog):
    document = {**FARMLAND, "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}}}
    path = write(tmp_path, document)
    data = LayerImport("x", "x", ReferenceLayerKind.PERMANENT_FARMLAND)
    assert len(read_features(path.read_text(encoding="utf-8"), data)) == 2
    with caplog.at_level(logging.ERROR):
        assert await import_layer("--code", "f", "--name", "农田", "--kind", "PERMANENT_FARMLAND", "--crs", "GCJ02",
                                  str(path)) == 1
    assert "CGCS2000" in caplog.text and "GCJ02" in caplog.text
    assert await protected_areas(client, world, tile_of(113.31, 34.51, 10)) == []


BOW_TIE = {"type": "Polygon", "coordinates": [[[113.3, 34.5], [113.31, 34.51], [113.31, 34.5], [113.3, 34.51],
                                                [113.3, 34.5]]]}


@pytest.mark.parametrize("features, crs, field", [
    ([FARMLAND["features"][0], {"type": "Feature", "properties": {}, "geometry": BOW_TIE}], None,
     "features[1].geometry"),
    ([{"type": "Feature", "properties": {"name": "井"}, "geometry": {"type": "Point", "coordinates": [113.3, 34.5]}}],
     None, "features[0].geometry"),
    ([{"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [
        small_square(500000.0, 3800000.0, 10)]}}], None, "features[0].geometry"),
    ([], None, "features"),
    (FARMLAND["features"], "EPSG:4549", "crs"),
])
async def test_a_bad_file_is_refused_whole_saying_where(client, world, tmp_path, caplog, features, crs, field):
    path = write(tmp_path, {"type": "FeatureCollection", "features": features})
    with caplog.at_level(logging.ERROR):
        assert await import_layer("--code", "f", "--name", "农田", "--kind", "PERMANENT_FARMLAND",
                                  *(["--crs", crs] if crs else []), str(path)) == 1
    assert f"({field})" in caplog.text
    assert await protected_areas(client, world, tile_of(113.31, 34.51, 10)) == []


async def test_only_an_administrator_imports_layers(resources, world):
    liaison = Principal(role=Role.AGENCY_LIAISON, username="liaison-a")
    async with resources.session_factory() as session:
        with pytest.raises(Forbidden):
            await load_demo_layers(session, principal=liaison)


async def test_the_demo_layers_load_and_lie_over_the_demo_districts(client, world, resources):
    async with resources.session_factory() as session:
        loaded = await load_demo_layers(session, principal=Principal(role=Role.ADMIN, username="demo-loader"))
        await session.commit()
    assert loaded == sum(len(json.loads(demo_layer_file(layer).read_text(encoding="utf-8"))["features"])
                         for layer in DEMO_LAYERS) >= len(DEMO_LAYERS)
    # The demo mining pit (app.demo, 113.385 E 33.765 N) lies under the red line and a mining right.
    found = await protected_areas(client, world, tile_of(113.385, 33.765, 14), "liaison-c")
    assert {f["properties"]["kind"] for f in found} >= {"ECOLOGICAL_RED_LINE", "MINING_RIGHTS"}
    everything = await protected_areas(client, world, tile_of(113.3, 33.75, 7))
    assert {f["properties"]["layer"] for f in everything} == {layer.code for layer in DEMO_LAYERS}
