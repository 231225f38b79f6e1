"""The server-side tile cache: it saves the tile query, and never shows a caller a referral outside
its scope nor hides a change committed a moment ago, by this process or any other."""

from __future__ import annotations

import asyncio
import uuid

import mapbox_vector_tile
import pytest
from sqlalchemy import text

from agencies.models import Role
from agencies.principal import Principal
from app.manage import main as manage
from geo.tiles import (
    FEATURE_CAP,
    CachedTile,
    CompiledStatement,
    Envelope,
    Tile,
    TileAddress,
    TileCache,
    tile_layer,
    tile_statement,
    tile_values,
)
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
    # A commit to referrals elsewhere leaves it cached; one over it draws it again.
    await submit(client, world, "liaison-c", "far away", point(113.9, 34.9))
    with count_statements(resources.engine) as statements:
        third = await get_tile(client, "referrals", TILE, token)
    assert tile_queries(statements) == [] and third.content == first.content
    await submit(client, world, "liaison-b", "nearby", point(113.322, 34.522))
    with count_statements(resources.engine) as statements:
        fourth = await get_tile(client, "referrals", TILE, token)
    assert len(tile_queries(statements)) == 1 and fourth.content != first.content


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


async def test_a_change_redraws_the_tiles_over_it_and_no_other(client, world, resources):
    near, far = point(113.32, 34.52), point(113.9, 34.9)
    await submit(client, world, "liaison-a", "well", near)
    await submit(client, world, "liaison-c", "far well", far)
    token = world.tokens["prosecutor-city"]
    far_tile = tile_of(113.9, 34.9, 12)
    before = {tile: await ids_in(client, token, tile=tile) for tile in (TILE, far_tile)}
    # A submission next to the first: its tile is drawn again and shows it; the far one is not.
    added = await submit(client, world, "liaison-a", "pit", point(113.321, 34.521))
    with count_statements(resources.engine) as statements:
        assert await ids_in(client, token, tile=far_tile) == before[far_tile]
    assert tile_queries(statements) == []
    with count_statements(resources.engine) as statements:
        assert set(await ids_in(client, token)) == {*before[TILE], added["id"]}
    assert len(tile_queries(statements)) == 1
    # A tile at a lower zoom spans both places: either change redraws it.
    wide = tile_of(113.32, 34.52, 8)
    await get_tile(client, "referrals", wide, token)
    await submit(client, world, "liaison-c", "another far one", point(113.901, 34.901))
    with count_statements(resources.engine) as statements:
        await get_tile(client, "referrals", wide, token)
        await get_tile(client, "referrals", TILE, token)
    assert len(tile_queries(statements)) == 1  # the z8 tile; the z12 one far from it is still good


async def test_a_move_redraws_both_the_tile_left_and_the_tile_reached(client, world, resources):
    submitted = await submit(client, world, "liaison-a", "well", point(113.32, 34.52))
    token = world.tokens["liaison-a"]
    far_tile = tile_of(113.9, 34.9, 12)
    assert (await ids_in(client, token), await ids_in(client, token, tile=far_tile)) == ([submitted["id"]], [])
    async with resources.engine.begin() as connection:  # as a script would, outside the app
        await connection.execute(text("UPDATE referral SET geometry = ST_SetSRID(ST_MakePoint(113.9, 34.9), 4326) "
                                      "WHERE id = :id"), {"id": submitted["id"]})
    assert (await ids_in(client, token), await ids_in(client, token, tile=far_tile)) == ([], [submitted["id"]])


async def test_writers_append_to_the_change_log_and_lock_no_shared_row(client, world, resources):
    one = await submit(client, world, "liaison-a", "well", point(113.32, 34.52))
    other = await submit(client, world, "liaison-c", "far well", point(113.9, 34.9))
    count = text("SELECT count(*) FROM tile_change WHERE source = 'referral'")
    mark_urgent = text("UPDATE referral SET urgent = true WHERE id = :id")
    async with resources.engine.connect() as connection:
        before = await connection.scalar(count)
    async with resources.engine.connect() as first, resources.engine.connect() as second:
        await first.execute(mark_urgent, {"id": one["id"]})
        # Whatever the triggers do at commit, done now: a lock they take would be held until first commits.
        await first.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        await second.execute(text("SET LOCAL lock_timeout = '2s'"))
        await second.execute(mark_urgent, {"id": other["id"]})
        await second.commit()  # not held up by first, still open
        await first.commit()
    async with resources.engine.connect() as connection:
        assert await connection.scalar(count) == before + 2
        bboxes = (await connection.execute(text(
            "SELECT ST_AsText(bbox) FROM tile_change WHERE source = 'referral' ORDER BY id DESC LIMIT 2"))).scalars()
        assert set(bboxes) == {"POINT(113.32 34.52)", "POINT(113.9 34.9)"}


async def test_compacting_the_change_log_keeps_every_tile_true(client, world, resources):
    from geo.tiles import compact_tile_changes

    first = await submit(client, world, "liaison-a", "well", point(113.32, 34.52))
    token = world.tokens["liaison-a"]
    assert await ids_in(client, token) == [first["id"]]
    async with resources.session_factory() as session:
        assert await compact_tile_changes(session) > 0
        await session.commit()
    async with resources.engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM tile_change WHERE bbox IS NOT NULL")) == 0
    # Drawn again once (the cache cannot know what the removed rows said), then cached again.
    with count_statements(resources.engine) as statements:
        assert await ids_in(client, token) == [first["id"]]
        assert await ids_in(client, token) == [first["id"]]
    assert len(tile_queries(statements)) == 1
    second = await submit(client, world, "liaison-a", "pit", point(113.321, 34.521))
    assert set(await ids_in(client, token)) == {first["id"], second["id"]}


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
    def entry(content: bytes) -> CachedTile:
        return CachedTile(Tile(content, False), snapshot="1:1:")

    cache = TileCache(max_bytes=10)
    cache.put("a", entry(b"aaaa"))
    cache.put("b", entry(b"bbbb"))
    assert cache.get("a") is not None  # now the most recently used
    cache.put("c", entry(b"cccc"))
    assert cache.get("b") is None and cache.get("a") and cache.get("c")
    cache.put("huge", entry(b"x" * 11))
    assert cache.get("huge") is None and cache.get("c")
    cache.discard("c")
    cache.put("d", entry(b"dddddd"))
    assert cache.get("a") and cache.get("d")  # the discarded tile's bytes were freed


async def test_an_empty_tile_and_its_etag(client, world):
    response = await get_tile(client, "referrals", tile_of(10.0, 10.0, 12), world.tokens["admin"])
    assert response.status_code == 200 and response.content == b""
    assert mapbox_vector_tile.decode(response.content) == {}
    assert response.headers["etag"]


def cell_counts(content: dict) -> list[tuple[int, tuple]]:
    return sorted((cell["properties"]["count"], tuple(cell["geometry"]["coordinates"]))
                  for cell in content.get("referral_cells", {}).get("features", []))


async def test_grid_counts_follow_moves_and_deletions_and_survive_compaction(client, world, resources):
    wide = tile_of(113.32, 34.52, 8)
    made = [await submit(client, world, "liaison-a", f"p{i}", point(113.32 + i * 0.01, 34.52)) for i in range(3)]
    token = world.tokens["prosecutor-1"]
    assert sum(count for count, _ in cell_counts(await decoded(client, "referrals", wide, token))) == 3
    async with resources.engine.begin() as connection:  # a move out of the tile, a deletion, a status change
        await connection.execute(text("UPDATE referral SET geometry = ST_SetSRID(ST_MakePoint(100.0, 20.0), 4326) "
                                      "WHERE id = :id"), {"id": made[0]["id"]})
        for table, column in (("referral_status_change", "referral_id"), ("referral_party", "referral_id"),
                              ("referral_placement", "referral_id"), ("referral", "id")):
            await connection.execute(text(f"DELETE FROM {table} WHERE {column} = :id"), {"id": made[1]["id"]})
        await connection.execute(text("UPDATE referral SET urgent = true"))
    after = cell_counts(await decoded(client, "referrals", wide, token))
    assert [count for count, _ in after] == [1]
    async with resources.engine.connect() as connection:
        rows = await connection.scalar(text("SELECT count(*) FROM referral_grid_count"))
    assert await asyncio.to_thread(manage, ["compact-tile-data"]) == 0
    async with resources.engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM referral_grid_count")) == 20 < rows  # 2 × 10 levels
    assert cell_counts(await decoded(client, "referrals", wide, token)) == after
    assert sum(count for count, _ in cell_counts(await decoded(client, "referrals", tile_of(100.0, 20.0, 8),
                                                               world.tokens["admin"]))) == 1


@pytest.mark.parametrize("layer", ["referrals", "evidence", "jurisdictions", "protected_areas"])
@pytest.mark.parametrize("z", [6, 12])
def test_a_tile_statement_depends_on_its_tile_only_through_the_tile_parameters(layer, z):
    principal = Principal(role=Role.PROSECUTOR, username="p", visible_jurisdiction_ids=frozenset({uuid.uuid4()}))
    compiled = [CompiledStatement.of(tile_statement(tile_layer(layer), principal, Envelope(TileAddress(z, x, y)),
                                                    cap=FEATURE_CAP)) for x, y in ((3, 5), (40, 17))]
    assert compiled[0].sql == compiled[1].sql and compiled[0].names == compiled[1].names
    fixed = [{name: value for name, value in item.fixed.items() if name not in tile_values(TileAddress(z, 0, 0))}
             for item in compiled]
    assert fixed[0] == fixed[1]
