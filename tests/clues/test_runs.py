"""Running a model: over the records of its procuratorate's jurisdiction and below, each record hit
once per model (a second run finds nothing new), hits keeping the version that found them; the
nightly task; an agency's dry run over its own records, which stores nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from clues.models import ClueHit, ClueModelRun, ClueRunTrigger
from clues.service import run_scheduled
from core import clock
from tests.clues.helpers import (
    HITS,
    LARGE,
    MATCHES,
    REVISE,
    RUN,
    create,
    farmland_layer,
    hits,
    numbers,
    ok,
    records,
    run,
)
from tests.conftest import error_codes, graphql
from tests.enforcement.test_referral_from_record import OPEN, referral_input
from tests.notifications.steps import messages


async def stored(resources) -> tuple[int, int]:
    async with resources.session_factory() as session:
        return (await session.scalar(select(func.count()).select_from(ClueHit)),
                await session.scalar(select(func.count()).select_from(ClueModelRun)))


async def test_a_run_queues_each_matching_record_once_and_hits_keep_their_version(client, world, monkeypatch):
    await farmland_layer(client, world)
    made = await records(client, world, monkeypatch)
    model = await create(client, world)
    first = await run(client, world, model["id"])
    assert (first["version"], first["trigger"], first["matched"], first["hitsFound"]) == (1, "ON_DEMAND", 2, 2)
    assert first["finishedAt"] >= first["startedAt"]
    assert numbers(await hits(client, world)) == ["罚〔2025〕A1号", "罚〔2025〕B1号"]

    again = await run(client, world, model["id"], user="prosecutor-city")
    assert (again["matched"], again["hitsFound"]) == (2, 0)
    assert (await hits(client, world))["totalCount"] == 2

    ok(await graphql(client, REVISE, {"id": model["id"], "input": {"conditions": {"all": [
        {"field": "enforcement.amount", "op": "gte", "value": 100}, {"overlapsLayer": "farmland"}]}}},
        world.tokens["prosecutor-1"]), "reviseClueModel")
    third = await run(client, world, model["id"])
    assert (third["version"], third["matched"], third["hitsFound"]) == (2, 3, 1)
    versions = {edge["node"]["enforcementCase"]["caseNumber"]: edge["node"]["version"]
                for edge in (await hits(client, world))["edges"]}
    assert versions == {"罚〔2025〕A1号": 1, "罚〔2025〕B1号": 1, "罚〔2025〕A2号": 2}
    assert made.keys() >= {"A1", "A2", "B1"}


async def test_hits_come_from_the_models_jurisdiction_and_below(client, world, monkeypatch):
    await records(client, world, monkeypatch)
    district = await create(client, world, LARGE, name="区大额")
    city = await create(client, world, LARGE, user="prosecutor-city", name="市大额")
    assert (await run(client, world, district["id"]))["hitsFound"] == 3  # A1, A3, B1: not C1
    assert (await run(client, world, city["id"], user="prosecutor-city"))["hitsFound"] == 4
    assert numbers(await hits(client, world, modelId=district["id"])) == ["罚〔2025〕A1号", "罚〔2025〕A3号",
                                                                          "罚〔2025〕B1号"]
    # The city's queue is the city's: a district sees only its own models' hits.
    assert (await hits(client, world, "prosecutor-city", modelId=city["id"]))["totalCount"] == 4
    assert (await hits(client, world, "prosecutor-1", modelId=city["id"]))["totalCount"] == 0
    assert (await hits(client, world, "prosecutor-2"))["totalCount"] == 0


async def test_follow_ups_are_conditions_too(client, world, monkeypatch):
    made = await records(client, world, monkeypatch)
    model = await create(client, world, {"all": [LARGE, {"not": {"exists": "referral"}}]}, name="未移送")
    ok(await graphql(client, OPEN, {"id": made["A1"], "input": referral_input()}, world.tokens["liaison-a"]),
       "openReferralFromEnforcementCase")
    await run(client, world, model["id"])
    assert numbers(await hits(client, world)) == ["罚〔2025〕A3号", "罚〔2025〕B1号"]


async def test_an_agency_tries_a_model_on_its_own_records_and_nothing_is_stored(client, world, monkeypatch,
                                                                                resources):
    await farmland_layer(client, world)
    await records(client, world, monkeypatch)
    model = await create(client, world)
    for user, expected in (("liaison-a", ["罚〔2025〕A1号"]), ("liaison-b", ["罚〔2025〕B1号"]),
                           ("prosecutor-1", ["罚〔2025〕A1号", "罚〔2025〕B1号"])):
        body = ok(await graphql(client, MATCHES, {"id": model["id"], "first": 10}, world.tokens[user]),
                  "clueModelMatches")
        assert body["totalCount"] == len(expected)
        assert sorted(edge["node"]["caseNumber"] for edge in body["edges"]) == expected, user
    paged = ok(await graphql(client, MATCHES, {"id": model["id"], "first": 1}, world.tokens["prosecutor-1"]),
               "clueModelMatches")
    rest = ok(await graphql(client, MATCHES, {"id": model["id"], "first": 1, "after": paged["pageInfo"]["endCursor"]},
                            world.tokens["prosecutor-1"]), "clueModelMatches")
    assert paged["pageInfo"]["hasNextPage"] and not rest["pageInfo"]["hasNextPage"]
    assert paged["edges"][0]["node"]["id"] != rest["edges"][0]["node"]["id"]
    assert await stored(resources) == (0, 0)
    # An agency of another district does not see the model at all.
    body = await graphql(client, MATCHES, {"id": model["id"]}, world.tokens["liaison-c"])
    assert error_codes(body) == ["NOT_FOUND"]
    # A liaison's run is the dry run: the stored run and the queue are the procuratorate's.
    assert error_codes(await graphql(client, RUN, {"id": model["id"]}, world.tokens["liaison-a"])) == ["FORBIDDEN"]
    assert await stored(resources) == (0, 0)


async def test_the_nightly_task_runs_every_active_model_once_per_record(client, world, monkeypatch, resources):
    await farmland_layer(client, world)
    await records(client, world, monkeypatch)
    farmland = await create(client, world)
    large = await create(client, world, LARGE, user="prosecutor-2", name="二区大额")
    retired = await create(client, world, LARGE, name="已停用")
    ok(await graphql(client, "mutation($id: ID!) { retireClueModel(id: $id, reason: \"无效\") { id } }",
                     {"id": retired["id"]}, world.tokens["prosecutor-1"]), "retireClueModel")

    assert await run_scheduled(resources.session_factory, clock.today()) == 3  # A1, B1; C1
    assert await run_scheduled(resources.session_factory, clock.today()) == 0
    async with resources.session_factory() as session:
        runs = (await session.execute(select(ClueModelRun.model_id, ClueModelRun.trigger, ClueModelRun.hits_found,
                                             ClueModelRun.finished_at.is_not(None))
                                      .order_by(ClueModelRun.started_at))).all()
    by_model = {}
    for model_id, trigger, found, finished in runs:
        assert trigger is ClueRunTrigger.SCHEDULED and finished
        by_model.setdefault(str(model_id), []).append(found)
    assert by_model == {farmland["id"]: [2, 0], large["id"]: [1, 0]}
    # Each procuratorate's prosecutors hear of their own model's new hits, once.
    told = {user: [node["message"] for node in await messages(client, world, user, "CLUE_HITS_FOUND")]
            for user in ("prosecutor-1", "prosecutor-2", "prosecutor-city", "liaison-a")}
    assert told == {"prosecutor-1": ["线索模型“占用耕地处罚后未恢复”发现 2 条新线索 / Clue model “占用耕地处罚后未恢复” "
                                     "found 2 new hits"],
                    "prosecutor-2": ["线索模型“二区大额”发现 1 条新线索 / Clue model “二区大额” found 1 new hit"],
                    "prosecutor-city": [], "liaison-a": []}


async def test_a_model_that_no_longer_compiles_is_skipped_by_the_nightly_run(client, world, monkeypatch, resources):
    await farmland_layer(client, world)
    await records(client, world, monkeypatch)
    broken = await create(client, world, {"overlapsLayer": "farmland"}, name="按图层代码")
    await create(client, world, LARGE, name="大额")
    async with resources.session_factory() as session:
        await session.execute(text("DELETE FROM reference_layer WHERE code = 'farmland'"))
        await session.commit()
    assert await run_scheduled(resources.session_factory, clock.today()) == 3
    body = await graphql(client, RUN, {"id": broken["id"]}, world.tokens["prosecutor-1"])
    assert body["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "conditions.overlapsLayer"}


@pytest.mark.parametrize("user", ["assessor-1", "admin"])
async def test_assessors_and_administrators_read_but_do_not_run(client, world, monkeypatch, user):
    await records(client, world, monkeypatch)
    model = await create(client, world, LARGE)
    assert error_codes(await graphql(client, RUN, {"id": model["id"]}, world.tokens[user])) == ["FORBIDDEN"]
    await run(client, world, model["id"])
    body = ok(await graphql(client, HITS, {"first": 10}, world.tokens[user]), "clueHits")
    assert body["totalCount"] == 3
