"""The server-side tile cache: it saves the tile query, and never shows a caller a referral outside
its scope nor hides a change committed a moment ago, by this process or any other."""

from __future__ import annotations

import mapbox_vector_tile
import pytest
from sqlalchemy import text

from geo.tiles import Tile, TileCache
from tests.conftest import count_statements, graphql
from tests.geo.test_tiles import EXPECTED, ROLES, Z10, decoded, get_tile, point, submit, tile_of

TILE = tile_of(113.32, 34.52, 12)


def tile_queries(statements: list[str]) -> list[str]:
    return [statement for statement in statements if "ST_AsMVT(" in statement]


async def ids_in(client, token, layer: str = "referrals", tile=TILE) -> list[str]:
    content = await decoded(client, layer, tile, token)
    return [feature["properties"]["id"] for feature in content.get(layer, {}).get("features", [])]


async def test_a_cached_tile_is_served_without_the_tile_query(client, world, resources):
    await submit(client, world, "liaison-a", "well", point(113.32, 34.52))
    token = world.tokens["prosecutor-1"]
    first = await get_tile(client, "referrals", TILE, token)
    with count_statements(resources.engine) as statements:
        second = await get_tile(client, "referrals", TILE, token)
    assert tile_queries(statements) == []
    assert (second.content, second.headers["etag"]) == (first.content, first.headers["etag"])
    # A request for the same tile after any commit to referrals draws it again.
    await submit(client, world, "liaison-c", "far away", point(113.9, 34.9))
    with count_statements(resources.engine) as statements:
        third = await get_tile(client, "referrals", TILE, token)
    assert len(tile_queries(statements)) == 1 and third.content == first.content


@pytest.mark.parametrize("warmed_by", ["admin", "liaison-a", "prosecutor-2"])
async def test_a_tile_cached_for_one_scope_is_never_served_to_another(client, world, places, warmed_by):
    by_id = {referral_id: title for title, referral_id in places.items()}
    await ids_in(client, world.tokens[warmed_by], tile=Z10)
    for _ in range(2):  # the second round is served from the cache
        for user in ROLES:
            assert {by_id[i] for i in await ids_in(client, world.tokens[user], tile=Z10)} == EXPECTED[user], user


async def test_a_status_change_shows_at_once(client, world):
    submitted = await submit(client, world, "liaison-a", "well", point(113.32, 34.52))
    token = world.tokens["prosecutor-1"]
    content = await decoded(client, "referrals", TILE, token)
    assert content["referrals"]["features"][0]["properties"]["status"] == "SUBMITTED"
    body = await graphql(client, "mutation($id: ID!) { registerReferral(id: $id) { status } }",
                         {"id": submitted["id"]}, token)
    assert "errors" not in body, body
    content = await decoded(client, "referrals", TILE, token)
    assert content["referrals"]["features"][0]["properties"]["status"] == "REGISTERED"


async def test_a_change_made_by_another_process_shows_and_a_rolled_back_one_does_not_count(client, world, resources):
    submitted = await submit(client, world, "liaison-a", "well", point(113.32, 34.52))
    token = world.tokens["liaison-a"]
    assert await ids_in(client, token) == [submitted["id"]]
    move = text("UPDATE referral SET geometry = ST_SetSRID(ST_MakePoint(113.9, 34.9), 4326) WHERE id = :id")
    async with resources.engine.connect() as connection:  # as a script or another worker would
        await connection.execute(move, {"id": submitted["id"]})
        await connection.rollback()
    with count_statements(resources.engine) as statements:
        assert await ids_in(client, token) == [submitted["id"]]
    assert tile_queries(statements) == []  # nothing committed: still the cached tile
    async with resources.engine.begin() as connection:
        await connection.execute(move, {"id": submitted["id"]})
    assert await ids_in(client, token) == []
    assert await ids_in(client, token, tile=tile_of(113.9, 34.9, 12)) == [submitted["id"]]


async def test_a_transaction_moves_a_tables_version_once(client, world, resources):
    for i in range(3):
        await submit(client, world, "liaison-a", f"p{i}", point(113.32 + i * 0.001, 34.52))
    version = text("SELECT version FROM tile_source_version WHERE source = 'referral'")
    async with resources.engine.begin() as connection:
        before = await connection.scalar(version)
        await connection.execute(text("UPDATE referral SET urgent = true"))
        assert await connection.scalar(version) == before  # moved at commit, not before
    async with resources.engine.connect() as connection:
        after = await connection.scalar(version)
        assert after > before
        assert await connection.scalar(text("SELECT last_value FROM tile_source_version_seq")) == after


async def test_the_other_layers_show_their_changes_at_once(client, world):
    token = world.tokens["admin"]
    tile = tile_of(113.5, 34.5, 7)
    assert "410200" not in {f["properties"]["code"] for f in
                            (await decoded(client, "jurisdictions", tile, token))["jurisdictions"]["features"]}
    # Another city, north of the world's (whose districts cover all of it).
    body = await graphql(client, """mutation($input: CreateJurisdictionInput!) { createJurisdiction(input: $input) {
        code } }""", {"input": {"code": "410200", "name": "北市", "level": "CITY",
                                "procuratorateName": "北市人民检察院", "boundary": {
                                    "type": "Polygon", "coordinates": [[[113.2, 35.1], [113.3, 35.1], [113.3, 35.2],
                                                                        [113.2, 35.2], [113.2, 35.1]]]}}}, token)
    assert "errors" not in body, body
    assert "410200" in {f["properties"]["code"] for f in
                        (await decoded(client, "jurisdictions", tile, token))["jurisdictions"]["features"]}


def test_the_cache_keeps_the_most_recently_used_within_its_bytes():
    cache = TileCache(max_bytes=10)
    cache.put("a", 1, Tile(b"aaaa", False))
    cache.put("b", 1, Tile(b"bbbb", False))
    assert cache.get("a", 1) is not None  # now the most recently used
    cache.put("c", 1, Tile(b"cccc", False))
    assert cache.get("b", 1) is None and cache.get("a", 1) and cache.get("c", 1)
    assert cache.get("a", 2) is None  # another version is another tile
    cache.put("huge", 1, Tile(b"x" * 11, False))
    assert cache.get("huge", 1) is None and cache.get("c", 1)


async def test_an_empty_tile_and_its_etag(client, world):
    response = await get_tile(client, "referrals", tile_of(10.0, 10.0, 12), world.tokens["admin"])
    assert response.status_code == 200 and response.content == b""
    assert mapbox_vector_tile.decode(response.content) == {}
    assert response.headers["etag"]
