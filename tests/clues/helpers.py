"""What the clue-model tests share: enforcement records on and off a farmland layer, models made
and run through the API."""

from __future__ import annotations

from tests.conftest import graphql
from tests.enforcement.helpers import recorded
from tests.geo.test_layer_import import geojson, import_file
from tests.geo.test_overlaps import FARM

MODEL_FIELDS = """id name description subject status currentVersion conditions
  jurisdiction { code } versions { version conditions note authorName }
  history { action fromStatus toStatus actorName reason }"""
CREATE = "mutation($input: CreateClueModelInput!) { createClueModel(input: $input) { " + MODEL_FIELDS + " } }"
REVISE = ("mutation($id: ID!, $input: ReviseClueModelInput!) { reviseClueModel(id: $id, input: $input) { "
          + MODEL_FIELDS + " } }")
RETIRE = "mutation($id: ID!, $reason: String!) { retireClueModel(id: $id, reason: $reason) { " + MODEL_FIELDS + " } }"
MODEL = "query($id: ID!) { clueModel(id: $id) { " + MODEL_FIELDS + " } }"
MODELS = "query($status: ClueModelStatus) { clueModels(status: $status, first: 50) { totalCount edges { node { id name } } } }"
RUN = "mutation($id: ID!) { runClueModel(id: $id) { id version trigger startedAt finishedAt matched hitsFound } }"
MATCHES = """query($id: ID!, $first: Int, $after: String) { clueModelMatches(id: $id, first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { id caseNumber agency { name } } } } }"""
HIT_FIELDS = """id status version foundAt model { id name } enforcementCase { caseNumber }
  case { id number } history { action fromStatus toStatus reason actorName }"""
HITS = """query($filter: ClueHitFilter, $first: Int, $after: String) { clueHits(filter: $filter, first: $first,
  after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { """ + HIT_FIELDS + " } } } }"
HIT = "query($id: ID!) { clueHit(id: $id) { " + HIT_FIELDS + " } }"
FUNNEL = """query($id: ID!) { clueModel(id: $id) { funnel { hits referrals cases recommendations rectified }
  versions { version funnel { hits referrals cases recommendations rectified } } } }"""

ON_FARM = {"type": "Point", "coordinates": [113.31, 34.51]}  # inside tests.geo.test_overlaps.FARM
OFF_FARM = {"type": "Point", "coordinates": [113.2, 34.5]}
IN_DISTRICT_2 = {"type": "Point", "coordinates": [113.7, 34.5]}

# The demo's model, on the test world's farmland layer.
FARMLAND = {"all": [
    {"field": "enforcement.kind", "op": "eq", "value": "PENALTY"},
    {"field": "enforcement.domain", "op": "in", "value": ["ECOLOGY_RESOURCES"]},
    {"field": "enforcement.amount", "op": "gte", "value": 10000},
    {"overlapsLayer": "PERMANENT_FARMLAND"},
    {"not": {"exists": "rectified"}},
]}
LARGE = {"field": "enforcement.amount", "op": "gte", "value": 10000}


def ok(body: dict, field: str):
    assert "errors" not in body, body
    return body["data"][field]


async def farmland_layer(client, world) -> None:
    body = await import_file(client, world.tokens["admin"], "farmland.geojson", geojson(("一号地块", FARM)),
                             code="farmland", name="永久基本农田", kind="PERMANENT_FARMLAND",
                             agency_kind="AGRICULTURE_RURAL")
    assert "errors" not in body, body


async def records(client, world, monkeypatch) -> dict[str, str]:
    """Five records: A1 and B1 match FARMLAND; A2 is too small, A3 has no location, C1 lies in
    district 2 (large, so LARGE matches A1, A3, B1 and C1)."""
    made = {}
    for key, user, amount, location in (("A1", "liaison-a", "12345.60", ON_FARM), ("A2", "liaison-a", "500", ON_FARM),
                                        ("A3", "liaison-a", "20000", None), ("B1", "liaison-b", "50000", ON_FARM),
                                        ("C1", "liaison-c", "50000", IN_DISTRICT_2)):
        made[key] = (await recorded(client, world, monkeypatch, user, number=f"罚〔2025〕{key}号", amount=amount,
                                    location=location))["id"]
    return made


async def create(client, world, conditions=FARMLAND, user: str = "prosecutor-1", name: str = "占用耕地处罚后未恢复",
                 **fields) -> dict:
    return ok(await graphql(client, CREATE, {"input": {"name": name, "conditions": conditions, **fields}},
                            world.tokens[user]), "createClueModel")


async def run(client, world, model_id: str, user: str = "prosecutor-1") -> dict:
    return ok(await graphql(client, RUN, {"id": model_id}, world.tokens[user]), "runClueModel")


async def hits(client, world, user: str = "prosecutor-1", **filter) -> dict:
    return ok(await graphql(client, HITS, {"filter": filter or None, "first": 50}, world.tokens[user]), "clueHits")


def numbers(connection: dict) -> list[str]:
    return sorted(edge["node"]["enforcementCase"]["caseNumber"] for edge in connection["edges"])
