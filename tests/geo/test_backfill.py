"""`python -m app.manage backfill-geography`: referrals that predate placement and overlaps get them,
in batches, read back through the API by each role; referrals stay with the procuratorate holding them."""

from __future__ import annotations

import asyncio
import json

import pytest
from shapely.geometry import box, mapping
from sqlalchemy import text

from app.manage import main as manage
from tests.conftest import error_codes, graphql
from tests.geo.test_responsibility import pit  # noqa: F401 (a fixture)
from tests.geo.test_tiles import point

READ = """query($id: ID!) { referral(id: $id) { jurisdiction { code } crossBoundary spansJurisdictions { code }
  overlaps { layer { code } featureName } proposedResponsibleAgency { agency { name } } } }"""
IN_DISTRICT_2 = point(113.7, 34.5)


async def read(client, world, referral_id: str, user: str = "admin") -> dict:
    body = await graphql(client, READ, {"id": referral_id}, world.tokens[user])
    assert "errors" not in body, body
    return body["data"]["referral"]


async def submit_plain(client, world, user: str, geometry: dict) -> str:
    body = await graphql(client, "mutation($input: SubmitReferralInput!) { submitReferral(input: $input) { id } }",
                         {"input": {"domain": "ECOLOGY_RESOURCES", "title": "旧线索", "facts": "事实",
                                    "geometry": geometry}}, world.tokens[user])
    assert "errors" not in body, body
    return body["data"]["submitReferral"]["id"]


async def forget_geography(resources, *, move: tuple[str, dict] | None = None) -> None:
    """As the rows were before placement and overlaps existed (and, optionally, one referral where an
    old submission could put it unchecked)."""
    async with resources.engine.begin() as connection:
        await connection.execute(text("DELETE FROM referral_placement"))
        await connection.execute(text("DELETE FROM referral_overlap"))
        if move:
            referral_id, geometry = move
            await connection.execute(text("UPDATE referral SET geometry = ST_SetSRID(ST_GeomFromGeoJSON(:g), 4326) "
                                          "WHERE id = :id"), {"g": json.dumps(geometry), "id": referral_id})


async def backfill(*args: str) -> int:
    return await asyncio.to_thread(manage, ["backfill-geography", *args])


async def test_backfill_places_old_referrals_and_finds_their_overlaps(client, world, resources, pit):  # noqa: F811
    spanning = await submit_plain(client, world, "liaison-a", mapping(box(113.48, 34.50, 113.51, 34.51)))
    elsewhere = await submit_plain(client, world, "liaison-a", point(113.2, 34.5))
    fresh = {referral_id: await read(client, world, referral_id) for referral_id in (pit["referral"], spanning)}
    await forget_geography(resources, move=(elsewhere, IN_DISTRICT_2))
    forgotten = await read(client, world, pit["referral"])
    assert (forgotten["overlaps"], forgotten["proposedResponsibleAgency"]) == ([], None)
    assert (await read(client, world, spanning))["spansJurisdictions"] == []

    assert await backfill("--batch", "2") == 0  # three referrals: two batches
    for referral_id, before in fresh.items():
        assert await read(client, world, referral_id) == before
    assert {o["layer"]["code"] for o in (await read(client, world, pit["referral"]))["overlaps"]} == {
        "farmland", "red-line"}
    assert (await read(client, world, spanning))["spansJurisdictions"] == [{"code": "410101"}, {"code": "410102"}]
    # Lying in district 2, it is marked as outside its agency's district, and stays where it was.
    moved = await read(client, world, elsewhere)
    assert moved["jurisdiction"] == {"code": "410101"} and moved["crossBoundary"] is True


@pytest.mark.parametrize("user, sees", [("prosecutor-1", True), ("liaison-a", True), ("assessor-1", True),
                                        ("prosecutor-2", False), ("liaison-b", False), ("liaison-c", False)])
async def test_backfilled_geography_is_seen_only_within_scope(client, world, resources, pit, user, sees):  # noqa: F811
    await forget_geography(resources)
    assert await backfill() == 0
    body = await graphql(client, READ, {"id": pit["referral"]}, world.tokens[user])
    if sees:
        assert {o["layer"]["code"] for o in body["data"]["referral"]["overlaps"]} == {"farmland", "red-line"}
    else:
        assert error_codes(body) == ["NOT_FOUND"]


async def test_a_second_run_does_only_what_is_missing_and_all_redoes_everything(client, world, resources,
                                                                                 pit):  # noqa: F811
    placed_at = text("SELECT placed_at FROM referral_placement WHERE referral_id = :id")
    async with resources.engine.connect() as connection:
        first = await connection.scalar(placed_at, {"id": pit["referral"]})
    assert await backfill() == 0
    async with resources.engine.connect() as connection:
        assert await connection.scalar(placed_at, {"id": pit["referral"]}) == first  # had one: left alone
    # A layer changed outside the app (its feature moved away): only --all catches up.
    async with resources.engine.begin() as connection:
        await connection.execute(text("UPDATE reference_feature SET geometry = ST_Multi(ST_Translate(geometry, 1, 0)) "
                                      "WHERE name = 'farmland 1'"))
    assert await backfill() == 0
    assert "farmland" in {o["layer"]["code"] for o in (await read(client, world, pit["referral"]))["overlaps"]}
    assert await backfill("--all", "--batch", "1") == 0
    assert {o["layer"]["code"] for o in (await read(client, world, pit["referral"]))["overlaps"]} == {"red-line"}


async def test_a_referral_in_no_district_gets_overlaps_but_no_placement(client, world, resources):
    referral_id = await submit_plain(client, world, "liaison-a", point(113.2, 34.5))
    await forget_geography(resources, move=(referral_id, point(120.15, 30.28)))
    assert await backfill() == 0
    async with resources.engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM referral_placement")) == 0
    assert (await read(client, world, referral_id))["jurisdiction"] == {"code": "410101"}
