"""Vector tiles through the HTTP API: decoded, and checked for what they hold for each role."""

from __future__ import annotations

import math
import time

import mapbox_vector_tile
import pytest
from sqlalchemy import literal_column, select, text
from sqlalchemy.dialects import postgresql

from agencies.models import Role
from agencies.principal import Principal
from geo import tiles
from tests.conftest import graphql, graphql_upload
from tests.faults import app_behind_proxies

SUBMIT = "mutation($input: SubmitReferralInput!) { submitReferral(input: $input) { id areaMu } }"
SUBMIT_WITH_EVIDENCE = """mutation($input: SubmitReferralInput!, $evidence: [EvidenceInput!]) {
  submitReferral(input: $input, evidence: $evidence) { id evidence { id } } }"""
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
       b"\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
PIT = {"type": "Polygon", "coordinates": [[[113.30, 34.50], [113.31, 34.50], [113.31, 34.51],
                                            [113.30, 34.51], [113.30, 34.50]]]}
ROLES = ("admin", "prosecutor-1", "prosecutor-2", "prosecutor-city", "liaison-a", "liaison-b", "liaison-c",
         "assessor-1")


def point(lon: float, lat: float) -> dict:
    return {"type": "Point", "coordinates": [lon, lat]}


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def referral_input(title: str, geometry: dict) -> dict:
    return {"domain": "ECOLOGY_RESOURCES", "title": title, "facts": "张三在此非法采砂", "geometry": geometry,
            "parties": [{"kind": "PERSON", "name": "张三"}]}


async def submit(client, world, user: str, title: str, geometry: dict) -> dict:
    body = await graphql(client, SUBMIT, {"input": referral_input(title, geometry)}, world.tokens[user])
    assert "errors" not in body, body
    return body["data"]["submitReferral"]


async def get_tile(client, layer: str, tile: tuple[int, int, int], token: str | None, **headers):
    if token:
        headers["Authorization"] = f"Bearer {token}"
    z, x, y = tile
    return await client.get(f"/tiles/{layer}/{z}/{x}/{y}.mvt", headers=headers)


async def decoded(client, layer: str, tile, token) -> dict:
    response = await get_tile(client, layer, tile, token)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(response.content)


async def features(client, world, layer: str, tile, user: str, vector_layer: str | None = None) -> list[dict]:
    content = await decoded(client, layer, tile, world.tokens[user])
    return content.get(vector_layer or layer, {}).get("features", [])


Z10 = tile_of(113.31, 34.51, 10)
EXPECTED = {
    "admin": {"pit", "well", "b-dump", "c-dump"},
    "prosecutor-city": {"pit", "well", "b-dump", "c-dump"},
    "prosecutor-1": {"pit", "well", "b-dump"},
    "assessor-1": {"pit", "well", "b-dump"},
    "prosecutor-2": {"c-dump"},
    "liaison-a": {"pit", "well"},
    "liaison-b": {"b-dump"},
    "liaison-c": {"c-dump"},
}


def test_the_places_share_the_z10_tile():
    assert {tile_of(lon, 34.51, 10) for lon in (113.30, 113.31, 113.32, 113.33, 113.53)} == {Z10}


@pytest.mark.parametrize("user", ROLES)
async def test_each_role_sees_exactly_the_referrals_graphql_shows_it(client, world, places, user):
    by_id = {referral_id: title for title, referral_id in places.items()}
    found = await features(client, world, "referrals", Z10, user)
    assert {by_id[feature["properties"]["id"]] for feature in found} == EXPECTED[user]
    listed = await graphql(client, "{ referrals(first: 50) { edges { node { id } } } }", None, world.tokens[user])
    assert {by_id[edge["node"]["id"]] for edge in listed["data"]["referrals"]["edges"]} == EXPECTED[user]


async def test_a_referral_carries_only_what_a_map_needs(client, world):
    submitted = await submit(client, world, "liaison-a", "pit", PIT)
    [feature] = await features(client, world, "referrals", tile_of(113.305, 34.505, 14), "admin")
    assert feature["properties"] == {"id": submitted["id"], "status": "SUBMITTED", "domain": "ECOLOGY_RESOURCES",
                                     "area_mu": pytest.approx(submitted["areaMu"], abs=0.01)}
    assert feature["geometry"]["type"] == "Polygon"
    # Nothing of the title, the facts or the parties (a person's name) is in the tile.
    response = await get_tile(client, "referrals", tile_of(113.305, 34.505, 14), world.tokens["admin"])
    assert "张三".encode() not in response.content and b"pit" not in response.content


async def test_a_polygon_is_cut_to_the_tile_and_drawn_where_it_lies(client, world):
    await submit(client, world, "liaison-a", "pit", PIT)
    z, x, y = tile_of(113.305, 34.505, 16)  # a tile inside the pit: the whole tile is pit
    [feature] = await features(client, world, "referrals", (z, x, y), "admin")
    xs = [vertex[0] for ring in feature["geometry"]["coordinates"] for vertex in ring]
    assert min(xs) <= 0 and max(xs) >= tiles.EXTENT  # clipped at the buffer, beyond both edges
    assert await features(client, world, "referrals", tile_of(113.305, 34.53, 16), "admin") == []


async def test_a_referral_is_in_the_tile_the_moment_it_is_submitted(client, world):
    tile = tile_of(113.32, 34.52, 12)
    first = await get_tile(client, "referrals", tile, world.tokens["prosecutor-1"])
    assert first.status_code == 200 and mapbox_vector_tile.decode(first.content) == {}
    submitted = await submit(client, world, "liaison-a", "well", point(113.32, 34.52))
    # The client revalidates with the ETag it holds: the tile has changed, so it gets the new one.
    again = await get_tile(client, "referrals", tile, world.tokens["prosecutor-1"],
                           **{"If-None-Match": first.headers["etag"]})
    assert again.status_code == 200 and again.headers["etag"] != first.headers["etag"]
    assert [f["properties"]["id"] for f in mapbox_vector_tile.decode(again.content)["referrals"]["features"]] == \
        [submitted["id"]]


async def test_an_unchanged_tile_is_answered_304(client, world, places):
    token = world.tokens["prosecutor-1"]
    first = await get_tile(client, "referrals", Z10, token)
    assert first.headers["cache-control"].startswith("private")
    assert "authorization" in first.headers["vary"].lower()
    etag = first.headers["etag"]
    for header in (etag, f'"other", {etag}', f"W/{etag}", "*"):
        cached = await get_tile(client, "referrals", Z10, token, **{"If-None-Match": header})
        assert cached.status_code == 304 and cached.content == b""
        assert cached.headers["etag"] == etag and cached.headers["cache-control"].startswith("private")
    # Another caller's tile of the same place differs, and so does its ETag: a 304 never hands it
    # the first caller's tile.
    other = await get_tile(client, "referrals", Z10, world.tokens["liaison-b"], **{"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["etag"] != etag
    assert (await get_tile(client, "referrals", Z10, token, **{"If-None-Match": '"stale"'})).status_code == 200


async def test_a_tile_holds_at_most_the_cap_newest_first(client, world, monkeypatch):
    ids = [(await submit(client, world, "liaison-a", f"p{i}", point(113.32 + i * 0.001, 34.52)))["id"]
           for i in range(5)]
    monkeypatch.setattr(tiles, "FEATURE_CAP", 3)
    response = await get_tile(client, "referrals", tile_of(113.32, 34.52, 12), world.tokens["prosecutor-1"])
    found = mapbox_vector_tile.decode(response.content)["referrals"]["features"]
    assert [feature["properties"]["id"] for feature in found] == ids[:-4:-1]
    assert response.headers["x-tile-capped"] == "true"
    monkeypatch.setattr(tiles, "FEATURE_CAP", 5)
    response = await get_tile(client, "referrals", tile_of(113.32, 34.52, 12), world.tokens["prosecutor-1"])
    assert len(mapbox_vector_tile.decode(response.content)["referrals"]["features"]) == 5
    assert "x-tile-capped" not in response.headers


@pytest.mark.parametrize("user", ROLES)
async def test_at_zoom_9_and_below_referrals_are_counted_per_cell(client, world, places, user):
    for z in (9, 5):
        content = await decoded(client, "referrals", tile_of(113.31, 34.51, z), world.tokens[user])
        assert "referrals" not in content  # no referral one by one, no id
        cells = content["referral_cells"]["features"] if content else []
        assert all(set(cell["properties"]) == {"count"} and cell["geometry"]["type"] == "Point" for cell in cells)
        assert sum(cell["properties"]["count"] for cell in cells) == len(EXPECTED[user])
    # At z5 all four places fall into one cell.
    assert [cell["properties"]["count"] for cell in cells] == [len(EXPECTED[user])]


async def test_a_referral_across_tile_edges_is_counted_in_one_tile(client, world):
    # A z9 tile edge runs at longitude 113.203125; this pit lies across it.
    edge = 360 * 417 / 512 - 180
    assert tile_of(edge - 0.001, 34.5, 9) != tile_of(edge + 0.001, 34.5, 9)
    await submit(client, world, "liaison-a", "across", {"type": "Polygon", "coordinates": [[
        [edge - 0.01, 34.50], [edge + 0.01, 34.50], [edge + 0.01, 34.51], [edge - 0.01, 34.51], [edge - 0.01, 34.50]]]})
    counts = []
    for lon in (edge - 0.001, edge + 0.001):
        content = await decoded(client, "referrals", tile_of(lon, 34.505, 9), world.tokens["admin"])
        counts.append(sum(cell["properties"]["count"] for cell in content.get("referral_cells", {}).get("features", [])))
    assert sorted(counts) == [0, 1]
    # One by one, it is drawn in both tiles, cut at the edge.
    for lon in (edge - 0.001, edge + 0.001):
        assert len(await features(client, world, "referrals", tile_of(lon, 34.505, 12), "admin")) == 1


async def submit_with_photo(client, world, user: str, geometry: dict) -> dict:
    variables = {"input": referral_input("with photo", geometry), "evidence": [{"file": None}]}
    response = await graphql_upload(client, SUBMIT_WITH_EVIDENCE, variables,
                                    {"variables.evidence.0.file": ("site.png", PNG, "image/png")},
                                    world.tokens[user])
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["submitReferral"]


@pytest.mark.parametrize("user, sees", [("admin", {"a", "c"}), ("prosecutor-city", {"a", "c"}),
                                        ("prosecutor-1", {"a"}), ("assessor-1", {"a"}), ("prosecutor-2", {"c"}),
                                        ("liaison-a", {"a"}), ("liaison-b", set()), ("liaison-c", {"c"})])
async def test_evidence_points_are_scoped_like_evidence(client, world, user, sees):
    a = await submit_with_photo(client, world, "liaison-a", PIT)
    c = await submit_with_photo(client, world, "liaison-c", point(113.53, 34.51))
    found = await features(client, world, "evidence", Z10, user)
    expected = {"a": a, "c": c}
    assert sorted((f["properties"]["id"], f["properties"]["referral_id"]) for f in found) == sorted(
        (expected[key]["evidence"][0]["id"], expected[key]["id"]) for key in sees)
    assert all(f["properties"]["kind"] == "REFERRAL" and f["geometry"]["type"] == "Point" for f in found)
    assert all(set(f["properties"]) == {"id", "referral_id", "kind"} for f in found)


@pytest.mark.parametrize("user", ROLES)
async def test_jurisdictions_are_on_every_signed_in_map(client, world, user):
    found = await features(client, world, "jurisdictions", tile_of(113.5, 34.5, 7), user)
    assert {(f["properties"]["code"], f["properties"]["level"]) for f in found} == {
        ("410100", "CITY"), ("410101", "DISTRICT"), ("410102", "DISTRICT")}


async def test_without_a_valid_token_there_is_no_tile(client, world, places):
    for token in (None, "not-a-token"):
        for path in ("/tiles/referrals/10/834/407.mvt", "/tiles/referrals.json"):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = await client.get(path, headers=headers)
            assert response.status_code == 401
            assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("path, status, code, field", [
    ("/tiles/referrals/23/0/0.mvt", 400, "VALIDATION", "z"),
    ("/tiles/referrals/2/4/0.mvt", 400, "VALIDATION", "x"),
    ("/tiles/referrals/2/0/4.mvt", 400, "VALIDATION", "y"),
    ("/tiles/referrals/-1/0/0.mvt", 400, "VALIDATION", "z"),
    ("/tiles/referrals/a/0/0.mvt", 400, "VALIDATION", "z"),
    ("/tiles/referrals/1/0/0x1.mvt", 400, "VALIDATION", "y"),
    ("/tiles/referrals/99999999999/0/0.mvt", 400, "VALIDATION", "z"),
    ("/tiles/parties/1/0/0.mvt", 404, "NOT_FOUND", "layer"),
    ("/tiles/referrals/1/0/0.png", 404, "NOT_FOUND", "format"),
    ("/tiles/referrals/1/0/0", 404, "NOT_FOUND", "format"),
    ("/tiles/parties.json", 404, "NOT_FOUND", "layer"),
    ("/tiles/referrals.xml", 404, "NOT_FOUND", "format"),
])
async def test_a_bad_address_is_a_json_error_with_a_code(client, world, path, status, code, field):
    response = await client.get(path, headers={"Authorization": f"Bearer {world.tokens['admin']}"})
    assert response.status_code == status
    assert response.json()["errors"][0]["extensions"] == {"code": code, "field": field}


@pytest.mark.parametrize("layer, vector_layers", [
    ("referrals", {"referral_cells": (0, 9, {"count"}), "referrals": (10, 22, {"id", "status", "domain", "area_mu"})}),
    ("evidence", {"evidence": (0, 22, {"id", "referral_id", "kind"})}),
    ("jurisdictions", {"jurisdictions": (0, 22, {"code", "name", "level"})}),
    ("protected_areas", {"protected_areas": (0, 22, {"id", "name", "layer", "kind"})}),
])
async def test_tilejson_describes_each_layer(client, world, layer, vector_layers):
    response = await client.get(f"/tiles/{layer}.json", headers={"Authorization": f"Bearer {world.tokens['liaison-a']}"})
    assert response.status_code == 200
    document = response.json()
    assert document["tilejson"] == "3.0.0"
    assert document["tiles"] == [f"http://testserver/tiles/{layer}/{{z}}/{{x}}/{{y}}.mvt"]
    assert (document["minzoom"], document["maxzoom"]) == (0, 22)
    assert {item["id"]: (item["minzoom"], item["maxzoom"], set(item["fields"]))
            for item in document["vector_layers"]} == vector_layers
    if layer != "protected_areas":  # the platform's extent: the world's city
        assert document["bounds"] == [113.0, 34.0, 114.0, 35.0]


def explain(statement) -> str:
    return str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


@pytest.mark.parametrize("layer, column, index, z", [
    *((layer, column, index, z) for layer, column, index in (
        ("evidence", "referral.geometry", "idx_referral_geometry"),
        ("jurisdictions", "jurisdiction.boundary", "idx_jurisdiction_boundary"),
        ("protected_areas", "reference_feature.geometry", "idx_reference_feature_geometry")) for z in (8, 14)),
    ("referrals", "referral.geometry", "idx_referral_geometry", 14)])  # below zoom 10: the grid, see next
async def test_the_prefilter_can_use_the_spatial_index(resources, world, layer, column, index, z):
    """The envelope is transformed, never the column: were it the other way round, no plan could
    use the index, whatever the planner were told. The tile's statement compares the bare column
    with the envelope, and that comparison alone is answered from the index (the whole statement's
    plan may join through another index first, as the tables' statistics happen to suggest)."""
    principal = Principal(role=Role.ADMIN, username="test")
    address = tiles.TileAddress(*tile_of(113.3, 34.5, z))
    prefilter = explain(select(literal_column("1")).where(
        tiles.Envelope(address).overlaps(literal_column(column))))
    condition = prefilter.split("WHERE ", 1)[1]
    assert condition in explain(tiles.tile_statement(tiles.tile_layer(layer), principal, tiles.Envelope(address), cap=10))
    table = column.split(".")[0]
    async with resources.session_factory() as session:
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join((await session.execute(text(f"EXPLAIN SELECT 1 FROM {table} WHERE {condition}"))).scalars())
        await session.rollback()
    assert index in plan, plan


async def test_aggregated_tiles_read_the_grid_by_its_index(resources, world):
    principal = Principal(role=Role.ADMIN, username="test")
    statement = tiles.tile_statement(tiles.tile_layer("referrals"), principal,
                                     tiles.Envelope(tiles.TileAddress(*tile_of(113.3, 34.5, 6))), cap=10)
    async with resources.session_factory() as session:
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join((await session.execute(text("EXPLAIN " + explain(statement)))).scalars())
        await session.rollback()
    assert "ix_referral_grid_count_level_cell_x_cell_y" in plan and " on referral " not in plan, plan


async def test_a_database_outage_is_503_with_retry_after(settings, world):
    quick = settings.model_copy(update={"db": settings.db.model_copy(update={
        "connect_timeout_seconds": 1, "pool_timeout_seconds": 1, "command_timeout_seconds": 1})})
    async with app_behind_proxies(quick) as (client, proxy, _):
        proxy.frozen = True
        started = time.monotonic()
        for path in ("/tiles/referrals/10/834/407.mvt", "/tiles/referrals.json"):
            response = await client.get(path, headers={"Authorization": f"Bearer {world.tokens['admin']}"})
            assert response.status_code == 503 and response.headers["retry-after"]
            assert response.json()["errors"][0]["extensions"]["code"] == "DATABASE_UNAVAILABLE"
        assert time.monotonic() - started < 8
        proxy.frozen = False
