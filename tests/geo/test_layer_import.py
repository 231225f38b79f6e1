"""importReferenceLayer: GeoJSON, zipped Shapefile (its .prj honoured, projected ones included) and
KML/KMZ, for administrators only; a bad file is refused with a clear code and changes nothing."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import box, mapping

from app.manage import main as manage
from tests.conftest import error_codes, graphql, graphql_upload
from tests.geo.test_reference_layers import protected_areas
from tests.geo.test_tiles import PNG, tile_of

IMPORT = """mutation($code: String!, $name: String!, $kind: ReferenceLayerKind!, $file: Upload!,
                     $agencyKind: AgencyKind, $crs: CoordinateSystem) {
  importReferenceLayer(code: $code, name: $name, kind: $kind, file: $file, responsibleAgencyKind: $agencyKind,
                       crs: $crs) {
    layer { code name kind responsibleAgencyKind } featureCount overlappingReferralCount } }"""
LAYERS = "{ referenceLayers { code name kind responsibleAgencyKind } }"
PARCEL = box(113.30, 34.50, 113.32, 34.52)  # in district 1


async def import_file(client, token: str, filename: str, content: bytes, *, code: str = "farmland",
                      kind: str = "PERMANENT_FARMLAND", agency_kind: str | None = "AGRICULTURE_RURAL",
                      crs: str | None = None, name: str = "永久基本农田") -> dict:
    variables = {"code": code, "name": name, "kind": kind, "file": None, "agencyKind": agency_kind, "crs": crs}
    response = await graphql_upload(client, IMPORT, variables,
                                    {"variables.file": (filename, content, "application/octet-stream")}, token)
    assert response.status_code == 200, response.text
    return response.json()


def geojson(*parcels: tuple[str, object]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": name}, "geometry": mapping(shape)} for name, shape in parcels]},
        ensure_ascii=False).encode()


def shapefile_zip(tmp_path: Path, parcels: list[tuple[str, object]], *, epsg: int | None, folder: str = "data"
                  ) -> bytes:
    """A zipped Shapefile of `parcels` (given in WGS84) written by GDAL in EPSG:`epsg` (no .prj if None)."""
    geometries = [shape for _, shape in parcels]
    if epsg not in (None, 4326):
        transformer = Transformer.from_crs(4326, epsg, always_xy=True)
        geometries = [shapely.transform(shape, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
                      for shape in geometries]
    path = tmp_path / "parcels.shp"
    pyogrio.raw.write(str(path), np.array([shapely.to_wkb(shape) for shape in geometries], dtype=object),
                      [np.array([name for name, _ in parcels], dtype=object)], fields=["name"],
                      geometry_type="Polygon", crs=f"EPSG:{epsg}" if epsg else None, driver="ESRI Shapefile",
                      encoding="UTF-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in sorted(tmp_path.glob("parcels.*")):
            archive.write(part, f"{folder}/{part.name}")
    return buffer.getvalue()


def kml(*parcels: tuple[str, object]) -> bytes:
    placemarks = "".join(
        f"<Placemark><name>{name}</name><Polygon><outerBoundaryIs><LinearRing><coordinates>"
        + " ".join(f"{x},{y},0" for x, y in shape.exterior.coords)
        + "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"
        for name, shape in parcels)
    return ('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            f"<Folder><name>农田</name>{placemarks}</Folder></Document></kml>").encode()


def kmz(document: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("doc.kml", document)
    return buffer.getvalue()


async def names_at(client, world, lon: float, lat: float, z: int = 16) -> list[str]:
    return sorted(f["properties"]["name"] for f in await protected_areas(client, world, tile_of(lon, lat, z)))


@pytest.mark.parametrize("epsg", [4326, 4490, 4526])  # WGS84, CGCS2000, CGCS2000 Gauss-Krüger zone 38
async def test_a_zipped_shapefile_is_read_in_the_crs_of_its_prj(client, world, tmp_path, epsg):
    content = shapefile_zip(tmp_path, [("一号地块", PARCEL)], epsg=epsg)
    body = await import_file(client, world.tokens["admin"], "farmland.zip", content)
    assert body["data"]["importReferenceLayer"] == {
        "layer": {"code": "farmland", "name": "永久基本农田", "kind": "PERMANENT_FARMLAND",
                  "responsibleAgencyKind": "AGRICULTURE_RURAL"}, "featureCount": 1, "overlappingReferralCount": 0}
    # Where it really is (a projected .prj read as degrees would land it far away, or fail).
    assert await names_at(client, world, 113.31, 34.51) == ["一号地块"]
    feature = (await protected_areas(client, world, tile_of(113.31, 34.51, 12)))[0]
    assert feature["properties"]["layer"] == "farmland"


@pytest.mark.filterwarnings("ignore:'crs' was not provided")  # pyogrio's, writing the file without .prj
async def test_a_shapefile_without_prj_needs_its_crs(client, world, tmp_path):
    content = shapefile_zip(tmp_path, [("一号地块", PARCEL)], epsg=None)
    refused = await import_file(client, world.tokens["admin"], "farmland.zip", content)
    assert error_codes(refused) == ["VALIDATION"] and refused["errors"][0]["extensions"]["field"] == "crs"
    body = await import_file(client, world.tokens["admin"], "farmland.zip", content, crs="WGS84")
    assert body["data"]["importReferenceLayer"]["featureCount"] == 1


async def test_a_crs_contradicting_the_prj_is_refused(client, world, tmp_path):
    content = shapefile_zip(tmp_path, [("一号地块", PARCEL)], epsg=4526)
    refused = await import_file(client, world.tokens["admin"], "farmland.zip", content, crs="GCJ02")
    assert error_codes(refused) == ["VALIDATION"] and refused["errors"][0]["extensions"]["field"] == "crs"


@pytest.mark.parametrize("wrap", [kml, lambda *parcels: kmz(kml(*parcels))], ids=["kml", "kmz"])
async def test_kml_and_kmz_are_read_as_wgs84(client, world, wrap):
    content = wrap(("水源一级保护区", PARCEL), ("水源二级保护区", box(113.33, 34.50, 113.34, 34.51)))
    body = await import_file(client, world.tokens["admin"], "water.kmz", content, code="water",
                             kind="DRINKING_WATER_SOURCE", agency_kind="WATER_RESOURCES")
    assert body["data"]["importReferenceLayer"]["featureCount"] == 2
    assert await names_at(client, world, 113.31, 34.51) == ["水源一级保护区"]
    assert await names_at(client, world, 113.335, 34.505) == ["水源二级保护区"]
    refused = await import_file(client, world.tokens["admin"], "water.kml", content, code="water2", crs="GCJ02",
                                kind="DRINKING_WATER_SOURCE")
    assert error_codes(refused) == ["VALIDATION"] and refused["errors"][0]["extensions"]["field"] == "crs"


POINT_KML = ('<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>井'
             "</name><Point><coordinates>113.3,34.5,0</coordinates></Point></Placemark></Document></kml>").encode()
BOW_TIE = {"type": "Polygon", "coordinates": [[[113.3, 34.5], [113.31, 34.51], [113.31, 34.5], [113.3, 34.51],
                                                [113.3, 34.5]]]}


@pytest.mark.parametrize("filename, content, code, field", [
    ("photo.png", PNG, "UNSUPPORTED_MEDIA_TYPE", "file"),
    ("notes.zip", kmz(b"x").replace(b"doc.kml", b"doc.txt"), "UNSUPPORTED_MEDIA_TYPE", "file"),
    ("broken.zip", b"PK\x03\x04" + b"\x00" * 40, "VALIDATION", "file"),
    ("broken.kml", b"<?xml version='1.0'?><kml><Document><Placemark>", "VALIDATION", "file"),
    ("wells.kml", POINT_KML, "INVALID_GEOMETRY", "features[0].geometry"),
    ("bad.geojson", json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": mapping(PARCEL)},
        {"type": "Feature", "properties": {}, "geometry": BOW_TIE}]}).encode(), "INVALID_GEOMETRY",
     "features[1].geometry"),
])
async def test_a_bad_file_is_refused_and_changes_nothing(client, world, filename, content, code, field):
    admin = world.tokens["admin"]
    first = await import_file(client, admin, "farmland.geojson", geojson(("一号地块", PARCEL)))
    assert "errors" not in first, first
    refused = await import_file(client, admin, filename, content, name="农田（新版）")
    assert error_codes(refused) == [code] and refused["errors"][0]["extensions"]["field"] == field
    assert (await graphql(client, LAYERS, token=admin))["data"]["referenceLayers"] == [
        {"code": "farmland", "name": "永久基本农田", "kind": "PERMANENT_FARMLAND",
         "responsibleAgencyKind": "AGRICULTURE_RURAL"}]
    assert await names_at(client, world, 113.31, 34.51) == ["一号地块"]


@pytest.mark.parametrize("user", ["prosecutor-1", "prosecutor-city", "liaison-a", "assessor-1"])
async def test_only_administrators_import_layers_and_everyone_reads_them(client, world, user):
    refused = await import_file(client, world.tokens[user], "farmland.geojson", geojson(("一号地块", PARCEL)))
    assert error_codes(refused) == ["FORBIDDEN"]
    assert (await graphql(client, LAYERS, token=world.tokens[user]))["data"]["referenceLayers"] == []
    await import_file(client, world.tokens["admin"], "farmland.geojson", geojson(("一号地块", PARCEL)))
    assert [layer["code"] for layer in (await graphql(client, LAYERS, token=world.tokens[user])
                                        )["data"]["referenceLayers"]] == ["farmland"]


async def test_a_file_sent_as_json_is_refused(client, world):
    body = await graphql(client, IMPORT, {"code": "f", "name": "农田", "kind": "PERMANENT_FARMLAND", "file": "x"},
                         world.tokens["admin"])
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "file"


async def test_the_operator_command_reads_a_shapefile_too(client, world, tmp_path):
    path = tmp_path / "farmland.zip"
    path.write_bytes(shapefile_zip(tmp_path, [("一号地块", PARCEL)], epsg=4526))
    assert await asyncio.to_thread(manage, ["import-layer", "--code", "farmland", "--name", "农田", "--kind",
                                            "PERMANENT_FARMLAND", str(path)]) == 0
    assert await names_at(client, world, 113.31, 34.51) == ["一号地块"]
