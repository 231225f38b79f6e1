"""Clue models through the API: a prosecutor saves, revises and retires them for their
procuratorate; who reads them; and every refusal, with nothing changed by a refused request."""

from __future__ import annotations

import pytest

from tests.clues.helpers import CREATE, FARMLAND, LARGE, MODEL, MODELS, RETIRE, REVISE, RUN, create, ok
from tests.conftest import error_codes, graphql, new_id


async def test_a_prosecutor_saves_a_screening_as_a_model_of_their_procuratorate(client, world):
    model = await create(client, world, description="耕地处罚后无恢复")
    assert model["status"] == "ACTIVE" and model["subject"] == "ENFORCEMENT_CASE"
    assert model["currentVersion"] == 1 and model["conditions"] == FARMLAND
    assert model["jurisdiction"] == {"code": "410101"}
    assert model["versions"] == [{"version": 1, "conditions": FARMLAND, "note": None, "authorName": "prosecutor-1"}]
    assert model["history"] == [{"action": "create", "fromStatus": None, "toStatus": "ACTIVE",
                                 "actorName": "prosecutor-1", "reason": None}]
    # Its procuratorate and those above read it; agencies of its jurisdiction read it to try it.
    for user in ("prosecutor-1", "prosecutor-city", "assessor-1", "admin", "liaison-a", "liaison-b"):
        body = await graphql(client, MODEL, {"id": model["id"]}, world.tokens[user])
        assert ok(body, "clueModel")["conditions"] == FARMLAND, user
        listed = ok(await graphql(client, MODELS, {}, world.tokens[user]), "clueModels")
        assert [edge["node"]["id"] for edge in listed["edges"]] == [model["id"]], user
    # Another district's prosecutor and agency: as if it did not exist.
    for user in ("prosecutor-2", "liaison-c"):
        body = await graphql(client, MODEL, {"id": model["id"]}, world.tokens[user])
        assert error_codes(body) == ["NOT_FOUND"] and "耕地" not in body["errors"][0]["message"]
        listed = ok(await graphql(client, MODELS, {}, world.tokens[user]), "clueModels")
        assert listed == {"totalCount": 0, "edges": []}


async def test_a_city_model_is_the_citys_and_its_districts_agencies_may_try_it(client, world):
    model = await create(client, world, LARGE, user="prosecutor-city", name="大额处罚")
    assert model["jurisdiction"] == {"code": "410100"}
    for user, code in (("prosecutor-1", "NOT_FOUND"), ("prosecutor-2", "NOT_FOUND"), ("assessor-1", "NOT_FOUND"),
                       ("liaison-a", None), ("liaison-c", None), ("admin", None)):
        body = await graphql(client, MODEL, {"id": model["id"]}, world.tokens[user])
        assert (error_codes(body) or [None]) == [code], user


@pytest.mark.parametrize("user", ["liaison-a", "assessor-1", "admin"])
async def test_only_prosecutors_create_models(client, world, user):
    body = await graphql(client, CREATE, {"input": {"name": "x", "conditions": LARGE}}, world.tokens[user])
    assert error_codes(body) == ["FORBIDDEN"]
    assert ok(await graphql(client, MODELS, {}, world.tokens["admin"]), "clueModels")["totalCount"] == 0


async def test_a_model_is_checked_before_it_is_saved(client, world):
    token = world.tokens["prosecutor-1"]
    bad = {"all": [LARGE, {"field": "enforcement.amount", "op": "between", "value": [1, 2]}]}
    body = await graphql(client, CREATE, {"input": {"name": "坏模型", "conditions": bad}}, token)
    assert error_codes(body) == ["VALIDATION"]
    assert body["errors"][0]["extensions"]["field"] == "conditions.all[1].op"
    body = await graphql(client, CREATE, {"input": {"name": " ", "conditions": LARGE}}, token)
    assert body["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "name"}
    await create(client, world, LARGE, name="大额处罚")
    body = await graphql(client, CREATE, {"input": {"name": "大额处罚", "conditions": FARMLAND}}, token)
    assert body["errors"][0]["extensions"] == {"code": "CONFLICT", "field": "name"}
    # Another procuratorate may use the name.
    await create(client, world, LARGE, user="prosecutor-2", name="大额处罚")
    assert ok(await graphql(client, MODELS, {}, world.tokens["admin"]), "clueModels")["totalCount"] == 2


async def test_a_revision_is_the_models_next_version(client, world):
    model = await create(client, world)
    revised = ok(await graphql(client, REVISE, {"id": model["id"], "input": {
        "conditions": LARGE, "note": "放宽：不限图层", "name": "大额处罚"}}, world.tokens["prosecutor-city"]),
        "reviseClueModel")
    assert revised["currentVersion"] == 2 and revised["conditions"] == LARGE and revised["name"] == "大额处罚"
    assert [(v["version"], v["conditions"], v["note"], v["authorName"]) for v in revised["versions"]] == [
        (1, FARMLAND, None, "prosecutor-1"), (2, LARGE, "放宽：不限图层", "prosecutor-city")]


@pytest.mark.parametrize(("user", "code"), [("liaison-a", "FORBIDDEN"), ("assessor-1", "FORBIDDEN"),
                                            ("admin", "FORBIDDEN"), ("prosecutor-2", "NOT_FOUND"),
                                            ("liaison-c", "NOT_FOUND")])
async def test_no_one_else_revises_retires_or_runs_a_model(client, world, user, code):
    model = await create(client, world)
    token = world.tokens[user]
    for query, variables in ((REVISE, {"id": model["id"], "input": {"conditions": LARGE}}),
                             (RETIRE, {"id": model["id"], "reason": "无效"}), (RUN, {"id": model["id"]})):
        body = await graphql(client, query, variables, token)
        assert error_codes(body) == [code] and body["data"] is None
    unchanged = ok(await graphql(client, MODEL, {"id": model["id"]}, world.tokens["prosecutor-1"]), "clueModel")
    assert unchanged == model


async def test_unknown_ids_are_not_found(client, world):
    for model_id in (new_id(), "not-an-id"):
        body = await graphql(client, MODEL, {"id": model_id}, world.tokens["prosecutor-1"])
        assert error_codes(body) == ["NOT_FOUND"]


async def test_a_retired_model_keeps_its_reason_and_neither_runs_nor_changes(client, world):
    model = await create(client, world)
    token = world.tokens["prosecutor-1"]
    body = await graphql(client, RETIRE, {"id": model["id"], "reason": "  "}, token)
    assert body["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "reason"}
    retired = ok(await graphql(client, RETIRE, {"id": model["id"], "reason": "三个月无一立案"}, token),
                 "retireClueModel")
    assert retired["status"] == "RETIRED"
    assert retired["history"][-1] == {"action": "retire", "fromStatus": "ACTIVE", "toStatus": "RETIRED",
                                      "actorName": "prosecutor-1", "reason": "三个月无一立案"}
    for query, variables in ((RETIRE, {"id": model["id"], "reason": "再次"}), (RUN, {"id": model["id"]}),
                             (REVISE, {"id": model["id"], "input": {"conditions": LARGE}})):
        assert error_codes(await graphql(client, query, variables, token)) == ["INVALID_TRANSITION"]
    # Agencies try active models only; the procuratorate still reads it (and its funnel).
    assert error_codes(await graphql(client, MODEL, {"id": model["id"]}, world.tokens["liaison-a"])) == ["NOT_FOUND"]
    listed = ok(await graphql(client, MODELS, {"status": "RETIRED"}, token), "clueModels")
    assert listed["totalCount"] == 1
